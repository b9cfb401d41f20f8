// Retry timing: exponential backoff with full jitter, Retry-After honoured (never sooner), and the
// rule that a wait longer than `max_ms` or the time left falls back at once instead of sleeping.

/** Full jitter (AWS style): uniform in [0, min(maxMs, baseMs * 2^(retry-1))]. `retry` counts from 1. */
export function backoffMs(
  retry: number,
  baseMs: number,
  maxMs: number,
  rand: () => number = Math.random,
): number {
  const cap = Math.min(maxMs, baseMs * 2 ** (retry - 1));
  return Math.floor(rand() * cap);
}

/**
 * How long to wait before retry number `retry`, or -1 to fall back at once: the upstream's
 * Retry-After (never sooner) or the jittered backoff, refused when it exceeds `maxMs` or would not
 * leave time for an attempt before the deadline (`remainingMs`).
 */
export function retryWaitMs(
  retry: number,
  policy: { baseMs: number; maxMs: number },
  retryAfterMs: number | undefined,
  remainingMs: number,
): number {
  const jitter = backoffMs(retry, policy.baseMs, policy.maxMs);
  const wait = retryAfterMs !== undefined && retryAfterMs > jitter ? retryAfterMs : jitter;
  if (wait > policy.maxMs || wait >= remainingMs - MIN_ATTEMPT_MS) return -1;
  return wait;
}

/** An attempt that could not get this much time before the deadline is not worth waiting for. */
export const MIN_ATTEMPT_MS = 50;
