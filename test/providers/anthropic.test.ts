import { create, fromJson, type MessageInitShape } from "@bufbuild/protobuf";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  ChatRequestSchema,
  type ChatStreamResponse,
  EmbedRequestSchema,
  FinishReason,
} from "../../gen/llmgateway/v1/llm_pb.js";
import { GatewayError, UpstreamError } from "../../src/errors.js";
import { fromAnthropicHttpError } from "../../src/providers/anthropic/errors.js";
import { createAnthropicProvider } from "../../src/providers/anthropic/index.js";
import { type AnthropicTranslateOptions, toAnthropicRequest } from "../../src/providers/anthropic/request.js";
import { fromAnthropicModels, fromAnthropicResponse } from "../../src/providers/anthropic/response.js";
import { translateAnthropicStream } from "../../src/providers/anthropic/stream.js";
import { parseSSE } from "../../src/providers/stream-parse.js";
import type { Provider } from "../../src/providers/types.js";
import { type AnthropicFake, startAnthropicFake } from "../fakes/anthropic.js";
import { waitFor } from "../helpers/wait.js";
import { chunked, collect, fixtures, rejection, thrown } from "./helpers.js";

const { read, json } = fixtures("anthropic");
const opts: AnthropicTranslateOptions = { provider: "anthropic" };

function summarize(ev: ChatStreamResponse): unknown {
  const e = ev.event;
  switch (e.case) {
    case "start":
      return { start: [e.value.id, e.value.model] };
    case "delta": {
      const d = e.value;
      const out: Record<string, unknown> = {};
      if (d.text !== "") out["text"] = d.text;
      if (d.reasoning !== "") out["reasoning"] = d.reasoning;
      if (d.reasoning !== "" || d.reasoningState !== undefined) out["part"] = d.reasoningIndex;
      const st = d.reasoningState;
      if (st !== undefined) out["state"] = [st.signature, st.redactedData, st.provider];
      if (d.toolCalls.length > 0)
        out["tools"] = d.toolCalls.map((t) => [t.index, t.id, t.name, t.argumentsDelta]);
      return out;
    }
    case "end": {
      const u = e.value.usage;
      const end: Record<string, unknown> = {
        end: FinishReason[e.value.finishReason],
        usage: [u?.inputTokens, u?.outputTokens, u?.cachedInputTokens, u?.cacheWriteTokens, u?.estimated],
      };
      if (e.value.stopSequence !== "") end["stop"] = e.value.stopSequence;
      return end;
    }
    default:
      return { unknown: true };
  }
}

/** A table row: a name and what to set on the request. */
type Case = { param?: string; field?: string; init: MessageInitShape<typeof ChatRequestSchema> };
const user = (text: string) => ({ role: 2, content: [{ part: { case: "text" as const, value: text } }] });
const chatReq = (init: MessageInitShape<typeof ChatRequestSchema> = {}) =>
  create(ChatRequestSchema, { messages: [user("hi")], ...init });

describe("request.ts", () => {
  it.each([
    { name: "basic", stream: false, provider: "anthropic" },
    { name: "tools", stream: true, provider: "anthropic" },
    { name: "vision", stream: false, provider: "anthropic" },
    { name: "thinking", stream: false, provider: "claude-eu" },
    { name: "reasoning-loop", stream: true, provider: "anthropic" },
    { name: "cache", stream: false, provider: "anthropic" },
    { name: "documents", stream: false, provider: "anthropic" },
  ])("$name.input.json -> $name.request.json", ({ name, stream, provider }) => {
    const req = fromJson(ChatRequestSchema, json(`${name}.input.json`));
    const model = req.model.slice(req.model.indexOf("/") + 1);
    const body = toAnthropicRequest(req, model, stream, { provider });
    expect(JSON.parse(JSON.stringify(body))).toEqual(json(`${name}.request.json`));
  });

  it.each([
    { param: "seed", init: { seed: 7n } },
    { param: "presence_penalty", init: { presencePenalty: 0.5 } },
    { param: "frequency_penalty", init: { frequencyPenalty: 0.5 } },
    { param: "temperature", init: { temperature: 1.5 } },
    { param: "response_format", init: { responseFormat: { type: 2 } } },
    { param: "name", init: { messages: [{ ...user("hi"), name: "bob" }] } },
  ] satisfies Case[])("rejects, or with warn drops, $param", ({ param, init }) => {
    const req = chatReq(init);
    const e = thrown(() => toAnthropicRequest(req, "m", false, opts)) as GatewayError;
    expect([e.code, e.reason, e.details.metadata?.["parameter"]]).toEqual([
      "INVALID_ARGUMENT",
      "UNSUPPORTED_PARAMETER",
      param,
    ]);
    expect(e.message).toContain(param);
    const warnings: string[] = [];
    const body = toAnthropicRequest(req, "m", false, {
      ...opts,
      unsupportedParams: "warn",
      warn: (m) => warnings.push(m),
    });
    expect(warnings).toEqual([expect.stringContaining(param)]);
    expect(JSON.stringify(body)).not.toMatch(/seed|penalty|temperature|response_format|bob/);
  });

  it("thinking budgets: explicit, by effort, too small, not below max_tokens; default max_tokens", () => {
    const budget = (init: MessageInitShape<typeof ChatRequestSchema>) =>
      toAnthropicRequest(chatReq(init), "m", false, { ...opts, defaultMaxTokens: 1000 });
    expect(budget({ reasoning: { budgetTokens: 3000 } })).toMatchObject({
      thinking: { type: "enabled", budget_tokens: 3000 },
      max_tokens: 4000,
    });
    expect(budget({ reasoning: { effort: 1 } }).thinking?.budget_tokens).toBe(1024);
    expect(budget({ reasoning: { effort: 2 } }).thinking?.budget_tokens).toBe(2048);
    expect(budget({ reasoning: { effort: 4 } }).thinking?.budget_tokens).toBe(24576);
    expect(budget({ reasoning: { includeReasoning: true } }).thinking).toBeUndefined();
    expect(budget({}).max_tokens).toBe(1000);
    expect(toAnthropicRequest(chatReq(), "m", false, opts).max_tokens).toBe(4096);
    const small = thrown(() => budget({ reasoning: { budgetTokens: 100 } })) as GatewayError;
    expect(small.details.violations?.[0]?.field).toBe("reasoning.budget_tokens");
    const over = thrown(() => budget({ maxTokens: 2000, reasoning: { effort: 2 } })) as GatewayError;
    expect(over.message).toMatch(/less than max_tokens \(2000\)/);
  });

  it.each([
    { field: "tools[0].parameters_json", init: { tools: [{ name: "f", parametersJson: "{bad" }] } },
    { field: "messages[0].role", init: { messages: [{ role: 0 }] } },
    { field: "messages[0].content", init: { messages: [{ role: 2 }] } },
    { field: "messages[0].tool_call_id", init: { messages: [{ role: 4 }] } },
    {
      field: "messages",
      init: { messages: [{ role: 1, content: [{ part: { case: "text", value: "s" } }] }] },
    },
    { field: "provider_options_json", init: { providerOptionsJson: "[1]" } },
    { field: "provider_options_json.anthropic", init: { providerOptionsJson: '{"anthropic":3}' } },
    {
      field: "messages[0].content[0].image.media_type",
      init: {
        messages: [
          {
            role: 2,
            content: [
              { part: { case: "image", value: { source: { case: "data", value: new Uint8Array([1]) } } } },
            ],
          },
        ],
      },
    },
  ] satisfies Case[])("rejects invalid $field", ({ field, init }) => {
    const e = thrown(() => toAnthropicRequest(chatReq(init), "m", false, opts)) as GatewayError;
    expect(e).toBeInstanceOf(GatewayError);
    expect([e.code, e.reason, e.details.violations?.[0]?.field]).toEqual([
      "INVALID_ARGUMENT",
      "INVALID_REQUEST",
      field,
    ]);
  });

  it("provider_options_json: anthropic, then the provider's name; model and stream stay ours", () => {
    const providerOptionsJson = JSON.stringify({
      anthropic: { top_k: 3, model: "other", stream: false, tool_choice: { type: "auto" } },
      mine: { top_k: 9 },
    });
    const body = toAnthropicRequest(chatReq({ providerOptionsJson }), "m", true, { provider: "mine" });
    expect([body.top_k, body.model, body.stream, body.tool_choice]).toEqual([9, "m", true, { type: "auto" }]);
    const unary = toAnthropicRequest(
      chatReq({ providerOptionsJson: '{"anthropic":{"stream":true}}' }),
      "m",
      false,
      opts,
    );
    expect("stream" in unary).toBe(false);
  });

  it("tool_choice modes and a named tool", () => {
    const choice = (toolChoice: MessageInitShape<typeof ChatRequestSchema>["toolChoice"]) =>
      toAnthropicRequest(chatReq({ toolChoice }), "m", false, opts).tool_choice;
    expect(choice({ choice: { case: "mode", value: 1 } })).toEqual({ type: "auto" });
    expect(choice({ choice: { case: "mode", value: 2 } })).toEqual({ type: "none" });
    expect(choice({ choice: { case: "toolName", value: "f" } })).toEqual({ type: "tool", name: "f" });
  });
});

describe("response.ts", () => {
  const ctx = { provider: "anthropic", model: "claude-sonnet-4-5" };
  it.each([
    {
      file: "text.response.json",
      text: "Hi! My name is Claude. How can I help?",
      finish: "STOP",
      usage: [2095, 503, 2598, 0, 0, 0],
    },
    {
      file: "tool-use.response.json",
      text: "I'll check the weather in San Francisco.",
      finish: "TOOL_CALLS",
      usage: [4584, 89, 4673, 3000, 1200, 0],
    },
    {
      file: "thinking.response.json",
      text: "Yes, 1021 is prime.",
      finish: "LENGTH",
      usage: [45, 1200, 1245, 0, 0, 1100],
    },
  ])("$file", ({ file, text, finish, usage }) => {
    const body = json(file) as { id: string; model: string };
    const r = fromAnthropicResponse(body, { ...ctx, includeReasoning: true });
    expect([r.id, r.model, r.provider, FinishReason[r.finishReason]]).toEqual([
      body.id,
      body.model,
      "anthropic",
      finish,
    ]);
    const part = r.message?.content.at(-1)?.part;
    expect(part?.case === "text" ? part.value : undefined).toBe(text);
    const u = r.usage!;
    expect([
      u.inputTokens,
      u.outputTokens,
      u.totalTokens,
      u.cachedInputTokens,
      u.cacheWriteTokens,
      u.reasoningTokens,
    ]).toEqual(usage);
  });

  it("tool_use -> ToolCall with stringified input", () => {
    const r = fromAnthropicResponse(json("tool-use.response.json"), ctx);
    expect(r.message?.toolCalls.map((c) => [c.id, c.name, JSON.parse(c.argumentsJson)])).toEqual([
      ["toolu_01A09q90qw90lq917835lq9", "get_weather", { location: "San Francisco, CA", unit: "celsius" }],
    ]);
  });

  it("signed thinking and redacted_thinking -> Reasoning parts before the text, with or without include_reasoning", () => {
    for (const includeReasoning of [false, true]) {
      const r = fromAnthropicResponse(json("thinking.response.json"), { ...ctx, includeReasoning });
      expect(r.message?.content.map((c) => [c.part.case, c.part.value])).toEqual([
        [
          "reasoning",
          expect.objectContaining({
            text: expect.stringMatching(/^1021 is not/),
            signature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds",
            redactedData: "",
            provider: "anthropic",
          }),
        ],
        [
          "reasoning",
          expect.objectContaining({
            text: "",
            signature: "",
            redactedData: "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP",
            provider: "anthropic",
          }),
        ],
        ["text", "Yes, 1021 is prime."],
      ]);
      expect(r.reasoning).toMatch(/^1021 is not.*prime\.$/);
    }
  });

  it("unsigned thinking (a compatible endpoint) is text only, and only with include_reasoning", () => {
    const body = {
      id: "m",
      content: [
        { type: "thinking", thinking: "hmm" },
        { type: "text", text: "ok" },
      ],
      stop_reason: "stop_sequence",
      stop_sequence: "END",
    };
    const plain = fromAnthropicResponse(body, ctx);
    expect([plain.message?.content.length, plain.reasoning, plain.stopSequence]).toEqual([1, "", "END"]);
    expect(fromAnthropicResponse(body, { ...ctx, includeReasoning: true }).reasoning).toBe("hmm");
  });

  it.each([
    ["end_turn", "STOP"],
    ["stop_sequence", "STOP"],
    ["pause_turn", "STOP"],
    ["max_tokens", "LENGTH"],
    ["model_context_window_exceeded", "LENGTH"],
    ["tool_use", "TOOL_CALLS"],
    ["refusal", "CONTENT_FILTER"],
  ])("stop_reason %s -> %s", (reason, finish) => {
    const r = fromAnthropicResponse({ id: "m", content: [], stop_reason: reason, usage: {} }, ctx);
    expect(FinishReason[r.finishReason]).toBe(finish);
  });

  it.each([
    { why: "unknown stop_reason", body: { id: "m", content: [], stop_reason: "odd" } },
    { why: "null stop_reason", body: { id: "m", content: [], stop_reason: null } },
    { why: "no content", body: { id: "m", stop_reason: "end_turn" } },
  ])("$why -> protocol", ({ body }) => {
    expect(() => fromAnthropicResponse(body, ctx)).toThrowError(
      expect.objectContaining({ kind: "protocol" }),
    );
  });

  it("models page with a cursor", () => {
    const page = fromAnthropicModels(json("models.response.json"), "anthropic");
    expect(page.models.map((m) => [m.id, m.upstreamModel, m.capabilities.length])).toEqual([
      ["anthropic/claude-sonnet-4-5-20250929", "claude-sonnet-4-5-20250929", 4],
      ["anthropic/claude-haiku-4-5-20251001", "claude-haiku-4-5-20251001", 4],
    ]);
    expect(page.next).toBe("claude-haiku-4-5-20251001");
  });
});

const translate = (sse: string, size = 7, includeReasoning = true) =>
  collect(
    translateAnthropicStream(parseSSE(chunked(sse, size)), {
      provider: "anthropic",
      model: "claude-sonnet-4-5",
      includeReasoning,
    }),
  );

describe("stream.ts", () => {
  it.each([1, 7, 4096])("text.sse in %i-byte chunks, LF and CRLF; no empty deltas", async (size) => {
    const expected = [
      { start: ["msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", "claude-sonnet-4-5-20250929"] },
      { text: "Hello" },
      { text: "! How can I help?" },
      { end: "STOP", usage: [35, 15, 10, 0, false] },
    ];
    expect((await translate(read("text.sse"), size)).map(summarize)).toEqual(expected);
    expect((await translate(read("text.sse").replaceAll("\n", "\r\n"), size)).map(summarize)).toEqual(
      expected,
    );
  });

  it("tool-use.sse: tool index among tool_use blocks, id+name first, {} for an argument-less call", async () => {
    expect((await translate(read("tool-use.sse"))).map(summarize)).toEqual([
      { start: ["msg_014p7gG3wDgGV9EUtLvnow3U", "claude-sonnet-4-5-20250929"] },
      { text: "Okay, let me check." },
      { tools: [[0, "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "get_weather", ""]] },
      { tools: [[0, "", "", '{"location":']] },
      { tools: [[0, "", "", ' "San Francisco, CA"}']] },
      { tools: [[1, "toolu_02NoArgs", "get_time", ""]] },
      { tools: [[1, "", "", "{}"]] },
      { end: "TOOL_CALLS", usage: [472, 89, 0, 0, false] },
    ]);
  });

  it("thinking.sse: signed reasoning text + its state (once, at block stop), with or without include_reasoning", async () => {
    const text = read("thinking.sse");
    const expected = [
      { start: ["msg_01Think", "claude-sonnet-4-5-20250929"] },
      { reasoning: "Let me solve this step by step:\n\n1. ", part: 0 },
      { reasoning: "27 * 453 = 12231", part: 0 },
      { part: 0, state: ["EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds", "", "anthropic"] },
      { text: "27 * 453 = 12,231" },
      { end: "STOP", usage: [35, 120, 0, 5, false] },
    ];
    expect((await translate(text)).map(summarize)).toEqual(expected);
    expect((await translate(text, 7, false)).map(summarize)).toEqual(expected);
  });

  it.each([
    { file: "error.sse", kind: "overloaded" },
    { file: "interrupted.sse", kind: "stream_interrupted" },
    { file: "unknown-stop.sse", kind: "protocol" },
    { file: "not-json.sse", kind: "protocol" },
    { file: "stop-without-reason.sse", kind: "protocol" },
  ])("$file -> $kind", async ({ file, kind }) => {
    const err = await rejection(translate(read(file)));
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).kind).toBe(kind);
  });
});

describe("errors.ts", () => {
  it.each([
    { status: 400, file: "invalid-request.error.json", kind: "bad_request" },
    { status: 400, file: "prompt-too-long.error.json", kind: "context_length" },
    { status: 401, file: "invalid-key.error.json", kind: "auth" },
    { status: 403, file: "permission.error.json", kind: "permission" },
    { status: 404, file: "not-found.error.json", kind: "not_found" },
    { status: 413, file: "too-large.error.json", kind: "bad_request" },
    { status: 429, file: "rate-limit.error.json", kind: "rate_limited" },
    { status: 500, file: "api-error.error.json", kind: "unavailable" },
    { status: 529, file: "overloaded.error.json", kind: "overloaded" },
  ])("$status $file -> $kind", ({ status, file, kind }) => {
    const e = fromAnthropicHttpError({
      status,
      body: read(file),
      headers: { "retry-after": "7" },
      provider: "anthropic",
      model: "claude-x",
    });
    expect([e.kind, e.status, e.provider, e.opts.model, e.opts.retryAfterMs]).toEqual([
      kind,
      status,
      "anthropic",
      "claude-x",
      7000,
    ]);
  });

  it("redacts keys; classifies by status when the body is not Anthropic's", () => {
    const e = fromAnthropicHttpError({
      status: 401,
      body: read("invalid-key.error.json"),
      headers: {},
      provider: "a",
    });
    expect(e.message).not.toContain("AbCdEfGh");
    const html = fromAnthropicHttpError({
      status: 529,
      body: "<html>busy</html>",
      headers: {},
      provider: "a",
    });
    expect([html.kind, html.message]).toEqual(["overloaded", "HTTP 529: <html>busy</html>"]);
  });
});

describe("createAnthropicProvider against the fake", () => {
  const KEY = "sk-ant-api03-provider-test-key-0123456789";
  let fake: AnthropicFake;
  let provider: Provider;
  const call = (model: string, signal = new AbortController().signal) => ({ model, signal, requestId: "r1" });

  beforeAll(async () => {
    fake = await startAnthropicFake({ apiKey: KEY });
    provider = createAnthropicProvider({ name: "claude", baseUrl: `${fake.url}/`, apiKey: KEY });
  });
  afterAll(async () => {
    await fake.close(); // first: destroys sockets a failed test may have left open
    await provider.close();
  });
  beforeEach(() => fake.reset());

  it("chat: documented headers, echo answer, usage with cache", async () => {
    const r = await provider.chat(chatReq({ maxTokens: 50 }), call("claude-haiku-4-5+cache"));
    const part = r.message?.content[0]?.part;
    expect([part?.value, r.provider, FinishReason[r.finishReason]]).toEqual(["echo: hi", "claude", "STOP"]);
    expect([r.usage?.inputTokens, r.usage?.cachedInputTokens, r.usage?.cacheWriteTokens]).toEqual([
      121, 100, 20,
    ]);
    const h = fake.requests[0]!.headers;
    expect([fake.requests[0]!.path, h["x-api-key"], h["anthropic-version"], h["authorization"]]).toEqual([
      "/v1/messages",
      KEY,
      "2023-06-01",
      undefined,
    ]);
    expect(fake.requests[0]!.body).toMatchObject({ max_tokens: 50, model: "claude-haiku-4-5+cache" });
  });

  it("chat with tools and thinking", async () => {
    const req = chatReq({
      tools: [{ name: "get_weather" }],
      reasoning: { effort: 1, includeReasoning: true },
    });
    const r = await provider.chat(req, call("claude-x+tools+thinking"));
    expect(r.message?.toolCalls.map((c) => [c.name, c.argumentsJson])).toEqual([
      ["get_weather", '{"city":"Paris"}'],
    ]);
    expect([FinishReason[r.finishReason], r.reasoning]).toEqual([
      "TOOL_CALLS",
      'The user said "hi". I echo it.',
    ]);
  });

  it("chatStream: start, text and tool deltas reassemble, end", async () => {
    const events = (
      await collect(provider.chatStream(chatReq({ tools: [{ name: "f" }] }), call("claude-x+tools")))
    ).map(summarize);
    expect(events[0]).toEqual({ start: [expect.stringMatching(/^msg_fake\d+$/), "claude-x"] });
    expect(events.at(-1)).toEqual({ end: "TOOL_CALLS", usage: [1, 7, 0, 0, false] });
    const args = events
      .flatMap((e) => ((e as { tools?: unknown[][] }).tools ?? []).map((t) => t[3]))
      .join("");
    expect(JSON.parse(args)).toEqual({ city: "Paris" });
    const text = await collect(provider.chatStream(chatReq(), call("claude-x")));
    expect(text.map(summarize).slice(1, -1)).toEqual([{ text: "echo: " }, { text: "hi" }]);
  });

  it.each([
    { model: "claude-x+status=429+retry_after=2", kind: "rateLimited", retry: 2000 },
    { model: "claude-x+status=529", kind: "overloaded" },
    { model: "claude-x+status=500", kind: "unavailable" },
    { model: "claude-x+status=401", kind: "auth" },
    { model: "claude-x+status=404", kind: "not_found" },
    { model: "claude-x+prompt_too_long", kind: "context_length" },
    { model: "claude-x+malformed", kind: "protocol" },
    { model: "claude-x+unknown_stop", kind: "protocol" },
    { model: "claude-x+reset", kind: "network" },
  ])("chat $model -> $kind", async ({ model, kind, retry }) => {
    const e = (await rejection(provider.chat(chatReq(), call(model)))) as UpstreamError;
    expect(e).toBeInstanceOf(UpstreamError);
    expect(e.kind).toBe(kind === "rateLimited" ? "rate_limited" : kind);
    expect(e.opts.retryAfterMs).toBe(retry);
    expect(e.message).not.toContain(KEY);
  });

  it.each([
    { model: "claude-x+stream_error", kind: "overloaded" },
    { model: "claude-x+drop=1", kind: "stream_interrupted" },
    { model: "claude-x+no_stop", kind: "stream_interrupted" },
    { model: "claude-x+malformed", kind: "protocol" },
    { model: "claude-x+status=529", kind: "overloaded" },
  ])("chatStream $model -> $kind", async ({ model, kind }) => {
    const e = (await rejection(collect(provider.chatStream(chatReq(), call(model))))) as UpstreamError;
    expect([e.name, e.kind]).toEqual(["UpstreamError", kind]);
  });

  it("a wrong key is auth, and the key never appears in the error", async () => {
    const bad = createAnthropicProvider({
      name: "claude",
      baseUrl: fake.url,
      apiKey: "sk-ant-wrong-key-123456",
    });
    const e = (await rejection(bad.chat(chatReq(), call("claude-x")))) as UpstreamError;
    expect([e.kind, e.status]).toEqual(["auth", 401]);
    expect(e.message).not.toContain("sk-ant-wrong");
    await bad.close();
  });

  it("abort: the fake sees the request aborted, the caller gets the signal's reason", async () => {
    const ac = new AbortController();
    const reason = new Error("client left");
    const pending = rejection(provider.chat(chatReq(), call("claude-x+delay=5000", ac.signal)));
    // Abort once the request has reached the fake (so it has something to see aborted).
    await waitFor(() => fake.requests.length === 1, { what: "the request to reach the fake" });
    ac.abort(reason);
    expect(await pending).toBe(reason);
    expect(await fake.waitForAbort(0, 5000)).toBe(true);

    const ac2 = new AbortController();
    const it = provider.chatStream(chatReq(), call("claude-x+stall", ac2.signal))[Symbol.asyncIterator]();
    const first = [(await it.next()).value, (await it.next()).value] as ChatStreamResponse[];
    expect(first.map(summarize)).toEqual([
      { start: [expect.stringMatching(/^msg_fake\d+$/), "claude-x"] },
      { text: "echo: " },
    ]);
    const next = rejection(it.next()); // the fake stalls after the first delta
    ac2.abort(reason);
    expect(await next).toBe(reason);
    expect(await fake.waitForAbort(1, 5000)).toBe(true);
  });

  it("listModels walks the pages; embed is UNIMPLEMENTED", async () => {
    const models = await provider.listModels(new AbortController().signal);
    expect(models.map((m) => m.id)).toEqual([
      "claude/claude-sonnet-4-5",
      "claude/claude-haiku-4-5",
      "claude/claude-opus-4-1",
    ]);
    const e = (await rejection(
      provider.embed(create(EmbedRequestSchema, { inputs: ["x"] }), call("m")),
    )) as GatewayError;
    expect([e.code, e.message]).toEqual(["UNIMPLEMENTED", expect.stringContaining("no embeddings API")]);
  });
});
