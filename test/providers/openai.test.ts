import { create, fromJson, type MessageInitShape } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  ChatRequestSchema,
  type ChatStreamResponse,
  EmbedRequestSchema,
  FinishReason,
} from "../../gen/llmgateway/v1/llm_pb.js";
import { GatewayError, UpstreamError } from "../../src/errors.js";
import { classifyStatus, networkError, parseRetryAfter } from "../../src/providers/http.js";
import { fromOpenAIHttpError, redactSecrets } from "../../src/providers/openai/errors.js";
import { compatibleQuirks, openaiPresets } from "../../src/providers/openai/presets.js";
import { toOpenAIChatRequest, toOpenAIEmbeddingsRequest } from "../../src/providers/openai/request.js";
import {
  fromOpenAIChatResponse,
  fromOpenAIEmbeddings,
  fromOpenAIModels,
} from "../../src/providers/openai/response.js";
import { translateOpenAIStream } from "../../src/providers/openai/stream.js";
import { parseNDJSON, parseSSE } from "../../src/providers/stream-parse.js";
import { chunked, collect, fixtures, rejection } from "./helpers.js";

const { read, json } = fixtures("openai");
const openai = { provider: "openai", quirks: openaiPresets.openai.quirks };

function summarize(ev: ChatStreamResponse): unknown {
  const e = ev.event;
  switch (e.case) {
    case "start":
      return { start: { id: e.value.id, model: e.value.model } };
    case "delta":
      return {
        delta: e.value.text,
        ...(e.value.toolCalls.length > 0
          ? { tools: e.value.toolCalls.map((t) => [t.index, t.id, t.name, t.argumentsDelta]) }
          : {}),
      };
    case "end": {
      const u = e.value.usage;
      return {
        end: FinishReason[e.value.finishReason],
        usage: [u?.inputTokens, u?.outputTokens, u?.estimated],
      };
    }
    default:
      return { unknown: true };
  }
}

const streamCtx = { provider: "openai", model: "gpt-4o-mini", promptChars: 40 };
const translate = (sse: string, size = 7) =>
  collect(translateOpenAIStream(parseSSE(chunked(sse, size)), streamCtx));

describe("request.ts", () => {
  it.each([
    { name: "basic", stream: false },
    { name: "vision", stream: false },
    { name: "tools", stream: true },
    { name: "json-schema", stream: false },
  ])("$name.input.json -> $name.request.json", ({ name, stream }) => {
    const req = fromJson(ChatRequestSchema, json(`${name}.input.json`));
    const model = req.model.slice(req.model.indexOf("/") + 1);
    const body = toOpenAIChatRequest(req, model, stream, openai);
    expect(JSON.parse(JSON.stringify(body))).toEqual(json(`${name}.request.json`));
  });

  it("keeps the key order of parameters_json and never sends metadata", () => {
    const req = fromJson(ChatRequestSchema, json("tools.input.json"));
    const text = JSON.stringify(toOpenAIChatRequest(req, "gpt-4o", false, openai));
    expect(JSON.stringify(JSON.parse(req.tools[0]!.parametersJson))).toBe(req.tools[0]!.parametersJson);
    expect(text).toContain(req.tools[0]!.parametersJson);
    const basic = JSON.stringify(
      toOpenAIChatRequest(fromJson(ChatRequestSchema, json("basic.input.json")), "m", false, openai),
    );
    expect(basic).not.toContain("metadata");
    expect(basic).not.toContain("search");
  });

  it.each([
    { preset: "groq", field: "max_tokens", seed: "seed", streamOptions: true },
    { preset: "mistral", field: "max_tokens", seed: "random_seed", streamOptions: false },
    { preset: "openai", field: "max_completion_tokens", seed: "seed", streamOptions: true },
  ] as const)("applies $preset quirks", ({ preset, field, seed, streamOptions }) => {
    const req = create(ChatRequestSchema, {
      messages: [{ role: 2, content: [{ part: { case: "text", value: "hi" } }] }],
      maxTokens: 10,
      seed: 7n,
    });
    const body = toOpenAIChatRequest(req, "m", true, {
      provider: preset,
      quirks: openaiPresets[preset].quirks,
    });
    expect(body[field]).toBe(10);
    expect(body[seed]).toBe(7);
    expect(body.stream_options !== undefined).toBe(streamOptions);
  });

  const invalidCases: { field: string; mutate: MessageInitShape<typeof ChatRequestSchema> }[] = [
    { field: "tools[0].parameters_json", mutate: { tools: [{ name: "f", parametersJson: "{bad" }] } },
    { field: "response_format.json_schema", mutate: { responseFormat: { type: 3, jsonSchema: "[" } } },
    { field: "messages[0].role", mutate: { messages: [{ role: 0 }] } },
    {
      field: "messages[0].content[0].image.media_type",
      mutate: {
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
  ];
  it.each(invalidCases)("rejects invalid $field", ({ field, mutate }) => {
    const req = create(ChatRequestSchema, {
      messages: [{ role: 2, content: [{ part: { case: "text", value: "x" } }] }],
      ...mutate,
    });
    const err = (() => {
      try {
        toOpenAIChatRequest(req, "m", false, openai);
      } catch (e: unknown) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(GatewayError);
    const g = err as GatewayError;
    expect([g.code, g.reason, g.details.violations?.[0]?.field]).toEqual([
      "INVALID_ARGUMENT",
      "INVALID_REQUEST",
      field,
    ]);
  });

  it("refuses, or with unsupportedParams=warn drops, a parameter the host lacks", () => {
    const req = create(ChatRequestSchema, {
      messages: [{ role: 2, content: [{ part: { case: "text", value: "x" } }] }],
      presencePenalty: 1,
    });
    const quirks = openaiPresets.cerebras.quirks;
    expect(() => toOpenAIChatRequest(req, "m", false, { provider: "cerebras", quirks })).toThrowError(
      expect.objectContaining({
        reason: "UNSUPPORTED_PARAMETER",
        message: expect.stringMatching(/presence_penalty.*cerebras/),
      }),
    );
    const warnings: string[] = [];
    const body = toOpenAIChatRequest(req, "m", false, {
      provider: "cerebras",
      quirks,
      unsupportedParams: "warn",
      warn: (m) => warnings.push(m),
    });
    expect(body.presence_penalty).toBeUndefined();
    expect(warnings).toEqual([expect.stringContaining("presence_penalty")]);
  });

  it("builds embeddings bodies (base64 for OpenAI, floats elsewhere)", () => {
    const req = create(EmbedRequestSchema, { inputs: ["a", "b"], dimensions: 256 });
    expect(toOpenAIEmbeddingsRequest(req, "text-embedding-3-small", openai)).toEqual({
      model: "text-embedding-3-small",
      input: ["a", "b"],
      dimensions: 256,
      encoding_format: "base64",
    });
    const generic = toOpenAIEmbeddingsRequest(req, "e", { provider: "x", quirks: compatibleQuirks });
    expect(generic.encoding_format).toBe("float");
  });
});

describe("response.ts", () => {
  const ctx = { provider: "openai", model: "gpt-4o", promptChars: 400 };

  it.each([
    {
      file: "basic.response.json",
      text: "Hello! How can I assist you today?",
      finish: FinishReason.STOP,
      usage: [19, 10, 29, 0, 0],
      calls: [],
    },
    {
      file: "tool-calls.response.json",
      text: undefined,
      finish: FinishReason.TOOL_CALLS,
      usage: [82, 17, 99, 0, 0],
      calls: [["call_abc123", "get_current_weather", '{\n"location": "Boston, MA"\n}']],
    },
    {
      file: "reasoning.response.json",
      text: "The answer is 42.",
      finish: FinishReason.LENGTH,
      usage: [2006, 300, 2306, 1920, 192],
      calls: [],
    },
  ])("$file", ({ file, text, finish, usage, calls }) => {
    const body = json(file) as { id: string; model: string };
    const r = fromOpenAIChatResponse(body, ctx);
    expect([r.id, r.model, r.provider]).toEqual([body.id, body.model, "openai"]);
    const part = r.message?.content[0]?.part;
    expect(part?.case === "text" ? part.value : undefined).toBe(text);
    expect(r.finishReason).toBe(finish);
    const u = r.usage!;
    expect([u.inputTokens, u.outputTokens, u.totalTokens, u.cachedInputTokens, u.reasoningTokens]).toEqual(
      usage,
    );
    expect(u.estimated).toBe(false);
    expect(r.message?.toolCalls.map((c) => [c.id, c.name, c.argumentsJson])).toEqual(calls);
  });

  it.each([
    { why: "no choices", body: { id: "x", model: "m", choices: [] } },
    { why: "no choices array", body: { id: "x", model: "m" } },
    {
      why: "unknown finish_reason",
      body: { id: "x", model: "m", choices: [{ index: 0, message: { content: "a" }, finish_reason: "odd" }] },
    },
  ])("$why -> protocol", ({ body }) => {
    expect(() => fromOpenAIChatResponse(body, ctx)).toThrowError(
      expect.objectContaining({ kind: "protocol" }),
    );
  });

  it("estimates usage when the host reports none", () => {
    const r = fromOpenAIChatResponse(
      {
        id: "x",
        model: "m",
        choices: [{ index: 0, message: { content: "12345678" }, finish_reason: "eos" }],
      },
      ctx,
    );
    expect([r.usage?.inputTokens, r.usage?.outputTokens, r.usage?.estimated, r.finishReason]).toEqual([
      100,
      2,
      true,
      FinishReason.STOP,
    ]);
  });

  it("embeddings: input order, float and base64 vectors", () => {
    const r = fromOpenAIEmbeddings(json("embeddings.response.json"), { ...ctx, count: 2 });
    expect(r.embeddings.map((e) => e.index)).toEqual([0, 1]);
    expect(r.embeddings[1]!.values).toEqual([0.5, -0.25]);
    expect(r.usage?.inputTokens).toBe(8);
    const b64 = Buffer.from(new Float32Array([1.5, -2]).buffer).toString("base64");
    const r2 = fromOpenAIEmbeddings({ data: [{ index: 0, embedding: b64 }] }, { ...ctx, count: 1 });
    expect(r2.embeddings[0]!.values).toEqual([1.5, -2]);
    expect(() => fromOpenAIEmbeddings({ data: [] }, { ...ctx, count: 1 })).toThrowError(UpstreamError);
  });

  it("models list with guessed capabilities", () => {
    const models = fromOpenAIModels(json("models.response.json"), "together");
    expect(models.map((m) => [m.id, m.upstreamModel, m.provider, m.capabilities.length])).toEqual([
      ["together/gpt-4o", "gpt-4o", "together", 3],
      ["together/text-embedding-3-small", "text-embedding-3-small", "together", 1],
      ["together/BAAI/bge-large-en-v1.5", "BAAI/bge-large-en-v1.5", "together", 1],
    ]);
  });
});

describe("stream.ts", () => {
  it.each([1, 7, 4096])("text.sse in %i-byte chunks, LF and CRLF", async (size) => {
    const expected = [
      { start: { id: "chatcmpl-123", model: "gpt-4o-mini" } },
      { delta: "Hello" },
      { delta: "! How can I help?" },
      { end: "STOP", usage: [9, 7, false] },
    ];
    expect((await translate(read("text.sse"), size)).map(summarize)).toEqual(expected);
    const crlf = read("text.sse").replaceAll("\n", "\r\n");
    expect((await translate(crlf, size)).map(summarize)).toEqual(expected);
  });

  it("tool-calls.sse: id and name on the first fragment only, comments skipped", async () => {
    expect((await translate(read("tool-calls.sse"))).map(summarize)).toEqual([
      { start: { id: "chatcmpl-tool", model: "gpt-4o-2024-08-06" } },
      { delta: "", tools: [[0, "call_DdmO9pD3xa9XTPNJ32zg2hcA", "get_weather", ""]] },
      { delta: "", tools: [[0, "", "", '{"']] },
      { delta: "", tools: [[0, "", "", "location"]] },
      { delta: "", tools: [[0, "", "", '":"Paris"}']] },
      { delta: "", tools: [[1, "call_second", "get_time", "{}"]] },
      { end: "TOOL_CALLS", usage: [55, 20, false] },
    ]);
  });

  it("no-usage.sse: ends without [DONE] after a finish_reason, usage estimated", async () => {
    expect((await translate(read("no-usage.sse"))).map(summarize)).toEqual([
      { start: { id: "gen-1", model: "llama-3.1-8b-instant" } },
      { delta: "abcd" },
      { delta: "efgh" },
      { end: "LENGTH", usage: [10, 2, true] },
    ]);
  });

  it.each([
    { file: "interrupted.sse", kind: "stream_interrupted" },
    { file: "error.sse", kind: "unavailable" },
    { file: "not-json.sse", kind: "protocol" },
    { file: "unknown-finish.sse", kind: "protocol" },
    { file: "done-without-finish.sse", kind: "protocol" },
  ])("$file -> $kind", async ({ file, kind }) => {
    const err = await rejection(translate(read(file)));
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).kind).toBe(kind);
  });
});

describe("errors.ts", () => {
  const h = (headers: Record<string, string> = {}) => headers;
  it.each([
    { status: 429, file: "insufficient-quota.error.json", kind: "quota" },
    { status: 429, file: "rate-limit.error.json", kind: "rate_limited" },
    { status: 400, file: "context-length.error.json", kind: "context_length" },
    { status: 400, file: "content-filter.error.json", kind: "content_filter" },
    { status: 503, file: "overloaded.error.json", kind: "overloaded" },
    { status: 401, file: "invalid-key.error.json", kind: "auth" },
  ])("$status $file -> $kind", ({ status, file, kind }) => {
    const e = fromOpenAIHttpError({
      status,
      body: read(file),
      headers: h(),
      provider: "openai",
      model: "gpt-4o",
    });
    expect([e.kind, e.status, e.provider, e.opts.model]).toEqual([kind, status, "openai", "gpt-4o"]);
  });

  it("takes Retry-After and x-should-retry from the headers", () => {
    const e = fromOpenAIHttpError({
      status: 429,
      body: read("rate-limit.error.json"),
      headers: h({ "retry-after": "2", "x-should-retry": "true" }),
      provider: "openai",
    });
    expect([e.opts.retryAfterMs, e.opts.shouldRetry]).toEqual([2000, true]);
  });

  it("redacts keys from messages and falls back to the status for non-JSON bodies", () => {
    const e = fromOpenAIHttpError({
      status: 401,
      body: read("invalid-key.error.json"),
      headers: {},
      provider: "openai",
    });
    expect(e.message).not.toContain("AbCdEfGh");
    expect(redactSecrets("auth Bearer gsk_abcdefghijkl failed")).not.toContain("gsk_");
    const html = fromOpenAIHttpError({
      status: 502,
      body: "<html>\n<h1>502 Bad Gateway</h1></html>",
      headers: {},
      provider: "groq",
    });
    expect([html.kind, html.message]).toEqual([
      "unavailable",
      "HTTP 502: <html> <h1>502 Bad Gateway</h1></html>",
    ]);
  });
});

describe("http.ts helpers", () => {
  it.each([
    [{ "retry-after": "3" }, 3000],
    [{ "retry-after": "0.5" }, 500],
    [{ "retry-after-ms": "250", "retry-after": "9" }, 250],
    [{ "retry-after": "Wed, 21 Oct 2015 07:28:10 GMT" }, 10_000],
    [{ "retry-after": "soon" }, undefined],
    [{}, undefined],
  ])("parseRetryAfter(%j) = %s", (headers, ms) => {
    expect(parseRetryAfter(headers, Date.parse("Wed, 21 Oct 2015 07:28:00 GMT"))).toBe(ms);
  });

  it.each([
    [400, "bad_request"],
    [413, "bad_request"],
    [422, "bad_request"],
    [401, "auth"],
    [403, "permission"],
    [404, "not_found"],
    [429, "rate_limited"],
    [408, "unavailable"],
    [409, "unavailable"],
    [500, "unavailable"],
    [503, "unavailable"],
    [529, "unavailable"],
  ] as const)("classifyStatus(%i) = %s", (status, kind) => {
    expect(classifyStatus(status)).toBe(kind);
  });

  it("SSE: split lines, CR / CRLF / LF, comments, multi-line data, event names, split UTF-8", async () => {
    const text =
      ': keep-alive\r\n\r\nevent: error\rdata: {"a":\ndata: 1}\n\ndata:no-space\r\nid: 7\r\n\r\ndata: héllo ✓\n\ndata: incomplete';
    for (const size of [1, 2, 3, 5, 64]) {
      expect(await collect(parseSSE(chunked(text, size)))).toEqual([
        { event: "error", data: '{"a":\n1}' },
        { event: "message", data: "no-space", id: "7" },
        { event: "message", data: "héllo ✓", id: "7" },
      ]);
    }
  });

  it("NDJSON: lines across chunks, CRLF, blank lines, a non-JSON line is a protocol error", async () => {
    const text = '{"a":1}\r\n\n{"b":"ü"}\n{"c":3}';
    for (const size of [1, 4, 100]) {
      expect(await collect(parseNDJSON(chunked(text, size)))).toEqual([{ a: 1 }, { b: "ü" }, { c: 3 }]);
    }
    const err = await rejection(collect(parseNDJSON(chunked('{"a":1}\nnope\n', 3))));
    expect((err as UpstreamError).kind).toBe("protocol");
  });

  it("networkError: the caller's abort reason untouched, socket errors are network", () => {
    const ac = new AbortController();
    const reason = new Error("attempt timeout");
    ac.abort(reason);
    expect(networkError(new Error("aborted"), "openai", ac.signal)).toBe(reason);
    const reset = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
    const e = networkError(reset, "openai", new AbortController().signal) as UpstreamError;
    expect([e.kind, e.provider]).toEqual(["network", "openai"]);
  });
});

describe("request.ts: reasoning, documents, cache hints, top_k, built-in tools", () => {
  const text = (value: string) => ({ part: { case: "text" as const, value } });
  const userAsk = { role: 2, content: [text("x")] };

  it("skips reasoning parts (no state goes over chat completions); reasoning only -> content null", () => {
    const req = create(ChatRequestSchema, {
      messages: [
        userAsk,
        {
          role: 3,
          content: [
            {
              part: {
                case: "reasoning",
                value: { encryptedContent: "gAAA", provider: "openai", id: "rs_1" },
              },
            },
            { part: { case: "reasoning", value: { text: "t", signature: "s", provider: "anthropic" } } },
          ],
          toolCalls: [
            { id: "c1", name: "f", argumentsJson: "{}", signature: "g", signatureProvider: "gemini" },
          ],
        },
        { role: 4, toolCallId: "c1", content: [text("ok")] },
        {
          role: 3,
          content: [{ part: { case: "reasoning", value: { text: "t", provider: "openai" } } }, text("hi")],
        },
      ],
    });
    const body = toOpenAIChatRequest(req, "m", false, openai);
    expect(body.messages.slice(1)).toEqual([
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" } }],
      },
      { role: "tool", content: "ok", tool_call_id: "c1" },
      { role: "assistant", content: [{ type: "text", text: "hi" }] },
    ]);
  });

  it("documents: bytes and data: URLs as file parts, text as text, cache hints ignored; URLs refused", () => {
    const doc = (value: Record<string, unknown>) => ({ part: { case: "document" as const, value } });
    const req = create(ChatRequestSchema, {
      messages: [
        {
          role: 2,
          content: [
            doc({
              source: { case: "data", value: new Uint8Array([37, 80, 68, 70]) },
              mediaType: "application/pdf",
            }),
            doc({
              source: { case: "url", value: "data:application/pdf;base64,JVBERg==" },
              filename: "a.pdf",
            }),
            doc({ source: { case: "text", value: "notes" } }),
            { ...text("summarize"), cacheHint: { type: "ephemeral", ttlS: 300 } },
          ],
        },
      ],
    });
    expect(toOpenAIChatRequest(req, "m", false, openai).messages[0]?.content).toEqual([
      { type: "file", file: { file_data: "data:application/pdf;base64,JVBERg==", filename: "document.pdf" } },
      { type: "file", file: { file_data: "data:application/pdf;base64,JVBERg==", filename: "a.pdf" } },
      { type: "text", text: "notes" },
      { type: "text", text: "summarize" },
    ]);
    const byUrl = create(ChatRequestSchema, {
      messages: [
        { role: 2, content: [doc({ source: { case: "url", value: "https://x.test/a.pdf" } }), text("x")] },
      ],
    });
    expect(() => toOpenAIChatRequest(byUrl, "m", false, openai)).toThrowError(
      expect.objectContaining({
        reason: "UNSUPPORTED_PARAMETER",
        message: expect.stringContaining("document URLs"),
      }),
    );
    const warned = toOpenAIChatRequest(byUrl, "m", false, { ...openai, unsupportedParams: "warn" });
    expect(warned.messages[0]?.content).toBe("x");
  });

  it("top_k follows the unsupported-parameter policy; built-in tools are always refused", () => {
    const req = create(ChatRequestSchema, { messages: [userAsk], topK: 5 });
    expect(() => toOpenAIChatRequest(req, "m", false, openai)).toThrowError(
      expect.objectContaining({ reason: "UNSUPPORTED_PARAMETER", message: expect.stringContaining("top_k") }),
    );
    const warnings: string[] = [];
    const body = toOpenAIChatRequest(req, "m", false, {
      ...openai,
      unsupportedParams: "warn",
      warn: (m) => warnings.push(m),
    });
    expect([body.top_k, warnings]).toEqual([undefined, [expect.stringContaining("top_k")]]);
    const builtin = create(ChatRequestSchema, {
      messages: [userAsk],
      tools: [{ builtinType: "web_search_preview", builtinJson: '{"type":"web_search_preview"}' }],
    });
    for (const unsupportedParams of ["reject", "warn"] as const) {
      expect(() => toOpenAIChatRequest(builtin, "m", false, { ...openai, unsupportedParams })).toThrowError(
        expect.objectContaining({
          code: "INVALID_ARGUMENT",
          message: expect.stringContaining("runs only on OpenAI with wire: responses"),
        }),
      );
    }
  });
});
