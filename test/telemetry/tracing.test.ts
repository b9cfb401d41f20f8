// Traces through a real gateway: a tiny OTLP/HTTP receiver collects the exported spans. One SERVER
// span per call with one CLIENT child per upstream attempt (a retry, a fallback), parent ids right,
// the client's W3C traceparent / tracestate continued over Connect, gRPC and REST, GenAI attributes,
// and the call's trace id in its log line.
import { randomBytes } from "node:crypto";
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LLMService } from "../../gen/llmgateway/v1/llm_pb.js";
import { tracesUrl } from "../../src/telemetry/tracing.js";
import { ClientConnections } from "../e2e/helpers.js";
import { type OpenAIFake, startOpenAIFake } from "../fakes/openai.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { chatReq } from "../resilience/harness.js";
import { attr, type OtlpReceiver, type OtlpSpan, startOtlpReceiver } from "./helpers.js";

const UPSTREAM_KEY = "sk-test-tracing-0123456789";
const SERVER = 2;
const CLIENT = 3;

/** A client-side trace context: what the caller's own span would send. */
function clientContext(): { traceId: string; spanId: string; traceparent: string } {
  const traceId = randomBytes(16).toString("hex");
  const spanId = randomBytes(8).toString("hex");
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

const headers =
  (h: Record<string, string>): Interceptor =>
  (next) =>
  (req) => {
    for (const [k, v] of Object.entries(h)) req.header.set(k, v);
    return next(req);
  };

let fake: OpenAIFake;
let receiver: OtlpReceiver;
let gw: TestGateway;
const conns = new ClientConnections();
const ctx1 = clientContext();
const ctx2 = clientContext();
const ctx3 = clientContext();

beforeAll(async () => {
  fake = await startOpenAIFake({ apiKey: UPSTREAM_KEY });
  receiver = await startOtlpReceiver();
  gw = await startGateway({
    env: { OPENAI_API_KEY: UPSTREAM_KEY, OPENAI_BASE_URL: fake.url },
    yaml: `
telemetry: { otlp_endpoint: "${receiver.url}/", service_name: llmgw-trace-test }
defaults:
  retries: { base_ms: 1, max_ms: 5 }
models:
  safe:
    deployments: [{ target: "openai/gpt-4o+status=503+t=tr-fb" }]
    fallbacks: [openai/gpt-4o-mini]
    retries: { max_attempts: 1 }
`,
  });
  // 1. Connect (proto over h2c, the fast path): a 503 then a success on the same deployment (a retry).
  const connect = createClient(
    LLMService,
    createConnectTransport({
      baseUrl: gw.url,
      httpVersion: "2",
      sessionManager: conns.h2(gw.url),
      interceptors: [
        headers({ traceparent: ctx1.traceparent, tracestate: "vendor=abc", "x-request-id": "tr-1" }),
      ],
    }),
  );
  await connect.chat({
    ...chatReq("openai/gpt-4o+status=503+fail_times=1+t=tr-retry", "retry me"),
    maxTokens: 64,
  });
  // 2. gRPC (grpc-timeout, metadata as HTTP/2 headers): the "safe" model falls back.
  const grpc = createClient(
    LLMService,
    createGrpcTransport({
      baseUrl: gw.url,
      sessionManager: conns.h2(gw.url),
      interceptors: [headers({ traceparent: ctx2.traceparent, "x-request-id": "tr-2" })],
    }),
  );
  await grpc.chat(chatReq("safe", "fall back"));
  // 3. REST (OpenAI door).
  const rest = await fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", traceparent: ctx3.traceparent, "x-request-id": "tr-3" },
    body: JSON.stringify({
      model: "openai/gpt-4o-mini",
      messages: [{ role: "user", content: "hi" }],
      temperature: 0.5,
    }),
  });
  expect(rest.status).toBe(200);
  // 4. No traceparent: the gateway starts the trace.
  const plain = createClient(
    LLMService,
    createConnectTransport({
      baseUrl: gw.url,
      httpVersion: "1.1",
      interceptors: [headers({ "x-request-id": "tr-4" })],
    }),
  );
  await plain.chat(chatReq("openai/gpt-4o-mini", "no parent"));
  conns.close();
  await gw.close(); // flushes the BatchSpanProcessor
});

afterAll(async () => {
  conns.close();
  await gw?.close();
  await receiver?.close();
  await fake?.close();
});

/** The call span of a request id, and its children. */
function callSpans(rid: string): { call: OtlpSpan; attempts: OtlpSpan[] } {
  const calls = receiver.spans.filter((s) => attr(s, "llmgw.request_id") === rid);
  expect(calls).toHaveLength(1);
  const call = calls[0] as OtlpSpan;
  const attempts = receiver.spans
    .filter((s) => s.parentSpanId === call.spanId)
    .sort((a, b) => Number(BigInt(a.startTimeUnixNano) - BigInt(b.startTimeUnixNano)));
  return { call, attempts };
}

/** The trace_id of the call's log line. */
function loggedTraceId(rid: string): unknown {
  const line = gw.logs
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => l["rid"] === rid && l["msg"] === "call");
  return line?.["trace_id"];
}

describe("OTLP/HTTP export (JSON) to the configured endpoint", () => {
  it("posts to <base>/v1/traces with the configured service.name", () => {
    expect(receiver.paths.length).toBeGreaterThan(0);
    expect(new Set(receiver.paths)).toEqual(new Set(["/v1/traces"]));
    expect(new Set(receiver.services)).toEqual(new Set(["llmgw-trace-test"]));
    expect(gw.logs.some((l) => l.includes('"exporting traces"'))).toBe(true);
    // 4 calls + 2 + 2 + 1 + 1 attempts.
    expect(receiver.spans).toHaveLength(10);
  });

  it("tracesUrl: a base URL gets /v1/traces, a full one is kept", () => {
    expect(tracesUrl("http://otel:4318")).toBe("http://otel:4318/v1/traces");
    expect(tracesUrl("http://otel:4318/")).toBe("http://otel:4318/v1/traces");
    expect(tracesUrl("https://x.example/otlp/v1/traces")).toBe("https://x.example/otlp/v1/traces");
    expect(() => tracesUrl("otel:4318")).toThrow(/telemetry.otlp_endpoint/);
    expect(() => tracesUrl("not a url")).toThrow(/telemetry.otlp_endpoint/);
  });
});

describe("spans of a call", () => {
  it("Connect + retry: the client's trace continued, one CLIENT child per attempt, retry numbers", () => {
    const { call, attempts } = callSpans("tr-1");
    expect(call.kind).toBe(SERVER);
    expect(call.traceId).toBe(ctx1.traceId);
    expect(call.parentSpanId).toBe(ctx1.spanId);
    expect((call as OtlpSpan & { traceState?: string }).traceState).toBe("vendor=abc");
    expect(call.name).toBe("chat openai/gpt-4o+status=503+fail_times=1+t=tr-retry");
    expect(attr(call, "gen_ai.operation.name")).toBe("chat");
    expect(attr(call, "gen_ai.request.model")).toBe("openai/gpt-4o+status=503+fail_times=1+t=tr-retry");
    expect(attr(call, "gen_ai.provider.name")).toBe("openai");
    expect(attr(call, "gen_ai.request.max_tokens")).toBe(64);
    expect(attr(call, "gen_ai.usage.input_tokens")).toBeGreaterThan(0);
    expect(attr(call, "llmgw.attempts")).toBe(2);
    expect(attempts).toHaveLength(2);
    for (const a of attempts) {
      expect(a.kind).toBe(CLIENT);
      expect(a.traceId).toBe(ctx1.traceId);
      expect(BigInt(a.startTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(call.startTimeUnixNano));
      expect(BigInt(a.endTimeUnixNano)).toBeLessThanOrEqual(BigInt(call.endTimeUnixNano));
      expect(attr(a, "llmgw.deployment")).toBe("openai/gpt-4o+status=503+fail_times=1+t=tr-retry");
      expect(attr(a, "gen_ai.request.model")).toBe("gpt-4o+status=503+fail_times=1+t=tr-retry");
    }
    const [first, second] = attempts as [OtlpSpan, OtlpSpan];
    expect(attr(first, "llmgw.attempt.retry")).toBe(0);
    expect(attr(second, "llmgw.attempt.retry")).toBe(1);
    expect(attr(first, "llmgw.attempt.outcome")).toBe(attr(first, "error.type"));
    expect(first.status?.code).toBe(2); // ERROR
    expect(attr(first, "gen_ai.usage.input_tokens")).toBeUndefined();
    expect(attr(second, "llmgw.attempt.outcome")).toBe("ok");
    expect(attr(second, "gen_ai.usage.output_tokens")).toBeGreaterThan(0);
    expect(loggedTraceId("tr-1")).toBe(ctx1.traceId);
  });

  it("gRPC + fallback: children on two deployments, both retry number 0", () => {
    const { call, attempts } = callSpans("tr-2");
    expect(call.traceId).toBe(ctx2.traceId);
    expect(call.parentSpanId).toBe(ctx2.spanId);
    expect(attr(call, "gen_ai.request.model")).toBe("safe");
    expect(attr(call, "gen_ai.response.model")).toBe("openai/gpt-4o-mini");
    expect(attempts.map((a) => attr(a, "llmgw.deployment"))).toEqual([
      "openai/gpt-4o+status=503+t=tr-fb",
      "openai/gpt-4o-mini",
    ]);
    expect(attempts.map((a) => attr(a, "llmgw.attempt.retry"))).toEqual([0, 0]);
    expect(attempts.map((a) => a.parentSpanId)).toEqual([call.spanId, call.spanId]);
    expect(loggedTraceId("tr-2")).toBe(ctx2.traceId);
  });

  it("REST: traceparent header continued; request parameters as gen_ai.request.*", () => {
    const { call, attempts } = callSpans("tr-3");
    expect(call.traceId).toBe(ctx3.traceId);
    expect(call.parentSpanId).toBe(ctx3.spanId);
    expect(attr(call, "gen_ai.request.temperature")).toBe(0.5);
    expect(attempts).toHaveLength(1);
    expect(loggedTraceId("tr-3")).toBe(ctx3.traceId);
  });

  it("no traceparent: a new trace (a root span) whose id is the log line's trace_id", () => {
    const { call, attempts } = callSpans("tr-4");
    expect(call.parentSpanId ?? "").toBe("");
    expect(call.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(attempts).toHaveLength(1);
    expect(loggedTraceId("tr-4")).toBe(call.traceId);
  });
});

describe("tracing off (no telemetry.otlp_endpoint)", () => {
  it("nothing is set up: no exporter, and the log line keeps the client's trace id", async () => {
    const off = await startGateway();
    try {
      const ctx = clientContext();
      const res = await fetch(`${off.url}/llmgateway.v1.LLMService/Chat`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          traceparent: ctx.traceparent,
          "x-request-id": "off-1",
        },
        body: JSON.stringify({
          model: "mock/echo",
          messages: [{ role: "ROLE_USER", content: [{ text: "hi" }] }],
        }),
      });
      expect(res.status).toBe(200);
      expect(off.logs.some((l) => l.includes('"exporting traces"'))).toBe(false);
      const line = off.logs
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l["rid"] === "off-1");
      expect(line?.["trace_id"]).toBe(ctx.traceId);
    } finally {
      await off.close();
    }
  });
});
