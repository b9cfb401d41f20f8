// What an upstream may make the gateway hold in memory: the per-answer and per-event caps, and the
// process-wide budget of buffered upstream bytes (server.max_answer_bytes / max_event_bytes / upstream_buffer_bytes).
import { GatewayError } from "../errors.js";

/** The byte limits on upstream answers; set once per config (start and reload) by `setBodyLimits`. */
export interface BodyLimits {
  /** A unary answer (chat, model list) read whole: more is a protocol error. */
  maxAnswerBytes: number;
  /** An embeddings answer read whole (a batch of vectors is legitimately far larger than a chat answer). */
  maxEmbedAnswerBytes: number;
  /** One server-sent event, or one NDJSON line: more is a protocol error. */
  maxEventBytes: number;
  /** Every upstream byte buffered in the process at once (answers being read, stream queues, partial events). */
  bufferBytes: number;
}

const MIB = 1024 * 1024;

/** The defaults (README, "Security and hardening" says why each is what it is). */
export const DEFAULT_BODY_LIMITS: Readonly<BodyLimits> = Object.freeze({
  maxAnswerBytes: 8 * MIB,
  maxEmbedAnswerBytes: 64 * MIB,
  maxEventBytes: 4 * MIB,
  bufferBytes: 256 * MIB,
});

let limits: Readonly<BodyLimits> = DEFAULT_BODY_LIMITS;
let used = 0;
let refused = 0;

/**
 * Applies a config's limits to the whole process (the HTTP layer is shared by every generation of
 * the pipeline). Bytes already reserved stay reserved: a lower budget only refuses new reservations.
 */
export function setBodyLimits(next: Partial<BodyLimits>): void {
  limits = Object.freeze({ ...DEFAULT_BODY_LIMITS, ...next });
}

/** The limits in force. */
export function bodyLimits(): Readonly<BodyLimits> {
  return limits;
}

/** Upstream bytes buffered right now, and how many reservations were refused since start. */
export function bufferStats(): { used: number; budget: number; refused: number } {
  return { used, budget: limits.bufferBytes, refused };
}

/**
 * Takes `n` bytes from the process-wide budget; false (nothing taken) when they do not fit. Every
 * byte taken must be given back with `releaseBuffer` exactly once (holders track what they hold).
 */
export function reserveBuffer(n: number): boolean {
  if (n <= 0) return true;
  if (used + n > limits.bufferBytes) {
    refused++;
    return false;
  }
  used += n;
  return true;
}

/** Gives back bytes taken with `reserveBuffer`. */
export function releaseBuffer(n: number): void {
  if (n <= 0) return;
  used -= n;
  if (used < 0) used = 0; // never below zero, even after a bookkeeping error elsewhere
}

/**
 * The error of a read refused by the budget: the gateway's own limit, not the provider's fault — a
 * GatewayError, so the pipeline neither retries nor falls back and no breaker counts it.
 */
export function overloaded(provider: string): GatewayError {
  const budget = limits.bufferBytes;
  return new GatewayError(
    "RESOURCE_EXHAUSTED",
    "GATEWAY_OVERLOADED",
    `the gateway is holding its limit of buffered upstream answers (server.upstream_buffer_bytes: ${budget} bytes); retry shortly`,
    { metadata: { provider, upstream_buffer_bytes: String(budget) }, retryAfterMs: 1000 },
  );
}
