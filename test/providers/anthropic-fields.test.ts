// The Anthropic translators and the newer contract fields, on fixtures: refusals that name the field
// (built-in tools, cache hint ttl/type/count, top_k, unsigned or misplaced reasoning, documents),
// system block form, stop_sequence, and streamed reasoning parts with their state.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ChatRequestSchema, FinishReason, Role } from "../../gen/llmgateway/v1/llm_pb.js";
import { GatewayError } from "../../src/errors.js";
import { toAnthropicRequest } from "../../src/providers/anthropic/request.js";
import { fromAnthropicResponse } from "../../src/providers/anthropic/response.js";
import { translateAnthropicStream } from "../../src/providers/anthropic/stream.js";
import { parseSSE } from "../../src/providers/stream-parse.js";
import { messageFromStream } from "../helpers/stream-message.js";
import { chunked, collect, fixtures, thrown } from "./helpers.js";

const { read, json } = fixtures("anthropic");
type Init = MessageInitShape<typeof ChatRequestSchema>;
const text = (value: string) => ({ part: { case: "text" as const, value } });
const user = (value: string) => ({ role: Role.USER, content: [text(value)] });
const req = (init: Init = {}) => create(ChatRequestSchema, { messages: [user("hi")], ...init });

function invalidField(init: Init): [string, string | undefined, string] {
  const e = thrown(() =>
    toAnthropicRequest(req(init), "m", false, { provider: "anthropic" }),
  ) as GatewayError;
  expect(e).toBeInstanceOf(GatewayError);
  return [e.code, e.details.violations?.[0]?.field, e.message];
}

describe("translators", () => {
  it.each([
    { field: "tools[0].builtin_type", init: { tools: [{ name: "", builtinType: "web_search_preview" }] } },
    { field: "tools[0].cache_hint.ttl_s", init: { tools: [{ name: "f", cacheHint: { ttlS: 60 } }] } },
    {
      field: "messages[0].content[0].cache_hint.type",
      init: {
        messages: [{ role: Role.USER, content: [{ ...text("x"), cacheHint: { type: "persistent" } }] }],
      },
    },
    {
      field: "messages[0].content[0].cache_hint",
      init: { messages: [{ role: Role.USER, content: [{ ...text(""), cacheHint: {} }] }] },
    },
    {
      field: "cache_hint",
      init: { tools: ["a", "b", "c", "d", "e"].map((name) => ({ name, cacheHint: {} })) },
    },
    { field: "top_k", init: { topK: 0 } },
    {
      field: "messages[1].content[0].reasoning.signature",
      init: {
        messages: [
          user("hi"),
          {
            role: Role.ASSISTANT,
            content: [{ part: { case: "reasoning", value: { text: "t", provider: "anthropic" } } }],
          },
        ],
      },
    },
    {
      field: "messages[0].content[0]",
      init: {
        messages: [{ role: Role.USER, content: [{ part: { case: "reasoning", value: { text: "t" } } }] }],
      },
    },
    {
      field: "messages[1].content[0]",
      init: {
        messages: [
          user("hi"),
          {
            role: Role.ASSISTANT,
            content: [{ part: { case: "document", value: { source: { case: "text", value: "d" } } } }],
          },
        ],
      },
    },
    {
      field: "messages[0].content[0].document.media_type",
      init: {
        messages: [
          {
            role: Role.USER,
            content: [
              {
                part: {
                  case: "document",
                  value: { source: { case: "data", value: new Uint8Array([1]) }, mediaType: "image/png" },
                },
              },
            ],
          },
        ],
      },
    },
  ] satisfies { field: string; init: Init }[])(
    "refuses $field with INVALID_ARGUMENT naming it",
    ({ field, init }) => {
      const [code, got, message] = invalidField(init);
      expect([code, got]).toEqual(["INVALID_ARGUMENT", field]);
      if (field.endsWith("builtin_type")) {
        expect(message).toContain("built-in tool web_search_preview runs only on OpenAI (wire: responses)");
      }
    },
  );

  it("system stays a string without hints, becomes blocks with one", () => {
    const sys = (hint: boolean) =>
      toAnthropicRequest(
        req({
          messages: [
            { role: Role.SYSTEM, content: [{ ...text("S"), ...(hint ? { cacheHint: {} } : {}) }] },
            user("hi"),
          ],
        }),
        "m",
        false,
        { provider: "anthropic" },
      ).system;
    expect(sys(false)).toBe("S");
    expect(sys(true)).toEqual([{ type: "text", text: "S", cache_control: { type: "ephemeral" } }]);
  });

  it("stop-sequence.response.json: stop_sequence and cache reads", () => {
    const r = fromAnthropicResponse(json("stop-sequence.response.json"), { provider: "a", model: "m" });
    expect([
      FinishReason[r.finishReason],
      r.stopSequence,
      r.usage?.cachedInputTokens,
      r.usage?.inputTokens,
    ]).toEqual(["STOP", "three", 1500, 1509]);
  });

  const stream = (file: string) =>
    collect(translateAnthropicStream(parseSSE(chunked(read(file), 5)), { provider: "a", model: "m" }));

  it("thinking-tools.sse: reasoning parts 0 and 1 (signed, redacted), tool call, cache reads in usage", async () => {
    const events = await stream("thinking-tools.sse");
    const { message, end } = messageFromStream(events);
    expect(message.content.map((c) => c.part.value)).toEqual([
      expect.objectContaining({
        text: "I need the weather.",
        signature: "EqQBCgIYAhIM",
        provider: "anthropic",
      }),
      expect.objectContaining({ text: "", redactedData: "EmwKAhgBEgy3va3pzix", provider: "anthropic" }),
    ]);
    const states = events.flatMap((e) =>
      e.event.case === "delta" && e.event.value.reasoningState ? [e.event.value.reasoningIndex] : [],
    );
    expect(states).toEqual([0, 1]); // state once per part
    expect(message.toolCalls.map((c) => [c.id, JSON.parse(c.argumentsJson)])).toEqual([
      ["toolu_01Loop", { city: "Paris" }],
    ]);
    expect([
      FinishReason[end?.finishReason ?? 0],
      end?.usage?.cachedInputTokens,
      end?.usage?.inputTokens,
    ]).toEqual(["TOOL_CALLS", 2048, 2060]);
  });

  it("stop-sequence.sse: StreamEnd.stop_sequence and cache writes", async () => {
    const end = messageFromStream(await stream("stop-sequence.sse")).end;
    expect([end?.stopSequence, end?.usage?.cacheWriteTokens, end?.usage?.inputTokens]).toEqual([
      "three",
      1500,
      1509,
    ]);
  });
});
