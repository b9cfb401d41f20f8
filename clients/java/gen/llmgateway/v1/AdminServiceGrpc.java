package llmgateway.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * AdminService manages gateway keys at run time and reports usage. Every call needs the admin key:
 * `Authorization: Bearer &lt;admin key&gt;` or `x-api-key: &lt;admin key&gt;`, whose SHA-256 (hex) is
 * `auth.admin_sha256` in the gateway's config. Gateway keys never grant admin, and the admin key is
 * not a gateway key. Without `auth.admin_sha256` every call fails PERMISSION_DENIED / ADMIN_DISABLED;
 * a missing or wrong admin key fails UNAUTHENTICATED / API_KEY_INVALID. Errors carry
 * google.rpc.ErrorInfo (domain "llmgateway").
 * Keys created here live in Redis when the gateway has one (else in `auth.keys_file`) beside the
 * keys of the config file; every replica sees a new, updated or revoked key within
 * `auth.keys_refresh_ms` (1 s by default). Plaintext keys are returned once, by CreateKey, and
 * never stored: the gateway keeps SHA-256 digests only.
 * </pre>
 */
@javax.annotation.Generated(
    value = "by gRPC proto compiler",
    comments = "Source: llmgateway/v1/admin.proto")
@io.grpc.stub.annotations.GrpcGenerated
public final class AdminServiceGrpc {

  private AdminServiceGrpc() {}

  public static final String SERVICE_NAME = "llmgateway.v1.AdminService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<llmgateway.v1.Admin.CreateKeyRequest,
      llmgateway.v1.Admin.CreateKeyResponse> getCreateKeyMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CreateKey",
      requestType = llmgateway.v1.Admin.CreateKeyRequest.class,
      responseType = llmgateway.v1.Admin.CreateKeyResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<llmgateway.v1.Admin.CreateKeyRequest,
      llmgateway.v1.Admin.CreateKeyResponse> getCreateKeyMethod() {
    io.grpc.MethodDescriptor<llmgateway.v1.Admin.CreateKeyRequest, llmgateway.v1.Admin.CreateKeyResponse> getCreateKeyMethod;
    if ((getCreateKeyMethod = AdminServiceGrpc.getCreateKeyMethod) == null) {
      synchronized (AdminServiceGrpc.class) {
        if ((getCreateKeyMethod = AdminServiceGrpc.getCreateKeyMethod) == null) {
          AdminServiceGrpc.getCreateKeyMethod = getCreateKeyMethod =
              io.grpc.MethodDescriptor.<llmgateway.v1.Admin.CreateKeyRequest, llmgateway.v1.Admin.CreateKeyResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CreateKey"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  llmgateway.v1.Admin.CreateKeyRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  llmgateway.v1.Admin.CreateKeyResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminServiceMethodDescriptorSupplier("CreateKey"))
              .build();
        }
      }
    }
    return getCreateKeyMethod;
  }

  private static volatile io.grpc.MethodDescriptor<llmgateway.v1.Admin.RevokeKeyRequest,
      llmgateway.v1.Admin.RevokeKeyResponse> getRevokeKeyMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "RevokeKey",
      requestType = llmgateway.v1.Admin.RevokeKeyRequest.class,
      responseType = llmgateway.v1.Admin.RevokeKeyResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<llmgateway.v1.Admin.RevokeKeyRequest,
      llmgateway.v1.Admin.RevokeKeyResponse> getRevokeKeyMethod() {
    io.grpc.MethodDescriptor<llmgateway.v1.Admin.RevokeKeyRequest, llmgateway.v1.Admin.RevokeKeyResponse> getRevokeKeyMethod;
    if ((getRevokeKeyMethod = AdminServiceGrpc.getRevokeKeyMethod) == null) {
      synchronized (AdminServiceGrpc.class) {
        if ((getRevokeKeyMethod = AdminServiceGrpc.getRevokeKeyMethod) == null) {
          AdminServiceGrpc.getRevokeKeyMethod = getRevokeKeyMethod =
              io.grpc.MethodDescriptor.<llmgateway.v1.Admin.RevokeKeyRequest, llmgateway.v1.Admin.RevokeKeyResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "RevokeKey"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  llmgateway.v1.Admin.RevokeKeyRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  llmgateway.v1.Admin.RevokeKeyResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminServiceMethodDescriptorSupplier("RevokeKey"))
              .build();
        }
      }
    }
    return getRevokeKeyMethod;
  }

  private static volatile io.grpc.MethodDescriptor<llmgateway.v1.Admin.UpdateKeyRequest,
      llmgateway.v1.Admin.UpdateKeyResponse> getUpdateKeyMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "UpdateKey",
      requestType = llmgateway.v1.Admin.UpdateKeyRequest.class,
      responseType = llmgateway.v1.Admin.UpdateKeyResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<llmgateway.v1.Admin.UpdateKeyRequest,
      llmgateway.v1.Admin.UpdateKeyResponse> getUpdateKeyMethod() {
    io.grpc.MethodDescriptor<llmgateway.v1.Admin.UpdateKeyRequest, llmgateway.v1.Admin.UpdateKeyResponse> getUpdateKeyMethod;
    if ((getUpdateKeyMethod = AdminServiceGrpc.getUpdateKeyMethod) == null) {
      synchronized (AdminServiceGrpc.class) {
        if ((getUpdateKeyMethod = AdminServiceGrpc.getUpdateKeyMethod) == null) {
          AdminServiceGrpc.getUpdateKeyMethod = getUpdateKeyMethod =
              io.grpc.MethodDescriptor.<llmgateway.v1.Admin.UpdateKeyRequest, llmgateway.v1.Admin.UpdateKeyResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "UpdateKey"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  llmgateway.v1.Admin.UpdateKeyRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  llmgateway.v1.Admin.UpdateKeyResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminServiceMethodDescriptorSupplier("UpdateKey"))
              .build();
        }
      }
    }
    return getUpdateKeyMethod;
  }

  private static volatile io.grpc.MethodDescriptor<llmgateway.v1.Admin.ListKeysRequest,
      llmgateway.v1.Admin.ListKeysResponse> getListKeysMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListKeys",
      requestType = llmgateway.v1.Admin.ListKeysRequest.class,
      responseType = llmgateway.v1.Admin.ListKeysResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<llmgateway.v1.Admin.ListKeysRequest,
      llmgateway.v1.Admin.ListKeysResponse> getListKeysMethod() {
    io.grpc.MethodDescriptor<llmgateway.v1.Admin.ListKeysRequest, llmgateway.v1.Admin.ListKeysResponse> getListKeysMethod;
    if ((getListKeysMethod = AdminServiceGrpc.getListKeysMethod) == null) {
      synchronized (AdminServiceGrpc.class) {
        if ((getListKeysMethod = AdminServiceGrpc.getListKeysMethod) == null) {
          AdminServiceGrpc.getListKeysMethod = getListKeysMethod =
              io.grpc.MethodDescriptor.<llmgateway.v1.Admin.ListKeysRequest, llmgateway.v1.Admin.ListKeysResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListKeys"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  llmgateway.v1.Admin.ListKeysRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  llmgateway.v1.Admin.ListKeysResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminServiceMethodDescriptorSupplier("ListKeys"))
              .build();
        }
      }
    }
    return getListKeysMethod;
  }

  private static volatile io.grpc.MethodDescriptor<llmgateway.v1.Admin.GetUsageRequest,
      llmgateway.v1.Admin.GetUsageResponse> getGetUsageMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetUsage",
      requestType = llmgateway.v1.Admin.GetUsageRequest.class,
      responseType = llmgateway.v1.Admin.GetUsageResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<llmgateway.v1.Admin.GetUsageRequest,
      llmgateway.v1.Admin.GetUsageResponse> getGetUsageMethod() {
    io.grpc.MethodDescriptor<llmgateway.v1.Admin.GetUsageRequest, llmgateway.v1.Admin.GetUsageResponse> getGetUsageMethod;
    if ((getGetUsageMethod = AdminServiceGrpc.getGetUsageMethod) == null) {
      synchronized (AdminServiceGrpc.class) {
        if ((getGetUsageMethod = AdminServiceGrpc.getGetUsageMethod) == null) {
          AdminServiceGrpc.getGetUsageMethod = getGetUsageMethod =
              io.grpc.MethodDescriptor.<llmgateway.v1.Admin.GetUsageRequest, llmgateway.v1.Admin.GetUsageResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetUsage"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  llmgateway.v1.Admin.GetUsageRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  llmgateway.v1.Admin.GetUsageResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminServiceMethodDescriptorSupplier("GetUsage"))
              .build();
        }
      }
    }
    return getGetUsageMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static AdminServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<AdminServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<AdminServiceStub>() {
        @java.lang.Override
        public AdminServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new AdminServiceStub(channel, callOptions);
        }
      };
    return AdminServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static AdminServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<AdminServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<AdminServiceBlockingStub>() {
        @java.lang.Override
        public AdminServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new AdminServiceBlockingStub(channel, callOptions);
        }
      };
    return AdminServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static AdminServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<AdminServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<AdminServiceFutureStub>() {
        @java.lang.Override
        public AdminServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new AdminServiceFutureStub(channel, callOptions);
        }
      };
    return AdminServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * AdminService manages gateway keys at run time and reports usage. Every call needs the admin key:
   * `Authorization: Bearer &lt;admin key&gt;` or `x-api-key: &lt;admin key&gt;`, whose SHA-256 (hex) is
   * `auth.admin_sha256` in the gateway's config. Gateway keys never grant admin, and the admin key is
   * not a gateway key. Without `auth.admin_sha256` every call fails PERMISSION_DENIED / ADMIN_DISABLED;
   * a missing or wrong admin key fails UNAUTHENTICATED / API_KEY_INVALID. Errors carry
   * google.rpc.ErrorInfo (domain "llmgateway").
   * Keys created here live in Redis when the gateway has one (else in `auth.keys_file`) beside the
   * keys of the config file; every replica sees a new, updated or revoked key within
   * `auth.keys_refresh_ms` (1 s by default). Plaintext keys are returned once, by CreateKey, and
   * never stored: the gateway keeps SHA-256 digests only.
   * </pre>
   */
  public static abstract class AdminServiceImplBase implements io.grpc.BindableService {

    /**
     * <pre>
     * CreateKey makes a new gateway key. The response holds the plaintext key, shown this once.
     * ALREADY_EXISTS / KEY_EXISTS when a live key (config or run time) has the name. A gateway with no
     * keys is open to every caller; the first key created here makes it keyed for good (revoking
     * every key does not reopen it): keyless callers then need `auth.allow_anonymous`.
     * </pre>
     */
    public void createKey(llmgateway.v1.Admin.CreateKeyRequest request,
        io.grpc.stub.StreamObserver<llmgateway.v1.Admin.CreateKeyResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCreateKeyMethod(), responseObserver);
    }

    /**
     * <pre>
     * RevokeKey revokes a live key by name; callers using it are refused on every replica within the
     * refresh bound. A key of the config file is revoked by a stored tombstone that overrides it.
     * NOT_FOUND / KEY_NOT_FOUND when no live key has the name.
     * </pre>
     */
    public void revokeKey(llmgateway.v1.Admin.RevokeKeyRequest request,
        io.grpc.stub.StreamObserver<llmgateway.v1.Admin.RevokeKeyResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getRevokeKeyMethod(), responseObserver);
    }

    /**
     * <pre>
     * UpdateKey changes the models, limits or budget of a key created at run time (the fields named
     * by `update_mask`). Keys of the config file are changed in the config file: FAILED_PRECONDITION /
     * KEY_FROM_CONFIG.
     * </pre>
     */
    public void updateKey(llmgateway.v1.Admin.UpdateKeyRequest request,
        io.grpc.stub.StreamObserver<llmgateway.v1.Admin.UpdateKeyResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getUpdateKeyMethod(), responseObserver);
    }

    /**
     * <pre>
     * ListKeys lists the keys of the config file and those created at run time. Never a plaintext
     * key, never a full digest.
     * </pre>
     */
    public void listKeys(llmgateway.v1.Admin.ListKeysRequest request,
        io.grpc.stub.StreamObserver<llmgateway.v1.Admin.ListKeysResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListKeysMethod(), responseObserver);
    }

    /**
     * <pre>
     * GetUsage reports usage per key, model and UTC day, with totals.
     * </pre>
     */
    public void getUsage(llmgateway.v1.Admin.GetUsageRequest request,
        io.grpc.stub.StreamObserver<llmgateway.v1.Admin.GetUsageResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetUsageMethod(), responseObserver);
    }

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
          .addMethod(
            getCreateKeyMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                llmgateway.v1.Admin.CreateKeyRequest,
                llmgateway.v1.Admin.CreateKeyResponse>(
                  this, METHODID_CREATE_KEY)))
          .addMethod(
            getRevokeKeyMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                llmgateway.v1.Admin.RevokeKeyRequest,
                llmgateway.v1.Admin.RevokeKeyResponse>(
                  this, METHODID_REVOKE_KEY)))
          .addMethod(
            getUpdateKeyMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                llmgateway.v1.Admin.UpdateKeyRequest,
                llmgateway.v1.Admin.UpdateKeyResponse>(
                  this, METHODID_UPDATE_KEY)))
          .addMethod(
            getListKeysMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                llmgateway.v1.Admin.ListKeysRequest,
                llmgateway.v1.Admin.ListKeysResponse>(
                  this, METHODID_LIST_KEYS)))
          .addMethod(
            getGetUsageMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                llmgateway.v1.Admin.GetUsageRequest,
                llmgateway.v1.Admin.GetUsageResponse>(
                  this, METHODID_GET_USAGE)))
          .build();
    }
  }

  /**
   * <pre>
   * AdminService manages gateway keys at run time and reports usage. Every call needs the admin key:
   * `Authorization: Bearer &lt;admin key&gt;` or `x-api-key: &lt;admin key&gt;`, whose SHA-256 (hex) is
   * `auth.admin_sha256` in the gateway's config. Gateway keys never grant admin, and the admin key is
   * not a gateway key. Without `auth.admin_sha256` every call fails PERMISSION_DENIED / ADMIN_DISABLED;
   * a missing or wrong admin key fails UNAUTHENTICATED / API_KEY_INVALID. Errors carry
   * google.rpc.ErrorInfo (domain "llmgateway").
   * Keys created here live in Redis when the gateway has one (else in `auth.keys_file`) beside the
   * keys of the config file; every replica sees a new, updated or revoked key within
   * `auth.keys_refresh_ms` (1 s by default). Plaintext keys are returned once, by CreateKey, and
   * never stored: the gateway keeps SHA-256 digests only.
   * </pre>
   */
  public static final class AdminServiceStub extends io.grpc.stub.AbstractAsyncStub<AdminServiceStub> {
    private AdminServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected AdminServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new AdminServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * CreateKey makes a new gateway key. The response holds the plaintext key, shown this once.
     * ALREADY_EXISTS / KEY_EXISTS when a live key (config or run time) has the name. A gateway with no
     * keys is open to every caller; the first key created here makes it keyed for good (revoking
     * every key does not reopen it): keyless callers then need `auth.allow_anonymous`.
     * </pre>
     */
    public void createKey(llmgateway.v1.Admin.CreateKeyRequest request,
        io.grpc.stub.StreamObserver<llmgateway.v1.Admin.CreateKeyResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCreateKeyMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * RevokeKey revokes a live key by name; callers using it are refused on every replica within the
     * refresh bound. A key of the config file is revoked by a stored tombstone that overrides it.
     * NOT_FOUND / KEY_NOT_FOUND when no live key has the name.
     * </pre>
     */
    public void revokeKey(llmgateway.v1.Admin.RevokeKeyRequest request,
        io.grpc.stub.StreamObserver<llmgateway.v1.Admin.RevokeKeyResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getRevokeKeyMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * UpdateKey changes the models, limits or budget of a key created at run time (the fields named
     * by `update_mask`). Keys of the config file are changed in the config file: FAILED_PRECONDITION /
     * KEY_FROM_CONFIG.
     * </pre>
     */
    public void updateKey(llmgateway.v1.Admin.UpdateKeyRequest request,
        io.grpc.stub.StreamObserver<llmgateway.v1.Admin.UpdateKeyResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getUpdateKeyMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * ListKeys lists the keys of the config file and those created at run time. Never a plaintext
     * key, never a full digest.
     * </pre>
     */
    public void listKeys(llmgateway.v1.Admin.ListKeysRequest request,
        io.grpc.stub.StreamObserver<llmgateway.v1.Admin.ListKeysResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListKeysMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * GetUsage reports usage per key, model and UTC day, with totals.
     * </pre>
     */
    public void getUsage(llmgateway.v1.Admin.GetUsageRequest request,
        io.grpc.stub.StreamObserver<llmgateway.v1.Admin.GetUsageResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetUsageMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * <pre>
   * AdminService manages gateway keys at run time and reports usage. Every call needs the admin key:
   * `Authorization: Bearer &lt;admin key&gt;` or `x-api-key: &lt;admin key&gt;`, whose SHA-256 (hex) is
   * `auth.admin_sha256` in the gateway's config. Gateway keys never grant admin, and the admin key is
   * not a gateway key. Without `auth.admin_sha256` every call fails PERMISSION_DENIED / ADMIN_DISABLED;
   * a missing or wrong admin key fails UNAUTHENTICATED / API_KEY_INVALID. Errors carry
   * google.rpc.ErrorInfo (domain "llmgateway").
   * Keys created here live in Redis when the gateway has one (else in `auth.keys_file`) beside the
   * keys of the config file; every replica sees a new, updated or revoked key within
   * `auth.keys_refresh_ms` (1 s by default). Plaintext keys are returned once, by CreateKey, and
   * never stored: the gateway keeps SHA-256 digests only.
   * </pre>
   */
  public static final class AdminServiceBlockingStub extends io.grpc.stub.AbstractBlockingStub<AdminServiceBlockingStub> {
    private AdminServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected AdminServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new AdminServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * CreateKey makes a new gateway key. The response holds the plaintext key, shown this once.
     * ALREADY_EXISTS / KEY_EXISTS when a live key (config or run time) has the name. A gateway with no
     * keys is open to every caller; the first key created here makes it keyed for good (revoking
     * every key does not reopen it): keyless callers then need `auth.allow_anonymous`.
     * </pre>
     */
    public llmgateway.v1.Admin.CreateKeyResponse createKey(llmgateway.v1.Admin.CreateKeyRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCreateKeyMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * RevokeKey revokes a live key by name; callers using it are refused on every replica within the
     * refresh bound. A key of the config file is revoked by a stored tombstone that overrides it.
     * NOT_FOUND / KEY_NOT_FOUND when no live key has the name.
     * </pre>
     */
    public llmgateway.v1.Admin.RevokeKeyResponse revokeKey(llmgateway.v1.Admin.RevokeKeyRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getRevokeKeyMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * UpdateKey changes the models, limits or budget of a key created at run time (the fields named
     * by `update_mask`). Keys of the config file are changed in the config file: FAILED_PRECONDITION /
     * KEY_FROM_CONFIG.
     * </pre>
     */
    public llmgateway.v1.Admin.UpdateKeyResponse updateKey(llmgateway.v1.Admin.UpdateKeyRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getUpdateKeyMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * ListKeys lists the keys of the config file and those created at run time. Never a plaintext
     * key, never a full digest.
     * </pre>
     */
    public llmgateway.v1.Admin.ListKeysResponse listKeys(llmgateway.v1.Admin.ListKeysRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListKeysMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * GetUsage reports usage per key, model and UTC day, with totals.
     * </pre>
     */
    public llmgateway.v1.Admin.GetUsageResponse getUsage(llmgateway.v1.Admin.GetUsageRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetUsageMethod(), getCallOptions(), request);
    }
  }

  /**
   * <pre>
   * AdminService manages gateway keys at run time and reports usage. Every call needs the admin key:
   * `Authorization: Bearer &lt;admin key&gt;` or `x-api-key: &lt;admin key&gt;`, whose SHA-256 (hex) is
   * `auth.admin_sha256` in the gateway's config. Gateway keys never grant admin, and the admin key is
   * not a gateway key. Without `auth.admin_sha256` every call fails PERMISSION_DENIED / ADMIN_DISABLED;
   * a missing or wrong admin key fails UNAUTHENTICATED / API_KEY_INVALID. Errors carry
   * google.rpc.ErrorInfo (domain "llmgateway").
   * Keys created here live in Redis when the gateway has one (else in `auth.keys_file`) beside the
   * keys of the config file; every replica sees a new, updated or revoked key within
   * `auth.keys_refresh_ms` (1 s by default). Plaintext keys are returned once, by CreateKey, and
   * never stored: the gateway keeps SHA-256 digests only.
   * </pre>
   */
  public static final class AdminServiceFutureStub extends io.grpc.stub.AbstractFutureStub<AdminServiceFutureStub> {
    private AdminServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected AdminServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new AdminServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * CreateKey makes a new gateway key. The response holds the plaintext key, shown this once.
     * ALREADY_EXISTS / KEY_EXISTS when a live key (config or run time) has the name. A gateway with no
     * keys is open to every caller; the first key created here makes it keyed for good (revoking
     * every key does not reopen it): keyless callers then need `auth.allow_anonymous`.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<llmgateway.v1.Admin.CreateKeyResponse> createKey(
        llmgateway.v1.Admin.CreateKeyRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCreateKeyMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * RevokeKey revokes a live key by name; callers using it are refused on every replica within the
     * refresh bound. A key of the config file is revoked by a stored tombstone that overrides it.
     * NOT_FOUND / KEY_NOT_FOUND when no live key has the name.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<llmgateway.v1.Admin.RevokeKeyResponse> revokeKey(
        llmgateway.v1.Admin.RevokeKeyRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getRevokeKeyMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * UpdateKey changes the models, limits or budget of a key created at run time (the fields named
     * by `update_mask`). Keys of the config file are changed in the config file: FAILED_PRECONDITION /
     * KEY_FROM_CONFIG.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<llmgateway.v1.Admin.UpdateKeyResponse> updateKey(
        llmgateway.v1.Admin.UpdateKeyRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getUpdateKeyMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * ListKeys lists the keys of the config file and those created at run time. Never a plaintext
     * key, never a full digest.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<llmgateway.v1.Admin.ListKeysResponse> listKeys(
        llmgateway.v1.Admin.ListKeysRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListKeysMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * GetUsage reports usage per key, model and UTC day, with totals.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<llmgateway.v1.Admin.GetUsageResponse> getUsage(
        llmgateway.v1.Admin.GetUsageRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetUsageMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_CREATE_KEY = 0;
  private static final int METHODID_REVOKE_KEY = 1;
  private static final int METHODID_UPDATE_KEY = 2;
  private static final int METHODID_LIST_KEYS = 3;
  private static final int METHODID_GET_USAGE = 4;

  private static final class MethodHandlers<Req, Resp> implements
      io.grpc.stub.ServerCalls.UnaryMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ServerStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ClientStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.BidiStreamingMethod<Req, Resp> {
    private final AdminServiceImplBase serviceImpl;
    private final int methodId;

    MethodHandlers(AdminServiceImplBase serviceImpl, int methodId) {
      this.serviceImpl = serviceImpl;
      this.methodId = methodId;
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public void invoke(Req request, io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_CREATE_KEY:
          serviceImpl.createKey((llmgateway.v1.Admin.CreateKeyRequest) request,
              (io.grpc.stub.StreamObserver<llmgateway.v1.Admin.CreateKeyResponse>) responseObserver);
          break;
        case METHODID_REVOKE_KEY:
          serviceImpl.revokeKey((llmgateway.v1.Admin.RevokeKeyRequest) request,
              (io.grpc.stub.StreamObserver<llmgateway.v1.Admin.RevokeKeyResponse>) responseObserver);
          break;
        case METHODID_UPDATE_KEY:
          serviceImpl.updateKey((llmgateway.v1.Admin.UpdateKeyRequest) request,
              (io.grpc.stub.StreamObserver<llmgateway.v1.Admin.UpdateKeyResponse>) responseObserver);
          break;
        case METHODID_LIST_KEYS:
          serviceImpl.listKeys((llmgateway.v1.Admin.ListKeysRequest) request,
              (io.grpc.stub.StreamObserver<llmgateway.v1.Admin.ListKeysResponse>) responseObserver);
          break;
        case METHODID_GET_USAGE:
          serviceImpl.getUsage((llmgateway.v1.Admin.GetUsageRequest) request,
              (io.grpc.stub.StreamObserver<llmgateway.v1.Admin.GetUsageResponse>) responseObserver);
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

  private static abstract class AdminServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    AdminServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return llmgateway.v1.Admin.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("AdminService");
    }
  }

  private static final class AdminServiceFileDescriptorSupplier
      extends AdminServiceBaseDescriptorSupplier {
    AdminServiceFileDescriptorSupplier() {}
  }

  private static final class AdminServiceMethodDescriptorSupplier
      extends AdminServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final String methodName;

    AdminServiceMethodDescriptorSupplier(String methodName) {
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
      synchronized (AdminServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new AdminServiceFileDescriptorSupplier())
              .addMethod(getCreateKeyMethod())
              .addMethod(getRevokeKeyMethod())
              .addMethod(getUpdateKeyMethod())
              .addMethod(getListKeysMethod())
              .addMethod(getGetUsageMethod())
              .build();
        }
      }
    }
    return result;
  }
}
