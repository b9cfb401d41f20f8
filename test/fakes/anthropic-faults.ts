// Helpers for the Anthropic fake (anthropic.ts): the model-string directive parser, Anthropic's
// real error bodies by status, and the deterministic answers (echo, tool use, thinking, usage).
import { randomBytes } from "node:crypto";
import { type Exchange, writeJson } from "./fake-server.js";
import { intOf, wordCount, words } from "./openai-faults.js";

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
  /** Usage reports prompt-cache reads and writes. */
  cache: boolean;
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

// ---- answers ----

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Text of a content value: a string, or the text (and tool_result text) of its blocks. */
export function blockText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((b) => {
      if (!isRecord(b)) return "";
      if (b["type"] === "text" && typeof b["text"] === "string") return b["text"];
      if (b["type"] === "tool_result") return blockText(b["content"]);
      return "";
    })
    .join("");
}

/** Field of a JSON object body. */
export function fieldOf(body: unknown, name: string): unknown {
  return isRecord(body) ? body[name] : undefined;
}

/** The block types the fake answers with, in Messages API shape. */
export type AnswerBlock =
  | { type: "text"; text: string }
  | { type: "thinking"; thinking: string; signature: string }
  | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> };

/** A whole answer: blocks, stop_reason and usage. */
export interface AnthropicAnswer {
  blocks: AnswerBlock[];
  stopReason: string;
  usage: Record<string, number>;
}

export const TOOL_INPUT = { city: "Paris" };
export const TOOL_JSON_FRAGMENTS = ['{"', 'city": "', "Paris", '"}'];
export const SIGNATURE = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds";

/** Deterministic answer for a request: echo of the last user text unless a directive says otherwise. */
export function anthropicAnswer(d: AnthropicDirectives, body: unknown, seq: number): AnthropicAnswer {
  const messages = (fieldOf(body, "messages") as unknown[]).filter(isRecord);
  const lastUser = [...messages].reverse().find((m) => m["role"] === "user");
  const said = blockText(lastUser?.["content"]);
  let chars = blockText(fieldOf(body, "system"));
  for (const m of messages) chars += blockText(m["content"]);
  const blocks: AnswerBlock[] = [];
  if (d.thinking) {
    blocks.push({ type: "thinking", thinking: `The user said "${said}". I echo it.`, signature: SIGNATURE });
  }
  let stopReason = d.unknownStop ? "odd_reason" : d.length ? "max_tokens" : "end_turn";
  if (d.refusal) {
    blocks.push({ type: "text", text: "I can't help with that." });
    stopReason = "refusal";
  } else if (d.tools) {
    const tools = fieldOf(body, "tools");
    const first: unknown = Array.isArray(tools) ? tools[0] : undefined;
    const name = isRecord(first) && typeof first["name"] === "string" ? first["name"] : "get_weather";
    blocks.push({ type: "text", text: "Let me check." });
    blocks.push({ type: "tool_use", id: `toolu_fake${seq}`, name, input: TOOL_INPUT });
    if (!d.length && !d.unknownStop) stopReason = "tool_use";
  } else {
    blocks.push({ type: "text", text: d.length ? `echo: ${said}`.slice(0, 8) : `echo: ${said}` });
  }
  const text = blocks.map((b) => (b.type === "text" ? b.text : "")).join("");
  const usage: Record<string, number> = {
    input_tokens: Math.ceil(chars.length / 4),
    cache_creation_input_tokens: d.cache ? 20 : 0,
    cache_read_input_tokens: d.cache ? 100 : 0,
    output_tokens: wordCount(text) + (d.tools ? TOOL_JSON_FRAGMENTS.length : 0) + (d.thinking ? 8 : 0),
  };
  return { blocks, stopReason, usage };
}

/** Anthropic's own 400 for a Messages body it refuses, or undefined when the body is acceptable. */
export function validateMessages(body: unknown): string | undefined {
  const model = fieldOf(body, "model");
  if (typeof model !== "string" || model === "") return "model: Field required";
  const maxTokens = fieldOf(body, "max_tokens");
  if (typeof maxTokens !== "number" || !Number.isInteger(maxTokens) || maxTokens < 1) {
    return "max_tokens: Field required";
  }
  const messages = fieldOf(body, "messages");
  if (!Array.isArray(messages) || messages.length === 0) return "messages: Field required";
  for (const [i, m] of messages.entries()) {
    const role = fieldOf(m, "role");
    if (role !== "user" && role !== "assistant")
      return `messages.${i}.role: Input should be 'user' or 'assistant'`;
  }
  const temperature = fieldOf(body, "temperature");
  if (typeof temperature === "number" && (temperature < 0 || temperature > 1))
    return "temperature: range: 0..1";
  const budget = fieldOf(fieldOf(body, "thinking"), "budget_tokens");
  if (typeof budget === "number" && budget >= maxTokens) {
    return "`max_tokens` must be greater than `thinking.budget_tokens`";
  }
  return undefined;
}

/** The documented event sequence for an answer: [event name, payload] pairs. */
export function anthropicEvents(d: AnthropicDirectives, a: AnthropicAnswer, id: string): [string, unknown][] {
  const out: [string, unknown][] = [];
  const message = { id, type: "message", role: "assistant", content: [], model: d.base };
  const startUsage = { ...a.usage, output_tokens: 1 };
  out.push([
    "message_start",
    {
      type: "message_start",
      message: { ...message, stop_reason: null, stop_sequence: null, usage: startUsage },
    },
  ]);
  a.blocks.forEach((b, index) => {
    const delta = (x: Record<string, unknown>) =>
      ["content_block_delta", { type: "content_block_delta", index, delta: x }] as [string, unknown];
    if (b.type === "text") {
      out.push([
        "content_block_start",
        { type: "content_block_start", index, content_block: { type: "text", text: "" } },
      ]);
      if (index === 0) out.push(["ping", { type: "ping" }]);
      for (const w of words(b.text)) out.push(delta({ type: "text_delta", text: w }));
    } else if (b.type === "thinking") {
      const block = { type: "thinking", thinking: "", signature: "" };
      out.push(["content_block_start", { type: "content_block_start", index, content_block: block }]);
      for (const w of words(b.thinking)) out.push(delta({ type: "thinking_delta", thinking: w }));
      out.push(delta({ type: "signature_delta", signature: SIGNATURE }));
    } else {
      const block = { type: "tool_use", id: b.id, name: b.name, input: {} };
      out.push(["content_block_start", { type: "content_block_start", index, content_block: block }]);
      for (const f of ["", ...TOOL_JSON_FRAGMENTS])
        out.push(delta({ type: "input_json_delta", partial_json: f }));
    }
    out.push(["content_block_stop", { type: "content_block_stop", index }]);
  });
  out.push([
    "message_delta",
    {
      type: "message_delta",
      delta: { stop_reason: a.stopReason, stop_sequence: null },
      usage: { output_tokens: a.usage["output_tokens"] ?? 0 },
    },
  ]);
  if (!d.noStop) out.push(["message_stop", { type: "message_stop" }]);
  return out;
}
