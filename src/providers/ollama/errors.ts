// Ollama failures -> UpstreamError: the status table from http.ts, refined from Ollama's
// `{"error": "..."}` message (missing model, context overflow, busy server).
import { UpstreamError, type UpstreamErrorKind } from "../../errors.js";
import { classifyStatus, errorOptions, type HttpHeaders, statusMessage } from "../http.js";
import type { OllamaErrorBody } from "./wire.js";

const NOT_FOUND = /model ['"]?[^ ]*['"]? not found|not found, try pulling|file does not exist/i;
const CONTEXT = /context (?:length|window)|exceeds (?:the )?(?:maximum )?context|input length exceeds/i;
const BUSY = /server busy|maximum pending requests/i;
const MAX_MESSAGE = 500;

/** Kind of an Ollama error message, refining `base` (from the status, or "unavailable" in a stream). */
export function classifyOllamaError(message: string, base: UpstreamErrorKind): UpstreamErrorKind {
  if (NOT_FOUND.test(message) && (base === "not_found" || base === "bad_request" || base === "unavailable")) {
    return "not_found";
  }
  if (CONTEXT.test(message) && (base === "bad_request" || base === "unavailable")) return "context_length";
  if (BUSY.test(message) && base === "unavailable") return "overloaded";
  return base;
}

function errorMessage(body: string): string | undefined {
  const trimmed = body.trimStart();
  if (!trimmed.startsWith("{")) return undefined;
  try {
    const parsed = JSON.parse(trimmed) as OllamaErrorBody | null;
    return typeof parsed?.error === "string" ? parsed.error : undefined;
  } catch {
    return undefined;
  }
}

/** Everything known about a failed HTTP answer. */
export interface OllamaErrorInput {
  status: number;
  body: string;
  headers: HttpHeaders;
  provider: string;
  model?: string;
}

/** Turns an HTTP error answer into the UpstreamError the pipeline retries / falls back on. */
export function fromOllamaHttpError(input: OllamaErrorInput): UpstreamError {
  const { status, body, headers, provider } = input;
  const msg = errorMessage(body);
  const base = classifyStatus(status);
  const kind = msg === undefined ? base : classifyOllamaError(msg, base);
  const text = msg !== undefined && msg !== "" ? msg : statusMessage(status, body);
  return new UpstreamError(
    kind,
    text.slice(0, MAX_MESSAGE),
    provider,
    errorOptions(status, headers, input.model),
  );
}

/** An `{"error": "..."}` met in a 200 body or on a stream line (no status to go by). */
export function fromOllamaBodyError(message: string, provider: string, model?: string): UpstreamError {
  const kind = classifyOllamaError(message, "unavailable");
  const text = (message || "error in stream").slice(0, MAX_MESSAGE);
  return new UpstreamError(kind, text, provider, model === undefined ? {} : { model });
}
