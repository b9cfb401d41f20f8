import { createServer } from "node:net";
import { create, fromJson, type MessageInitShape } from "@bufbuild/protobuf";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  Capability,
  ChatRequestSchema,
  type ChatStreamResponse,
  EmbedRequestSchema,
  FinishReason,
} from "../../gen/llmgateway/v1/llm_pb.js";
import { GatewayError, UpstreamError } from "../../src/errors.js";
import { fromOllamaBodyError, fromOllamaHttpError } from "../../src/providers/ollama/errors.js";
import { createOllamaProvider, normalizeOllamaHost } from "../../src/providers/ollama/index.js";
import { toOllamaChatRequest, toOllamaEmbedRequest } from "../../src/providers/ollama/request.js";
import {
  fromOllamaChatResponse,
  fromOllamaEmbeddings,
  fromOllamaTags,
} from "../../src/providers/ollama/response.js";
import { translateOllamaStream } from "../../src/providers/ollama/stream.js";
import { parseNDJSON } from "../../src/providers/stream-parse.js";
import type { Provider } from "../../src/providers/types.js";
import { OLLAMA_TAGS, OLLAMA_THINKING, type OllamaFake, startOllamaFake } from "../fakes/ollama.js";
import { embeddingVector } from "../fakes/openai-faults.js";
import { chunked, collect, fixtures, rejection } from "./helpers.js";

const { read, json } = fixtures("ollama");
const ctx = {
  provider: "ollama",
  model: "llama3.2",
  id: "ollama-1",
  promptChars: 40,
  includeReasoning: true,
};

function summarize(ev: ChatStreamResponse): unknown {
  const e = ev.event;
  if (e.case === "start") return { start: [e.value.id, e.value.model] };
  if (e.case === "delta") {
    const tools = e.value.toolCalls.map((t) => [t.index, t.id, t.name, t.argumentsDelta]);
    return {
      text: e.value.text,
      ...(e.value.reasoning ? { reasoning: e.value.reasoning } : {}),
      ...(tools.length ? { tools } : {}),
    };
  }
  if (e.case === "end") {
    const u = e.value.usage;
    return {
      end: FinishReason[e.value.finishReason],
      usage: [u?.inputTokens, u?.outputTokens, u?.estimated],
    };
  }
  return { unknown: true };
}
const translate = (file: string, size = 13, c = ctx) =>
  collect(translateOllamaStream(parseNDJSON(chunked(read(file), size)), c));
const user = (text: string) => ({ role: 2, content: [{ part: { case: "text" as const, value: text } }] });
const chatReq = (extra: MessageInitShape<typeof ChatRequestSchema> = {}) =>
  create(ChatRequestSchema, { messages: [user("hello there world")], ...extra });

describe("request.ts", () => {
  it.each([
    { name: "basic", stream: false, provider: "my-ollama" },
    { name: "vision", stream: false, provider: "ollama" },
    { name: "tools", stream: true, provider: "ollama" },
    { name: "json", stream: true, provider: "ollama" },
  ])("$name: input.json -> request.json", ({ name, stream, provider }) => {
    const req = fromJson(ChatRequestSchema, json(`${name}.input.json`));
    const body = toOllamaChatRequest(req, req.model.slice(req.model.indexOf("/") + 1), stream, { provider });
    expect(JSON.parse(JSON.stringify(body))).toEqual(json(`${name}.request.json`));
  });

  const unsupported: { param: string; init: MessageInitShape<typeof ChatRequestSchema> }[] = [
    { param: "user", init: { user: "u-1" } },
    { param: "tool_choice", init: { toolChoice: { choice: { case: "mode", value: 3 } } } },
    { param: "tool_choice", init: { toolChoice: { choice: { case: "toolName", value: "f" } } } },
    { param: "reasoning.budget_tokens", init: { reasoning: { budgetTokens: 1024 } } },
    { param: "message_name", init: { messages: [{ ...user("x"), name: "alice" }] } },
    {
      param: "image_url",
      init: {
        messages: [
          {
            role: 2,
            content: [
              { part: { case: "image", value: { source: { case: "url", value: "https://x/y.png" } } } },
            ],
          },
        ],
      },
    },
  ];
  it.each(unsupported)("$param: rejected, or dropped with a warning", ({ param, init }) => {
    const req = chatReq(init);
    expect(() => toOllamaChatRequest(req, "m", false, { provider: "ollama" })).toThrowError(
      expect.objectContaining({
        code: "INVALID_ARGUMENT",
        reason: "UNSUPPORTED_PARAMETER",
        details: expect.objectContaining({ metadata: { parameter: param, provider: "ollama" } }),
      }),
    );
    const warnings: string[] = [];
    const body = toOllamaChatRequest(req, "m", false, {
      provider: "ollama",
      unsupportedParams: "warn",
      warn: (m) => warnings.push(m),
    });
    expect(warnings).toEqual([expect.stringContaining(`"${param}"`)]);
    expect(JSON.stringify(body)).not.toMatch(/u-1|alice|https:\/\/x|tool_choice|budget/);
  });

  const invalidCases: { field: string; init: MessageInitShape<typeof ChatRequestSchema> }[] = [
    { field: "provider_options_json", init: { providerOptionsJson: "[1]" } },
    {
      field: "provider_options_json.ollama.stream",
      init: { providerOptionsJson: '{"ollama":{"stream":false}}' },
    },
    {
      field: "messages[0].tool_calls[0].arguments_json",
      init: { messages: [{ role: 3, toolCalls: [{ name: "f", argumentsJson: "[1]" }] }] },
    },
    {
      field: "messages[0].content[0].image.url",
      init: {
        messages: [
          {
            role: 2,
            content: [
              { part: { case: "image", value: { source: { case: "url", value: "data:image/png,abc" } } } },
            ],
          },
        ],
      },
    },
  ];
  it.each(invalidCases)("rejects invalid $field", ({ field, init }) => {
    const err = (() => {
      try {
        toOllamaChatRequest(chatReq(init), "m", false, { provider: "ollama" });
      } catch (e: unknown) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).details.violations?.[0]?.field).toBe(field);
  });

  it("embed body: batch, dimensions; user is unsupported", () => {
    const req = create(EmbedRequestSchema, { inputs: ["a", "b"], dimensions: 256 });
    expect(toOllamaEmbedRequest(req, "nomic-embed-text", { provider: "ollama" })).toEqual({
      model: "nomic-embed-text",
      input: ["a", "b"],
      dimensions: 256,
    });
    const withUser = create(EmbedRequestSchema, { inputs: ["a"], user: "u" });
    expect(() => toOllamaEmbedRequest(withUser, "m", { provider: "ollama" })).toThrowError(
      expect.objectContaining({ reason: "UNSUPPORTED_PARAMETER" }),
    );
  });
});

describe("response.ts", () => {
  it.each([
    {
      file: "basic.response.json",
      text: "Hello! How are you today?",
      finish: FinishReason.STOP,
      usage: [26, 298, 324, false],
      calls: [],
      reasoning: "",
    },
    {
      file: "length.response.json",
      text: "Once upon a time",
      finish: FinishReason.LENGTH,
      usage: [10, 4, 14, false],
      calls: [],
      reasoning: "",
    },
    {
      file: "thinking.response.json",
      text: "The answer is 42.",
      finish: FinishReason.STOP,
      usage: [17, 30, 47, false],
      calls: [],
      reasoning: "The user asks for the answer. It is 42.",
    },
    {
      file: "cached-prompt.response.json",
      text: "12345678",
      finish: FinishReason.STOP,
      usage: [10, 3, 13, true],
      calls: [],
      reasoning: "",
    },
    {
      file: "tool-calls.response.json",
      text: undefined,
      finish: FinishReason.TOOL_CALLS,
      usage: [122, 33, 155, false],
      calls: [
        ["call_0", "get_current_weather", '{"format":"celsius","location":"Paris, FR"}'],
        ["call_1", "get_time", "{}"],
      ],
      reasoning: "",
    },
  ])("$file", ({ file, text, finish, usage, calls, reasoning }) => {
    const r = fromOllamaChatResponse(json(file), ctx);
    expect([r.id, r.provider]).toEqual(["ollama-1", "ollama"]);
    const part = r.message?.content[0]?.part;
    expect(part?.case === "text" ? part.value : undefined).toBe(text);
    expect(r.finishReason).toBe(finish);
    expect([r.usage?.inputTokens, r.usage?.outputTokens, r.usage?.totalTokens, r.usage?.estimated]).toEqual(
      usage,
    );
    expect(r.message?.toolCalls.map((c) => [c.id, c.name, c.argumentsJson])).toEqual(calls);
    expect(r.reasoning).toBe(reasoning);
  });

  it("drops thinking unless include_reasoning", () => {
    expect(
      fromOllamaChatResponse(json("thinking.response.json"), { ...ctx, includeReasoning: false }).reasoning,
    ).toBe("");
  });

  it.each(["load.response.json", "unload.response.json", "unknown-done.response.json"])(
    "%s -> protocol",
    (file) => {
      expect(() => fromOllamaChatResponse(json(file), ctx)).toThrowError(
        expect.objectContaining({ kind: "protocol" }),
      );
    },
  );

  it("embed and tags", () => {
    const e = fromOllamaEmbeddings(json("embed.response.json"), {
      provider: "ollama",
      model: "all-minilm",
      count: 2,
      inputChars: 9,
    });
    expect([e.embeddings.length, e.embeddings[1]?.index, e.usage?.inputTokens, e.usage?.estimated]).toEqual([
      2,
      1,
      8,
      false,
    ]);
    expect(() =>
      fromOllamaEmbeddings(json("embed.response.json"), {
        provider: "o",
        model: "m",
        count: 3,
        inputChars: 1,
      }),
    ).toThrowError(UpstreamError);
    const models = fromOllamaTags(json("tags.response.json"), "ollama");
    expect(models.map((m) => [m.id, m.upstreamModel, m.capabilities])).toEqual([
      [
        "ollama/deepseek-r1:latest",
        "deepseek-r1:latest",
        [Capability.CHAT, Capability.STREAM, Capability.TOOLS],
      ],
      ["ollama/nomic-embed-text:latest", "nomic-embed-text:latest", [Capability.EMBEDDINGS]],
      ["ollama/llama3.2:3b", "llama3.2:3b", [Capability.CHAT, Capability.STREAM, Capability.TOOLS]],
    ]);
  });
});

describe("stream.ts", () => {
  it.each([1, 13, 4096])("text.ndjson in %i-byte chunks", async (size) => {
    expect((await translate("text.ndjson", size)).map(summarize)).toEqual([
      { start: ["ollama-1", "llama3.2"] },
      { text: "The" },
      { text: " sky is" },
      { text: " blue." },
      { end: "STOP", usage: [26, 282, false] },
    ]);
  });

  it("tool-calls.ndjson: whole calls, ids call_<n> across lines, TOOL_CALLS", async () => {
    expect((await translate("tool-calls.ndjson")).map(summarize)).toEqual([
      { start: ["ollama-1", "qwen3"] },
      { text: "", tools: [[0, "call_0", "get_weather", '{"city":"Paris"}']] },
      {
        text: "",
        tools: [
          [1, "call_1", "get_time", '{"tz":"CET"}'],
          [2, "call_2", "noop", "{}"],
        ],
      },
      { end: "TOOL_CALLS", usage: [120, 40, false] },
    ]);
  });

  it("thinking.ndjson: reasoning deltas only with include_reasoning", async () => {
    expect((await translate("thinking.ndjson")).map(summarize)).toEqual([
      { start: ["ollama-1", "qwen3"] },
      { text: "", reasoning: "Let me" },
      { text: "", reasoning: " think." },
      { text: "Forty-two." },
      { end: "LENGTH", usage: [12, 9, false] },
    ]);
    const quiet = await translate("thinking.ndjson", 13, { ...ctx, includeReasoning: false });
    expect(quiet.map(summarize)).toEqual([
      { start: ["ollama-1", "qwen3"] },
      { text: "Forty-two." },
      { end: "LENGTH", usage: [12, 9, false] },
    ]);
  });

  it.each([
    { file: "truncated.ndjson", kind: "stream_interrupted" },
    { file: "error.ndjson", kind: "unavailable" },
    { file: "busy.ndjson", kind: "overloaded" },
    { file: "not-json.ndjson", kind: "protocol" },
    { file: "unknown-done.ndjson", kind: "protocol" },
  ])("$file -> $kind", async ({ file, kind }) => {
    const err = await rejection(translate(file));
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).kind).toBe(kind);
  });
});

describe("errors.ts", () => {
  it.each([
    { status: 404, file: "not-found.error.json", kind: "not_found" },
    { status: 400, file: "no-tools.error.json", kind: "bad_request" },
    { status: 500, file: "runner.error.json", kind: "unavailable" },
    { status: 503, file: "busy.error.json", kind: "overloaded" },
    { status: 500, file: "context.error.json", kind: "context_length" },
  ])("$status $file -> $kind", ({ status, file, kind }) => {
    const e = fromOllamaHttpError({
      status,
      body: read(file),
      headers: { "retry-after": "1" },
      provider: "ollama",
      model: "m",
    });
    expect([e.kind, e.status, e.opts.retryAfterMs, e.message]).toEqual([
      kind,
      status,
      1000,
      (JSON.parse(read(file)) as { error: string }).error,
    ]);
  });

  it("non-JSON bodies fall back to the status; stream errors classify without one", () => {
    expect(
      fromOllamaHttpError({ status: 502, body: "<html>bad gateway</html>", headers: {}, provider: "o" })
        .message,
    ).toBe("HTTP 502: <html>bad gateway</html>");
    expect(fromOllamaBodyError('model "x" not found, try pulling it first', "o").kind).toBe("not_found");
  });
});

describe("provider against the Ollama fake", () => {
  let fake: OllamaFake;
  let p: Provider;
  const warnings: string[] = [];
  const call = (model: string) => ({ model, signal: new AbortController().signal, requestId: "rid-1" });

  beforeAll(async () => {
    fake = await startOllamaFake();
    p = createOllamaProvider({
      name: "ollama",
      baseUrl: `${fake.url}/`,
      unsupportedParams: "warn",
      warn: (m) => warnings.push(m),
    });
  });
  afterAll(async () => {
    await p.close();
    await fake.close();
  });
  beforeEach(() => fake.reset());

  it("chat: echo, usage, ids, stream:false and x-request-id on the wire", async () => {
    const r = await p.chat(chatReq({ temperature: 0.3 }), call("llama3.2"));
    const part = r.message?.content[0]?.part;
    expect([part?.value, r.finishReason, r.usage?.outputTokens, r.model, p.type]).toEqual([
      "echo: hello there world",
      FinishReason.STOP,
      4,
      "llama3.2",
      "ollama",
    ]);
    expect(r.id).toMatch(/^ollama-/);
    const rec = fake.requests[0]!;
    expect([rec.path, rec.headers["x-request-id"], rec.body]).toEqual([
      "/api/chat",
      "rid-1",
      expect.objectContaining({ stream: false, options: { temperature: 0.3 } }),
    ]);
  });

  it("chat with reasoning: think on the wire, thinking back when asked for", async () => {
    const r = await p.chat(chatReq({ reasoning: { includeReasoning: true } }), call("qwen3+thinking"));
    expect(r.reasoning).toBe(OLLAMA_THINKING);
    expect(fake.requests[0]?.body).toEqual(expect.objectContaining({ think: true }));
  });

  it("stream: text, tool calls, warn-and-drop of unsupported params", async () => {
    const text = (await collect(p.chatStream(chatReq({ user: "u" }), call("llama3.2")))).map(summarize);
    expect(text.at(-1)).toEqual({ end: "STOP", usage: [expect.any(Number), 4, false] });
    expect(
      text
        .slice(1, -1)
        .map((d) => (d as { text: string }).text)
        .join(""),
    ).toBe("echo: hello there world");
    expect(warnings).toEqual([expect.stringContaining('"user"')]);
    const tools = await collect(
      p.chatStream(
        chatReq({ tools: [{ name: "lookup", parametersJson: '{"type":"object"}' }] }),
        call("m+tools"),
      ),
    );
    expect(tools.map(summarize).slice(1)).toEqual([
      { text: "", tools: [[0, "call_0", "lookup", '{"city":"Paris"}']] },
      { end: "TOOL_CALLS", usage: [expect.any(Number), 5, false] },
    ]);
  });

  it("embed and listModels", async () => {
    const e = await p.embed(
      create(EmbedRequestSchema, { inputs: ["a", "b c"], dimensions: 4 }),
      call("nomic-embed-text"),
    );
    expect(e.embeddings.map((v) => v.values)).toEqual([embeddingVector("a", 4), embeddingVector("b c", 4)]);
    expect(fake.requests[0]?.body).toEqual({ model: "nomic-embed-text", input: ["a", "b c"], dimensions: 4 });
    const models = await p.listModels(new AbortController().signal);
    expect(models.map((m) => m.upstreamModel)).toEqual(OLLAMA_TAGS);
  });

  it.each([
    { model: "llama3.2+not_found", kind: "not_found", stream: false },
    { model: "llama3.2+status=400", kind: "bad_request", stream: true },
    { model: "llama3.2+status=500", kind: "unavailable", stream: false },
    { model: "llama3.2+status=503+retry_after=2", kind: "overloaded", stream: true },
    { model: "llama3.2+malformed", kind: "protocol", stream: false },
    { model: "llama3.2+malformed", kind: "protocol", stream: true },
    { model: "llama3.2+unknown_done", kind: "protocol", stream: true },
    { model: "llama3.2+done_reason=load", kind: "protocol", stream: false },
    { model: "llama3.2+drop=2", kind: "stream_interrupted", stream: true },
    { model: "llama3.2+drop=0", kind: "network", stream: false },
    { model: "llama3.2+stream_error", kind: "unavailable", stream: true },
    { model: "llama3.2+reset", kind: "network", stream: true },
  ])("$model (stream: $stream) -> $kind", async ({ model, kind, stream }) => {
    const run = stream ? collect(p.chatStream(chatReq(), call(model))) : p.chat(chatReq(), call(model));
    const err = await rejection(run);
    expect(err).toBeInstanceOf(UpstreamError);
    expect([(err as UpstreamError).kind, (err as UpstreamError).provider]).toEqual([kind, "ollama"]);
    if (model.includes("retry_after")) expect((err as UpstreamError).opts.retryAfterMs).toBe(2000);
  });

  it("abort: the caller's reason surfaces and the fake sees the connection close", async () => {
    const ac = new AbortController();
    const it0 = p
      .chatStream(chatReq(), { model: "llama3.2+stall", signal: ac.signal, requestId: "" })
      [Symbol.asyncIterator]();
    expect((await it0.next()).value?.event.case).toBe("start");
    expect((await it0.next()).value?.event.case).toBe("delta"); // the fake stalls after one line
    const reason = new Error("client left");
    const pending = it0.next();
    ac.abort(reason);
    expect(await rejection(pending)).toBe(reason);
    expect(await fake.waitForAbort(0, 5000)).toBe(true);
  });

  it.each([
    ["", "http://127.0.0.1:11434"],
    ["0.0.0.0", "http://0.0.0.0:11434"],
    ["localhost:8080", "http://localhost:8080"],
    ["https://ollama.example/", "https://ollama.example"],
    ["http://h:1/api", "http://h:1"],
  ])("normalizeOllamaHost(%j) = %s", (host, url) => {
    expect(normalizeOllamaHost(host)).toBe(url);
  });

  it("connection refused -> network", async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const a = s.address() as { port: number };
        s.close(() => resolve(a.port));
      });
    });
    const dead = createOllamaProvider({ name: "ollama-dead", baseUrl: `http://127.0.0.1:${port}` });
    const err = await rejection(dead.chat(chatReq(), call("llama3.2")));
    expect([(err as UpstreamError).kind, (err as UpstreamError).provider]).toEqual([
      "network",
      "ollama-dead",
    ]);
    await dead.close();
  });
});

describe("request.ts: top_k, documents, reasoning parts, cache hints, built-in tools", () => {
  const text = (value: string) => ({ part: { case: "text" as const, value } });
  const doc = (value: Record<string, unknown>) => ({ part: { case: "document" as const, value } });

  it("top_k -> options.top_k; text documents as text; reasoning skipped; cache hints ignored", () => {
    const req = create(ChatRequestSchema, {
      topK: 20,
      messages: [
        {
          role: 2,
          content: [doc({ source: { case: "text", value: "notes" } }), { ...text("sum up"), cacheHint: {} }],
        },
        {
          role: 3,
          content: [
            { part: { case: "reasoning", value: { text: "t", signature: "s", provider: "anthropic" } } },
            text("ok"),
          ],
        },
      ],
    });
    const body = toOllamaChatRequest(req, "m", false, { provider: "ollama" });
    expect(body.options).toEqual({ top_k: 20 });
    expect(body.messages).toEqual([
      { role: "user", content: "notes\nsum up" },
      { role: "assistant", content: "ok" },
    ]);
  });

  it("a PDF or URL document is refused (or dropped under warn); built-in tools always refused", () => {
    const pdf = create(ChatRequestSchema, {
      messages: [
        {
          role: 2,
          content: [
            doc({ source: { case: "data", value: new Uint8Array([1]) }, mediaType: "application/pdf" }),
            text("x"),
          ],
        },
      ],
    });
    expect(() => toOllamaChatRequest(pdf, "m", false, { provider: "ollama" })).toThrowError(
      expect.objectContaining({
        reason: "UNSUPPORTED_PARAMETER",
        message: expect.stringContaining("document.data"),
      }),
    );
    const warnings: string[] = [];
    const body = toOllamaChatRequest(pdf, "m", false, {
      provider: "ollama",
      unsupportedParams: "warn",
      warn: (m) => warnings.push(m),
    });
    expect([body.messages[0]?.content, warnings.length]).toEqual(["x", 1]);
    const builtin = create(ChatRequestSchema, {
      messages: [{ role: 2, content: [text("x")] }],
      tools: [{ builtinType: "file_search", builtinJson: "{}" }],
    });
    expect(() =>
      toOllamaChatRequest(builtin, "m", false, { provider: "ollama", unsupportedParams: "warn" }),
    ).toThrowError(
      expect.objectContaining({
        code: "INVALID_ARGUMENT",
        message: expect.stringContaining("wire: responses"),
      }),
    );
  });
});
