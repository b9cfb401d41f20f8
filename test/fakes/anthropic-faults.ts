// Helpers for the Anthropic fake (anthropic.ts): the model-string directive parser and Anthropic's
// real error bodies by status (the answers are in anthropic-answers.ts).
import { randomBytes } from "node:crypto";
import { type Exchange, writeJson } from "./fake-server.js";
import { intOf } from "./openai-faults.js";

/** Behaviour requested through the model string: `claude-x+status=529+retry_after=2`. */
export interface AnthropicDirectives {
  /** The first token: the model name the fake answers as. */
  base: string;
  status?: number;
  retryAfter?: string;
  failTimes?: number;
  delayMs?: number;
  chunkDelayMs?: number;
  reset: boolean;
  stall: boolean;
  drop?: number;
  tools: boolean;
  length: boolean;
  refusal: boolean;
  thinking: boolean;
  malformed: boolean;
  unknownStop: boolean;
  promptTooLong: boolean;
  /** Stream: an `event: error` (overloaded_error) after the first delta. */
  streamError: boolean;
  /** Stream: the body ends cleanly without message_stop. */
  noStop: boolean;
  /** Usage reports prompt-cache reads and writes (fixed numbers; cache_control has real ones). */
  cache: boolean;
  /** With thinking on, the answer holds a redacted_thinking block too. */
  redacted: boolean;
}

const FLAGS = {
  reset: "reset",
  stall: "stall",
  tools: "tools",
  length: "length",
  refusal: "refusal",
  thinking: "thinking",
  malformed: "malformed",
  unknown_stop: "unknownStop",
  prompt_too_long: "promptTooLong",
  stream_error: "streamError",
  no_stop: "noStop",
  cache: "cache",
  redacted: "redacted",
} as const;

/** Parses `claude-x+status=429+retry_after=2`; unknown tokens are ignored. */
export function parseAnthropicDirectives(model: string): AnthropicDirectives {
  const [base = "", ...tokens] = model.split("+");
  const d = { base } as AnthropicDirectives;
  for (const flag of Object.values(FLAGS)) d[flag] = false;
  for (const token of tokens) {
    const eq = token.indexOf("=");
    const key = eq < 0 ? token : token.slice(0, eq);
    const value = eq < 0 ? undefined : token.slice(eq + 1);
    if (key === "status") d.status = intOf(value);
    else if (key === "retry_after") d.retryAfter = value;
    else if (key === "fail_times") d.failTimes = intOf(value);
    else if (key === "delay") d.delayMs = intOf(value);
    else if (key === "chunk_delay") d.chunkDelayMs = intOf(value);
    else if (key === "drop") d.drop = intOf(value) ?? 0;
    else if (key in FLAGS) d[FLAGS[key as keyof typeof FLAGS]] = true;
  }
  return d;
}

/** With fail_times=N exhausted the call succeeds: every failure directive is switched off. */
export function withoutAnthropicFailures(d: AnthropicDirectives): AnthropicDirectives {
  return {
    ...d,
    status: undefined,
    reset: false,
    stall: false,
    drop: undefined,
    malformed: false,
    promptTooLong: false,
    streamError: false,
    noStop: false,
  };
}

/** Anthropic's error body. */
export interface AnthropicErrorBody {
  type: "error";
  error: { type: string; message: string };
  request_id: string;
}

/** A request id as Anthropic shapes them. */
export function requestId(): string {
  return `req_fake${randomBytes(10).toString("hex")}`;
}

/** An error body of the given type. */
export function errorBody(type: string, message: string): AnthropicErrorBody {
  return { type: "error", error: { type, message }, request_id: requestId() };
}

/** Anthropic's documented error type and a real message for each status. */
const STATUS_ERRORS: Record<number, [string, string]> = {
  400: ["invalid_request_error", "temperature: range: 0..1"],
  401: ["authentication_error", "invalid x-api-key"],
  402: ["billing_error", "Your credit balance is too low to access the Anthropic API."],
  403: ["permission_error", "Your API key does not have permission to use the specified resource."],
  413: ["request_too_large", "Request exceeds the maximum allowed number of bytes."],
  429: [
    "rate_limit_error",
    "This request would exceed the rate limit for your organization of 50 requests per minute.",
  ],
  500: ["api_error", "Internal server error"],
  504: ["timeout_error", "Request timed out"],
  529: ["overloaded_error", "Overloaded"],
};

/** The body Anthropic sends with an error status. */
export function errorForStatus(status: number, model: string): AnthropicErrorBody {
  if (status === 404) return errorBody("not_found_error", `model: ${model}`);
  const [type, message] = STATUS_ERRORS[status] ?? [
    "api_error",
    `The fake was asked to fail with status ${status}.`,
  ];
  return errorBody(type, message);
}

/** The error a failure directive answers with, or undefined when none applies. */
export function anthropicFault(
  d: AnthropicDirectives,
): { status: number; body: AnthropicErrorBody } | undefined {
  if (d.promptTooLong) {
    return {
      status: 400,
      body: errorBody("invalid_request_error", "prompt is too long: 215000 tokens > 200000 maximum"),
    };
  }
  return d.status === undefined ? undefined : { status: d.status, body: errorForStatus(d.status, d.base) };
}

/** Response headers Anthropic sends on every answer. */
export function anthropicHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return { "request-id": requestId(), "anthropic-organization-id": "org-fake", ...extra };
}

/** Writes a JSON answer (unless the client already left). */
export function sendAnthropicJson(
  ex: Exchange,
  status: number,
  payload: unknown,
  headers: Record<string, string> = {},
): void {
  writeJson(ex, status, payload, anthropicHeaders(headers));
}
