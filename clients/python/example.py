#!/usr/bin/python3
"""llm-gateway from Python over gRPC, with the committed stubs in clients/python/gen.

Usage: example.py HOST:PORT [--until-limited]     (API key in $LLMGW_API_KEY, if the gateway wants one)

Runs a unary Chat, a server-streaming ChatStream and an Embed, then a Chat to a model that does not
exist to show the google.rpc.ErrorInfo the gateway puts in the `grpc-status-details-bin` trailer.
With --until-limited it repeats a Chat until the key's rate limit answers RESOURCE_EXHAUSTED and
shows the google.rpc.RetryInfo delay. Prints one JSON object (stream events also go to stderr, one
JSON line each). Needs grpcio + protobuf (Debian: python3-grpcio).
"""

import json
import os
import sys

# The generated modules import each other as top-level packages (llmgateway.v1, google.rpc);
# `google` is a namespace package, so google.rpc from here and google.protobuf coexist.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "gen"))

import grpc  # noqa: E402
from google.rpc import error_details_pb2, status_pb2  # noqa: E402
from llmgateway.v1 import llm_pb2, llm_pb2_grpc  # noqa: E402


def ask(model: str, text: str) -> llm_pb2.ChatRequest:
    return llm_pb2.ChatRequest(
        model=model,
        messages=[llm_pb2.Message(role=llm_pb2.ROLE_USER, content=[llm_pb2.ContentPart(text=text)])],
    )


def text_of(message: llm_pb2.Message) -> str:
    return "".join(p.text for p in message.content if p.WhichOneof("part") == "text")


def error_details(e: grpc.RpcError) -> dict:
    """The gateway's error: code, message, ErrorInfo (reason, metadata) and RetryInfo (delay)."""
    out: dict = {"code": e.code().name, "message": e.details()}
    raw = next((v for k, v in (e.trailing_metadata() or ()) if k == "grpc-status-details-bin"), None)
    if raw is None:
        return out
    status = status_pb2.Status.FromString(raw)
    out["status_code"] = status.code
    for detail in status.details:
        info, retry = error_details_pb2.ErrorInfo(), error_details_pb2.RetryInfo()
        if detail.Unpack(info):
            out.update(reason=info.reason, domain=info.domain, metadata=dict(info.metadata))
        elif detail.Unpack(retry):
            out["retry_delay_ms"] = retry.retry_delay.ToMilliseconds()
    return out


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    key = os.environ.get("LLMGW_API_KEY")
    md = [("authorization", f"Bearer {key}")] if key else []
    result: dict = {"grpcio": grpc.__version__}
    with grpc.insecure_channel(args[0]) as channel:
        stub = llm_pb2_grpc.LLMServiceStub(channel)

        res, call = stub.Chat.with_call(ask("mock/echo", "hello from python"), metadata=md, timeout=10)
        headers = {k: v for k, v in call.initial_metadata() if isinstance(v, str)}
        result["chat"] = {
            "model": res.model,
            "provider": res.provider,
            "text": text_of(res.message),
            "role": llm_pb2.Role.Name(res.message.role),
            "finish_reason": llm_pb2.FinishReason.Name(res.finish_reason),
            "usage": {"input": res.usage.input_tokens, "output": res.usage.output_tokens, "total": res.usage.total_tokens},
            "request_id": res.gateway.request_id,
            "x_request_id": headers.get("x-request-id", ""),
        }

        events = []
        for ev in stub.ChatStream(ask("mock/echo", "one two three four"), metadata=md, timeout=10):
            kind = ev.WhichOneof("event")
            item: dict = {"kind": kind}
            if kind == "start":
                item.update(model=ev.start.model, provider=ev.start.provider)
            elif kind == "delta":
                item["text"] = ev.delta.text
            elif kind == "end":
                item.update(finish_reason=llm_pb2.FinishReason.Name(ev.end.finish_reason), total_tokens=ev.end.usage.total_tokens)
            events.append(item)
            print(json.dumps(item), file=sys.stderr, flush=True)
        result["stream"] = {"events": events, "text": "".join(e.get("text", "") for e in events)}

        emb = stub.Embed(llm_pb2.EmbedRequest(model="mock/embed", inputs=["a", "bb"]), metadata=md, timeout=10)
        result["embed"] = {
            "model": emb.model,
            "indexes": [e.index for e in emb.embeddings],
            "dims": [len(e.values) for e in emb.embeddings],
        }

        try:
            stub.Chat(ask("nope/x", "hello"), metadata=md, timeout=10)
            result["not_found"] = None
        except grpc.RpcError as e:
            result["not_found"] = error_details(e)

        if "--until-limited" in sys.argv:
            result["limited"] = None
            for _ in range(50):
                try:
                    stub.Chat(ask("mock/echo", "again"), metadata=md, timeout=10)
                except grpc.RpcError as e:
                    result["limited"] = error_details(e)
                    break
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
