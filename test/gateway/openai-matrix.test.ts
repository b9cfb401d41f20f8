// The OpenAI provider through the whole gateway: a real Connect client (HTTP/2) -> the real gateway
// (in-process, port 0) -> the real-HTTP OpenAI fake. A table-driven matrix of upstream failures and
// answers (unary, streaming, fallbacks, embeddings), each checked for code, google.rpc details and
// what the upstream actually received; then every log line and client-visible error is scanned for
// the provider key.
import { createServer } from "node:net";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { type CallOptions, type Client, Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type ErrorInfo, ErrorInfoSchema, RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import {
  type ChatRequest,
  type ChatRequestSchema,
  type ChatStreamResponse,
  type EmbedRequestSchema,
  FinishReason,
  LLMService,
  ResponseFormat_Type,
  Role,
} from "../../gen/llmgateway/v1/llm_pb.js";
import { type OpenAIFake, type RecordedRequest, startOpenAIFake } from "../fakes/openai.js";
import { embeddingVector, promptTokens, TOOL_ARGS, wordCount } from "../fakes/openai-faults.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";

const KEY = "sk-test-SECRET-abc123def456ghi789";

type LLMClient = Client<typeof LLMService>;
type ChatInit = MessageInitShape<typeof ChatRequestSchema>;
/** The plain-object form of a ChatRequest init (not a built message). */
type ChatFields = Exclude<ChatInit, ChatRequest>;
type EmbedInit = MessageInitShape<typeof EmbedRequestSchema>;

let fake: OpenAIFake;
/** Default config. */
let gw: TestGateway;
/** `attempt_ms: 300`, `idle_ms: 300`. */
let gwTight: TestGateway;
/** OPENAI_BASE_URL points at a closed port. */
let gwRefused: TestGateway;
let client: LLMClient;
let clientTight: LLMClient;
let clientRefused: LLMClient;
const managers: Http2SessionManager[] = [];

/** Every error any client saw (for the secret scan). */
const seenErrors: ConnectError[] = [];
/** Every call made, by request id and gateway (for the one-log-line-per-call check). */
const calls: { gw: () => TestGateway; rid: string }[] = [];
let ridSeq = 0;

function connect(url: string): LLMClient {
  const sessionManager = new Http2SessionManager(url);
  managers.push(sessionManager);
  return createClient(LLMService, createConnectTransport({ baseUrl: url, httpVersion: "2", sessionManager }));
}

/** Call options with a fresh x-request-id, remembered for the log check. */
function opts(which: () => TestGateway, extra: CallOptions = {}): CallOptions & { rid: string } {
  const rid = `mx-${process.pid}-${++ridSeq}`;
  calls.push({ gw: which, rid });
  return { ...extra, headers: { "x-request-id": rid }, rid };
}

/** A chat request with one user message. */
function chatReq(model: string, text: string, extra: Partial<ChatFields> = {}): ChatInit {
  return {
    ...extra,
    model,
    messages: [{ role: Role.USER, content: [{ part: { case: "text", value: text } }] }],
  };
}

const WEATHER_TOOL = {
  name: "get_weather",
  description: "Current weather in a city",
  parametersJson:
    '{"type":"object","properties":{"zeta":{"type":"string"},"alpha":{"type":"number"}},"required":["zeta"]}',
};

/** `+t=<tag>` makes each row's model string unique so its upstream requests can be counted. */
function tagged(model: string, tag: string): string {
  return `${model}+t=${tag}`;
}

function modelOf(r: RecordedRequest): string {
  const b = r.body;
  if (typeof b !== "object" || b === null) return "";
  const m = (b as Record<string, unknown>)["model"];
  return typeof m === "string" ? m : "";
}

function upstreamFor(tag: string): RecordedRequest[] {
  return fake.requests.filter((r) => modelOf(r).split("+").includes(`t=${tag}`));
}

function indexOfTag(tag: string): number {
  return fake.requests.findIndex((r) => modelOf(r).split("+").includes(`t=${tag}`));
}

function bodyOf(r: RecordedRequest | undefined): Record<string, unknown> {
  expect(r).toBeDefined();
  const b = r?.body;
  expect(typeof b).toBe("object");
  return b as Record<string, unknown>;
}

/** True when `key` appears as an object key anywhere in `v`. */
function hasKeyDeep(v: unknown, key: string): boolean {
  if (Array.isArray(v)) return v.some((x) => hasKeyDeep(x, key));
  if (typeof v !== "object" || v === null) return false;
  return Object.entries(v).some(([k, x]) => k === key || hasKeyDeep(x, key));
}

async function chatError(c: LLMClient, req: ChatInit, o: CallOptions): Promise<ConnectError> {
  try {
    await c.chat(req, o);
  } catch (e: unknown) {
    const err = ConnectError.from(e);
    seenErrors.push(err);
    return err;
  }
  return expect.fail(`expected ${String(req.model)} to fail`);
}

async function embedError(c: LLMClient, req: EmbedInit, o: CallOptions): Promise<ConnectError> {
  try {
    await c.embed(req, o);
  } catch (e: unknown) {
    const err = ConnectError.from(e);
    seenErrors.push(err);
    return err;
  }
  return expect.fail(`expected ${String(req.model)} to fail`);
}

interface Collected {
  events: ChatStreamResponse[];
  error?: ConnectError;
}

async function collect(stream: AsyncIterable<ChatStreamResponse>): Promise<Collected> {
  const events: ChatStreamResponse[] = [];
  try {
    for await (const ev of stream) events.push(ev);
    return { events };
  } catch (e: unknown) {
    const error = ConnectError.from(e);
    seenErrors.push(error);
    return { events, error };
  }
}

function deltaText(events: readonly ChatStreamResponse[]): string {
  let s = "";
  for (const ev of events) if (ev.event.case === "delta") s += ev.event.value.text;
  return s;
}

function textOf(
  parts: readonly { part: { case: string | undefined; value?: unknown } }[] | undefined,
): string {
  let s = "";
  for (const p of parts ?? [])
    if (p.part.case === "text" && typeof p.part.value === "string") s += p.part.value;
  return s;
}

function errorInfo(err: ConnectError): ErrorInfo {
  const infos = err.findDetails(ErrorInfoSchema);
  expect(infos).toHaveLength(1);
  const info = infos[0] as ErrorInfo;
  expect(info.domain).toBe("llmgateway");
  return info;
}

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const addr = srv.address();
  const port = typeof addr === "object" && addr !== null ? addr.port : 0;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  fake = await startOpenAIFake({ apiKey: KEY });
  const env = { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: fake.url };
  gw = await startGateway({ env });
  gwTight = await startGateway({ env, yaml: "defaults:\n  timeouts: { attempt_ms: 300, idle_ms: 300 }\n" });
  gwRefused = await startGateway({
    env: { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: `http://127.0.0.1:${await closedPort()}/v1` },
  });
  client = connect(gw.url);
  clientTight = connect(gwTight.url);
  clientRefused = connect(gwRefused.url);
});

afterAll(async () => {
  for (const m of managers) m.abort();
  await Promise.all([gw?.close(), gwTight?.close(), gwRefused?.close()]);
  await fake?.close();
});

// ---------------------------------------------------------------------------------------------
// Unary error matrix

interface ErrorRow {
  name: string;
  /** Model string after `openai/`, without the row tag. */
  model: string;
  code: Code;
  reason: string;
  /** Expected `upstream_status` metadata; undefined = must be absent; "any" = not checked. */
  upstreamStatus?: string | "any";
  /** Exactly this many upstream requests (rows the gateway must never retry); else at least one. */
  exactRequests?: number;
  /** RetryInfo delay in milliseconds; undefined = must be absent. */
  retryMs?: number;
}

const UNARY_ERRORS: ErrorRow[] = [
  {
    name: "400",
    model: "gpt-4o+status=400",
    code: Code.InvalidArgument,
    reason: "UPSTREAM_BAD_REQUEST",
    upstreamStatus: "400",
    exactRequests: 1,
  },
  {
    name: "401",
    model: "gpt-4o+status=401",
    code: Code.Internal,
    reason: "UPSTREAM_AUTH_FAILED",
    upstreamStatus: "401",
  },
  {
    name: "403",
    model: "gpt-4o+status=403",
    code: Code.Internal,
    reason: "UPSTREAM_AUTH_FAILED",
    upstreamStatus: "403",
  },
  {
    name: "404",
    model: "gpt-4o+status=404",
    code: Code.NotFound,
    reason: "UPSTREAM_MODEL_NOT_FOUND",
    upstreamStatus: "404",
  },
  {
    name: "422",
    model: "gpt-4o+status=422",
    code: Code.InvalidArgument,
    reason: "UPSTREAM_BAD_REQUEST",
    upstreamStatus: "422",
    exactRequests: 1,
  },
  {
    name: "429 + retry_after=2",
    model: "gpt-4o+status=429+retry_after=2",
    code: Code.ResourceExhausted,
    reason: "UPSTREAM_RATE_LIMITED",
    upstreamStatus: "429",
    retryMs: 2000,
  },
  {
    name: "429 + retry_after_ms=1500",
    model: "gpt-4o+status=429+retry_after_ms=1500",
    code: Code.ResourceExhausted,
    reason: "UPSTREAM_RATE_LIMITED",
    upstreamStatus: "429",
    retryMs: 1500,
  },
  {
    name: "quota",
    model: "gpt-4o+quota",
    code: Code.ResourceExhausted,
    reason: "UPSTREAM_QUOTA_EXCEEDED",
    upstreamStatus: "429",
  },
  {
    name: "413",
    model: "gpt-4o+status=413",
    code: Code.InvalidArgument,
    reason: "UPSTREAM_BAD_REQUEST",
    upstreamStatus: "413",
    exactRequests: 1,
  },
  ...[408, 409, 500, 502, 503, 504, 529].map(
    (s): ErrorRow => ({
      name: String(s),
      model: `gpt-4o+status=${s}`,
      code: Code.Unavailable,
      reason: "UPSTREAM_UNAVAILABLE",
      upstreamStatus: String(s),
    }),
  ),
  {
    name: "context_length",
    model: "gpt-4o+context_length",
    code: Code.InvalidArgument,
    reason: "CONTEXT_LENGTH_EXCEEDED",
    upstreamStatus: "400",
    exactRequests: 1,
  },
  {
    name: "content_filter",
    model: "gpt-4o+content_filter",
    code: Code.InvalidArgument,
    reason: "CONTENT_FILTERED",
    upstreamStatus: "400",
    exactRequests: 1,
  },
  { name: "reset", model: "gpt-4o+reset", code: Code.Unavailable, reason: "UPSTREAM_UNAVAILABLE" },
  {
    name: "malformed",
    model: "gpt-4o+malformed",
    code: Code.Unavailable,
    reason: "UPSTREAM_PROTOCOL_ERROR",
    upstreamStatus: "any",
  },
  {
    name: "no_choices",
    model: "gpt-4o+no_choices",
    code: Code.Unavailable,
    reason: "UPSTREAM_PROTOCOL_ERROR",
    upstreamStatus: "any",
  },
];

function expectErrorRow(err: ConnectError, row: ErrorRow, target: string): void {
  expect(err.code, `${row.name}: ${err.message}`).toBe(row.code);
  const info = errorInfo(err);
  expect(info.reason).toBe(row.reason);
  expect(info.metadata["provider"]).toBe("openai");
  expect(info.metadata["model"]).toBe(target);
  if (row.upstreamStatus !== "any") expect(info.metadata["upstream_status"]).toBe(row.upstreamStatus);
  const retry = err.findDetails(RetryInfoSchema);
  if (row.retryMs === undefined) expect(retry).toHaveLength(0);
  else {
    expect(retry).toHaveLength(1);
    const d = retry[0]?.retryDelay;
    expect(d?.seconds).toBe(BigInt(Math.floor(row.retryMs / 1000)));
    expect(d?.nanos ?? 0).toBe((row.retryMs % 1000) * 1_000_000);
  }
}

describe("unary Chat: upstream failures", () => {
  it.each(UNARY_ERRORS)("$name -> code and ErrorInfo reason", async (row) => {
    const tag = `u-${row.name.replace(/\W+/g, "_")}`;
    const target = `openai/${tagged(row.model, tag)}`;
    const err = await chatError(
      client,
      chatReq(target, "hello there"),
      opts(() => gw),
    );
    expectErrorRow(err, row, target);
    const upstream = upstreamFor(tag);
    if (row.exactRequests !== undefined) expect(upstream).toHaveLength(row.exactRequests);
    else expect(upstream.length).toBeGreaterThanOrEqual(1);
    expect(upstream[0]?.path).toBe("/v1/chat/completions");
  });

  it("connection refused -> UNAVAILABLE / UPSTREAM_UNAVAILABLE, no upstream_status", async () => {
    const row: ErrorRow = {
      name: "refused",
      model: "gpt-4o",
      code: Code.Unavailable,
      reason: "UPSTREAM_UNAVAILABLE",
    };
    const err = await chatError(
      clientRefused,
      chatReq("openai/gpt-4o", "hi"),
      opts(() => gwRefused),
    );
    expectErrorRow(err, row, "openai/gpt-4o");
  });

  it("attempt timeout -> UNAVAILABLE / UPSTREAM_TIMEOUT well before the upstream answers; upstream aborted", async () => {
    const target = `openai/${tagged("gpt-4o+delay=5000", "u-timeout")}`;
    const t0 = performance.now();
    const err = await chatError(
      clientTight,
      chatReq(target, "hi"),
      opts(() => gwTight),
    );
    const ms = performance.now() - t0;
    expectErrorRow(
      err,
      { name: "timeout", model: "", code: Code.Unavailable, reason: "UPSTREAM_TIMEOUT" },
      target,
    );
    expect(ms).toBeGreaterThanOrEqual(250);
    expect(ms).toBeLessThan(4000);
    const idx = indexOfTag("u-timeout");
    expect(idx).toBeGreaterThanOrEqual(0);
    expect(await fake.waitForAbort(idx, 5000)).toBe(true);
    expect(fake.requests[idx]?.finished).toBe(false);
  });

  it("the caller's deadline passing -> DEADLINE_EXCEEDED / DEADLINE_EXCEEDED (not an upstream timeout); upstream aborted", async () => {
    // The deadline goes in the Connect header only, so the client waits for the gateway's own answer
    // instead of timing out locally first.
    const target = `openai/${tagged("gpt-4o+delay=5000", "u-deadline")}`;
    const o = opts(() => gw);
    const t0 = performance.now();
    const err = await chatError(client, chatReq(target, "hi"), {
      headers: { "x-request-id": o.rid, "connect-timeout-ms": "400" },
    });
    const ms = performance.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(350);
    expect(ms).toBeLessThan(4000);
    const idx = indexOfTag("u-deadline");
    expect(idx).toBeGreaterThanOrEqual(0);
    expect(await fake.waitForAbort(idx, 5000)).toBe(true);
    expect({ code: Code[err.code], reason: err.findDetails(ErrorInfoSchema)[0]?.reason }).toEqual({
      code: Code[Code.DeadlineExceeded],
      reason: "DEADLINE_EXCEEDED",
    });
  });

  it("the caller's deadline passing with a fallback planned -> DEADLINE_EXCEEDED, the fallback never called", async () => {
    const target = `openai/${tagged("gpt-4o+delay=5000", "u-dlfb-a")}`;
    const fallback = `openai/${tagged("gpt-4o+delay=5000", "u-dlfb-b")}`;
    const o = opts(() => gw);
    const err = await chatError(client, chatReq(target, "hi", { fallbackModels: [fallback] }), {
      headers: { "x-request-id": o.rid, "connect-timeout-ms": "400" },
    });
    // A (wrong) fallback attempt would be sent when the deadline aborts the first one. Wait for that
    // abort, then for a later call through the same gateway to reach the same fake: by then any
    // fallback request would have arrived too.
    const idx = indexOfTag("u-dlfb-a");
    expect(await fake.waitForAbort(idx, 5000)).toBe(true);
    await client.chat(
      chatReq(`openai/${tagged("gpt-4o", "u-dlfb-marker")}`, "after"),
      opts(() => gw),
    );
    expect(upstreamFor("u-dlfb-marker")).toHaveLength(1);
    expect(upstreamFor("u-dlfb-a")).toHaveLength(1);
    expect(upstreamFor("u-dlfb-b")).toHaveLength(0);
    expect({ code: Code[err.code], reason: err.findDetails(ErrorInfoSchema)[0]?.reason }).toEqual({
      code: Code[Code.DeadlineExceeded],
      reason: "DEADLINE_EXCEEDED",
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Unary successes

describe("unary Chat: answers", () => {
  it("a normal call: echo text, model/provider, upstream usage, translated upstream body", async () => {
    const target = `openai/${tagged("gpt-4o", "u-normal")}`;
    const o = opts(() => gw);
    const res = await client.chat(
      {
        model: target,
        messages: [
          { role: Role.SYSTEM, content: [{ part: { case: "text", value: "be brief" } }] },
          { role: Role.USER, content: [{ part: { case: "text", value: "what is the weather" } }] },
        ],
        maxTokens: 64,
        temperature: 0.2,
        tools: [WEATHER_TOOL],
        responseFormat: {
          type: ResponseFormat_Type.JSON_SCHEMA,
          schemaName: "answer",
          strict: true,
          jsonSchema: '{"type":"object","properties":{"b":{"type":"string"},"a":{"type":"string"}}}',
        },
        metadata: { team: "search", purpose: "matrix-test" },
      },
      o,
    );
    expect(textOf(res.message?.content)).toBe("echo: what is the weather");
    expect(res.message?.role).toBe(Role.ASSISTANT);
    expect(res.model).toBe("openai/gpt-4o");
    expect(res.provider).toBe("openai");
    expect(res.finishReason).toBe(FinishReason.STOP);
    expect(res.gateway?.requestId).toBe(o.rid);
    expect(res.gateway?.attempts).toBe(1);

    const upstream = upstreamFor("u-normal");
    expect(upstream).toHaveLength(1);
    const rec = upstream[0] as RecordedRequest;
    expect(rec.path).toBe("/v1/chat/completions");
    expect(rec.headers["authorization"]).toBe(`Bearer ${KEY}`);
    expect(rec.headers["x-request-id"]).toBe(o.rid);
    const body = bodyOf(rec);
    expect(body["model"]).toBe(tagged("gpt-4o", "u-normal"));
    expect(body["messages"]).toEqual([
      { role: "system", content: "be brief" },
      { role: "user", content: "what is the weather" },
    ]);
    expect(body["max_completion_tokens"]).toBe(64);
    expect(body).not.toHaveProperty("max_tokens");
    expect(body["temperature"]).toBeCloseTo(0.2, 10);
    expect(body).not.toHaveProperty("stream");
    expect(body).not.toHaveProperty("stream_options");
    expect(body["tools"]).toEqual([
      {
        type: "function",
        function: {
          name: "get_weather",
          description: "Current weather in a city",
          parameters: JSON.parse(WEATHER_TOOL.parametersJson),
        },
      },
    ]);
    const tools = body["tools"] as { function: { parameters: { properties: Record<string, unknown> } } }[];
    expect(Object.keys(tools[0]?.function.parameters.properties ?? {})).toEqual(["zeta", "alpha"]);
    expect(body["response_format"]).toEqual({
      type: "json_schema",
      json_schema: {
        name: "answer",
        strict: true,
        schema: { type: "object", properties: { b: { type: "string" }, a: { type: "string" } } },
      },
    });
    const schema = (body["response_format"] as { json_schema: { schema: { properties: object } } })
      .json_schema;
    expect(Object.keys(schema.schema.properties)).toEqual(["b", "a"]);
    expect(hasKeyDeep(body, "metadata")).toBe(false);

    // Usage is what the upstream reported, not an estimate.
    const msgs = body["messages"] as Record<string, unknown>[];
    const input = promptTokens(msgs);
    const output = wordCount("echo: what is the weather");
    expect(res.usage).toMatchObject({
      inputTokens: input,
      outputTokens: output,
      totalTokens: input + output,
      estimated: false,
    });
  });

  it("a server-assigned request id is echoed in the header, the response and the log line", async () => {
    let headerRid: string | null = null;
    const res = await client.chat(chatReq(`openai/${tagged("gpt-4o", "u-rid")}`, "id please"), {
      onHeader: (h) => {
        headerRid = h.get("x-request-id");
      },
    });
    const rid = res.gateway?.requestId ?? "";
    expect(rid).not.toBe("");
    expect(headerRid).toBe(rid);
    expect(upstreamFor("u-rid")[0]?.headers["x-request-id"]).toBe(rid);
    calls.push({ gw: () => gw, rid });
  });

  it("null_content -> success with empty text", async () => {
    const res = await client.chat(
      chatReq(`openai/${tagged("gpt-4o+null_content", "u-null")}`, "x"),
      opts(() => gw),
    );
    expect(textOf(res.message?.content)).toBe("");
    expect(res.finishReason).toBe(FinishReason.STOP);
    expect(res.provider).toBe("openai");
  });

  it("length -> success with FINISH_REASON_LENGTH", async () => {
    const res = await client.chat(
      chatReq(`openai/${tagged("gpt-4o+length", "u-length")}`, "long answer", { maxTokens: 3 }),
      opts(() => gw),
    );
    expect(res.finishReason).toBe(FinishReason.LENGTH);
    expect(textOf(res.message?.content)).toBe("echo: long answer");
  });

  it("tools -> a tool call (name, arguments_json) and FINISH_REASON_TOOL_CALLS", async () => {
    const res = await client.chat(
      chatReq(`openai/${tagged("gpt-4o+tools", "u-tools")}`, "weather in Paris?", { tools: [WEATHER_TOOL] }),
      opts(() => gw),
    );
    expect(res.finishReason).toBe(FinishReason.TOOL_CALLS);
    expect(res.message?.toolCalls).toHaveLength(1);
    const call = res.message?.toolCalls[0];
    expect(call?.name).toBe("get_weather");
    expect(call?.id).not.toBe("");
    expect(call?.argumentsJson).toBe('{"city":"Paris"}');
    expect(textOf(res.message?.content)).toBe("");
  });
});

// ---------------------------------------------------------------------------------------------
// Fallbacks (unary)

describe("unary Chat: fallbacks", () => {
  it("503 with a fallback -> success from the fallback; the trail has both attempts", async () => {
    const first = `openai/${tagged("gpt-4o+status=503", "fb-503a")}`;
    const second = `openai/${tagged("gpt-4o", "fb-503b")}`;
    const res = await client.chat(
      chatReq(first, "fall back please", { fallbackModels: [second] }),
      opts(() => gw),
    );
    expect(textOf(res.message?.content)).toBe("echo: fall back please");
    expect(res.provider).toBe("openai");
    // 503 is retried on the same deployment (max_attempts 3 counts the first try), then falls back.
    const trail = res.gateway?.attemptTrail ?? [];
    expect(trail).toHaveLength(4);
    for (const a of trail.slice(0, 3)) {
      expect(a.deployment).toBe(first);
      expect(a.outcome).toBe("UPSTREAM_UNAVAILABLE");
    }
    expect(trail[3]?.deployment).toBe(second);
    expect(trail[3]?.outcome).toBe("ok");
    expect(res.gateway?.attempts).toBe(4);
    expect(upstreamFor("fb-503a")).toHaveLength(3);
    expect(upstreamFor("fb-503b")).toHaveLength(1);
  });

  it("400 with a fallback -> the error, one upstream request, the fallback never called", async () => {
    const first = `openai/${tagged("gpt-4o+status=400", "fb-400a")}`;
    const second = `openai/${tagged("gpt-4o", "fb-400b")}`;
    const err = await chatError(
      client,
      chatReq(first, "bad", { fallbackModels: [second] }),
      opts(() => gw),
    );
    expect(err.code).toBe(Code.InvalidArgument);
    expect(errorInfo(err).reason).toBe("UPSTREAM_BAD_REQUEST");
    expect(upstreamFor("fb-400a")).toHaveLength(1);
    expect(upstreamFor("fb-400b")).toHaveLength(0);
  });
});

// ---------------------------------------------------------------------------------------------
// Streaming

describe("ChatStream", () => {
  it("normal: start, deltas joining to the echo, one end with upstream usage; include_usage sent", async () => {
    const target = `openai/${tagged("gpt-4o", "s-normal")}`;
    const text = "stream me some words";
    const { events, error } = await collect(
      client.chatStream(
        chatReq(target, text),
        opts(() => gw),
      ),
    );
    expect(error).toBeUndefined();
    const kinds = events.map((e) => e.event.case);
    expect(kinds[0]).toBe("start");
    expect(kinds.filter((k) => k === "start")).toHaveLength(1);
    expect(kinds.filter((k) => k === "end")).toHaveLength(1);
    expect(kinds.at(-1)).toBe("end");
    const start = events[0]?.event;
    expect(start?.case === "start" && start.value.provider).toBe("openai");
    expect(start?.case === "start" && start.value.model).toBe("openai/gpt-4o");
    expect(deltaText(events)).toBe(`echo: ${text}`);
    expect(events.filter((e) => e.event.case === "delta").length).toBeGreaterThan(1);
    const end = events.at(-1)?.event;
    if (end?.case !== "end") return expect.fail("no end");
    expect(end.value.finishReason).toBe(FinishReason.STOP);
    const body = bodyOf(upstreamFor("s-normal")[0]);
    expect(body["stream"]).toBe(true);
    expect(body["stream_options"]).toEqual({ include_usage: true });
    expect(hasKeyDeep(body, "metadata")).toBe(false);
    const input = promptTokens(body["messages"] as Record<string, unknown>[]);
    const output = wordCount(`echo: ${text}`);
    expect(end.value.usage).toMatchObject({ inputTokens: input, outputTokens: output, estimated: false });
  });

  it("streams whose answer ends a moment after [DONE] keep their upstream connection", async () => {
    const target = `openai/${tagged("gpt-4o+end_delay=30", "s-keep")}`;
    for (let i = 0; i < 3; i++) {
      const { error } = await collect(
        client.chatStream(
          chatReq(target, "keep it"),
          opts(() => gw),
        ),
      );
      expect(error).toBeUndefined();
      // The answer ends 30 ms after the client has its `end`; until then its connection is busy.
      await expect.poll(() => upstreamFor("s-keep")[i]?.finished, { timeout: 10_000 }).toBe(true);
    }
    const seen = upstreamFor("s-keep");
    expect(seen).toHaveLength(3);
    expect(seen.every((r) => !r.aborted)).toBe(true);
    expect(new Set(seen.map((r) => r.remotePort)).size).toBe(1); // one connection, reused
  });

  it.each(UNARY_ERRORS.filter((r) => r.name !== "malformed"))(
    "failure before any content: $name -> the unary code and reason, no events at all",
    async (row) => {
      const tag = `s-${row.name.replace(/\W+/g, "_")}`;
      const target = `openai/${tagged(row.model, tag)}`;
      const { events, error } = await collect(
        client.chatStream(
          chatReq(target, "hello there"),
          opts(() => gw),
        ),
      );
      if (!error) return expect.fail(`${row.name}: the stream did not fail`);
      expectErrorRow(error, row, target);
      expect(events).toHaveLength(0);
      const upstream = upstreamFor(tag);
      if (row.exactRequests !== undefined) expect(upstream).toHaveLength(row.exactRequests);
      else expect(upstream.length).toBeGreaterThanOrEqual(1);
      expect(bodyOf(upstream[0])["stream"]).toBe(true);
    },
  );

  it("malformed event after content: start and a delta, then UPSTREAM_STREAM_INTERRUPTED, no end", async () => {
    const target = `openai/${tagged("gpt-4o+malformed", "s-malformed")}`;
    const { events, error } = await collect(
      client.chatStream(
        chatReq(target, "one two three"),
        opts(() => gw),
      ),
    );
    if (!error) return expect.fail("the stream did not fail");
    expect(error.code).toBe(Code.Unavailable);
    expect(errorInfo(error).reason).toBe("UPSTREAM_STREAM_INTERRUPTED");
    expect(events[0]?.event.case).toBe("start");
    expect(deltaText(events)).toBe("echo: ");
    expect(events.some((e) => e.event.case === "end")).toBe(false);
  });

  it("400 with a fallback: the error, one upstream request, the fallback never tried", async () => {
    const target = `openai/${tagged("gpt-4o+status=400", "s-fb400")}`;
    const { events, error } = await collect(
      client.chatStream(
        chatReq(target, "bad", { fallbackModels: ["mock/echo"] }),
        opts(() => gw),
      ),
    );
    if (!error) return expect.fail("the stream did not fail");
    expect(error.code).toBe(Code.InvalidArgument);
    expect(errorInfo(error).reason).toBe("UPSTREAM_BAD_REQUEST");
    expect(events).toHaveLength(0);
    expect(upstreamFor("s-fb400")).toHaveLength(1);
  });

  it("empty_chunks: no empty delta reaches the client and the text is intact", async () => {
    const target = `openai/${tagged("gpt-4o+empty_chunks", "s-empty")}`;
    const text = "keep every word here";
    const { events, error } = await collect(
      client.chatStream(
        chatReq(target, text),
        opts(() => gw),
      ),
    );
    expect(error).toBeUndefined();
    const deltas = events.flatMap((e) => (e.event.case === "delta" ? [e.event.value] : []));
    expect(deltas.length).toBeGreaterThan(0);
    for (const d of deltas) expect(d.text !== "" || d.toolCalls.length > 0).toBe(true);
    expect(deltaText(events)).toBe(`echo: ${text}`);
    expect(events.at(-1)?.event.case).toBe("end");
  });

  it("no_usage: the end carries an estimated usage", async () => {
    const target = `openai/${tagged("gpt-4o+no_usage", "s-nousage")}`;
    const { events, error } = await collect(
      client.chatStream(
        chatReq(target, "count me"),
        opts(() => gw),
      ),
    );
    expect(error).toBeUndefined();
    const end = events.at(-1)?.event;
    if (end?.case !== "end") return expect.fail("no end");
    expect(end.value.usage?.estimated).toBe(true);
    expect(deltaText(events)).toBe("echo: count me");
  });

  it("drop=2: start and deltas, then UNAVAILABLE / UPSTREAM_STREAM_INTERRUPTED, no end", async () => {
    const target = `openai/${tagged("gpt-4o+drop=2", "s-drop")}`;
    const { events, error } = await collect(
      client.chatStream(
        chatReq(target, "one two three four five"),
        opts(() => gw),
      ),
    );
    expect(error).toBeDefined();
    const err = error as ConnectError;
    expect(err.code).toBe(Code.Unavailable);
    const info = errorInfo(err);
    expect(info.reason).toBe("UPSTREAM_STREAM_INTERRUPTED");
    expect(info.metadata["provider"]).toBe("openai");
    expect(events[0]?.event.case).toBe("start");
    expect(events.some((e) => e.event.case === "delta")).toBe(true);
    expect(events.some((e) => e.event.case === "end")).toBe(false);
    expect("echo: one two three four five".startsWith(deltaText(events))).toBe(true);
    expect(deltaText(events).length).toBeGreaterThan(0);
  });

  it("stall with idle_ms 300: an error after the idle time, no end, upstream aborted", async () => {
    const target = `openai/${tagged("gpt-4o+stall", "s-stall")}`;
    const t0 = performance.now();
    const { events, error } = await collect(
      clientTight.chatStream(
        chatReq(target, "one two three"),
        opts(() => gwTight),
      ),
    );
    const ms = performance.now() - t0;
    expect(error).toBeDefined();
    const err = error as ConnectError;
    expect(err.code).toBe(Code.Unavailable);
    expect(errorInfo(err).reason).toBe("UPSTREAM_STREAM_INTERRUPTED");
    expect(events[0]?.event.case).toBe("start");
    expect(events.some((e) => e.event.case === "end")).toBe(false);
    expect(ms).toBeGreaterThanOrEqual(250);
    expect(ms).toBeLessThan(5000);
    const idx = indexOfTag("s-stall");
    expect(idx).toBeGreaterThanOrEqual(0);
    expect(await fake.waitForAbort(idx, 5000)).toBe(true);
  });

  it("tools streamed: the first fragment has id and name, argument deltas join to the arguments", async () => {
    const target = `openai/${tagged("gpt-4o+tools", "s-tools")}`;
    const { events, error } = await collect(
      client.chatStream(
        chatReq(target, "weather in Paris?", { tools: [WEATHER_TOOL] }),
        opts(() => gw),
      ),
    );
    expect(error).toBeUndefined();
    const fragments = events.flatMap((e) => (e.event.case === "delta" ? e.event.value.toolCalls : []));
    expect(fragments.length).toBeGreaterThan(1);
    expect(fragments[0]?.id).not.toBe("");
    expect(fragments[0]?.name).toBe("get_weather");
    for (const f of fragments) expect(f.index).toBe(0);
    expect(fragments.map((f) => f.argumentsDelta).join("")).toBe(TOOL_ARGS);
    expect(TOOL_ARGS).toBe('{"city":"Paris"}');
    const end = events.at(-1)?.event;
    expect(end?.case === "end" && end.value.finishReason).toBe(FinishReason.TOOL_CALLS);
  });

  it("503 before any content with fallback_models [mock/echo] -> the stream succeeds from mock", async () => {
    const target = `openai/${tagged("gpt-4o+status=503", "s-fallback")}`;
    const { events, error } = await collect(
      client.chatStream(
        chatReq(target, "fall back", { fallbackModels: ["mock/echo"] }),
        opts(() => gw),
      ),
    );
    expect(error).toBeUndefined();
    const start = events[0]?.event;
    expect(start?.case).toBe("start");
    expect(start?.case === "start" && start.value.provider).toBe("mock");
    expect(deltaText(events)).toBe("echo: fall back");
    const end = events.at(-1)?.event;
    if (end?.case !== "end") return expect.fail("no end");
    const trail = end.value.gateway?.attemptTrail ?? [];
    // Before the commit point a 503 is retried (max_attempts 3), then the stream falls back.
    expect(trail.map((a) => a.deployment)).toEqual([target, target, target, "mock/echo"]);
    expect(trail[0]?.outcome).not.toBe("ok");
    expect(trail[3]?.outcome).toBe("ok");
    expect(upstreamFor("s-fallback")).toHaveLength(3);
  });

  it("client cancel mid-stream: the upstream request is aborted within 1 s", async () => {
    const target = `openai/${tagged("gpt-4o+chunk_delay=200", "s-cancel")}`;
    const ac = new AbortController();
    const events: ChatStreamResponse[] = [];
    let error: ConnectError | undefined;
    try {
      for await (const ev of client.chatStream(
        chatReq(target, "a b c d e f g h i j"),
        opts(() => gw, { signal: ac.signal }),
      )) {
        events.push(ev);
        if (ev.event.case === "delta") ac.abort();
      }
    } catch (e: unknown) {
      error = ConnectError.from(e);
      seenErrors.push(error);
    }
    expect(error?.code).toBe(Code.Canceled);
    expect(events.filter((e) => e.event.case === "delta")).toHaveLength(1);
    expect(events.some((e) => e.event.case === "end")).toBe(false);
    const idx = indexOfTag("s-cancel");
    expect(idx).toBeGreaterThanOrEqual(0);
    expect(await fake.waitForAbort(idx, 5000)).toBe(true);
    expect(fake.requests[idx]?.finished).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// Embed

describe("Embed", () => {
  it("one float vector per input (base64 on the wire), usage from upstream", async () => {
    const inputs = ["hello", "world wide web"];
    const res = await client.embed(
      { model: "openai/text-embedding-3-small", inputs },
      opts(() => gw),
    );
    expect(res.provider).toBe("openai");
    expect(res.model).toBe("openai/text-embedding-3-small");
    expect(res.embeddings).toHaveLength(2);
    for (let i = 0; i < inputs.length; i++) {
      const e = res.embeddings[i];
      expect(e?.index).toBe(i);
      const want = embeddingVector(inputs[i] as string, 8);
      expect(e?.values).toHaveLength(8);
      e?.values.forEach((v, j) => {
        expect(Number.isFinite(v)).toBe(true);
        expect(v).toBeCloseTo(want[j] as number, 6);
      });
      expect(e?.values.some((v) => !Number.isInteger(v))).toBe(true);
    }
    const tokens = inputs.reduce((n, s) => n + Math.max(1, Math.ceil(s.length / 4)), 0);
    expect(res.usage?.inputTokens).toBe(tokens);
    expect(res.usage?.estimated).toBe(false);
    const rec = fake.requests.filter((r) => r.path === "/v1/embeddings").at(-1);
    const body = bodyOf(rec);
    expect(body["encoding_format"]).toBe("base64");
    expect(body["input"]).toEqual(inputs);
  });

  it("status=500 -> UNAVAILABLE / UPSTREAM_UNAVAILABLE", async () => {
    const target = `openai/${tagged("text-embedding-3-small+status=500", "e-500")}`;
    const err = await embedError(
      client,
      { model: target, inputs: ["x"] },
      opts(() => gw),
    );
    expectErrorRow(
      err,
      {
        name: "embed 500",
        model: "",
        code: Code.Unavailable,
        reason: "UPSTREAM_UNAVAILABLE",
        upstreamStatus: "500",
      },
      target,
    );
    expect(upstreamFor("e-500")[0]?.path).toBe("/v1/embeddings");
  });
});

// ---------------------------------------------------------------------------------------------
// Secrets and logs (after the error-heavy run above)

describe("after the run", () => {
  it("the provider key and 'Bearer' never appear in a log line or a client-visible error", () => {
    const logs = [...gw.logs, ...gwTight.logs, ...gwRefused.logs];
    expect(logs.length).toBeGreaterThan(0);
    expect(seenErrors.length).toBeGreaterThan(UNARY_ERRORS.length);
    const keyParts = [KEY, KEY.slice(3), "abc123def456ghi789"];
    for (const line of logs) {
      for (const part of keyParts) expect(line).not.toContain(part);
      expect(line).not.toMatch(/bearer/i);
    }
    for (const err of seenErrors) {
      for (const text of [err.message, err.rawMessage, JSON.stringify(err.findDetails(ErrorInfoSchema))]) {
        for (const part of keyParts) expect(text).not.toContain(part);
        expect(text).not.toMatch(/bearer/i);
      }
    }
  });

  it("every call produced exactly one 'call' / 'call failed' log line with its request id", async () => {
    expect(calls.length).toBeGreaterThan(UNARY_ERRORS.length + 10);
    const lineFor = (g: TestGateway, rid: string) =>
      g.logs
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l["rid"] === rid && (l["msg"] === "call" || l["msg"] === "call failed"));
    // Stream endings (cancel, stall) are logged as the handler unwinds: allow it a moment.
    await vi.waitFor(
      () => {
        for (const c of calls) expect(lineFor(c.gw(), c.rid), c.rid).toHaveLength(1);
      },
      { timeout: 10_000, interval: 50 },
    );
    for (const c of calls) {
      const [line] = lineFor(c.gw(), c.rid);
      expect(line?.["code"], c.rid).toBeDefined();
      if (line?.["code"] === "OK") expect(line["msg"]).toBe("call");
    }
  });
});
