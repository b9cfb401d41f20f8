// Gemini failures -> UpstreamError: Google's `{error: {code, message, status, details}}` bodies
// (google.rpc.Status), refined by status name, ErrorInfo / QuotaFailure / RetryInfo details and
// message, with API keys redacted.
import { UpstreamError, type UpstreamErrorKind } from "../../errors.js";
import { classifyStatus, errorOptions, type HttpHeaders, statusMessage } from "../http.js";
import type { GErrorBody, GErrorObject } from "./wire.js";

const GOOGLE_KEY = /AIza[0-9A-Za-z_-]{30,}/g;
const URL_KEY = /([?&]key=)[^&\s"]+/gi;
const CONTEXT =
  /input token count|exceeds the maximum number of tokens|token limit|context (?:length|window)|too many tokens/i;
const BAD_KEY = /API key (?:not valid|expired|invalid)|API_KEY_INVALID|unregistered callers/i;
const QUOTA = /quota|billing/i;
const OVERLOADED = /overload/i;

/** Removes Google API keys (AIza...), `key=` query values and the configured key itself. */
export function redactGoogleSecrets(text: string, apiKey?: string): string {
  let out = text.replace(GOOGLE_KEY, "[redacted]").replace(URL_KEY, "$1[redacted]");
  if (apiKey !== undefined && apiKey.length >= 8) out = out.replaceAll(apiKey, "[redacted]");
  return out;
}

function detail(err: GErrorObject, type: string): Record<string, unknown> | undefined {
  if (!Array.isArray(err.details)) return undefined;
  for (const d of err.details) {
    if (typeof d === "object" && d !== null && typeof d["@type"] === "string" && d["@type"].endsWith(type)) {
      return d;
    }
  }
  return undefined;
}

/** google.rpc.RetryInfo.retryDelay ("37s", "0.5s") in ms. */
export function retryDelayMs(err: GErrorObject): number | undefined {
  const delay = detail(err, "google.rpc.RetryInfo")?.["retryDelay"];
  if (typeof delay !== "string" || !delay.endsWith("s")) return undefined;
  const s = Number(delay.slice(0, -1));
  return Number.isFinite(s) && s >= 0 ? Math.ceil(s * 1000) : undefined;
}

/** Per-minute limits are rate limits; per-day limits (and billing) are a spent quota. */
function quotaKind(err: GErrorObject): UpstreamErrorKind {
  const violations = detail(err, "google.rpc.QuotaFailure")?.["violations"];
  if (Array.isArray(violations)) {
    const ids = violations.map((v: unknown) =>
      typeof v === "object" && v !== null ? String((v as { quotaId?: unknown }).quotaId ?? "") : "",
    );
    if (ids.some((id) => /Per(?:Minute|Second)/i.test(id))) return "rate_limited";
    if (ids.some((id) => /PerDay/i.test(id))) return "quota";
  }
  return QUOTA.test(err.message ?? "") ? "quota" : "rate_limited";
}

/**
 * Kind of a Google error object, from the HTTP status (0 inside a stream: the body's own `code`),
 * the canonical status name and the message. Gemini answers a bad key with 400 API_KEY_INVALID.
 */
export function classifyGeminiError(err: GErrorObject, httpStatus: number): UpstreamErrorKind {
  const message = err.message ?? "";
  const reason = detail(err, "google.rpc.ErrorInfo")?.["reason"];
  if (reason === "API_KEY_INVALID" || BAD_KEY.test(message)) return "auth";
  const status = httpStatus || (typeof err.code === "number" ? err.code : 0);
  switch (err.status) {
    case "INVALID_ARGUMENT":
    case "FAILED_PRECONDITION":
    case "OUT_OF_RANGE":
      return CONTEXT.test(message) ? "context_length" : "bad_request";
    case "UNAUTHENTICATED":
      return "auth";
    case "PERMISSION_DENIED":
      return "permission";
    case "NOT_FOUND":
      return "not_found";
    case "RESOURCE_EXHAUSTED":
      return quotaKind(err);
    case "UNAVAILABLE":
      return OVERLOADED.test(message) ? "overloaded" : "unavailable";
    case "DEADLINE_EXCEEDED":
      return "timeout";
    case "INTERNAL":
    case "CANCELLED":
    case "ABORTED":
    case "UNKNOWN":
      return "unavailable";
    default:
      break;
  }
  if (status === 0) return "unavailable";
  if (status === 504) return "timeout";
  if (status === 429) return quotaKind(err);
  if (status === 503 && OVERLOADED.test(message)) return "overloaded";
  const kind = classifyStatus(status);
  return kind === "bad_request" && CONTEXT.test(message) ? "context_length" : kind;
}

function errorObject(body: string): GErrorObject | undefined {
  if (body.trimStart()[0] !== "{" && body.trimStart()[0] !== "[") return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  // Some Google front ends wrap the body in a one-element array.
  if (Array.isArray(parsed)) parsed = parsed[0];
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const e = (parsed as GErrorBody).error;
  return typeof e === "object" && e !== null ? e : undefined;
}

/** Everything known about a failed HTTP answer. */
export interface GeminiErrorInput {
  status: number;
  body: string;
  headers: HttpHeaders;
  provider: string;
  model?: string;
  /** Redacted from the message should the upstream echo it. */
  apiKey?: string;
}

/** Turns an HTTP error answer into the UpstreamError the pipeline retries / falls back on. */
export function fromGeminiHttpError(input: GeminiErrorInput): UpstreamError {
  const { status, body, headers, provider } = input;
  const obj = errorObject(body);
  let kind = obj === undefined ? classifyStatus(status) : classifyGeminiError(obj, status);
  if (obj === undefined && status === 504) kind = "timeout";
  const raw = obj?.message ? obj.message : statusMessage(status, body);
  const opts = errorOptions(status, headers, input.model, obj === undefined ? undefined : retryDelayMs(obj));
  return new UpstreamError(kind, redactGoogleSecrets(raw, input.apiKey), provider, opts);
}

/** Turns an `error` object met inside a 200 stream into an UpstreamError. */
export function fromGeminiStreamError(err: GErrorObject, provider: string, model?: string): UpstreamError {
  const kind = classifyGeminiError(err, 0);
  const status = typeof err.code === "number" ? err.code : 0;
  const message = redactGoogleSecrets(err.message || "error in stream");
  const opts: UpstreamError["opts"] = model === undefined ? { status } : { status, model };
  const retryAfterMs = retryDelayMs(err);
  if (retryAfterMs !== undefined) opts.retryAfterMs = retryAfterMs;
  return new UpstreamError(kind, message, provider, opts);
}
