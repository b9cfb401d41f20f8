// Hugging Face inference failures -> UpstreamError: the status table from http.ts refined from HF's
// `{"error": ..., "estimated_time": s}` bodies (a loading model is unavailable for that long).
import { UpstreamError, type UpstreamErrorKind } from "../../errors.js";
import { classifyStatus, errorOptions, type HttpHeaders, statusMessage } from "../http.js";

/** HF's error body: `error` is a string, sometimes a list of validation messages. */
export interface HFErrorBody {
  error?: string | string[];
  /** Seconds until a cold model is loaded (503 only). */
  estimated_time?: number;
  warnings?: string[];
}

const SECRET = /\bhf_[A-Za-z0-9]{8,}|\bBearer\s+\S+/gi;
const NOT_FOUND = /does not exist|not found|is not supported by|no such model/i;
const TOO_LONG = /less than \d+ tokens|too long|maximum (?:sequence|context) length|exceeds? .*tokens/i;
const LOADING = /loading/i;

/** Removes anything that looks like a credential (hf_..., Bearer ...). */
export function redactHFSecrets(text: string): string {
  return text.replace(SECRET, "[redacted]");
}

function parseBody(body: string): HFErrorBody | undefined {
  if (!body.trimStart().startsWith("{")) return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === "object" && parsed !== null ? (parsed as HFErrorBody) : undefined;
  } catch {
    return undefined;
  }
}

function kindOf(status: number, message: string, loading: boolean): UpstreamErrorKind {
  const base = classifyStatus(status);
  if (status === 402) return "quota"; // "You have exceeded your monthly included credits"
  if (loading) return "unavailable";
  if ((base === "bad_request" || base === "not_found") && TOO_LONG.test(message)) return "context_length";
  if (base === "bad_request" && NOT_FOUND.test(message)) return "not_found";
  return base;
}

/** Everything known about a failed HTTP answer. */
export interface HFErrorInput {
  status: number;
  body: string;
  headers: HttpHeaders;
  provider: string;
  model?: string;
}

/** Turns an HF inference error answer into the UpstreamError the pipeline retries / falls back on. */
export function fromHFHttpError(input: HFErrorInput): UpstreamError {
  const { status, body, headers, provider } = input;
  const parsed = parseBody(body);
  const err = parsed?.error;
  const message = Array.isArray(err) ? err.filter((x) => typeof x === "string").join("; ") : (err ?? "");
  const estimated = typeof parsed?.estimated_time === "number" ? parsed.estimated_time : undefined;
  const loading = status === 503 && (estimated !== undefined || LOADING.test(message));
  const opts = errorOptions(
    status,
    headers,
    input.model,
    estimated !== undefined && estimated >= 0 ? Math.ceil(estimated * 1000) : undefined,
  );
  const text = message !== "" ? message : statusMessage(status, body);
  return new UpstreamError(
    kindOf(status, message, loading),
    redactHFSecrets(text).slice(0, 500),
    provider,
    opts,
  );
}
