// OpenAI-family failures -> UpstreamError: the status table from http.ts, refined from OpenAI's
// error body (quota vs rate limit, context length, content filter), with secrets redacted.
import { UpstreamError, type UpstreamErrorKind } from "../../errors.js";
import { classifyStatus, errorOptions, type HttpHeaders, statusMessage } from "../http.js";
import type { OAIErrorBody, OAIErrorObject } from "./wire.js";

const SECRET =
  /\b(?:sk|gsk|xai|fw|nvapi|csk|pplx)[-_][A-Za-z0-9*._-]{6,}|\bBearer\s+\S+|\b[A-Za-z0-9_-]{40,}\b/gi;
const CONTEXT = /context[ _-]?(?:length|window)|maximum context|too many tokens|prompt is too long/i;
const CONTENT_POLICY = /content[ _-]?(?:policy|management|filter)|safety system/i;
const OVERLOADED = /overload/i;

/** Removes anything that looks like a credential (sk-..., gsk_..., Bearer ..., long tokens). */
export function redactSecrets(text: string): string {
  return text.replace(SECRET, "[redacted]");
}

function str(v: unknown): string {
  return typeof v === "string" ? v : typeof v === "number" ? String(v) : "";
}

/**
 * Kind of an OpenAI error object, refining `base` (from the status, or undefined in a stream):
 * insufficient_quota is not a rate limit, context overflow and content policy are not plain 400s.
 */
export function classifyOpenAIError(err: OAIErrorObject, base?: UpstreamErrorKind): UpstreamErrorKind {
  const type = str(err.type);
  const code = str(err.code);
  const message = str(err.message);
  if (type === "insufficient_quota" || code === "insufficient_quota") return "quota";
  if (code === "context_length_exceeded" || type === "context_length_exceeded") return "context_length";
  if (code === "content_filter" || code === "content_policy_violation" || type === "content_filter") {
    return "content_filter";
  }
  if (base === "bad_request" || base === undefined) {
    if (CONTEXT.test(message)) return "context_length";
    if (CONTENT_POLICY.test(message)) return "content_filter";
  }
  if ((base === "unavailable" || base === undefined) && (OVERLOADED.test(type) || OVERLOADED.test(message))) {
    return "overloaded";
  }
  if (base !== undefined) return base;
  if (typeof err.code === "number" && err.code >= 400) return classifyStatus(err.code);
  switch (type) {
    case "rate_limit_exceeded":
    case "rate_limit_error":
    case "tokens":
    case "requests":
      return "rate_limited";
    case "invalid_request_error":
      return "bad_request";
    case "authentication_error":
      return "auth";
    case "permission_error":
      return "permission";
    default:
      return "unavailable"; // a server_error mid-stream, or a host's own wording
  }
}

function errorObject(body: string): OAIErrorObject | undefined {
  if (body === "" || (body.charCodeAt(0) !== 123 && body.trimStart()[0] !== "{")) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const b = parsed as OAIErrorBody;
  if (typeof b.error === "object" && b.error !== null) return b.error;
  if (typeof b.error === "string") return { message: b.error };
  if (typeof b.message === "string") return { message: b.message };
  if (typeof b.detail === "string") return { message: b.detail };
  if (b.detail !== undefined) return { message: JSON.stringify(b.detail) };
  return undefined;
}

/** Everything known about a failed HTTP answer. */
export interface OpenAIErrorInput {
  status: number;
  body: string;
  headers: HttpHeaders;
  provider: string;
  model?: string;
}

/** Turns an HTTP error answer into the UpstreamError the pipeline retries / falls back on. */
export function fromOpenAIHttpError(input: OpenAIErrorInput): UpstreamError {
  const { status, body, headers, provider } = input;
  const obj = errorObject(body);
  const kind = obj === undefined ? classifyStatus(status) : classifyOpenAIError(obj, classifyStatus(status));
  const raw = obj?.message ? obj.message : statusMessage(status, body);
  return new UpstreamError(kind, redactSecrets(raw), provider, errorOptions(status, headers, input.model));
}

/** Turns an `error` object met inside a stream into an UpstreamError. */
export function fromOpenAIStreamError(err: OAIErrorObject, provider: string, model?: string): UpstreamError {
  const kind = classifyOpenAIError(err);
  const status = typeof err.code === "number" ? err.code : 0;
  const message = redactSecrets(str(err.message) || "error in stream");
  return new UpstreamError(kind, message, provider, model === undefined ? { status } : { status, model });
}
