// collectStream and errorInfo (clients/ts/src) on fixed inputs: ChatStream events folded back into
// a ChatResponse (text, tool-call fragments, signed and unsigned reasoning, end fields), and the
// google.rpc details read off a ConnectError.
import { create, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { Code, ConnectError, collectStream, errorInfo, textOf } from "../../clients/ts/src/index.js";
import { ErrorInfoSchema, RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import {
  type ChatStreamResponse,
  ChatStreamResponseSchema,
  FinishReason,
  ReasoningSchema,
  Role,
} from "../../gen/llmgateway/v1/llm_pb.js";

type Event = NonNullable<MessageInitShape<typeof ChatStreamResponseSchema>["event"]>;
const ev = (event: Event) => create(ChatStreamResponseSchema, { event });
async function* events(list: Event[]): AsyncIterable<ChatStreamResponse> {
  for (const e of list) yield ev(e);
}

describe("collectStream", () => {
  it("joins text, tool-call fragments per index and takes the end event's fields", async () => {
    const res = await collectStream(
      events([
        { case: "start", value: { id: "c1", model: "openai/gpt", provider: "openai" } },
        { case: "delta", value: { text: "Hel" } },
        {
          case: "delta",
          value: {
            text: "lo",
            toolCalls: [{ index: 1, id: "t2", name: "b", argumentsDelta: '{"y"' }],
          },
        },
        {
          case: "delta",
          value: { toolCalls: [{ index: 0, id: "t1", name: "a", argumentsDelta: "{}" }] },
        },
        { case: "delta", value: { toolCalls: [{ index: 1, argumentsDelta: ":2}" }] } },
        {
          case: "end",
          value: {
            finishReason: FinishReason.TOOL_CALLS,
            usage: { inputTokens: 3, outputTokens: 4, totalTokens: 7 },
            stopSequence: "",
          },
        },
      ]),
    );
    expect(res).toMatchObject({
      id: "c1",
      model: "openai/gpt",
      provider: "openai",
      finishReason: FinishReason.TOOL_CALLS,
      reasoning: "",
    });
    expect(res.usage?.totalTokens).toBe(7);
    expect(textOf(res)).toBe("Hello");
    expect(res.message?.role).toBe(Role.ASSISTANT);
    expect(res.message?.toolCalls.map((c) => [c.id, c.name, c.argumentsJson])).toEqual([
      ["t1", "a", "{}"],
      ["t2", "b", '{"y":2}'],
    ]);
  });

  it("reasoning: joined text in `reasoning`; parts with provider state become Reasoning parts before the text", async () => {
    const state = create(ReasoningSchema, { signature: "sig-0", provider: "anthropic" });
    const res = await collectStream(
      events([
        { case: "delta", value: { reasoning: "think ", reasoningIndex: 0 } },
        { case: "delta", value: { reasoning: "more", reasoningIndex: 0, reasoningState: state } },
        { case: "delta", value: { reasoning: " (unsigned)", reasoningIndex: 1 } },
        { case: "delta", value: { text: "answer" } },
        { case: "end", value: { finishReason: FinishReason.STOP, stopSequence: "END" } },
      ]),
    );
    expect(res.reasoning).toBe("think more (unsigned)");
    expect(res.stopSequence).toBe("END");
    const parts = res.message?.content.map((p) => p.part) ?? [];
    expect(parts).toHaveLength(2);
    expect(parts[0]?.case).toBe("reasoning");
    expect(parts[0]?.value).toMatchObject({ text: "think more", signature: "sig-0", provider: "anthropic" });
    expect(parts[1]).toEqual({ case: "text", value: "answer" });
  });

  it("an empty stream gives an empty assistant message", async () => {
    const res = await collectStream(events([]));
    expect(res.message?.content).toEqual([]);
    expect(textOf(res)).toBe("");
  });
});

describe("errorInfo", () => {
  it("reads code, ErrorInfo and RetryInfo from a ConnectError", () => {
    const err = new ConnectError("slow down", Code.ResourceExhausted, undefined, [
      {
        desc: ErrorInfoSchema,
        value: { reason: "RATE_LIMITED", domain: "llmgateway", metadata: { limit: "rpm" } },
      },
      { desc: RetryInfoSchema, value: { retryDelay: { seconds: 2n, nanos: 500_000_000 } } },
    ]);
    expect(errorInfo(err)).toEqual({
      code: Code.ResourceExhausted,
      codeName: "ResourceExhausted",
      message: "slow down",
      reason: "RATE_LIMITED",
      domain: "llmgateway",
      metadata: { limit: "rpm" },
      retryDelayMs: 2500,
    });
    // Details as decoded off the wire: type name + binary message.
    const wire = new ConnectError("x", Code.NotFound);
    wire.details.push({
      type: "google.rpc.ErrorInfo",
      value: toBinary(
        ErrorInfoSchema,
        create(ErrorInfoSchema, { reason: "MODEL_NOT_FOUND", domain: "llmgateway" }),
      ),
    });
    const info = errorInfo(wire);
    expect(info).toMatchObject({ codeName: "NotFound", reason: "MODEL_NOT_FOUND" });
    expect(info).not.toHaveProperty("retryDelayMs");
  });

  it("any other thrown value becomes Unknown without details", () => {
    expect(errorInfo(new Error("boom"))).toEqual({
      code: Code.Unknown,
      codeName: "Unknown",
      message: "boom",
      metadata: {},
    });
  });
});
