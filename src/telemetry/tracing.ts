// OpenTelemetry traces of finished calls (GenAI semantic conventions): a SERVER span per call and a
// CLIENT child per upstream attempt, built after the call from its CallRecord, exported over OTLP/HTTP.
import {
  type Attributes,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { cacheLabel } from "../cache/status.js";
import { VERSION } from "../version.js";
import {
  type AttemptRecord,
  type CallObserver,
  type CallRecord,
  failedAttempt,
  OUTBOUND_LIMITED,
} from "./observer.js";

/**
 * The OTLP/HTTP traces URL of `endpoint`: a full ".../v1/traces" URL as is, else a base URL +
 * "/v1/traces". Throws, naming the config field, when it is not an http(s) URL.
 */
export function tracesUrl(endpoint: string): string {
  const e = endpoint.trim().replace(/\/+$/, "");
  const url = e.endsWith("/v1/traces") ? e : `${e}/v1/traces`;
  let scheme = "";
  try {
    scheme = new URL(url).protocol;
  } catch {
    // reported below
  }
  if (scheme !== "http:" && scheme !== "https:") {
    throw new Error(
      `telemetry.otlp_endpoint: "${endpoint}" is not an http(s) URL (e.g. http://otel-collector:4318)`,
    );
  }
  return url;
}

/** Reads the client's W3C trace context from the record (the transports copied the headers). */
const FROM_RECORD: TextMapGetter<CallRecord> = {
  keys: () => ["traceparent", "tracestate"],
  get: (r, key) => (key === "traceparent" ? r.traceparent : key === "tracestate" ? r.tracestate : undefined),
};

/** The request parameters GenAI conventions name, where the call had them (chat calls). */
function requestAttributes(r: CallRecord, out: Attributes): void {
  const q = r.request;
  if (!q) return;
  if (q.maxTokens !== undefined) out["gen_ai.request.max_tokens"] = q.maxTokens;
  if (q.temperature !== undefined) out["gen_ai.request.temperature"] = q.temperature;
  if (q.topP !== undefined) out["gen_ai.request.top_p"] = q.topP;
  if (q.seed !== undefined) out["gen_ai.request.seed"] = Number(q.seed);
  if (q.stop.length > 0) out["gen_ai.request.stop_sequences"] = q.stop;
}

function usageAttributes(r: CallRecord, out: Attributes): void {
  const u = r.usage;
  if (!u) return;
  out["gen_ai.usage.input_tokens"] = u.inputTokens;
  out["gen_ai.usage.output_tokens"] = u.outputTokens;
  if (u.cachedInputTokens > 0) out["gen_ai.usage.cache_read.input_tokens"] = u.cachedInputTokens;
  if (u.reasoningTokens > 0) out["llmgw.usage.reasoning_tokens"] = u.reasoningTokens;
  if (u.estimated) out["llmgw.usage.estimated"] = true;
}

/** Builds the spans of each finished call; the call's trace id goes into `record.traceId` (the log line). */
export class CallTracer implements CallObserver {
  private readonly propagator = new W3CTraceContextPropagator();

  constructor(private readonly tracer: Tracer) {}

  onCall(r: CallRecord): void {
    const parent = r.traceparent ? this.propagator.extract(ROOT_CONTEXT, r, FROM_RECORD) : ROOT_CONTEXT;
    const op = r.method === "Embed" ? "embeddings" : "chat";
    const attrs: Attributes = {
      "gen_ai.operation.name": op,
      "gen_ai.request.model": r.requested,
      "rpc.service": "llmgateway.v1.LLMService",
      "rpc.method": r.method,
      "llmgw.request_id": r.requestId,
      "llmgw.code": r.code,
      "llmgw.attempts": r.attempts.length,
      "llmgw.stream": r.stream,
    };
    if (r.provider) {
      attrs["gen_ai.provider.name"] = r.provider;
      attrs["gen_ai.system"] = r.provider;
    }
    if (r.target) attrs["gen_ai.response.model"] = r.target;
    if (r.caller) attrs["llmgw.caller"] = r.caller;
    const cache = r.cache === undefined ? undefined : cacheLabel(r.cache);
    if (cache) attrs["llmgw.cache"] = cache;
    if (r.coalesced) attrs["llmgw.coalesced"] = true;
    if (r.costMicros > 0) attrs["llmgw.cost_usd"] = r.costMicros / 1e6;
    if (r.firstTokenMs !== undefined) attrs["llmgw.time_to_first_token_ms"] = r.firstTokenMs;
    requestAttributes(r, attrs);
    usageAttributes(r, attrs);
    if (r.code !== "OK") attrs["error.type"] = r.reason ?? r.code;
    const span = this.tracer.startSpan(
      `${op} ${r.requested}`,
      { kind: SpanKind.SERVER, startTime: r.startEpochMs, attributes: attrs },
      parent,
    );
    if (r.code !== "OK") span.setStatus({ code: SpanStatusCode.ERROR, message: r.reason ?? r.code });
    r.traceId = span.spanContext().traceId;
    const ctx = trace.setSpan(parent, span);
    for (let i = 0; i < r.attempts.length; i++) {
      const a = r.attempts[i] as AttemptRecord;
      const start = performance.timeOrigin + a.startedAt;
      const child = this.tracer.startSpan(
        `${op} ${a.deployment.slice(a.deployment.indexOf("/") + 1)}`,
        { kind: SpanKind.CLIENT, startTime: start, attributes: this.attemptAttributes(r, op, i) },
        ctx,
      );
      if (failedAttempt(a.outcome)) {
        child.setStatus({ code: SpanStatusCode.ERROR, message: a.outcome });
      }
      child.end(start + a.ms);
    }
    span.end(r.startEpochMs + r.totalMs);
  }

  /** One attempt's attributes: deployment, outcome, retry number; tokens on the winning one. */
  private attemptAttributes(r: CallRecord, op: string, i: number): Attributes {
    const a = r.attempts[i] as AttemptRecord;
    const slash = a.deployment.indexOf("/");
    const provider = slash > 0 ? a.deployment.slice(0, slash) : a.deployment;
    let retry = 0;
    for (let j = 0; j < r.attempts.length; j++) {
      const b = r.attempts[j] as AttemptRecord;
      if (j !== i && b.deployment === a.deployment && b.outcome !== OUTBOUND_LIMITED) {
        if (b.startedAt < a.startedAt || (b.startedAt === a.startedAt && j < i)) retry++;
      }
    }
    const out: Attributes = {
      "gen_ai.operation.name": op,
      "gen_ai.provider.name": provider,
      "gen_ai.system": provider,
      "gen_ai.request.model": a.deployment.slice(slash + 1),
      "llmgw.deployment": a.deployment,
      "llmgw.attempt.number": i + 1,
      "llmgw.attempt.retry": retry,
      "llmgw.attempt.outcome": a.outcome,
    };
    requestAttributes(r, out);
    if (a.outcome === "ok") {
      out["gen_ai.response.model"] = a.deployment.slice(slash + 1);
      usageAttributes(r, out);
    } else if (a.outcome !== "HEDGE_LOST" && a.outcome !== "OUTBOUND_LIMITED") out["error.type"] = a.outcome;
    return out;
  }
}

/** Tracing when telemetry.otlp_endpoint is set: the observer, and close() to flush and stop exporting. */
export interface Tracing {
  observer: CallTracer;
  /** Exports what is queued now. */
  flush(): Promise<void>;
  /** Flushes and shuts the exporter down. */
  close(): Promise<void>;
}

/**
 * Creates the tracer provider: service name, BatchSpanProcessor, OTLP/HTTP JSON exporter to
 * `tracesUrl(endpoint)` (headers from OTEL_EXPORTER_OTLP_HEADERS, like every OTLP exporter).
 */
export function createTracing(endpoint: string, serviceName: string): Tracing {
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ "service.name": serviceName, "service.version": VERSION }),
    spanProcessors: [
      new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: tracesUrl(endpoint) }) }),
    ],
  });
  return {
    observer: new CallTracer(provider.getTracer("llm-gateway", VERSION)),
    flush: () => provider.forceFlush(),
    close: () => provider.shutdown(),
  };
}
