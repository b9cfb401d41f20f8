// The errors of stored responses, each naming what to change: storage off (and the setting that
// turns it on), a response too large to keep, an unknown id, the shared store unreachable.
import { GatewayError } from "../errors.js";

/** The response store (Redis) cannot be reached or refused the command; the message says why. */
export function storeUnavailable(why: string, cause?: unknown): GatewayError {
  return new GatewayError(
    "UNAVAILABLE",
    "RESPONSE_STORE_UNAVAILABLE",
    `the response store is unavailable: ${why}`,
    { retryAfterMs: 1000, ...(cause === undefined ? {} : { cause }) },
  );
}

/** A record larger than responses.max_record_bytes: refused, never truncated. */
export function recordTooLarge(bytes: number, max: number): GatewayError {
  return new GatewayError(
    "INVALID_ARGUMENT",
    "RESPONSE_TOO_LARGE",
    `the response and its conversation take ${bytes} bytes, more than responses.max_record_bytes (${max}); it cannot be stored`,
    { metadata: { bytes: String(bytes), max_record_bytes: String(max) } },
  );
}

/**
 * Stored responses are off for this caller: `what` is the refused use ("previous_response_id",
 * "GET /v1/responses/{id}", ...), `why` names the setting that would allow it.
 */
export function storageDisabled(what: string, why: string): GatewayError {
  return new GatewayError("FAILED_PRECONDITION", "RESPONSE_STORAGE_DISABLED", `${what}: ${why}`, {
    metadata: { setting: "responses.allow_anonymous_store" },
  });
}

/** An id this caller has no stored response under (never stored, expired, deleted, or another key's). */
export function responseNotFound(id: string, field?: string): GatewayError {
  const shown = id.length > 100 ? `${id.slice(0, 100)}...` : id;
  const message = `Response with id '${shown}' not found.`;
  return new GatewayError("NOT_FOUND", "RESPONSE_NOT_FOUND", message, {
    ...(field === undefined ? {} : { violations: [{ field, description: message }] }),
  });
}
