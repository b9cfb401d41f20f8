// What the pipeline tells observers (metrics, traces, usage accounting) about each finished call:
// one record built once by the gateway, handed to each observer synchronously (they must not block).
import type { CacheStatus, ChatRequest, Usage } from "../../gen/llmgateway/v1/llm_pb.js";

/** One attempt, for the trail (GatewayInfo.attempt_trail), logs, metrics and trace spans. */
export interface AttemptRecord {
  deployment: string;
  outcome: string;
  /** Rounded, as the client sees it. */
  durationMs: number;
  /** performance.now() when the attempt was sent. */
  startedAt: number;
  /** Exact duration, ms. */
  ms: number;
}

/** Trail outcomes that are not failures: a hedge's loser, a deployment skipped at its outbound limit. */
export const HEDGE_LOST_OUTCOME = "HEDGE_LOST";
export const OUTBOUND_LIMITED = "OUTBOUND_LIMITED";

/** True for an attempt that failed (not "ok", not a hedge's loser, not skipped at its limit). */
export function failedAttempt(outcome: string): boolean {
  return outcome !== "ok" && outcome !== HEDGE_LOST_OUTCOME && outcome !== OUTBOUND_LIMITED;
}

/** One finished call. */
export interface CallRecord {
  /** RPC name ("Chat", "ChatStream", "Embed", ...). */
  method: string;
  requestId: string;
  /** The model name the client asked for. */
  requested: string;
  /** "provider/model" of the deployment that answered; "" when nothing answered. */
  target: string;
  /** Provider that answered; "" when nothing answered. */
  provider: string;
  /** Caller label: key name, "anonymous" or "open". */
  caller: string | undefined;
  /** "OK" or the gateway error code ("RESOURCE_EXHAUSTED", ...) and its reason. */
  code: string;
  reason: string | undefined;
  /** Epoch ms when the call started (span start). */
  startEpochMs: number;
  totalMs: number;
  /** Time spent in upstream attempts (overhead = total - upstream). */
  upstreamMs: number;
  /** ChatStream: time to the first content. */
  firstTokenMs: number | undefined;
  /** Every attempt, in order (retries and fallbacks; HEDGE_LOST for a hedge's loser). */
  attempts: readonly AttemptRecord[];
  usage: Usage | undefined;
  costMicros: number;
  /** The response cache's verdict; undefined when it was not consulted. */
  cache: CacheStatus | undefined;
  /** A miss answered by another caller's identical call (single flight). */
  coalesced: boolean;
  stream: boolean;
  /** W3C trace context the client sent (traceparent / tracestate), if any. */
  traceparent: string | undefined;
  tracestate: string | undefined;
  /** The call's trace id for the log line, when a tracing observer set one (else traceparent's). */
  traceId: string | undefined;
  /** Chat / ChatStream: the request (read-only: max_tokens, temperature, top_p for trace attributes). */
  request: ChatRequest | undefined;
}

/** Told about each finished call; never throws, never blocks. */
export interface CallObserver {
  /** Called once per call before its log line is written; may set `record.traceId`. */
  onCall(record: CallRecord): void;
  /** ChatStream: the gap between two chunks written to the client, ms. */
  onChunkGap?(ms: number): void;
}

/** The trace id of a W3C traceparent ("00-<32 hex>-<16 hex>-<2 hex>"), or undefined when malformed. */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  if (!traceparent || traceparent.length < 55 || traceparent[2] !== "-" || traceparent[35] !== "-") {
    return undefined;
  }
  const id = traceparent.slice(3, 35);
  return /^[0-9a-f]{32}$/.test(id) && id !== "00000000000000000000000000000000" ? id : undefined;
}
