// The Responses wire's pure translators against recorded fixtures (test/fixtures/openai-responses/,
// recorded from the SDK-checked fake), and the wire choice of `wire: auto`.
import { create, fromJson, type MessageInitShape } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  ChatRequestSchema,
  type ChatStreamResponse,
  FinishReason,
  type Reasoning,
} from "../../gen/llmgateway/v1/llm_pb.js";
import type { GatewayError, UpstreamError } from "../../src/errors.js";
import { toResponsesRequest } from "../../src/providers/openai-responses/request.js";
import { fromResponsesResponse } from "../../src/providers/openai-responses/response.js";
import {
  chooseWire,
  isOpenAIItself,
  isOpenAIReasoningModel,
} from "../../src/providers/openai-responses/select.js";
import { translateResponsesStream } from "../../src/providers/openai-responses/stream.js";
import { parseSSE } from "../../src/providers/stream-parse.js";
import { chunked, collect, fixtures, rejection, thrown } from "./helpers.js";

const { read, json } = fixtures("openai-responses");
const opts = { provider: "openai", reasoningModel: true };
const ctx = { provider: "openai", model: "o3", promptChars: 40, includeReasoning: false };
const user = (text: string) => ({ role: 2, content: [{ part: { case: "text" as const, value: text } }] });
const chatReq = (init: MessageInitShape<typeof ChatRequestSchema> = {}) =>
  create(ChatRequestSchema, { messages: [user("hi")], ...init });

function summarize(ev: ChatStreamResponse): unknown {
  const e = ev.event;
  if (e.case === "start") return { start: [e.value.id, e.value.model] };
  if (e.case === "end") {
    const u = e.value.usage;
    return {
      end: FinishReason[e.value.finishReason],
      usage: [u?.inputTokens, u?.outputTokens, u?.estimated],
    };
  }
  const d = e.value;
  const out: Record<string, unknown> = {};
  if (d?.text) out["text"] = d.text;
  if (d?.reasoning) out["reasoning"] = [d.reasoningIndex, d.reasoning];
  if (d?.reasoningState) out["state"] = [d.reasoningIndex, d.reasoningState.id, d.reasoningState.provider];
  if (d && d.toolCalls.length > 0)
    out["tools"] = d.toolCalls.map((t) => [t.index, t.id, t.name, t.argumentsDelta]);
  return out;
}

const translate = (sse: string, c: Partial<typeof ctx> & { encryptedReasoning?: boolean } = {}, size = 7) =>
  collect(translateResponsesStream(parseSSE(chunked(sse, size)), { ...ctx, encryptedReasoning: true, ...c }));

describe("request.ts", () => {
  it("full.input.json -> full.request.json (instructions, items in place, tools, format, reasoning)", () => {
    const req = fromJson(ChatRequestSchema, json("full.input.json"));
    const body = toResponsesRequest(req, "gpt-5", false, opts);
    expect(JSON.parse(JSON.stringify(body))).toEqual(json("full.request.json"));
    expect(JSON.stringify(body)).not.toContain('search"}'); // metadata {team: search} never sent
    expect(JSON.stringify(body)).not.toContain("metadata");
  });

  it("streams with stream: true; a non-reasoning model is not asked for encrypted reasoning", () => {
    const body = toResponsesRequest(chatReq({ temperature: 0.2 }), "gpt-4o", true, {
      ...opts,
      reasoningModel: false,
    });
    expect(body).toEqual({
      model: "gpt-4o",
      input: [{ type: "message", role: "user", content: [{ type: "input_text", text: "hi" }] }],
      store: false,
      temperature: 0.2,
      stream: true,
    });
  });

  it("include_reasoning alone asks for summary auto; an explicit summary wins", () => {
    const a = toResponsesRequest(chatReq({ reasoning: { includeReasoning: true } }), "o3", false, opts);
    const b = toResponsesRequest(
      chatReq({ reasoning: { summary: "detailed", effort: 2 } }),
      "o3",
      false,
      opts,
    );
    expect([a.reasoning, b.reasoning]).toEqual([{ summary: "auto" }, { effort: "low", summary: "detailed" }]);
    const bad = thrown(() =>
      toResponsesRequest(chatReq({ reasoning: { summary: "long" } }), "o3", false, opts),
    );
    expect((bad as GatewayError).message).toContain("reasoning.summary");
  });

  const missing: [string, MessageInitShape<typeof ChatRequestSchema>][] = [
    ["stop", { stop: ["x"] }],
    ["seed", { seed: 3n }],
    ["presence_penalty", { presencePenalty: 1 }],
    ["top_k", { topK: 4 }],
    ["reasoning.budget_tokens", { reasoning: { budgetTokens: 100 } }],
  ];
  it.each(missing)("refuses %s (no such field), or drops it with a warning", (param, init) => {
    const e = thrown(() => toResponsesRequest(chatReq(init), "o3", false, opts)) as GatewayError;
    expect([e.reason, e.details.metadata?.["parameter"]]).toEqual(["UNSUPPORTED_PARAMETER", param]);
    const warned: string[] = [];
    const body = toResponsesRequest(chatReq(init), "o3", false, {
      ...opts,
      unsupportedParams: "warn",
      warn: (m) => warned.push(m),
    });
    expect(warned).toHaveLength(1);
    expect(JSON.stringify(body)).not.toContain(param.split(".").at(-1) ?? param);
  });

  it("built-in tools: verbatim, chosen by type; a mismatching type or bad JSON is INVALID_REQUEST", () => {
    const tools = [{ builtinType: "file_search", builtinJson: '{"vector_store_ids":["vs_1"]}' }];
    const body = toResponsesRequest(
      chatReq({ tools, toolChoice: { choice: { case: "toolName", value: "file_search" } } }),
      "gpt-4o",
      false,
      opts,
    );
    expect([body.tools, body.tool_choice]).toEqual([
      [{ vector_store_ids: ["vs_1"], type: "file_search" }],
      { type: "file_search" },
    ]);
    for (const builtinJson of ['{"type":"web_search"}', "{nope", "[1]"]) {
      const e = thrown(() =>
        toResponsesRequest(
          chatReq({ tools: [{ builtinType: "file_search", builtinJson }] }),
          "o3",
          false,
          opts,
        ),
      );
      expect((e as GatewayError).reason).toBe("INVALID_REQUEST");
    }
  });

  it("provider_options_json merges into the body but cannot change model or input", () => {
    const req = chatReq({
      providerOptionsJson:
        '{"openai":{"store":true,"model":"x","input":[]},"openai-eu":{"truncation":"auto"}}',
    });
    const body = toResponsesRequest(req, "o3", false, { ...opts, provider: "openai-eu" });
    expect([body.model, body.store, body["truncation"], body.input.length]).toEqual(["o3", true, "auto", 1]);
  });
});

describe("response.ts", () => {
  it("reasoning.response.json: a signed Reasoning part before the text, joined summary, usage details", () => {
    const r = fromResponsesResponse(json("reasoning.response.json"), ctx);
    const [first, second] = r.message?.content ?? [];
    const rs = first?.part.value as Reasoning;
    expect([first?.part.case, rs.provider, rs.id, rs.encryptedContent.startsWith("gAAAAA")]).toEqual([
      "reasoning",
      "openai",
      "rs_fake6",
      true,
    ]);
    expect(rs.text).toBe(
      "**Reading the question**\n\nThe user wrote something.\n\n**Answering**\n\nI will echo it.",
    );
    expect([second?.part.case, second?.part.value, r.reasoning]).toEqual(["text", "echo: why?", rs.text]);
    expect([r.id, r.model, FinishReason[r.finishReason]]).toEqual(["resp_fake6", "gpt-5", "STOP"]);
    const u = r.usage;
    expect([u?.cachedInputTokens, u?.cacheWriteTokens, u?.reasoningTokens, u?.estimated]).toEqual([
      12,
      3,
      64,
      false,
    ]);
  });

  it("tools.response.json: the call's call_id is the ToolCall id, TOOL_CALLS; empty-summary reasoning kept", () => {
    const r = fromResponsesResponse(json("tools.response.json"), ctx);
    const call = r.message?.toolCalls[0];
    expect([call?.id, call?.name, call?.argumentsJson, FinishReason[r.finishReason]]).toEqual([
      "call_fake9",
      "get_weather",
      '{"city":"Paris"}',
      "TOOL_CALLS",
    ]);
    expect(r.message?.content.map((c) => c.part.case)).toEqual(["reasoning"]);
    expect(r.reasoning).toBe("");
  });

  it("web-search.response.json: the web_search_call item is left out, the cited text kept", () => {
    const r = fromResponsesResponse(json("web-search.response.json"), ctx);
    expect(r.message?.content.map((c) => c.part.value)).toEqual(["echo: news"]);
    expect(FinishReason[r.finishReason]).toBe("STOP");
  });

  it("incomplete -> LENGTH / CONTENT_FILTER; failed -> its error; unknown states are protocol errors", () => {
    const cut = json("incomplete.response.json") as Record<string, unknown>;
    expect(FinishReason[fromResponsesResponse(cut, ctx).finishReason]).toBe("LENGTH");
    const filtered = { ...cut, incomplete_details: { reason: "content_filter" } };
    expect(FinishReason[fromResponsesResponse(filtered, ctx).finishReason]).toBe("CONTENT_FILTER");
    const kinds = [
      { status: "failed", error: { code: "rate_limit_exceeded", message: "slow down sk-abcdefghijkl" } },
      { status: "failed", error: { code: "invalid_prompt", message: "bad" } },
      { status: "failed", error: { code: "server_error", message: "oops" } },
      { status: "in_progress" },
      { status: "incomplete", incomplete_details: { reason: "other" } },
    ].map((over) => {
      const e = thrown(() => fromResponsesResponse({ ...cut, ...over }, ctx)) as UpstreamError;
      expect(e.message).not.toContain("sk-abc");
      return e.kind;
    });
    expect(kinds).toEqual(["rate_limited", "bad_request", "unavailable", "protocol", "protocol"]);
    expect((thrown(() => fromResponsesResponse({ id: "x" }, ctx)) as UpstreamError).kind).toBe("protocol");
  });

  it("reasoning without encrypted state is text only, and only with include_reasoning", () => {
    const body = {
      status: "completed",
      output: [{ type: "reasoning", id: "rs_1", summary: [{ type: "summary_text", text: "hmm" }] }],
    };
    const hidden = fromResponsesResponse(body, ctx);
    const shown = fromResponsesResponse(body, { ...ctx, includeReasoning: true });
    expect([
      hidden.reasoning,
      hidden.message?.content.length,
      shown.reasoning,
      shown.message?.content.length,
    ]).toEqual(["", 0, "hmm", 0]);
    expect(hidden.usage?.estimated).toBe(true);
  });
});

describe("stream.ts", () => {
  it("reasoning-tools.sse: reasoning text by index, its state once, then the call's fragments", async () => {
    const events = (await translate(read("reasoning-tools.sse"))).map(summarize);
    expect(events[0]).toEqual({ start: ["resp_fake1", "o3"] });
    const reasoning = events.flatMap((e) =>
      (e as { reasoning?: [number, string] }).reasoning
        ? [(e as { reasoning: [number, string] }).reasoning]
        : [],
    );
    expect(reasoning.every(([i]) => i === 0)).toBe(true);
    expect(reasoning.map(([, t]) => t).join("")).toBe(
      "**Reading the question**\n\nThe user wrote something.\n\n**Answering**\n\nI will echo it.",
    );
    expect(events.filter((e) => "state" in (e as object))).toEqual([{ state: [0, "rs_fake1", "openai"] }]);
    const tools = events.flatMap((e) => (e as { tools?: unknown[][] }).tools ?? []);
    expect(tools[0]).toEqual([0, "call_fake1", "get_weather", ""]);
    expect(tools.map((t) => t[3]).join("")).toBe('{"city":"Paris"}');
    expect(events.at(-1)).toEqual({
      end: "TOOL_CALLS",
      usage: [expect.any(Number), expect.any(Number), false],
    });
  });

  it("reasoning without encrypted state passes no text unless include_reasoning; signed text comes with its state", async () => {
    const unsigned = read("reasoning-tools.sse").replace(/,?"encrypted_content":"[^"]*"/g, "");
    const off = (await translate(unsigned, { encryptedReasoning: false }, 64)).map(summarize);
    expect(off.some((e) => "reasoning" in (e as object) || "state" in (e as object))).toBe(false);
    const on = (await translate(unsigned, { encryptedReasoning: false, includeReasoning: true }, 64)).map(
      summarize,
    );
    expect(on.filter((e) => "reasoning" in (e as object)).length).toBeGreaterThan(2);
    // Signed but not streamed as deltas: the whole text arrives with the state.
    const signed = (await translate(read("reasoning-tools.sse"), { encryptedReasoning: false }, 64)).map(
      summarize,
    );
    const withState = signed.find((e) => "state" in (e as object)) as { reasoning: [number, string] };
    expect(withState.reasoning[1]).toContain("**Answering**");
  });

  it.each([
    ["text.sse", "echo: hello world"],
    ["web-search.sse", "echo: news"],
  ])("%s -> text deltas and STOP", async (name, text) => {
    const events = (await translate(read(name), {}, 5)).map(summarize);
    expect(events.map((e) => (e as { text?: string }).text ?? "").join("")).toBe(text);
    expect((events.at(-1) as { end: string }).end).toBe("STOP");
  });

  it.each([
    ["failed.sse", "unavailable"],
    ["error.sse", "unavailable"],
  ])("%s -> UpstreamError %s", async (name, kind) => {
    const e = (await rejection(translate(read(name)))) as UpstreamError;
    expect([e.name, e.kind]).toEqual(["UpstreamError", kind]);
  });

  it("a stream cut before response.completed is stream_interrupted; garbage is protocol", async () => {
    const sse = read("text.sse");
    const cut = sse.slice(0, sse.indexOf("event: response.completed"));
    expect(((await rejection(translate(cut))) as UpstreamError).kind).toBe("stream_interrupted");
    const garbage = "event: response.created\ndata: {not json\n\n";
    expect(((await rejection(translate(garbage))) as UpstreamError).kind).toBe("protocol");
    const orphan = 'data: {"type":"response.function_call_arguments.delta","output_index":3,"delta":"{"}\n\n';
    expect(((await rejection(translate(orphan))) as UpstreamError).kind).toBe("protocol");
  });
});

describe("select.ts: wire: auto", () => {
  it.each([
    ["gpt-5", true, "responses"],
    ["gpt-5-mini", true, "responses"],
    ["gpt-5.1", true, "responses"],
    ["o3", true, "responses"],
    ["o3-mini", true, "responses"],
    ["o1", true, "responses"],
    ["o4-mini", true, "responses"],
    ["gpt-4o", true, "chat"],
    ["gpt-4.1-mini", true, "chat"],
    ["o3", false, "chat"],
    ["gpt-5", false, "chat"],
  ] as const)("%s (OpenAI itself: %s) -> %s", (model, itself, wire) => {
    expect(chooseWire("auto", itself, model)).toBe(wire);
  });

  it("built-in tools take OpenAI's own non-reasoning models to responses; explicit settings win", () => {
    const req = chatReq({ tools: [{ builtinType: "web_search_preview" }] });
    expect([chooseWire("auto", true, "gpt-4o", req), chooseWire("auto", false, "gpt-4o", req)]).toEqual([
      "responses",
      "chat",
    ]);
    expect([chooseWire("chat", true, "gpt-5"), chooseWire("responses", false, "llama-3")]).toEqual([
      "chat",
      "responses",
    ]);
  });

  it("OpenAI itself: the openai preset (any base URL) or api.openai.com", () => {
    expect([
      isOpenAIItself("openai", "http://127.0.0.1:9/v1"),
      isOpenAIItself("openai-eu", "https://api.openai.com/v1"),
      isOpenAIItself("groq", "https://api.groq.com/openai/v1"),
      isOpenAIItself("x", "not a url"),
    ]).toEqual([true, true, false, false]);
    expect([
      isOpenAIReasoningModel("o30"),
      isOpenAIReasoningModel("omni"),
      isOpenAIReasoningModel("o1-pro"),
    ]).toEqual([false, false, true]);
  });
});
