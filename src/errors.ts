// The gateway's one error taxonomy: upstream failures (UpstreamError, by kind) and the errors the
// gateway raises itself (GatewayError, by reason). Transports map both once, at the edge.

/** Every way an upstream call can fail; retry / fallback decisions read this alone. */
export type UpstreamErrorKind =
  | "rate_limited"
  | "quota"
  | "overloaded"
  | "unavailable"
  | "timeout"
  | "network"
  | "auth"
  | "permission"
  | "bad_request"
  | "not_found"
  | "context_length"
  | "content_filter"
  | "protocol"
  | "stream_interrupted";

/** A failure of one upstream call, classified so the pipeline never parses provider messages. */
export class UpstreamError extends Error {
  override readonly name = "UpstreamError";
  constructor(
    readonly kind: UpstreamErrorKind,
    message: string,
    readonly provider: string,
    readonly opts: {
      /** HTTP status the provider answered, 0 when none (network, protocol). */
      status?: number;
      /** Wait the provider asked for (Retry-After / retry-after-ms). */
      retryAfterMs?: number;
      /** The provider's `x-should-retry` header, when it sent one. */
      shouldRetry?: boolean;
      /** Upstream model name, for error metadata. */
      model?: string;
      cause?: unknown;
    } = {},
  ) {
    super(message, { cause: opts.cause });
  }
  get status(): number {
    return this.opts.status ?? 0;
  }
}

/** Reasons the gateway reports in google.rpc.ErrorInfo; the public error vocabulary. */
export type Reason =
  | "INVALID_REQUEST"
  | "REQUEST_TOO_LARGE"
  | "MODEL_NOT_FOUND"
  | "UNSUPPORTED_PARAMETER"
  | "UPSTREAM_BAD_REQUEST"
  | "CONTEXT_LENGTH_EXCEEDED"
  | "CONTENT_FILTERED"
  | "UPSTREAM_AUTH_FAILED"
  | "UPSTREAM_MODEL_NOT_FOUND"
  | "UPSTREAM_RATE_LIMITED"
  | "UPSTREAM_QUOTA_EXCEEDED"
  | "UPSTREAM_UNAVAILABLE"
  | "UPSTREAM_TIMEOUT"
  | "DEADLINE_EXCEEDED"
  | "UPSTREAM_PROTOCOL_ERROR"
  | "UPSTREAM_STREAM_INTERRUPTED"
  | "SHUTTING_DOWN"
  | "CANCELLED"
  | "OVERLOADED"
  // The process-wide budget of buffered upstream bytes is spent (providers/body-budget.ts).
  | "GATEWAY_OVERLOADED"
  | "CIRCUIT_OPEN"
  | "API_KEY_INVALID"
  | "MODEL_NOT_ALLOWED"
  | "RATE_LIMITED"
  | "CONCURRENCY_LIMITED"
  | "LIMITER_UNAVAILABLE"
  // Gateway keys and AdminService (src/auth, src/server/admin.ts).
  | "KEY_STORE_UNAVAILABLE"
  | "ADMIN_DISABLED"
  | "KEY_EXISTS"
  | "KEY_NOT_FOUND"
  | "KEY_FROM_CONFIG"
  | "USAGE_UNAVAILABLE"
  | "BUDGET_EXCEEDED"
  | "BUDGET_UNAVAILABLE"
  // Stored responses of the Responses API (src/responses).
  | "RESPONSE_NOT_FOUND"
  | "RESPONSE_STORAGE_DISABLED"
  | "RESPONSE_TOO_LARGE"
  | "RESPONSE_STORE_UNAVAILABLE"
  | "INTERNAL";

/** gRPC status codes used by the gateway (names as in google.rpc.Code). */
export type StatusCode =
  | "INVALID_ARGUMENT"
  | "RESOURCE_EXHAUSTED"
  | "NOT_FOUND"
  | "INTERNAL"
  | "UNAVAILABLE"
  | "DEADLINE_EXCEEDED"
  | "CANCELLED"
  | "UNIMPLEMENTED"
  | "PERMISSION_DENIED"
  | "UNAUTHENTICATED"
  | "ALREADY_EXISTS"
  | "FAILED_PRECONDITION";

/** One invalid field of a request (google.rpc.BadRequest.FieldViolation). */
export interface FieldViolation {
  field: string;
  description: string;
}

/** An error the gateway answers with; carries everything the transport needs to render it. */
export class GatewayError extends Error {
  override readonly name = "GatewayError";
  constructor(
    readonly code: StatusCode,
    readonly reason: Reason,
    message: string,
    readonly details: {
      /** ErrorInfo metadata; the pipeline adds `attempts` once it has called upstream. */
      metadata?: Record<string, string>;
      retryAfterMs?: number;
      violations?: FieldViolation[];
      /** Response headers that go with the error (x-ratelimit-* on a rate-limited call). */
      headers?: Record<string, string>;
      cause?: unknown;
    } = {},
  ) {
    super(message, { cause: details.cause });
  }
}

/** The one table from an upstream failure kind to code and reason (the README's error table). */
export function reasonForKind(kind: UpstreamErrorKind): { code: StatusCode; reason: Reason } {
  switch (kind) {
    case "bad_request":
      return { code: "INVALID_ARGUMENT", reason: "UPSTREAM_BAD_REQUEST" };
    case "context_length":
      return { code: "INVALID_ARGUMENT", reason: "CONTEXT_LENGTH_EXCEEDED" };
    case "content_filter":
      return { code: "INVALID_ARGUMENT", reason: "CONTENT_FILTERED" };
    case "auth":
    case "permission":
      return { code: "INTERNAL", reason: "UPSTREAM_AUTH_FAILED" };
    case "not_found":
      return { code: "NOT_FOUND", reason: "UPSTREAM_MODEL_NOT_FOUND" };
    case "rate_limited":
      return { code: "RESOURCE_EXHAUSTED", reason: "UPSTREAM_RATE_LIMITED" };
    case "quota":
      return { code: "RESOURCE_EXHAUSTED", reason: "UPSTREAM_QUOTA_EXCEEDED" };
    case "overloaded":
    case "unavailable":
    case "network":
      return { code: "UNAVAILABLE", reason: "UPSTREAM_UNAVAILABLE" };
    case "timeout":
      return { code: "UNAVAILABLE", reason: "UPSTREAM_TIMEOUT" };
    case "protocol":
      return { code: "UNAVAILABLE", reason: "UPSTREAM_PROTOCOL_ERROR" };
    case "stream_interrupted":
      return { code: "UNAVAILABLE", reason: "UPSTREAM_STREAM_INTERRUPTED" };
    default: {
      const exhaustive: never = kind;
      throw new Error(`unknown upstream error kind ${String(exhaustive)}`);
    }
  }
}

/** Turns an UpstreamError into the GatewayError the client sees (no secrets: messages are scrubbed). */
export function fromUpstream(e: UpstreamError, model: string): GatewayError {
  const { code, reason } = reasonForKind(e.kind);
  const metadata: Record<string, string> = { provider: e.provider, model };
  if (e.status) metadata["upstream_status"] = String(e.status);
  const retryAfterMs = e.kind === "rate_limited" ? e.opts.retryAfterMs : undefined;
  return new GatewayError(code, reason, `${e.provider}: ${e.message}`, {
    metadata,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    cause: e,
  });
}

/** INVALID_REQUEST naming the offending field (a BadRequest field violation). */
export function invalid(field: string, description: string): GatewayError {
  return new GatewayError("INVALID_ARGUMENT", "INVALID_REQUEST", `${field}: ${description}`, {
    violations: [{ field, description }],
  });
}
