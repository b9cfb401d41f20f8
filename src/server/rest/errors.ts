// The REST door's errors, the OpenAI way: ONE table from each gateway reason to HTTP status and
// error type, and the rendering of `{"error": {message, type, param, code}}` with its headers.
import { GatewayError, type Reason } from "../../errors.js";

/** How one reason is answered over REST. */
export interface RestErrorRow {
  status: number;
  /** The error type in the body (OpenAI's or Anthropic's `error.type`). */
  type: string;
  /** Retrying the same request cannot help: `x-should-retry: false` even after a single attempt. */
  final?: boolean;
}

const bad = { status: 400, type: "invalid_request_error" } as const;
const limited = { status: 429, type: "rate_limit_error" } as const;
const upstream = { status: 502, type: "upstream_error" } as const;
const unavailable = { status: 503, type: "service_unavailable_error" } as const;
const timeout = { status: 504, type: "timeout_error" } as const;

/** The one table: gateway reason -> HTTP status + OpenAI error type (README: "REST errors"). */
export const REST_ERRORS: Readonly<Record<Reason, RestErrorRow>> = {
  INVALID_REQUEST: bad,
  UNSUPPORTED_PARAMETER: bad,
  UPSTREAM_BAD_REQUEST: bad,
  CONTEXT_LENGTH_EXCEEDED: bad,
  CONTENT_FILTERED: bad,
  REQUEST_TOO_LARGE: { status: 413, type: "invalid_request_error" },
  API_KEY_INVALID: { status: 401, type: "authentication_error" },
  MODEL_NOT_ALLOWED: { status: 403, type: "permission_error" },
  MODEL_NOT_FOUND: { status: 404, type: "not_found_error" },
  UPSTREAM_MODEL_NOT_FOUND: { status: 404, type: "not_found_error" },
  RATE_LIMITED: limited,
  UPSTREAM_RATE_LIMITED: limited,
  UPSTREAM_QUOTA_EXCEEDED: { status: 429, type: "insufficient_quota", final: true },
  OVERLOADED: limited,
  CONCURRENCY_LIMITED: limited,
  // The key's own spend limit: no Retry-After (it resets at the period's end, in the message).
  BUDGET_EXCEEDED: { status: 429, type: "insufficient_quota", final: true },
  // The gateway's own upstream key failed: the caller's credentials are fine, so never 401/403.
  UPSTREAM_AUTH_FAILED: { ...upstream, final: true },
  UPSTREAM_UNAVAILABLE: upstream,
  UPSTREAM_PROTOCOL_ERROR: upstream,
  UPSTREAM_STREAM_INTERRUPTED: upstream,
  CIRCUIT_OPEN: unavailable,
  // The gateway's own memory bound on upstream answers: a temporary overload of the server (503), not
  // the caller's rate (429); nothing was retried, so one client retry after Retry-After is fine.
  GATEWAY_OVERLOADED: unavailable,
  SHUTTING_DOWN: unavailable,
  LIMITER_UNAVAILABLE: unavailable,
  KEY_STORE_UNAVAILABLE: unavailable,
  // AdminService reasons (Connect / gRPC only; listed so the table stays total).
  ADMIN_DISABLED: { status: 403, type: "permission_error" },
  KEY_EXISTS: { status: 409, type: "invalid_request_error" },
  KEY_NOT_FOUND: { status: 404, type: "not_found_error" },
  KEY_FROM_CONFIG: bad,
  USAGE_UNAVAILABLE: { status: 501, type: "server_error" },
  BUDGET_UNAVAILABLE: unavailable,
  // Stored responses (/v1/responses store / previous_response_id / GET / DELETE): OpenAI answers 404
  // invalid_request_error for an unknown id; storage off is a setting, not a retryable state.
  RESPONSE_NOT_FOUND: { status: 404, type: "invalid_request_error" },
  RESPONSE_STORAGE_DISABLED: { ...bad, final: true },
  RESPONSE_TOO_LARGE: { status: 413, type: "invalid_request_error", final: true },
  RESPONSE_STORE_UNAVAILABLE: unavailable,
  UPSTREAM_TIMEOUT: timeout,
  DEADLINE_EXCEEDED: timeout,
  CANCELLED: { status: 499, type: "cancelled" },
  INTERNAL: { status: 500, type: "server_error" },
};

/** `error.code` per reason, lower-cased once ("unsupported_parameter", "model_not_found", ...). */
const CODES = new Map<string, string>(Object.keys(REST_ERRORS).map((r) => [r, r.toLowerCase()]));

/** An error ready to write: status, headers and the JSON body. */
export interface RenderedError {
  status: number;
  headers: Record<string, string>;
  /** The `{"error": {...}}` object (also the payload of an in-stream `event: error`). */
  body: string;
}

/** Anything thrown into the GatewayError the client sees (unknown throws become INTERNAL). */
export function asGatewayError(e: unknown): GatewayError {
  if (e instanceof GatewayError) return e;
  return new GatewayError("INTERNAL", "INTERNAL", "internal error", { cause: e });
}

/**
 * Renders a gateway error. `attempts` is how many upstream attempts the gateway made for the call
 * (0 when unknown or none); after more than one, `x-should-retry: false` keeps SDKs from
 * multiplying the gateway's own retries and fallbacks.
 */
export function renderError(e: GatewayError, requestId: string, attempts: number): RenderedError {
  const row = REST_ERRORS[e.reason] ?? REST_ERRORS.INTERNAL;
  const param = e.details.violations?.[0]?.field ?? e.details.metadata?.["parameter"] ?? null;
  const body = JSON.stringify({
    error: { message: e.message, type: row.type, param, code: CODES.get(e.reason) ?? "internal" },
  });
  return renderWith(e, row, body, { "x-request-id": requestId }, attempts);
}

/**
 * An error answer of any REST door: `body` as rendered by the door, under `ids` (its request-id
 * headers) and the gateway's headers (attempts, provider, upstream status, retry hints).
 */
export function renderWith(
  e: GatewayError,
  row: RestErrorRow,
  body: string,
  ids: Record<string, string>,
  attempts: number,
): RenderedError {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(body)),
    ...ids,
    "x-llmgw-attempts": String(attempts),
    "x-llmgw-cache": "none",
  };
  const provider = e.details.metadata?.["provider"];
  if (provider) headers["x-llmgw-provider"] = provider;
  // What ErrorInfo metadata carries on the other protocols, as headers here (the bodies have no slot).
  const upstream = e.details.metadata?.["upstream_status"];
  if (upstream) headers["x-llmgw-upstream-status"] = upstream;
  const wait = e.details.retryAfterMs;
  if (wait !== undefined && wait >= 0) {
    headers["retry-after"] = String(Math.ceil(wait / 1000));
    headers["retry-after-ms"] = String(Math.ceil(wait));
  }
  if (attempts > 1 || row.final) headers["x-should-retry"] = "false";
  return { status: row.status, headers, body };
}

/** An OpenAI parameter the gateway cannot honour, as UNSUPPORTED_PARAMETER naming it. */
export function unsupported(param: string, why = "is not supported by the gateway"): GatewayError {
  return new GatewayError("INVALID_ARGUMENT", "UNSUPPORTED_PARAMETER", `parameter "${param}" ${why}`, {
    metadata: { parameter: param },
    violations: [{ field: param, description: why }],
  });
}
