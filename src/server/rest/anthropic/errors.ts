// The Anthropic door's errors: ONE table from each gateway reason to HTTP status and Anthropic's
// `error.type`, and the `{"type":"error","error":{type,message},"request_id"}` body with its headers.
import { type GatewayError, type Reason, UpstreamError } from "../../../errors.js";
import { type RenderedError, type RestErrorRow, renderWith } from "../errors.js";

/** How one reason is answered on the Anthropic door (`type`: Anthropic's `error.type`). */
type Row = RestErrorRow;

const bad: Row = { status: 400, type: "invalid_request_error" };
const limited: Row = { status: 429, type: "rate_limit_error" };
const overloaded: Row = { status: 529, type: "overloaded_error" };
const upstream: Row = { status: 502, type: "api_error" };
const unavailable: Row = { status: 503, type: "api_error" };
const timeout: Row = { status: 504, type: "timeout_error" };

/** The one table (README "Anthropic door"): Anthropic's documented types, statuses where it has them. */
export const ANTHROPIC_ERRORS: Readonly<Record<Reason, Row>> = {
  INVALID_REQUEST: bad,
  UNSUPPORTED_PARAMETER: bad,
  UPSTREAM_BAD_REQUEST: bad,
  CONTEXT_LENGTH_EXCEEDED: bad,
  CONTENT_FILTERED: bad,
  KEY_FROM_CONFIG: bad,
  REQUEST_TOO_LARGE: { status: 413, type: "request_too_large" },
  API_KEY_INVALID: { status: 401, type: "authentication_error" },
  MODEL_NOT_ALLOWED: { status: 403, type: "permission_error" },
  ADMIN_DISABLED: { status: 403, type: "permission_error" },
  MODEL_NOT_FOUND: { status: 404, type: "not_found_error" },
  UPSTREAM_MODEL_NOT_FOUND: { status: 404, type: "not_found_error" },
  KEY_NOT_FOUND: { status: 404, type: "not_found_error" },
  KEY_EXISTS: { status: 409, type: "invalid_request_error" },
  RATE_LIMITED: limited,
  UPSTREAM_RATE_LIMITED: limited,
  CONCURRENCY_LIMITED: limited,
  // The gateway's upstream account is out of quota: waiting does not help the caller.
  UPSTREAM_QUOTA_EXCEEDED: { ...limited, final: true },
  // The key's own spend limit: Anthropic's billing error (the SDK does not retry a 402).
  BUDGET_EXCEEDED: { status: 402, type: "billing_error", final: true },
  // The gateway at capacity, or its memory bound on upstream bytes: Anthropic's "overloaded".
  OVERLOADED: overloaded,
  GATEWAY_OVERLOADED: overloaded,
  // The gateway's own upstream key failed: the caller's credentials are fine, so never 401/403.
  UPSTREAM_AUTH_FAILED: { ...upstream, final: true },
  UPSTREAM_UNAVAILABLE: upstream,
  UPSTREAM_PROTOCOL_ERROR: upstream,
  UPSTREAM_STREAM_INTERRUPTED: upstream,
  CIRCUIT_OPEN: unavailable,
  SHUTTING_DOWN: unavailable,
  LIMITER_UNAVAILABLE: unavailable,
  KEY_STORE_UNAVAILABLE: unavailable,
  BUDGET_UNAVAILABLE: unavailable,
  // Stored responses (OpenAI Responses door only; listed so the table stays total).
  RESPONSE_NOT_FOUND: { status: 404, type: "not_found_error" },
  RESPONSE_STORAGE_DISABLED: { ...bad, final: true },
  RESPONSE_TOO_LARGE: { status: 413, type: "request_too_large", final: true },
  RESPONSE_STORE_UNAVAILABLE: unavailable,
  USAGE_UNAVAILABLE: { status: 501, type: "api_error" },
  UPSTREAM_TIMEOUT: timeout,
  DEADLINE_EXCEEDED: timeout,
  CANCELLED: { status: 499, type: "api_error" },
  INTERNAL: { status: 500, type: "api_error" },
};

/** True when the upstream failure behind `e` was the provider saying it is overloaded (HTTP 529 / 503). */
function upstreamOverloaded(e: GatewayError): boolean {
  let c: unknown = e.details.cause ?? e.cause;
  for (let i = 0; i < 4 && c instanceof Error; i++) {
    if (c instanceof UpstreamError) return c.kind === "overloaded";
    c = c.cause;
  }
  return e.details.metadata?.["upstream_status"] === "529";
}

/** The row for an error: an overloaded upstream is Anthropic's 529 whatever reason carried it. */
function rowOf(e: GatewayError): Row {
  if (e.reason === "UPSTREAM_UNAVAILABLE" && upstreamOverloaded(e)) return overloaded;
  return ANTHROPIC_ERRORS[e.reason] ?? ANTHROPIC_ERRORS.INTERNAL;
}

/** The `{type:"error", error:{type, message}}` object of an error (also an in-stream `event: error`). */
export function errorPayload(e: GatewayError, rid: string): string {
  return JSON.stringify({
    type: "error",
    error: { type: rowOf(e).type, message: e.message },
    request_id: rid,
  });
}

/**
 * Renders a gateway error the Anthropic way. `attempts` is how many upstream attempts the gateway
 * made; after more than one, `x-should-retry: false` keeps SDKs from multiplying them.
 */
export function renderAnthropicError(e: GatewayError, rid: string, attempts: number): RenderedError {
  const ids = { "request-id": rid, "x-request-id": rid };
  return renderWith(e, rowOf(e), errorPayload(e, rid), ids, attempts);
}
