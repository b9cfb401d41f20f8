import { create, fromJson, type MessageInitShape } from "@bufbuild/protobuf";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  ChatRequestSchema,
  type ChatStreamResponse,
  EmbedRequestSchema,
  FinishReason,
} from "../../gen/llmgateway/v1/llm_pb.js";
import { GatewayError, UpstreamError } from "../../src/errors.js";
import { fromGeminiHttpError, redactGoogleSecrets } from "../../src/providers/gemini/errors.js";
import { createGeminiProvider } from "../../src/providers/gemini/index.js";
import { toGeminiEmbedRequests, toGeminiRequest } from "../../src/providers/gemini/request.js";
import {
  fromGeminiEmbeddings,
  fromGeminiModels,
  fromGeminiResponse,
  mapGeminiFinishReason,
} from "../../src/providers/gemini/response.js";
import { translateGeminiStream } from "../../src/providers/gemini/stream.js";
import { parseSSE } from "../../src/providers/stream-parse.js";
import type { Provider } from "../../src/providers/types.js";
import { type GeminiFake, type RecordedRequest, startGeminiFake } from "../fakes/gemini.js";
import { waitFor } from "../helpers/wait.js";
import { chunked, collect, fixtures, rejection, thrown } from "./helpers.js";

const { read, json } = fixtures("gemini");
const ctx = { provider: "gemini", model: "gemini-2.5-flash", promptChars: 40 };
const user = (text: string) => ({ role: 2, content: [{ part: { case: "text" as const, value: text } }] });
const chatReq = (init: MessageInitShape<typeof ChatRequestSchema> = {}) =>
  create(ChatRequestSchema, { messages: [user("hello there world")], ...init });

function summarize(ev: ChatStreamResponse): unknown {
  const e = ev.event;
  switch (e.case) {
    case "start":
      return { start: [e.value.id, e.value.model] };
    case "delta":
      return {
        delta: e.value.text,
        ...(e.value.reasoning === "" ? {} : { reasoning: e.value.reasoning }),
        ...(e.value.toolCalls.length > 0
          ? { tools: e.value.toolCalls.map((t) => [t.index, t.id, t.name, t.argumentsDelta]) }
          : {}),
      };
    case "end": {
      const u = e.value.usage;
      return {
        end: FinishReason[e.value.finishReason],
        usage: [u?.inputTokens, u?.outputTokens, u?.reasoningTokens, u?.cachedInputTokens, u?.estimated],
      };
    }
    default:
      return { unknown: true };
  }
}

const translate = (sse: string, size = 7, includeReasoning = false) =>
  collect(translateGeminiStream(parseSSE(chunked(sse, size)), { ...ctx, includeReasoning }));

describe("request.ts", () => {
  it.each([
    { name: "basic", provider: "gemini" },
    { name: "vision", provider: "gemini" },
    { name: "tools", provider: "gemini" },
    { name: "json-schema", provider: "gemini-eu" },
  ])("$name.input.json -> $name.request.json ($provider)", ({ name, provider }) => {
    const req = fromJson(ChatRequestSchema, json(`${name}.input.json`));
    const body = toGeminiRequest(req, { provider });
    expect(JSON.parse(JSON.stringify(body))).toEqual(json(`${name}.request.json`));
  });

  it.each([
    [{ effort: 1 }, { thinkingBudget: 0 }],
    [{ effort: 2 }, { thinkingBudget: 1024 }],
    [
      { effort: 3, includeReasoning: true },
      { thinkingBudget: 8192, includeThoughts: true },
    ],
    [{ effort: 4, budgetTokens: 500 }, { thinkingBudget: 500 }],
    [{ includeReasoning: true }, { includeThoughts: true }],
    [{}, undefined],
  ])("reasoning %j -> thinkingConfig %j", (reasoning, thinkingConfig) => {
    const body = toGeminiRequest(chatReq({ reasoning }), { provider: "gemini" });
    expect(body.generationConfig?.thinkingConfig).toEqual(thinkingConfig);
  });

  it.each([
    [{ mode: 1 }, { mode: "AUTO" }],
    [{ mode: 3 }, { mode: "ANY" }],
    [{ mode: 0 }, undefined],
  ] as const)("tool_choice %j -> functionCallingConfig %j", (choice, config) => {
    const [k, v] = Object.entries(choice)[0]!;
    const body = toGeminiRequest(chatReq({ toolChoice: { choice: { case: k as "mode", value: v } } }), {
      provider: "gemini",
    });
    expect(body.toolConfig?.functionCallingConfig).toEqual(config);
  });

  it("json_object -> responseMimeType only", () => {
    const body = toGeminiRequest(chatReq({ responseFormat: { type: 2 } }), { provider: "gemini" });
    expect(body.generationConfig).toEqual({ responseMimeType: "application/json" });
  });

  const image = (value: MessageInitShape<typeof ChatRequestSchema>) => value;
  it.each([
    { param: "user", init: image({ user: "u-1" }) },
    { param: "messages[0].name", init: image({ messages: [{ ...user("x"), name: "alice" }] }) },
    {
      param: "messages[0].content[0].image.url",
      init: image({
        messages: [
          {
            role: 2,
            content: [{ part: { case: "image", value: { source: { case: "url", value: "https://x/y" } } } }],
          },
        ],
      }),
    },
    {
      param: "messages[0].content[0].image.detail",
      init: image({
        messages: [
          {
            role: 2,
            content: [
              {
                part: {
                  case: "image",
                  value: {
                    source: { case: "url", value: "https://x/y.png" },
                    mediaType: "image/png",
                    detail: "high",
                  },
                },
              },
            ],
          },
        ],
      }),
    },
  ])("$param: rejected, or dropped with a warning", ({ param, init }) => {
    const req = chatReq(init);
    const err = thrown(() => toGeminiRequest(req, { provider: "gemini" }));
    expect(err).toBeInstanceOf(GatewayError);
    expect([(err as GatewayError).reason, (err as GatewayError).details.metadata?.["parameter"]]).toEqual([
      "UNSUPPORTED_PARAMETER",
      param,
    ]);
    const warnings: string[] = [];
    const body = toGeminiRequest(req, {
      provider: "gemini",
      unsupportedParams: "warn",
      warn: (m) => warnings.push(m),
    });
    expect(warnings).toEqual([expect.stringContaining(param)]);
    expect(JSON.stringify(body)).not.toContain("u-1");
    expect(JSON.stringify(body)).not.toContain("alice");
  });

  it.each([
    { field: "tools[0].parameters_json", init: { tools: [{ name: "f", parametersJson: "{bad" }] } },
    { field: "provider_options_json", init: { providerOptionsJson: "[1]" } },
    { field: "provider_options_json.gemini", init: { providerOptionsJson: '{"gemini": 3}' } },
    { field: "messages[1].tool_call_id", init: { messages: [user("x"), { role: 4, toolCallId: "nope" }] } },
    { field: "messages[0].role", init: { messages: [{ role: 0 }] } },
  ])("rejects invalid $field", ({ field, init }) => {
    const err = thrown(() =>
      toGeminiRequest(chatReq(init as MessageInitShape<typeof ChatRequestSchema>), { provider: "gemini" }),
    );
    expect([(err as GatewayError).reason, (err as GatewayError).details.violations?.[0]?.field]).toEqual([
      "INVALID_REQUEST",
      field,
    ]);
  });

  it("embeddings: one request per input with the qualified model", () => {
    const req = create(EmbedRequestSchema, { inputs: ["a", "b"], dimensions: 64 });
    expect(toGeminiEmbedRequests(req, "gemini-embedding-001", { provider: "gemini" })).toEqual({
      requests: ["a", "b"].map((text) => ({
        model: "models/gemini-embedding-001",
        content: { parts: [{ text }] },
        outputDimensionality: 64,
      })),
    });
  });
});

describe("response.ts", () => {
  it.each([
    {
      file: "basic.response.json",
      text: "Bonjour ! Je vais bien.",
      finish: "STOP",
      usage: [2048, 7, 2055, 1024, 0],
      calls: [],
    },
    {
      file: "tool-calls.response.json",
      text: undefined,
      finish: "TOOL_CALLS",
      usage: [60, 60, 120, 0, 40],
      calls: [
        ["call_0", "get_weather", '{"city":"Paris"}'],
        ["fc-7", "get_time", "{}"],
      ],
    },
    {
      file: "thinking.response.json",
      text: "The answer is 42.",
      finish: "LENGTH",
      usage: [10, 306, 316, 0, 300],
      calls: [],
    },
    {
      file: "safety.response.json",
      text: undefined,
      finish: "CONTENT_FILTER",
      usage: [9, 0, 9, 0, 0],
      calls: [],
    },
  ])("$file", ({ file, text, finish, usage, calls }) => {
    const body = json(file) as { responseId: string; modelVersion: string };
    const r = fromGeminiResponse(body, ctx);
    expect([r.id, r.model, r.provider]).toEqual([body.responseId, body.modelVersion, "gemini"]);
    const part = r.message?.content[0]?.part;
    expect(part?.case === "text" ? part.value : undefined).toBe(text);
    expect(FinishReason[r.finishReason]).toBe(finish);
    const u = r.usage!;
    expect([u.inputTokens, u.outputTokens, u.totalTokens, u.cachedInputTokens, u.reasoningTokens]).toEqual(
      usage,
    );
    expect(r.message?.toolCalls.map((c) => [c.id, c.name, c.argumentsJson])).toEqual(calls);
    expect(r.reasoning).toBe("");
  });

  it("thought parts become reasoning only with include_reasoning, never answer text", () => {
    const r = fromGeminiResponse(json("thinking.response.json"), { ...ctx, includeReasoning: true });
    expect(r.reasoning).toContain("Considering the question");
    expect(JSON.stringify(r.message?.content)).not.toContain("Considering");
  });

  it("a blocked prompt is UpstreamError content_filter", () => {
    const e = thrown(() => fromGeminiResponse(json("blocked.response.json"), ctx)) as UpstreamError;
    expect([e.kind, e.message]).toEqual(["content_filter", "prompt blocked (PROHIBITED_CONTENT)"]);
  });

  it.each([
    ["STOP", false, "STOP"],
    ["STOP", true, "TOOL_CALLS"],
    ["MAX_TOKENS", false, "LENGTH"],
    ["CONTINUATION", false, "LENGTH"],
    ["NO_IMAGE", false, "STOP"],
    ...[
      "SAFETY",
      "RECITATION",
      "BLOCKLIST",
      "PROHIBITED_CONTENT",
      "SPII",
      "IMAGE_SAFETY",
      "OTHER",
      "LANGUAGE",
    ].map((r) => [r, false, "CONTENT_FILTER"] as const),
    ...[
      "MALFORMED_FUNCTION_CALL",
      "UNEXPECTED_TOOL_CALL",
      "TOO_MANY_TOOL_CALLS",
      "FINISH_REASON_UNSPECIFIED",
      "NEW_ONE",
      undefined,
    ].map((r) => [r, false, "protocol"] as const),
  ] as const)("finishReason %s (calls: %s) -> %s", (reason, calls, expected) => {
    if (expected === "protocol") {
      expect((thrown(() => mapGeminiFinishReason(reason, calls, ctx)) as UpstreamError).kind).toBe(
        "protocol",
      );
    } else expect(FinishReason[mapGeminiFinishReason(reason, calls, ctx)]).toBe(expected);
  });

  it("no usageMetadata -> estimated; no candidates -> protocol", () => {
    const body = { candidates: [{ content: { parts: [{ text: "12345678" }] }, finishReason: "STOP" }] };
    const u = fromGeminiResponse(body, { ...ctx, promptChars: 400 }).usage!;
    expect([u.inputTokens, u.outputTokens, u.estimated]).toEqual([100, 2, true]);
    expect((thrown(() => fromGeminiResponse({ candidates: [] }, ctx)) as UpstreamError).kind).toBe(
      "protocol",
    );
  });

  it("embeddings single and batch, usage estimated", () => {
    const one = fromGeminiEmbeddings(json("embed.response.json"), { ...ctx, inputs: ["abcdefgh"] });
    expect([one.embeddings[0]!.values, one.usage?.inputTokens, one.usage?.estimated]).toEqual([
      [0.25, -0.5, 0.125],
      2,
      true,
    ]);
    const two = fromGeminiEmbeddings(json("batch-embed.response.json"), { ...ctx, inputs: ["a", "b"] });
    expect(two.embeddings.map((e) => [e.index, e.values])).toEqual([
      [0, [0.25, -0.5]],
      [1, [1, 0]],
    ]);
    expect(() =>
      fromGeminiEmbeddings(json("embed.response.json"), { ...ctx, inputs: ["a", "b"] }),
    ).toThrowError(UpstreamError);
  });

  it("models: capabilities from supportedGenerationMethods, limits, next page", () => {
    const { models, next } = fromGeminiModels(json("models.response.json"), "gemini");
    expect(
      models.map((m) => [m.id, m.upstreamModel, m.capabilities, m.contextWindow, m.maxOutputTokens]),
    ).toEqual([
      ["gemini/gemini-2.5-flash", "gemini-2.5-flash", [1, 2, 3], 1048576, 65536],
      ["gemini/gemini-embedding-001", "gemini-embedding-001", [6], 2048, 1],
    ]);
    expect(next).toBe("Chxtb2RlbHMvZ2VtaW5pLTIuNS1mbGFzaA==");
  });
});

describe("stream.ts", () => {
  it.each([1, 7, 4096])(
    "text.sse in %i-byte chunks: empty text skipped, usage from the last chunk",
    async (size) => {
      expect((await translate(read("text.sse"), size)).map(summarize)).toEqual([
        { start: ["sse-1", "gemini-2.5-flash"] },
        { delta: "Hello" },
        { delta: "! How can I help?" },
        { end: "STOP", usage: [9, 7, 0, 4, false] },
      ]);
    },
  );

  it("tool-calls.sse: whole calls, generated ids where Gemini gives none", async () => {
    expect((await translate(read("tool-calls.sse"))).map(summarize)).toEqual([
      { start: ["sse-tools", "gemini-2.5-pro"] },
      {
        delta: "",
        tools: [
          [0, "call_0", "get_weather", '{"city":"Paris"}'],
          [1, "fc-2", "get_time", "{}"],
        ],
      },
      { end: "TOOL_CALLS", usage: [55, 20, 0, 0, false] },
    ]);
  });

  it("thinking.sse: thoughts -> Delta.reasoning with include_reasoning, else dropped", async () => {
    const end = { end: "STOP", usage: [5, 31, 30, 0, false] };
    expect((await translate(read("thinking.sse"), 7, true)).map(summarize)).toEqual([
      { start: ["sse-think", "gemini-2.5-pro"] },
      { delta: "", reasoning: "Thinking hard." },
      { delta: "42" },
      end,
    ]);
    expect((await translate(read("thinking.sse"))).map(summarize)).toEqual([
      { start: ["sse-think", "gemini-2.5-pro"] },
      { delta: "42" },
      end,
    ]);
  });

  it("no-usage.sse: usage estimated", async () => {
    expect((await translate(read("no-usage.sse"))).at(-1)).toSatisfy(
      (e: ChatStreamResponse) => e.event.case === "end" && e.event.value.usage?.estimated === true,
    );
  });

  it.each([
    { file: "interrupted.sse", kind: "stream_interrupted" },
    { file: "error.sse", kind: "overloaded" },
    { file: "blocked.sse", kind: "content_filter" },
    { file: "malformed-call.sse", kind: "protocol" },
    { file: "unknown-finish.sse", kind: "protocol" },
    { file: "not-json.sse", kind: "protocol" },
  ])("$file -> $kind", async ({ file, kind }) => {
    const err = await rejection(translate(read(file)));
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).kind).toBe(kind);
  });
});

describe("errors.ts", () => {
  it.each([
    [400, "invalid-key", "auth", undefined],
    [400, "context-length", "context_length", undefined],
    [400, "bad-request", "bad_request", undefined],
    [400, "location", "bad_request", undefined],
    [403, "permission", "permission", undefined],
    [404, "not-found", "not_found", undefined],
    [429, "rate-limit", "rate_limited", 37_000],
    [429, "quota", "quota", undefined],
    [500, "internal", "unavailable", undefined],
    [503, "overloaded", "overloaded", undefined],
    [503, "unavailable", "unavailable", undefined],
    [504, "deadline", "timeout", undefined],
  ] as const)("%i %s.error.json -> %s", (status, file, kind, retryAfterMs) => {
    const e = fromGeminiHttpError({
      status,
      body: read(`${file}.error.json`),
      headers: {},
      provider: "gemini",
      model: "m",
    });
    expect([e.kind, e.status, e.provider, e.opts.model, e.opts.retryAfterMs]).toEqual([
      kind,
      status,
      "gemini",
      "m",
      retryAfterMs,
    ]);
  });

  it("Retry-After header wins; non-JSON bodies fall back to the status; keys are redacted", () => {
    const e = fromGeminiHttpError({
      status: 429,
      body: read("rate-limit.error.json"),
      headers: { "retry-after": "2" },
      provider: "g",
    });
    expect(e.opts.retryAfterMs).toBe(2000);
    const html = fromGeminiHttpError({
      status: 502,
      body: "<html>Bad Gateway</html>",
      headers: {},
      provider: "g",
    });
    expect([html.kind, html.message]).toEqual(["unavailable", "HTTP 502: <html>Bad Gateway</html>"]);
    const key = "AIzaSyA1234567890abcdefghijklmnopqrstuv";
    expect(redactGoogleSecrets(`bad key ${key} at /v1beta/models?key=secret123&x=1`)).toBe(
      "bad key [redacted] at /v1beta/models?key=[redacted]&x=1",
    );
    const echoed = fromGeminiHttpError({
      status: 400,
      body: `{"error":{"message":"no my-key-1234 here"}}`,
      headers: {},
      provider: "g",
      apiKey: "my-key-1234",
    });
    expect(echoed.message).toBe("no [redacted] here");
  });
});

describe("createGeminiProvider against the fake", () => {
  const KEY = "AIzaProviderTestKey0123456789abcdefghij";
  let fake: GeminiFake;
  let provider: Provider;
  const seen: RecordedRequest[] = [];
  const call = (model: string) => ({ signal: new AbortController().signal, model, requestId: "req-1" });

  beforeAll(async () => {
    fake = await startGeminiFake({ apiKey: KEY });
    provider = createGeminiProvider({ name: "gemini", baseUrl: fake.url, apiKey: KEY });
  });
  afterAll(async () => {
    await provider.close();
    await fake.close();
  });
  beforeEach(() => fake.reset());
  afterEach(() => {
    seen.push(...fake.requests);
  });

  it("chat: text, usage, id and model; body as translated", async () => {
    const r = await provider.chat(chatReq({ temperature: 0.3 }), call("gemini-2.5-flash"));
    const part = r.message?.content[0]?.part;
    expect(part?.case === "text" ? part.value : "").toBe("echo: hello there world");
    expect([
      r.model,
      r.provider,
      FinishReason[r.finishReason],
      r.usage?.inputTokens,
      r.usage?.outputTokens,
    ]).toEqual(["gemini-2.5-flash", "gemini", "STOP", 5, 4]);
    expect(r.id).not.toBe("");
    const rec = fake.requests[0]!;
    expect([rec.path, rec.headers["x-request-id"], rec.body]).toEqual([
      "/v1beta/models/gemini-2.5-flash:generateContent",
      "req-1",
      {
        contents: [{ role: "user", parts: [{ text: "hello there world" }] }],
        generationConfig: { temperature: 0.3 },
      },
    ]);
  });

  it("chat: tools, thinking, safety, no_usage", async () => {
    const tools = await provider.chat(
      chatReq({ tools: [{ name: "lookup" }] }),
      call("gemini-2.5-flash+tools"),
    );
    expect([
      FinishReason[tools.finishReason],
      tools.message?.toolCalls.map((c) => [c.id, c.name, c.argumentsJson]),
    ]).toEqual(["TOOL_CALLS", [["call_0", "lookup", '{"city":"Paris"}']]]);
    const think = await provider.chat(
      chatReq({ reasoning: { includeReasoning: true } }),
      call("gemini-2.5-pro+thinking"),
    );
    expect([think.reasoning, think.usage?.reasoningTokens, think.usage?.outputTokens]).toEqual([
      expect.stringContaining("echo"),
      12,
      16,
    ]);
    const safety = await provider.chat(chatReq(), call("gemini-2.5-flash+safety"));
    expect(FinishReason[safety.finishReason]).toBe("CONTENT_FILTER");
    const est = await provider.chat(chatReq(), call("gemini-2.5-flash+no_usage"));
    expect(est.usage?.estimated).toBe(true);
  });

  it("chatStream: start, word deltas, end with usage", async () => {
    const events = await collect(provider.chatStream(chatReq(), call("gemini-2.5-flash")));
    const s = events.map(summarize);
    expect(s[0]).toEqual({ start: [expect.any(String), "gemini-2.5-flash"] });
    expect(s.slice(1, -1)).toEqual(["echo: ", "hello ", "there ", "world"].map((delta) => ({ delta })));
    expect(s.at(-1)).toEqual({ end: "STOP", usage: [5, 4, 0, 0, false] });
    expect(fake.requests[0]!.url).toBe("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
  });

  it.each([
    ["chat", "gemini-2.5-flash+blocked", "content_filter"],
    ["chat", "gemini-2.5-flash+malformed", "protocol"],
    ["chat", "gemini-2.5-flash+malformed_call", "protocol"],
    ["chat", "gemini-2.5-flash+unknown_finish", "protocol"],
    ["chat", "gemini-2.5-flash+reset", "network"],
    ["chat", "gemini-2.5-flash+status=400", "bad_request"],
    ["chat", "gemini-2.5-flash+context_length", "context_length"],
    ["chat", "gemini-2.5-flash+status=401", "auth"],
    ["chat", "gemini-2.5-flash+status=403", "permission"],
    ["chat", "gemini-2.5-flash+status=404", "not_found"],
    ["chat", "gemini-2.5-flash+status=429", "rate_limited"],
    ["chat", "gemini-2.5-flash+quota", "quota"],
    ["chat", "gemini-2.5-flash+status=500", "unavailable"],
    ["chat", "gemini-2.5-flash+status=503", "overloaded"],
    ["chat", "gemini-2.5-flash+status=504", "timeout"],
    ["stream", "gemini-2.5-flash+drop=1", "stream_interrupted"],
    ["stream", "gemini-2.5-flash+blocked", "content_filter"],
    ["stream", "gemini-2.5-flash+malformed", "protocol"],
    ["stream", "gemini-2.5-flash+status=429+retry_after=3", "rate_limited"],
  ])("%s %s -> %s", async (kind, model, expected) => {
    const p =
      kind === "chat"
        ? provider.chat(chatReq(), call(model))
        : collect(provider.chatStream(chatReq(), call(model)));
    const err = await rejection(p);
    expect(err).toBeInstanceOf(UpstreamError);
    expect([(err as UpstreamError).kind, (err as UpstreamError).provider]).toEqual([expected, "gemini"]);
    if (model.includes("retry_after=3")) expect((err as UpstreamError).opts.retryAfterMs).toBe(3000);
  });

  it("a wrong key is auth, and the key is not in the message", async () => {
    const bad = createGeminiProvider({
      name: "gemini",
      baseUrl: `${fake.url}/`,
      apiKey: "AIzaWrongWrongWrong0123456789abcdefghijk",
    });
    const err = (await rejection(bad.chat(chatReq(), call("gemini-2.5-flash")))) as UpstreamError;
    expect([err.kind, err.status, err.message.includes("AIzaWrong")]).toEqual(["auth", 400, false]);
    await bad.close();
  });

  it("unsupported parameters fail before any request", async () => {
    const err = await rejection(provider.chat(chatReq({ user: "u" }), call("gemini-2.5-flash")));
    expect((err as GatewayError).reason).toBe("UNSUPPORTED_PARAMETER");
    expect(fake.requests).toHaveLength(0);
  });

  it("embed: one input -> embedContent, several -> batchEmbedContents", async () => {
    const one = await provider.embed(
      create(EmbedRequestSchema, { inputs: ["alpha"], dimensions: 4 }),
      call("gemini-embedding-001"),
    );
    const many = await provider.embed(
      create(EmbedRequestSchema, { inputs: ["a", "b", "c"] }),
      call("gemini-embedding-001"),
    );
    expect([
      one.embeddings[0]!.values.length,
      one.usage?.estimated,
      many.embeddings.map((e) => e.index),
    ]).toEqual([4, true, [0, 1, 2]]);
    expect(fake.requests.map((r) => r.path)).toEqual([
      "/v1beta/models/gemini-embedding-001:embedContent",
      "/v1beta/models/gemini-embedding-001:batchEmbedContents",
    ]);
  });

  it("listModels follows nextPageToken; models the gateway cannot call are left out", async () => {
    const models = await provider.listModels(new AbortController().signal);
    expect(models.map((m) => [m.upstreamModel, m.capabilities.length])).toEqual([
      ["gemini-2.5-flash", 3],
      ["gemini-2.5-pro", 3],
      ["gemini-2.0-flash-lite", 3],
      ["gemini-embedding-001", 1],
    ]);
    expect(fake.requests.map((r) => r.url)).toEqual([
      "/v1beta/models?pageSize=1000",
      "/v1beta/models?pageSize=1000&pageToken=p2",
      "/v1beta/models?pageSize=1000&pageToken=p4",
    ]);
  });

  it("abort: a unary call and a stream in flight are cancelled upstream", async () => {
    const ac = new AbortController();
    const reason = new Error("client left");
    const p = rejection(
      provider.chat(chatReq(), { ...call("gemini-2.5-flash+delay=5000"), signal: ac.signal }),
    );
    // Abort once the request has reached the fake (so it has something to see aborted).
    await waitFor(() => fake.requests.length === 1, { what: "the request to reach the fake" });
    ac.abort(reason);
    expect(await p).toBe(reason);
    expect(await fake.waitForAbort(0, 5000)).toBe(true);

    const ac2 = new AbortController();
    const events = provider.chatStream(chatReq(), {
      ...call("gemini-2.5-flash+chunk_delay=2000"),
      signal: ac2.signal,
    });
    const it = events[Symbol.asyncIterator]();
    expect((await it.next()).value?.event.case).toBe("start");
    expect((await it.next()).value?.event.case).toBe("delta"); // same chunk as start
    ac2.abort(reason);
    expect(await rejection(it.next())).toBe(reason);
    expect(await fake.waitForAbort(1, 5000)).toBe(true);
  });

  it("never puts the API key in a URL (every request above)", () => {
    expect(seen.length).toBeGreaterThan(30);
    for (const r of seen) {
      expect(r.url).not.toContain(KEY);
      expect(r.keyInUrl).toBe(false);
    }
    expect(seen.filter((r) => r.headers["x-goog-api-key"] === KEY).length).toBeGreaterThan(30);
  });
});
