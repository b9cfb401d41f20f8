// llm-gateway from Java over gRPC with the generated classes in clients/java/gen (grpc-java 1.41,
// protobuf-java 3.21, Netty transport): a unary Chat, a server-streaming ChatStream, and a Chat to
// an unknown model whose error carries google.rpc.ErrorInfo (and RetryInfo when waiting helps) in
// grpc-status-details-bin. With --until-limited it repeats a Chat until the key's rate limit answers.
//
//   LLMGW_API_KEY=... java -cp ... Example 127.0.0.1:8080
//
// Prints one JSON object.
import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.MetadataUtils;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import llmgateway.v1.LLMServiceGrpc;
import llmgateway.v1.Llm.ChatRequest;
import llmgateway.v1.Llm.ChatResponse;
import llmgateway.v1.Llm.ChatStreamResponse;
import llmgateway.v1.Llm.ContentPart;
import llmgateway.v1.Llm.Message;
import llmgateway.v1.Llm.Role;

public final class Example {
  static ChatRequest ask(String model, String text) {
    return ChatRequest.newBuilder()
        .setModel(model)
        .addMessages(Message.newBuilder().setRole(Role.ROLE_USER).addContent(ContentPart.newBuilder().setText(text)))
        .build();
  }

  static String q(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
  }

  /** The gateway's error as JSON: code, message, ErrorInfo reason/domain, RetryInfo delay. */
  static String errorDetails(StatusRuntimeException e) throws Exception {
    StringBuilder out = new StringBuilder("{\"code\":" + q(e.getStatus().getCode().name()));
    out.append(",\"message\":").append(q(String.valueOf(e.getStatus().getDescription())));
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    if (status != null) {
      for (com.google.protobuf.Any d : status.getDetailsList()) {
        if (d.is(ErrorInfo.class)) {
          ErrorInfo info = d.unpack(ErrorInfo.class);
          out.append(",\"reason\":").append(q(info.getReason())).append(",\"domain\":").append(q(info.getDomain()));
        } else if (d.is(RetryInfo.class)) {
          RetryInfo retry = d.unpack(RetryInfo.class);
          long ms = retry.getRetryDelay().getSeconds() * 1000 + retry.getRetryDelay().getNanos() / 1_000_000;
          out.append(",\"retry_delay_ms\":").append(ms);
        }
      }
    }
    return out.append("}").toString();
  }

  public static void main(String[] args) throws Exception {
    List<String> rest = new ArrayList<>();
    for (String a : args) if (!a.startsWith("--")) rest.add(a);
    if (rest.size() != 1) {
      System.err.println("usage: Example [--until-limited] HOST:PORT   (API key in $LLMGW_API_KEY)");
      System.exit(2);
    }
    ManagedChannel channel = ManagedChannelBuilder.forTarget(rest.get(0)).usePlaintext().build();
    try {
      Metadata headers = new Metadata();
      String key = System.getenv("LLMGW_API_KEY");
      if (key != null && !key.isEmpty()) {
        headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + key);
      }
      LLMServiceGrpc.LLMServiceBlockingStub stub = LLMServiceGrpc.newBlockingStub(channel)
          .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
          .withDeadlineAfter(20, TimeUnit.SECONDS);
      StringBuilder json = new StringBuilder("{");

      ChatResponse res = stub.chat(ask("mock/echo", "hello from java"));
      StringBuilder text = new StringBuilder();
      for (ContentPart p : res.getMessage().getContentList()) text.append(p.getText());
      json.append("\"chat\":{\"model\":").append(q(res.getModel()))
          .append(",\"provider\":").append(q(res.getProvider()))
          .append(",\"text\":").append(q(text.toString()))
          .append(",\"finish_reason\":").append(q(res.getFinishReason().name()))
          .append(",\"total_tokens\":").append(res.getUsage().getTotalTokens()).append("}");

      StringBuilder kinds = new StringBuilder();
      StringBuilder streamed = new StringBuilder();
      Iterator<ChatStreamResponse> it = stub.chatStream(ask("mock/echo", "one two three four"));
      while (it.hasNext()) {
        ChatStreamResponse ev = it.next();
        if (kinds.length() > 0) kinds.append(",");
        kinds.append(q(ev.getEventCase().name()));
        if (ev.hasDelta()) streamed.append(ev.getDelta().getText());
      }
      json.append(",\"stream\":{\"kinds\":[").append(kinds).append("],\"text\":").append(q(streamed.toString())).append("}");

      try {
        stub.chat(ask("nope/x", "hello"));
      } catch (StatusRuntimeException e) {
        json.append(",\"not_found\":").append(errorDetails(e));
      }
      if (args.length > rest.size()) {
        for (int i = 0; i < 50; i++) {
          try {
            stub.chat(ask("mock/echo", "again"));
          } catch (StatusRuntimeException e) {
            json.append(",\"limited\":").append(errorDetails(e));
            break;
          }
        }
      }
      System.out.println(json.append("}"));
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
