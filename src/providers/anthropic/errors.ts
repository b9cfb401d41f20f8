// Anthropic failures -> UpstreamError: the error body's `error.type` first (overloaded_error,
// rate_limit_error, ...), the HTTP status when there is no body, with credentials redacted.
import { UpstreamError, type UpstreamErrorKind } from "../../errors.js";
import { classifyStatus, errorOptions, type HttpHeaders, statusMessage } from "../http.js";
import type { AntErrorBody, AntErrorObject } from "./wire.js";

const SECRET = /\bsk-ant-[A-Za-z0-9_-]+|\bsk[-_][A-Za-z0-9*._-]{6,}|\bBearer\s+\S+|\b[A-Za-z0-9_-]{40,}\b/gi;
const CONTEXT = /prompt is too long|context (?:window|length)|too many (?:input )?tokens/i;

/** Removes anything that looks like a credential (sk-ant-..., Bearer ..., long tokens). */
export function redactAnthropicSecrets(text: string): string {
  return text.replace(SECRET, "[redacted]");
}

/**
 * Kind of an Anthropic error object; `status` is the HTTP status (0 inside a stream). The type
 * decides; a too-long prompt is context_length, not a plain bad request.
 */
export function classifyAnthropicError(err: AntErrorObject, status = 0): UpstreamErrorKind {
  const message = typeof err.message === "string" ? err.message : "";
  switch (err.type) {
    case "invalid_request_error":
      return CONTEXT.test(message) ? "context_length" : "bad_request";
    case "request_too_large":
      return "bad_request";
    case "authentication_error":
      return "auth";
    case "permission_error":
      return "permission";
    case "not_found_error":
      return "not_found";
    case "rate_limit_error":
      return "rate_limited";
    case "billing_error":
      return "quota";
    case "overloaded_error":
      return "overloaded";
    case "timeout_error":
      return "timeout";
    case "api_error":
      return "unavailable";
    default:
      if (status === 529) return "overloaded";
      if (status === 402) return "quota";
      if (status === 504) return "timeout";
      return status >= 400 ? classifyStatus(status) : "unavailable";
  }
}

function errorObject(body: string): AntErrorObject | undefined {
  if (body.trimStart()[0] !== "{") return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const e = (parsed as AntErrorBody).error;
  return typeof e === "object" && e !== null ? e : undefined;
}

/** Everything known about a failed HTTP answer. */
export interface AnthropicErrorInput {
  status: number;
  body: string;
  headers: HttpHeaders;
  provider: string;
  model?: string;
}

/** Turns an HTTP error answer into the UpstreamError the pipeline retries / falls back on. */
export function fromAnthropicHttpError(input: AnthropicErrorInput): UpstreamError {
  const { status, body, headers, provider } = input;
  const obj = errorObject(body);
  const kind = classifyAnthropicError(obj ?? {}, status);
  const raw =
    typeof obj?.message === "string" && obj.message !== "" ? obj.message : statusMessage(status, body);
  return new UpstreamError(
    kind,
    redactAnthropicSecrets(raw),
    provider,
    errorOptions(status, headers, input.model),
  );
}

/** Turns the payload of an `event: error` met inside a stream into an UpstreamError. */
export function fromAnthropicStreamError(
  err: AntErrorObject | undefined,
  provider: string,
  model?: string,
): UpstreamError {
  const e = err ?? {};
  const message = redactAnthropicSecrets(
    typeof e.message === "string" && e.message !== "" ? e.message : "error in stream",
  );
  return new UpstreamError(
    classifyAnthropicError(e),
    message,
    provider,
    model === undefined ? {} : { model },
  );
}
