// Command example calls llm-gateway over gRPC with the generated Go client (clients/go/gen):
// a unary Chat, a server-streaming ChatStream, and a Chat to an unknown model whose error carries
// google.rpc.ErrorInfo (and RetryInfo when waiting helps) in grpc-status-details-bin. With
// -until-limited it repeats a Chat until the key's rate limit answers RESOURCE_EXHAUSTED.
//
//	LLMGW_API_KEY=... go run ./example 127.0.0.1:8080
//
// It prints one JSON object.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	llm "llm-gateway/clients/go/gen/llmgateway/v1"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func ask(model, text string) *llm.ChatRequest {
	return &llm.ChatRequest{
		Model: model,
		Messages: []*llm.Message{{
			Role:    llm.Role_ROLE_USER,
			Content: []*llm.ContentPart{{Part: &llm.ContentPart_Text{Text: text}}},
		}},
	}
}

// errorDetails reads the gateway's error: code, message, ErrorInfo and RetryInfo.
func errorDetails(err error) map[string]any {
	st := status.Convert(err)
	out := map[string]any{"code": st.Code().String(), "message": st.Message()}
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			out["reason"], out["domain"], out["metadata"] = d.Reason, d.Domain, d.Metadata
		case *errdetails.RetryInfo:
			out["retry_delay_ms"] = d.GetRetryDelay().GetSeconds()*1000 + int64(d.GetRetryDelay().GetNanos())/1e6
		}
	}
	return out
}

func run(target string, untilLimited bool) (map[string]any, error) {
	conn, err := grpc.Dial(target, grpc.WithInsecure())
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	client := llm.NewLLMServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if key := os.Getenv("LLMGW_API_KEY"); key != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+key)
	}
	result := map[string]any{}

	var header metadata.MD
	res, err := client.Chat(ctx, ask("mock/echo", "hello from go"), grpc.Header(&header))
	if err != nil {
		return nil, err
	}
	var text strings.Builder
	for _, p := range res.GetMessage().GetContent() {
		text.WriteString(p.GetText())
	}
	result["chat"] = map[string]any{
		"model": res.Model, "provider": res.Provider, "text": text.String(),
		"finish_reason": res.FinishReason.String(), "total_tokens": res.GetUsage().GetTotalTokens(),
		"request_id": res.GetGateway().GetRequestId(), "x_request_id": strings.Join(header.Get("x-request-id"), ","),
	}

	stream, err := client.ChatStream(ctx, ask("mock/echo", "one two three four"))
	if err != nil {
		return nil, err
	}
	var kinds []string
	var streamed strings.Builder
	for {
		ev, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch e := ev.Event.(type) {
		case *llm.ChatStreamResponse_Start:
			kinds = append(kinds, "start")
		case *llm.ChatStreamResponse_Delta:
			kinds = append(kinds, "delta")
			streamed.WriteString(e.Delta.GetText())
		case *llm.ChatStreamResponse_End:
			kinds = append(kinds, "end:"+e.End.FinishReason.String())
		}
	}
	result["stream"] = map[string]any{"kinds": kinds, "text": streamed.String()}

	if _, err := client.Chat(ctx, ask("nope/x", "hello")); err != nil {
		result["not_found"] = errorDetails(err)
	}
	if untilLimited {
		for i := 0; i < 50; i++ {
			if _, err := client.Chat(ctx, ask("mock/echo", "again")); err != nil {
				result["limited"] = errorDetails(err)
				break
			}
		}
	}
	return result, nil
}

func main() {
	untilLimited := flag.Bool("until-limited", false, "repeat a Chat until the rate limit answers")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: example [-until-limited] HOST:PORT   (API key in $LLMGW_API_KEY)")
		os.Exit(2)
	}
	result, err := run(flag.Arg(0), *untilLimited)
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", errorDetails(err))
		os.Exit(1)
	}
	out, _ := json.Marshal(result)
	fmt.Println(string(out))
}
