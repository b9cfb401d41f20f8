// The Anthropic door's pure translators: a Messages body -> ChatRequest (fixture), refusals and
// validation, the Message JSON of an answer (reasoning state native, packed and unsigned), the SSE
// events of a stream (block order, signatures, redacted blocks, ping while idle, error after
// start), and the error table.
import { readFileSync } from "node:fs";
import { create, type MessageInitShape, toJson } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  ChatRequestSchema,
  ChatResponseSchema,
  type ChatStreamResponse,
  ChatStreamResponseSchema,
  DeltaSchema,
  FinishReason,
  Role,
} from "../../gen/llmgateway/v1/llm_pb.js";
import { GatewayError, UpstreamError } from "../../src/errors.js";
import { renderAnthropicError } from "../../src/server/rest/anthropic/errors.js";
import { toChatRequest, toCountRequest } from "../../src/server/rest/anthropic/request.js";
import { messageJson } from "../../src/server/rest/anthropic/response.js";
import { type EventSink, MessageEvents, PING, pipeMessages } from "../../src/server/rest/anthropic/stream.js";
import type { ParamPolicy } from "../../src/server/rest/parse.js";
import { packState } from "../../src/server/rest/reasoning-state.js";

const FIX = "test/fixtures/anthropic-door";
const reject: ParamPolicy = { mode: "reject", warn: () => {} };
const fixture = (name: string): unknown => JSON.parse(readFileSync(`${FIX}/${name}`, "utf8"));
const base = { model: "m/x", max_tokens: 16, messages: [{ role: "user", content: "hi" }] };

function problem(body: Record<string, unknown>, policy: ParamPolicy = reject): GatewayError {
  try {
    toChatRequest(body, policy);
  } catch (e: unknown) {
    expect(e).toBeInstanceOf(GatewayError);
    return e as GatewayError;
  }
  return expect.fail("expected the body to be refused");
}

/** Parses SSE text into [event, data] pairs. */
function events(sse: string): [string, Record<string, unknown>][] {
  return sse
    .split("\n\n")
    .filter((f) => f !== "")
    .map((f) => {
      const [ev, data] = f.split("\n");
      return [ev?.slice(7) ?? "", JSON.parse(data?.slice(6) ?? "null") as Record<string, unknown>];
    });
}

describe("request", () => {
  it("translates every block, tool and option of a full body (fixture)", () => {
    const p = toChatRequest(fixture("full.request.json") as Record<string, unknown>, reject);
    const got = { stream: p.stream, model: p.model, req: toJson(ChatRequestSchema, p.req) };
    expect(got).toEqual(fixture("full.expected.json"));
  });

  it("requires max_tokens and messages like the API, and rejects unknown keys naming them", () => {
    const { max_tokens: _, ...noMax } = base;
    expect(problem(noMax).message).toBe("max_tokens: Field required");
    expect(problem({ model: "m/x", max_tokens: 4 }).message).toBe("messages: Field required");
    expect(problem({ ...base, messages: [] }).message).toContain("at least one message");
    expect(problem({ ...base, max_tokens: 0 }).details.violations?.[0]?.field).toBe("max_tokens");
    expect(problem({ ...base, frobnicate: 1 }).message).toContain("frobnicate");
    expect(problem({ ...base, messages: [{ role: "tool", content: "x" }] }).message).toContain(
      "messages[0].role",
    );
    const bad = [{ role: "user", content: [{ type: "text", text: "x", colour: "red" }] }];
    expect(problem({ ...base, messages: bad }).message).toContain("messages[0].content[0].colour");
    const img = [
      { role: "assistant", content: [{ type: "image", source: { type: "url", url: "https://x" } }] },
    ];
    expect(problem({ ...base, messages: img }).message).toContain("user turns only");
    const ttl = [
      {
        role: "user",
        content: [{ type: "text", text: "x", cache_control: { type: "ephemeral", ttl: "2h" } }],
      },
    ];
    expect(problem({ ...base, messages: ttl }).message).toContain("cache_control.ttl");
  });

  it("refuses what the contract cannot carry, or warns and drops it under unsupported_params: warn", () => {
    expect(problem({ ...base, service_tier: "standard_only" }).reason).toBe("UNSUPPORTED_PARAMETER");
    expect(problem({ ...base, thinking: { type: "between_tools" } }).reason).toBe("UNSUPPORTED_PARAMETER");
    expect(problem({ ...base, output_config: { effort: "max" } }).reason).toBe("UNSUPPORTED_PARAMETER");
    const search = [
      { role: "user", content: [{ type: "search_result", source: "s", title: "t", content: [] }] },
    ];
    expect(problem({ ...base, messages: search }).reason).toBe("UNSUPPORTED_PARAMETER");
    const warned: string[] = [];
    const warn: ParamPolicy = { mode: "warn", warn: (m) => warned.push(m) };
    const p = toChatRequest(
      { ...base, service_tier: "standard_only", messages: [...base.messages, ...search] },
      warn,
    );
    expect(warned).toHaveLength(2);
    expect(p.req.messages.map((m) => m.content.length)).toEqual([1, 0]);
    // Defaults of known parameters pass quietly.
    expect(toChatRequest({ ...base, service_tier: "auto", speed: "standard" }, reject).req.model).toBe("m/x");
  });

  it("maps thinking: disabled, adaptive, omitted display", () => {
    expect(toChatRequest({ ...base, thinking: { type: "disabled" } }, reject).req.reasoning).toBeUndefined();
    const adaptive = toChatRequest(
      { ...base, thinking: { type: "adaptive", display: "omitted" } },
      reject,
    ).req;
    expect(adaptive.reasoning?.includeReasoning).toBe(false);
    expect(adaptive.reasoning?.effort).toBeGreaterThan(0);
  });

  it("makes a CountTokensRequest without max_tokens, the system prompt first", () => {
    const c = toCountRequest({ model: "m/x", system: "sys", messages: base.messages }, reject);
    expect(c.model).toBe("m/x");
    expect(c.messages.map((m) => m.role)).toEqual([Role.SYSTEM, Role.USER]);
  });
});

describe("response", () => {
  const openai = { text: "Foreign.", encryptedContent: "gAAA-enc", provider: "openai", id: "rs_9" };
  const answer = create(ChatResponseSchema, {
    id: "chatcmpl-7",
    model: "openai/o4",
    provider: "openai",
    message: {
      role: Role.ASSISTANT,
      content: [
        { part: { case: "reasoning", value: { text: "Mine.", signature: "sig-A", provider: "anthropic" } } },
        { part: { case: "reasoning", value: { redactedData: "REDACTED", provider: "anthropic" } } },
        { part: { case: "reasoning", value: openai } },
        { part: { case: "text", value: "Hello " } },
        { part: { case: "text", value: "there." } },
      ],
      toolCalls: [{ id: "call_1", name: "f", argumentsJson: '{"a":1}' }],
    },
    finishReason: FinishReason.TOOL_CALLS,
    usage: { inputTokens: 150, outputTokens: 9, cachedInputTokens: 100, cacheWriteTokens: 20 },
    reasoning: "Mine.Foreign.",
  });

  it("renders blocks in order with native, packed and redacted state, and Anthropic's usage", () => {
    const m = JSON.parse(messageJson(answer, "my-alias", "rid-1")) as Record<string, unknown>;
    expect(m).toEqual({
      id: "msg_chatcmpl-7",
      type: "message",
      role: "assistant",
      container: null,
      stop_details: null,
      model: "my-alias",
      content: [
        { type: "thinking", thinking: "Mine.", signature: "sig-A" },
        { type: "redacted_thinking", data: "REDACTED" },
        {
          type: "thinking",
          thinking: "Foreign.",
          signature: packState({ ...openai, signature: "", redactedData: "" }, "anthropic", ""),
        },
        { type: "text", text: "Hello there.", citations: null },
        { type: "tool_use", id: "call_1", name: "f", input: { a: 1 } },
      ],
      stop_reason: "tool_use",
      stop_sequence: null,
      usage: {
        input_tokens: 30,
        cache_creation_input_tokens: 20,
        cache_read_input_tokens: 100,
        output_tokens: 9,
      },
    });
  });

  it("sends foreign state back where it came from: packed out, unpacked in", () => {
    const m = JSON.parse(messageJson(answer, "x", "r")) as { content: Record<string, unknown>[] };
    const req = toChatRequest(
      { ...base, messages: [...base.messages, { role: "assistant", content: m.content }] },
      reject,
    ).req;
    const parts = req.messages[1]?.content.map((p) =>
      p.part.case === "reasoning" ? p.part.value : undefined,
    );
    expect(parts?.[0]).toMatchObject({ text: "Mine.", signature: "sig-A", provider: "anthropic" });
    expect(parts?.[1]).toMatchObject({ redactedData: "REDACTED", provider: "anthropic" });
    expect(parts?.[2]).toMatchObject(openai);
  });

  it("carries a tool call's foreign state (Gemini thought signature) in its id, in both directions", () => {
    const r = create(ChatResponseSchema, {
      message: {
        role: Role.ASSISTANT,
        toolCalls: [
          { id: "g1", name: "f", argumentsJson: "{}", signature: "SIG", signatureProvider: "gemini" },
          { id: "a1", name: "f", argumentsJson: "{}", signature: "", signatureProvider: "" },
        ],
      },
      finishReason: FinishReason.TOOL_CALLS,
    });
    const m = JSON.parse(messageJson(r, "x", "r")) as { content: { id: string }[] };
    const [packed, plain] = m.content.map((b) => b.id);
    expect(packed).toMatch(/^llmgw1\./);
    expect(plain).toBe("a1");
    const ev = new MessageEvents("msg", "x");
    const sse = ev.next(
      create(DeltaSchema, {
        toolCalls: [{ index: 0, id: "g1", name: "f", signature: "SIG", signatureProvider: "gemini" }],
      }),
    );
    expect(events(sse)[0]?.[1]["content_block"]).toMatchObject({ id: packed });
    const back = toChatRequest(
      {
        ...base,
        messages: [
          ...base.messages,
          { role: "assistant", content: m.content },
          { role: "user", content: [{ type: "tool_result", tool_use_id: packed, content: "ok" }] },
        ],
      },
      reject,
    ).req;
    expect(back.messages[1]?.toolCalls[0]).toMatchObject({
      id: "g1",
      signature: "SIG",
      signatureProvider: "gemini",
    });
    expect(back.messages[1]?.toolCalls[1]).toMatchObject({ id: "a1", signature: "" });
    expect(back.messages[2]?.toolCallId).toBe("g1");
  });

  it("shows unsigned reasoning as one unsigned thinking block, and stop sequences", () => {
    const r = create(ChatResponseSchema, {
      message: { role: Role.ASSISTANT, content: [{ part: { case: "text", value: "ok" } }] },
      finishReason: FinishReason.STOP,
      stopSequence: "END",
      reasoning: "thought",
    });
    const m = JSON.parse(messageJson(r, "x", "rid")) as Record<string, unknown>;
    expect(m["id"]).toBe("msg_rid");
    expect(m["content"]).toEqual([
      { type: "thinking", thinking: "thought", signature: "" },
      { type: "text", text: "ok", citations: null },
    ]);
    expect([m["stop_reason"], m["stop_sequence"]]).toEqual(["stop_sequence", "END"]);
  });
});

describe("stream events", () => {
  const d = (value: MessageInitShape<typeof DeltaSchema>) => create(DeltaSchema, value);
  const delta = (value: MessageInitShape<typeof DeltaSchema>) =>
    create(ChatStreamResponseSchema, { event: { case: "delta", value: d(value) } });

  it("opens and closes one block at a time, signature last, redacted whole", () => {
    const ev = new MessageEvents("msg_1", "alias");
    let sse = ev.start(12);
    sse += ev.next(d({ reasoning: "Let me ", reasoningIndex: 0 }));
    sse += ev.next(d({ reasoning: "think.", reasoningIndex: 0 }));
    sse += ev.next(d({ reasoningIndex: 0, reasoningState: { signature: "S1", provider: "anthropic" } }));
    sse += ev.next(d({ reasoningIndex: 1, reasoningState: { redactedData: "R", provider: "anthropic" } }));
    sse += ev.next(d({ text: "Hi" }));
    sse += ev.next(d({ toolCalls: [{ index: 0, id: "c1", name: "f", argumentsDelta: '{"a"' }] }));
    sse += ev.next(d({ toolCalls: [{ index: 0, argumentsDelta: ":1}" }] }));
    sse += ev.end(FinishReason.TOOL_CALLS, undefined, "");
    const got = events(sse).map(([name, e]) => {
      const inner = (e["delta"] ?? e["content_block"]) as Record<string, unknown> | undefined;
      return `${name}${e["index"] === undefined ? "" : `#${e["index"]}`}${inner?.["type"] ? `:${inner["type"]}` : ""}`;
    });
    expect(got).toEqual([
      "message_start",
      "content_block_start#0:thinking",
      "content_block_delta#0:thinking_delta",
      "content_block_delta#0:thinking_delta",
      "content_block_delta#0:signature_delta",
      "content_block_stop#0",
      "content_block_start#1:redacted_thinking",
      "content_block_stop#1",
      "content_block_start#2:text",
      "content_block_delta#2:text_delta",
      "content_block_stop#2",
      "content_block_start#3:tool_use",
      "content_block_delta#3:input_json_delta",
      "content_block_delta#3:input_json_delta",
      "content_block_stop#3",
      "message_delta",
      "message_stop",
    ]);
    const start = events(sse)[0]?.[1]["message"] as Record<string, unknown>;
    expect(start["usage"]).toMatchObject({ input_tokens: 12, output_tokens: 0 });
    expect(events(sse)[15]?.[1]["delta"]).toEqual({
      stop_reason: "tool_use",
      stop_sequence: null,
      stop_details: null,
    });
  });

  it("refuses to reopen a finished tool call (it cannot be streamed as Anthropic blocks)", () => {
    const ev = new MessageEvents("msg_1", "m");
    ev.next(d({ toolCalls: [{ index: 0, id: "a", name: "f" }] }));
    ev.next(d({ toolCalls: [{ index: 1, id: "b", name: "g" }] }));
    expect(() => ev.next(d({ toolCalls: [{ index: 0, argumentsDelta: "{}" }] }))).toThrow(/tool call 0/);
  });

  /** A sink recording what was written, and a source the test drives. */
  function harness() {
    const out: string[] = [];
    let failed: unknown;
    const sink: EventSink = {
      open: () => out.push("(open)"),
      write: (t) => void out.push(t),
      end: (t) => void out.push(t, "(end)"),
      gone: () => false,
      fail: (e) => {
        failed = e;
      },
      errorPayload: (e) =>
        JSON.stringify({ type: "error", error: { type: "api_error", message: String(e) } }),
    };
    return { out, sink, failed: () => failed };
  }

  async function* source(items: (ChatStreamResponse | "wait" | Error)[], wait: () => Promise<void>) {
    for (const i of items) {
      if (i === "wait") await wait();
      else if (i instanceof Error) throw i;
      else yield i;
    }
  }

  const start = create(ChatStreamResponseSchema, {
    event: { case: "start", value: { id: "x", provider: "p" } },
  });
  const end = create(ChatStreamResponseSchema, {
    event: { case: "end", value: { finishReason: FinishReason.STOP } },
  });

  it("pings while the source is idle after the start, and not before", async () => {
    const h = harness();
    let release = () => {};
    const wait = () =>
      new Promise<void>((resolve) => {
        release = resolve;
      });
    const o = { id: (id: string) => `msg_${id}`, model: "m", inputTokens: 1, pingMs: 20 };
    const run = pipeMessages(source([start, delta({ text: "a" }), "wait", end], wait), h.sink, o);
    await expect
      .poll(() => h.out.filter((t) => t === PING).length, { interval: 10, timeout: 5000 })
      .toBeGreaterThan(1);
    release();
    await run;
    expect(h.out[0]).toBe("(open)");
    expect(h.out.at(-1)).toBe("(end)");
    expect(h.out.join("")).toContain("event: message_stop");
  });

  it("fails before the start as an HTTP error, after it as an error event without message_stop", async () => {
    const before = harness();
    const o = { id: (id: string) => id, model: "m", inputTokens: 1, pingMs: 1000 };
    await pipeMessages(
      source([new Error("early")], async () => {}),
      before.sink,
      o,
    );
    expect(String(before.failed())).toContain("early");
    expect(before.out).toEqual([]);
    const after = harness();
    await pipeMessages(
      source([start, delta({ text: "a" }), new Error("late")], async () => {}),
      after.sink,
      o,
    );
    const all = after.out.join("");
    expect(all).toContain("event: error\ndata:");
    expect(all).not.toContain("message_stop");
    expect(after.failed()).toBeUndefined();
  });
});

describe("errors", () => {
  it("uses Anthropic's types and statuses, 529 for overload, retry-after when known", () => {
    const r = (e: GatewayError, attempts = 1) => renderAnthropicError(e, "rid", attempts);
    const limited = r(
      new GatewayError("RESOURCE_EXHAUSTED", "RATE_LIMITED", "slow down", { retryAfterMs: 2500 }),
    );
    expect([limited.status, limited.headers["retry-after"], JSON.parse(limited.body)]).toEqual([
      429,
      "3",
      { type: "error", error: { type: "rate_limit_error", message: "slow down" }, request_id: "rid" },
    ]);
    const cause = new UpstreamError("overloaded", "Overloaded", "anthropic", { status: 529 });
    const over = r(new GatewayError("UNAVAILABLE", "UPSTREAM_UNAVAILABLE", "x", { cause }), 3);
    expect([over.status, over.headers["x-should-retry"]]).toEqual([529, "false"]);
    expect(r(new GatewayError("UNAVAILABLE", "UPSTREAM_UNAVAILABLE", "x")).status).toBe(502);
    expect(r(new GatewayError("UNAVAILABLE", "GATEWAY_OVERLOADED", "x")).status).toBe(529);
    expect(r(new GatewayError("UNAVAILABLE", "UPSTREAM_TIMEOUT", "x")).status).toBe(504);
    expect(r(new GatewayError("RESOURCE_EXHAUSTED", "REQUEST_TOO_LARGE", "x")).status).toBe(413);
    const budget = r(new GatewayError("RESOURCE_EXHAUSTED", "BUDGET_EXCEEDED", "x"));
    expect([budget.status, budget.headers["x-should-retry"]]).toEqual([402, "false"]);
    expect(r(new GatewayError("UNAUTHENTICATED", "API_KEY_INVALID", "x")).headers["request-id"]).toBe("rid");
  });
});
