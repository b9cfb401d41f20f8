package llmgateway.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * LLMService is the gateway's data plane: chat (unary and streamed), embeddings, the model list,
 * token counting and a health summary. Errors carry google.rpc.ErrorInfo (domain "llmgateway")
 * and, when waiting helps, google.rpc.RetryInfo.
 * </pre>
 */
@javax.annotation.Generated(
    value = "by gRPC proto compiler",
    comments = "Source: llmgateway/v1/llm.proto")
@io.grpc.stub.annotations.GrpcGenerated
public final class LLMServiceGrpc {

  private LLMServiceGrpc() {}

  public static final String SERVICE_NAME = "llmgateway.v1.LLMService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<llmgateway.v1.Llm.ChatRequest,
      llmgateway.v1.Llm.ChatResponse> getChatMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Chat",
      requestType = llmgateway.v1.Llm.ChatRequest.class,
      responseType = llmgateway.v1.Llm.ChatResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<llmgateway.v1.Llm.ChatRequest,
      llmgateway.v1.Llm.ChatResponse> getChatMethod() {
    io.grpc.MethodDescriptor<llmgateway.v1.Llm.ChatRequest, llmgateway.v1.Llm.ChatResponse> getChatMethod;
    if ((getChatMethod = LLMServiceGrpc.getChatMethod) == null) {
      synchronized (LLMServiceGrpc.class) {
        if ((getChatMethod = LLMServiceGrpc.getChatMethod) == null) {
          LLMServiceGrpc.getChatMethod = getChatMethod =
              io.grpc.MethodDescriptor.<llmgateway.v1.Llm.ChatRequest, llmgateway.v1.Llm.ChatResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Chat"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  llmgateway.v1.Llm.ChatRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  llmgateway.v1.Llm.ChatResponse.getDefaultInstance()))
              .setSchemaDescriptor(new LLMServiceMethodDescriptorSupplier("Chat"))
              .build();
        }
      }
    }
    return getChatMethod;
  }

  private static volatile io.grpc.MethodDescriptor<llmgateway.v1.Llm.ChatRequest,
      llmgateway.v1.Llm.ChatStreamResponse> getChatStreamMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ChatStream",
      requestType = llmgateway.v1.Llm.ChatRequest.class,
      responseType = llmgateway.v1.Llm.ChatStreamResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
  public static io.grpc.MethodDescriptor<llmgateway.v1.Llm.ChatRequest,
      llmgateway.v1.Llm.ChatStreamResponse> getChatStreamMethod() {
    io.grpc.MethodDescriptor<llmgateway.v1.Llm.ChatRequest, llmgateway.v1.Llm.ChatStreamResponse> getChatStreamMethod;
    if ((getChatStreamMethod = LLMServiceGrpc.getChatStreamMethod) == null) {
      synchronized (LLMServiceGrpc.class) {
        if ((getChatStreamMethod = LLMServiceGrpc.getChatStreamMethod) == null) {
          LLMServiceGrpc.getChatStreamMethod = getChatStreamMethod =
              io.grpc.MethodDescriptor.<llmgateway.v1.Llm.ChatRequest, llmgateway.v1.Llm.ChatStreamResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ChatStream"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  llmgateway.v1.Llm.ChatRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  llmgateway.v1.Llm.ChatStreamResponse.getDefaultInstance()))
              .setSchemaDescriptor(new LLMServiceMethodDescriptorSupplier("ChatStream"))
              .build();
        }
      }
    }
    return getChatStreamMethod;
  }

  private static volatile io.grpc.MethodDescriptor<llmgateway.v1.Llm.EmbedRequest,
      llmgateway.v1.Llm.EmbedResponse> getEmbedMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Embed",
      requestType = llmgateway.v1.Llm.EmbedRequest.class,
      responseType = llmgateway.v1.Llm.EmbedResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<llmgateway.v1.Llm.EmbedRequest,
      llmgateway.v1.Llm.EmbedResponse> getEmbedMethod() {
    io.grpc.MethodDescriptor<llmgateway.v1.Llm.EmbedRequest, llmgateway.v1.Llm.EmbedResponse> getEmbedMethod;
    if ((getEmbedMethod = LLMServiceGrpc.getEmbedMethod) == null) {
      synchronized (LLMServiceGrpc.class) {
        if ((getEmbedMethod = LLMServiceGrpc.getEmbedMethod) == null) {
          LLMServiceGrpc.getEmbedMethod = getEmbedMethod =
              io.grpc.MethodDescriptor.<llmgateway.v1.Llm.EmbedRequest, llmgateway.v1.Llm.EmbedResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Embed"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  llmgateway.v1.Llm.EmbedRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  llmgateway.v1.Llm.EmbedResponse.getDefaultInstance()))
              .setSchemaDescriptor(new LLMServiceMethodDescriptorSupplier("Embed"))
              .build();
        }
      }
    }
    return getEmbedMethod;
  }

  private static volatile io.grpc.MethodDescriptor<llmgateway.v1.Llm.ListModelsRequest,
      llmgateway.v1.Llm.ListModelsResponse> getListModelsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListModels",
      requestType = llmgateway.v1.Llm.ListModelsRequest.class,
      responseType = llmgateway.v1.Llm.ListModelsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<llmgateway.v1.Llm.ListModelsRequest,
      llmgateway.v1.Llm.ListModelsResponse> getListModelsMethod() {
    io.grpc.MethodDescriptor<llmgateway.v1.Llm.ListModelsRequest, llmgateway.v1.Llm.ListModelsResponse> getListModelsMethod;
    if ((getListModelsMethod = LLMServiceGrpc.getListModelsMethod) == null) {
      synchronized (LLMServiceGrpc.class) {
        if ((getListModelsMethod = LLMServiceGrpc.getListModelsMethod) == null) {
          LLMServiceGrpc.getListModelsMethod = getListModelsMethod =
              io.grpc.MethodDescriptor.<llmgateway.v1.Llm.ListModelsRequest, llmgateway.v1.Llm.ListModelsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListModels"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  llmgateway.v1.Llm.ListModelsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  llmgateway.v1.Llm.ListModelsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new LLMServiceMethodDescriptorSupplier("ListModels"))
              .build();
        }
      }
    }
    return getListModelsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<llmgateway.v1.Llm.GetModelRequest,
      llmgateway.v1.Llm.GetModelResponse> getGetModelMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetModel",
      requestType = llmgateway.v1.Llm.GetModelRequest.class,
      responseType = llmgateway.v1.Llm.GetModelResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<llmgateway.v1.Llm.GetModelRequest,
      llmgateway.v1.Llm.GetModelResponse> getGetModelMethod() {
    io.grpc.MethodDescriptor<llmgateway.v1.Llm.GetModelRequest, llmgateway.v1.Llm.GetModelResponse> getGetModelMethod;
    if ((getGetModelMethod = LLMServiceGrpc.getGetModelMethod) == null) {
      synchronized (LLMServiceGrpc.class) {
        if ((getGetModelMethod = LLMServiceGrpc.getGetModelMethod) == null) {
          LLMServiceGrpc.getGetModelMethod = getGetModelMethod =
              io.grpc.MethodDescriptor.<llmgateway.v1.Llm.GetModelRequest, llmgateway.v1.Llm.GetModelResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetModel"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  llmgateway.v1.Llm.GetModelRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  llmgateway.v1.Llm.GetModelResponse.getDefaultInstance()))
              .setSchemaDescriptor(new LLMServiceMethodDescriptorSupplier("GetModel"))
              .build();
        }
      }
    }
    return getGetModelMethod;
  }

  private static volatile io.grpc.MethodDescriptor<llmgateway.v1.Llm.CountTokensRequest,
      llmgateway.v1.Llm.CountTokensResponse> getCountTokensMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CountTokens",
      requestType = llmgateway.v1.Llm.CountTokensRequest.class,
      responseType = llmgateway.v1.Llm.CountTokensResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<llmgateway.v1.Llm.CountTokensRequest,
      llmgateway.v1.Llm.CountTokensResponse> getCountTokensMethod() {
    io.grpc.MethodDescriptor<llmgateway.v1.Llm.CountTokensRequest, llmgateway.v1.Llm.CountTokensResponse> getCountTokensMethod;
    if ((getCountTokensMethod = LLMServiceGrpc.getCountTokensMethod) == null) {
      synchronized (LLMServiceGrpc.class) {
        if ((getCountTokensMethod = LLMServiceGrpc.getCountTokensMethod) == null) {
          LLMServiceGrpc.getCountTokensMethod = getCountTokensMethod =
              io.grpc.MethodDescriptor.<llmgateway.v1.Llm.CountTokensRequest, llmgateway.v1.Llm.CountTokensResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CountTokens"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  llmgateway.v1.Llm.CountTokensRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  llmgateway.v1.Llm.CountTokensResponse.getDefaultInstance()))
              .setSchemaDescriptor(new LLMServiceMethodDescriptorSupplier("CountTokens"))
              .build();
        }
      }
    }
    return getCountTokensMethod;
  }

  private static volatile io.grpc.MethodDescriptor<llmgateway.v1.Llm.HealthRequest,
      llmgateway.v1.Llm.HealthResponse> getHealthMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Health",
      requestType = llmgateway.v1.Llm.HealthRequest.class,
      responseType = llmgateway.v1.Llm.HealthResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<llmgateway.v1.Llm.HealthRequest,
      llmgateway.v1.Llm.HealthResponse> getHealthMethod() {
    io.grpc.MethodDescriptor<llmgateway.v1.Llm.HealthRequest, llmgateway.v1.Llm.HealthResponse> getHealthMethod;
    if ((getHealthMethod = LLMServiceGrpc.getHealthMethod) == null) {
      synchronized (LLMServiceGrpc.class) {
        if ((getHealthMethod = LLMServiceGrpc.getHealthMethod) == null) {
          LLMServiceGrpc.getHealthMethod = getHealthMethod =
              io.grpc.MethodDescriptor.<llmgateway.v1.Llm.HealthRequest, llmgateway.v1.Llm.HealthResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Health"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  llmgateway.v1.Llm.HealthRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  llmgateway.v1.Llm.HealthResponse.getDefaultInstance()))
              .setSchemaDescriptor(new LLMServiceMethodDescriptorSupplier("Health"))
              .build();
        }
      }
    }
    return getHealthMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static LLMServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<LLMServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<LLMServiceStub>() {
        @java.lang.Override
        public LLMServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new LLMServiceStub(channel, callOptions);
        }
      };
    return LLMServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static LLMServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<LLMServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<LLMServiceBlockingStub>() {
        @java.lang.Override
        public LLMServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new LLMServiceBlockingStub(channel, callOptions);
        }
      };
    return LLMServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static LLMServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<LLMServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<LLMServiceFutureStub>() {
        @java.lang.Override
        public LLMServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new LLMServiceFutureStub(channel, callOptions);
        }
      };
    return LLMServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * LLMService is the gateway's data plane: chat (unary and streamed), embeddings, the model list,
   * token counting and a health summary. Errors carry google.rpc.ErrorInfo (domain "llmgateway")
   * and, when waiting helps, google.rpc.RetryInfo.
   * </pre>
   */
  public static abstract class LLMServiceImplBase implements io.grpc.BindableService {

    /**
     * <pre>
     * Chat sends a conversation to a model and returns the whole answer.
     * </pre>
     */
    public void chat(llmgateway.v1.Llm.ChatRequest request,
        io.grpc.stub.StreamObserver<llmgateway.v1.Llm.ChatResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getChatMethod(), responseObserver);
    }

    /**
     * <pre>
     * ChatStream takes the same request as Chat and streams the answer: one `start`, any number of
     * `delta`s, then exactly one `end`. A stream that fails ends with an error status and no `end`.
     * </pre>
     */
    public void chatStream(llmgateway.v1.Llm.ChatRequest request,
        io.grpc.stub.StreamObserver<llmgateway.v1.Llm.ChatStreamResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getChatStreamMethod(), responseObserver);
    }

    /**
     * <pre>
     * Embed turns texts into vectors.
     * </pre>
     */
    public void embed(llmgateway.v1.Llm.EmbedRequest request,
        io.grpc.stub.StreamObserver<llmgateway.v1.Llm.EmbedResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getEmbedMethod(), responseObserver);
    }

    /**
     * <pre>
     * ListModels lists the models callers may name, filterable by provider and capability.
     * </pre>
     */
    public void listModels(llmgateway.v1.Llm.ListModelsRequest request,
        io.grpc.stub.StreamObserver<llmgateway.v1.Llm.ListModelsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListModelsMethod(), responseObserver);
    }

    /**
     * <pre>
     * GetModel describes one model; NOT_FOUND when the gateway does not know it.
     * </pre>
     */
    public void getModel(llmgateway.v1.Llm.GetModelRequest request,
        io.grpc.stub.StreamObserver<llmgateway.v1.Llm.GetModelResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetModelMethod(), responseObserver);
    }

    /**
     * <pre>
     * CountTokens counts (or estimates, see `exact`) the prompt tokens of a request.
     * </pre>
     */
    public void countTokens(llmgateway.v1.Llm.CountTokensRequest request,
        io.grpc.stub.StreamObserver<llmgateway.v1.Llm.CountTokensResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCountTokensMethod(), responseObserver);
    }

    /**
     * <pre>
     * Health reports the gateway's status and each provider's.
     * </pre>
     */
    public void health(llmgateway.v1.Llm.HealthRequest request,
        io.grpc.stub.StreamObserver<llmgateway.v1.Llm.HealthResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getHealthMethod(), responseObserver);
    }

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
          .addMethod(
            getChatMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                llmgateway.v1.Llm.ChatRequest,
                llmgateway.v1.Llm.ChatResponse>(
                  this, METHODID_CHAT)))
          .addMethod(
            getChatStreamMethod(),
            io.grpc.stub.ServerCalls.asyncServerStreamingCall(
              new MethodHandlers<
                llmgateway.v1.Llm.ChatRequest,
                llmgateway.v1.Llm.ChatStreamResponse>(
                  this, METHODID_CHAT_STREAM)))
          .addMethod(
            getEmbedMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                llmgateway.v1.Llm.EmbedRequest,
                llmgateway.v1.Llm.EmbedResponse>(
                  this, METHODID_EMBED)))
          .addMethod(
            getListModelsMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                llmgateway.v1.Llm.ListModelsRequest,
                llmgateway.v1.Llm.ListModelsResponse>(
                  this, METHODID_LIST_MODELS)))
          .addMethod(
            getGetModelMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                llmgateway.v1.Llm.GetModelRequest,
                llmgateway.v1.Llm.GetModelResponse>(
                  this, METHODID_GET_MODEL)))
          .addMethod(
            getCountTokensMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                llmgateway.v1.Llm.CountTokensRequest,
                llmgateway.v1.Llm.CountTokensResponse>(
                  this, METHODID_COUNT_TOKENS)))
          .addMethod(
            getHealthMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                llmgateway.v1.Llm.HealthRequest,
                llmgateway.v1.Llm.HealthResponse>(
                  this, METHODID_HEALTH)))
          .build();
    }
  }

  /**
   * <pre>
   * LLMService is the gateway's data plane: chat (unary and streamed), embeddings, the model list,
   * token counting and a health summary. Errors carry google.rpc.ErrorInfo (domain "llmgateway")
   * and, when waiting helps, google.rpc.RetryInfo.
   * </pre>
   */
  public static final class LLMServiceStub extends io.grpc.stub.AbstractAsyncStub<LLMServiceStub> {
    private LLMServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected LLMServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new LLMServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Chat sends a conversation to a model and returns the whole answer.
     * </pre>
     */
    public void chat(llmgateway.v1.Llm.ChatRequest request,
        io.grpc.stub.StreamObserver<llmgateway.v1.Llm.ChatResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getChatMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * ChatStream takes the same request as Chat and streams the answer: one `start`, any number of
     * `delta`s, then exactly one `end`. A stream that fails ends with an error status and no `end`.
     * </pre>
     */
    public void chatStream(llmgateway.v1.Llm.ChatRequest request,
        io.grpc.stub.StreamObserver<llmgateway.v1.Llm.ChatStreamResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncServerStreamingCall(
          getChannel().newCall(getChatStreamMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Embed turns texts into vectors.
     * </pre>
     */
    public void embed(llmgateway.v1.Llm.EmbedRequest request,
        io.grpc.stub.StreamObserver<llmgateway.v1.Llm.EmbedResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getEmbedMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * ListModels lists the models callers may name, filterable by provider and capability.
     * </pre>
     */
    public void listModels(llmgateway.v1.Llm.ListModelsRequest request,
        io.grpc.stub.StreamObserver<llmgateway.v1.Llm.ListModelsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListModelsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * GetModel describes one model; NOT_FOUND when the gateway does not know it.
     * </pre>
     */
    public void getModel(llmgateway.v1.Llm.GetModelRequest request,
        io.grpc.stub.StreamObserver<llmgateway.v1.Llm.GetModelResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetModelMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * CountTokens counts (or estimates, see `exact`) the prompt tokens of a request.
     * </pre>
     */
    public void countTokens(llmgateway.v1.Llm.CountTokensRequest request,
        io.grpc.stub.StreamObserver<llmgateway.v1.Llm.CountTokensResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCountTokensMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Health reports the gateway's status and each provider's.
     * </pre>
     */
    public void health(llmgateway.v1.Llm.HealthRequest request,
        io.grpc.stub.StreamObserver<llmgateway.v1.Llm.HealthResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getHealthMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * <pre>
   * LLMService is the gateway's data plane: chat (unary and streamed), embeddings, the model list,
   * token counting and a health summary. Errors carry google.rpc.ErrorInfo (domain "llmgateway")
   * and, when waiting helps, google.rpc.RetryInfo.
   * </pre>
   */
  public static final class LLMServiceBlockingStub extends io.grpc.stub.AbstractBlockingStub<LLMServiceBlockingStub> {
    private LLMServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected LLMServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new LLMServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Chat sends a conversation to a model and returns the whole answer.
     * </pre>
     */
    public llmgateway.v1.Llm.ChatResponse chat(llmgateway.v1.Llm.ChatRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getChatMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * ChatStream takes the same request as Chat and streams the answer: one `start`, any number of
     * `delta`s, then exactly one `end`. A stream that fails ends with an error status and no `end`.
     * </pre>
     */
    public java.util.Iterator<llmgateway.v1.Llm.ChatStreamResponse> chatStream(
        llmgateway.v1.Llm.ChatRequest request) {
      return io.grpc.stub.ClientCalls.blockingServerStreamingCall(
          getChannel(), getChatStreamMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Embed turns texts into vectors.
     * </pre>
     */
    public llmgateway.v1.Llm.EmbedResponse embed(llmgateway.v1.Llm.EmbedRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getEmbedMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * ListModels lists the models callers may name, filterable by provider and capability.
     * </pre>
     */
    public llmgateway.v1.Llm.ListModelsResponse listModels(llmgateway.v1.Llm.ListModelsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListModelsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * GetModel describes one model; NOT_FOUND when the gateway does not know it.
     * </pre>
     */
    public llmgateway.v1.Llm.GetModelResponse getModel(llmgateway.v1.Llm.GetModelRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetModelMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * CountTokens counts (or estimates, see `exact`) the prompt tokens of a request.
     * </pre>
     */
    public llmgateway.v1.Llm.CountTokensResponse countTokens(llmgateway.v1.Llm.CountTokensRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCountTokensMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Health reports the gateway's status and each provider's.
     * </pre>
     */
    public llmgateway.v1.Llm.HealthResponse health(llmgateway.v1.Llm.HealthRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getHealthMethod(), getCallOptions(), request);
    }
  }

  /**
   * <pre>
   * LLMService is the gateway's data plane: chat (unary and streamed), embeddings, the model list,
   * token counting and a health summary. Errors carry google.rpc.ErrorInfo (domain "llmgateway")
   * and, when waiting helps, google.rpc.RetryInfo.
   * </pre>
   */
  public static final class LLMServiceFutureStub extends io.grpc.stub.AbstractFutureStub<LLMServiceFutureStub> {
    private LLMServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected LLMServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new LLMServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Chat sends a conversation to a model and returns the whole answer.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<llmgateway.v1.Llm.ChatResponse> chat(
        llmgateway.v1.Llm.ChatRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getChatMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Embed turns texts into vectors.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<llmgateway.v1.Llm.EmbedResponse> embed(
        llmgateway.v1.Llm.EmbedRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getEmbedMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * ListModels lists the models callers may name, filterable by provider and capability.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<llmgateway.v1.Llm.ListModelsResponse> listModels(
        llmgateway.v1.Llm.ListModelsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListModelsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * GetModel describes one model; NOT_FOUND when the gateway does not know it.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<llmgateway.v1.Llm.GetModelResponse> getModel(
        llmgateway.v1.Llm.GetModelRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetModelMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * CountTokens counts (or estimates, see `exact`) the prompt tokens of a request.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<llmgateway.v1.Llm.CountTokensResponse> countTokens(
        llmgateway.v1.Llm.CountTokensRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCountTokensMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Health reports the gateway's status and each provider's.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<llmgateway.v1.Llm.HealthResponse> health(
        llmgateway.v1.Llm.HealthRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getHealthMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_CHAT = 0;
  private static final int METHODID_CHAT_STREAM = 1;
  private static final int METHODID_EMBED = 2;
  private static final int METHODID_LIST_MODELS = 3;
  private static final int METHODID_GET_MODEL = 4;
  private static final int METHODID_COUNT_TOKENS = 5;
  private static final int METHODID_HEALTH = 6;

  private static final class MethodHandlers<Req, Resp> implements
      io.grpc.stub.ServerCalls.UnaryMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ServerStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ClientStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.BidiStreamingMethod<Req, Resp> {
    private final LLMServiceImplBase serviceImpl;
    private final int methodId;

    MethodHandlers(LLMServiceImplBase serviceImpl, int methodId) {
      this.serviceImpl = serviceImpl;
      this.methodId = methodId;
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public void invoke(Req request, io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_CHAT:
          serviceImpl.chat((llmgateway.v1.Llm.ChatRequest) request,
              (io.grpc.stub.StreamObserver<llmgateway.v1.Llm.ChatResponse>) responseObserver);
          break;
        case METHODID_CHAT_STREAM:
          serviceImpl.chatStream((llmgateway.v1.Llm.ChatRequest) request,
              (io.grpc.stub.StreamObserver<llmgateway.v1.Llm.ChatStreamResponse>) responseObserver);
          break;
        case METHODID_EMBED:
          serviceImpl.embed((llmgateway.v1.Llm.EmbedRequest) request,
              (io.grpc.stub.StreamObserver<llmgateway.v1.Llm.EmbedResponse>) responseObserver);
          break;
        case METHODID_LIST_MODELS:
          serviceImpl.listModels((llmgateway.v1.Llm.ListModelsRequest) request,
              (io.grpc.stub.StreamObserver<llmgateway.v1.Llm.ListModelsResponse>) responseObserver);
          break;
        case METHODID_GET_MODEL:
          serviceImpl.getModel((llmgateway.v1.Llm.GetModelRequest) request,
              (io.grpc.stub.StreamObserver<llmgateway.v1.Llm.GetModelResponse>) responseObserver);
          break;
        case METHODID_COUNT_TOKENS:
          serviceImpl.countTokens((llmgateway.v1.Llm.CountTokensRequest) request,
              (io.grpc.stub.StreamObserver<llmgateway.v1.Llm.CountTokensResponse>) responseObserver);
          break;
        case METHODID_HEALTH:
          serviceImpl.health((llmgateway.v1.Llm.HealthRequest) request,
              (io.grpc.stub.StreamObserver<llmgateway.v1.Llm.HealthResponse>) responseObserver);
          break;
        default:
          throw new AssertionError();
      }
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public io.grpc.stub.StreamObserver<Req> invoke(
        io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        default:
          throw new AssertionError();
      }
    }
  }

  private static abstract class LLMServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    LLMServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return llmgateway.v1.Llm.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("LLMService");
    }
  }

  private static final class LLMServiceFileDescriptorSupplier
      extends LLMServiceBaseDescriptorSupplier {
    LLMServiceFileDescriptorSupplier() {}
  }

  private static final class LLMServiceMethodDescriptorSupplier
      extends LLMServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final String methodName;

    LLMServiceMethodDescriptorSupplier(String methodName) {
      this.methodName = methodName;
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.MethodDescriptor getMethodDescriptor() {
      return getServiceDescriptor().findMethodByName(methodName);
    }
  }

  private static volatile io.grpc.ServiceDescriptor serviceDescriptor;

  public static io.grpc.ServiceDescriptor getServiceDescriptor() {
    io.grpc.ServiceDescriptor result = serviceDescriptor;
    if (result == null) {
      synchronized (LLMServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new LLMServiceFileDescriptorSupplier())
              .addMethod(getChatMethod())
              .addMethod(getChatStreamMethod())
              .addMethod(getEmbedMethod())
              .addMethod(getListModelsMethod())
              .addMethod(getGetModelMethod())
              .addMethod(getCountTokensMethod())
              .addMethod(getHealthMethod())
              .build();
        }
      }
    }
    return result;
  }
}
