// Helpers for the OpenAI fake (openai.ts): the model-string directive parser, OpenAI's real error
// bodies by status, the deterministic content (echo text, token counts, embedding vectors), and
// the per-exchange primitives (send, pause, kill) the fault directives are built from.
import { createHash, randomBytes } from "node:crypto";
import { type Exchange, writeJson } from "./fake-server.js";

export type { Exchange } from "./fake-server.js";

/** Behaviour requested through the model string: `base+key+key=value+...`. */
export interface Directives {
  /** The first token: the model name the fake answers as. */
  base: string;
  status?: number;
  quota: boolean;
  contextLength: boolean;
  contentFilter: boolean;
  retryAfter?: string;
  retryAfterMs?: string;
  shouldRetry?: string;
  failTimes?: number;
  delayMs?: number;
  /** Pause between stream chunks (extra directive `chunk_delay=MS`). */
  chunkDelayMs?: number;
  /** Pause between `data: [DONE]` and the end of the HTTP answer (`end_delay=MS`). */
  endDelayMs?: number;
  reset: boolean;
  stall: boolean;
  drop?: number;
  emptyChunks: boolean;
  nullContent: boolean;
  length: boolean;
  malformed: boolean;
  noChoices: boolean;
  tools: boolean;
  noUsage: boolean;
}

/** A non-negative integer directive value; undefined when absent or not one. */
export function intOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number.parseInt(value, 10);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** Parses `gpt-4o-mini+status=429+retry_after=2`; unknown tokens are ignored. */
export function parseDirectives(model: string): Directives {
  const [base = "", ...tokens] = model.split("+");
  const d: Directives = {
    base,
    quota: false,
    contextLength: false,
    contentFilter: false,
    reset: false,
    stall: false,
    emptyChunks: false,
    nullContent: false,
    length: false,
    malformed: false,
    noChoices: false,
    tools: false,
    noUsage: false,
  };
  for (const token of tokens) {
    const eq = token.indexOf("=");
    const key = eq < 0 ? token : token.slice(0, eq);
    const value = eq < 0 ? undefined : token.slice(eq + 1);
    switch (key) {
      case "status":
        d.status = intOf(value);
        break;
      case "quota":
        d.quota = true;
        break;
      case "context_length":
        d.contextLength = true;
        break;
      case "content_filter":
        d.contentFilter = true;
        break;
      case "retry_after":
        d.retryAfter = value;
        break;
      case "retry_after_ms":
        d.retryAfterMs = value;
        break;
      case "should_retry":
        d.shouldRetry = value;
        break;
      case "fail_times":
        d.failTimes = intOf(value);
        break;
      case "delay":
        d.delayMs = intOf(value);
        break;
      case "chunk_delay":
        d.chunkDelayMs = intOf(value);
        break;
      case "end_delay":
        d.endDelayMs = intOf(value);
        break;
      case "reset":
        d.reset = true;
        break;
      case "stall":
        d.stall = true;
        break;
      case "drop":
        d.drop = intOf(value) ?? 0;
        break;
      case "empty_chunks":
        d.emptyChunks = true;
        break;
      case "null_content":
        d.nullContent = true;
        break;
      case "length":
        d.length = true;
        break;
      case "malformed":
        d.malformed = true;
        break;
      case "no_choices":
        d.noChoices = true;
        break;
      case "tools":
        d.tools = true;
        break;
      case "no_usage":
        d.noUsage = true;
        break;
      default:
        break;
    }
  }
  return d;
}

/** With fail_times=N exhausted the call succeeds: every failure directive is switched off. */
export function withoutFailures(d: Directives): Directives {
  return {
    ...d,
    status: undefined,
    quota: false,
    contextLength: false,
    contentFilter: false,
    reset: false,
    stall: false,
    drop: undefined,
    malformed: false,
    noChoices: false,
  };
}

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | number | null };
}

function body(message: string, type: string, code: string | number | null, param: string | null = null) {
  return { error: { message, type, param, code } };
}

/** `sk-abc...xyz`, as OpenAI masks a key in its 401 message (never the whole key). */
export function maskKey(key: string): string {
  if (key.length <= 8) return "sk-...";
  return `${key.slice(0, 3)}...${key.slice(-3)}`;
}

export function invalidKeyBody(key: string): OpenAIErrorBody {
  const shown = key === "" ? "" : ` ${maskKey(key)}`;
  return body(
    `Incorrect API key provided:${shown}. You can find your API key at https://platform.openai.com/account/api-keys.`,
    "invalid_request_error",
    "invalid_api_key",
  );
}

export function missingKeyBody(): OpenAIErrorBody {
  return body(
    "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username. You can obtain an API key from https://platform.openai.com/account/api-keys.",
    "invalid_request_error",
    null,
  );
}

export function invalidUrlBody(method: string, path: string): OpenAIErrorBody {
  return body(`Invalid URL (${method} ${path})`, "invalid_request_error", null);
}

export function badJsonBody(): OpenAIErrorBody {
  return body(
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
    "invalid_request_error",
    null,
  );
}

export function missingParamBody(param: string): OpenAIErrorBody {
  return body(
    `Missing required parameter: '${param}'.`,
    "invalid_request_error",
    "missing_required_parameter",
    param,
  );
}

export function modelNotFoundBody(model: string): OpenAIErrorBody {
  return body(
    `The model \`${model}\` does not exist or you do not have access to it.`,
    "invalid_request_error",
    "model_not_found",
  );
}

/** The status and body a failure directive answers with, or undefined when none applies. */
export function faultError(d: Directives): { status: number; body: OpenAIErrorBody } | undefined {
  if (d.quota) {
    return {
      status: 429,
      body: body(
        "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
        "insufficient_quota",
        "insufficient_quota",
      ),
    };
  }
  if (d.contextLength) {
    return {
      status: 400,
      body: body(
        "This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens. Please reduce the length of the messages.",
        "invalid_request_error",
        "context_length_exceeded",
        "messages",
      ),
    };
  }
  if (d.contentFilter) {
    return {
      status: 400,
      body: body(
        "The response was filtered due to the prompt triggering OpenAI's content management policy. Please modify your prompt and retry.",
        "invalid_request_error",
        "content_filter",
        "prompt",
      ),
    };
  }
  if (d.status === undefined) return undefined;
  return { status: d.status, body: errorBodyForStatus(d.status, d.base) };
}

/** The body OpenAI sends with each error status. */
export function errorBodyForStatus(status: number, model: string): OpenAIErrorBody {
  switch (status) {
    case 400:
      return body(
        "Invalid value for 'temperature': expected a number between 0 and 2.",
        "invalid_request_error",
        "invalid_value",
        "temperature",
      );
    case 401:
      return invalidKeyBody("sk-fake-invalid-key-xyz");
    case 403:
      return body(
        "You have insufficient permissions for this operation. Missing scopes: model.request. Check that you have the correct role in your organization (Reader, Writer, Owner) and project (Member, Owner), and if you're using a restricted API key, that it has the necessary scopes.",
        "invalid_request_error",
        "insufficient_permissions",
      );
    case 404:
      return modelNotFoundBody(model);
    case 409:
      return body("The request conflicts with another in progress.", "invalid_request_error", "conflict");
    case 422:
      return body("Unprocessable entity: the request could not be processed.", "invalid_request_error", null);
    case 429:
      return body(
        `Rate limit reached for ${model} in organization org-fake on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s. Visit https://platform.openai.com/account/rate-limits to learn more.`,
        "requests",
        "rate_limit_exceeded",
      );
    case 500:
      return body(
        "The server had an error while processing your request. Sorry about that!",
        "server_error",
        null,
      );
    case 502:
      return body("Bad gateway.", "cf_bad_gateway", 502);
    case 503:
      return body("The server is overloaded or not ready yet.", "server_error", null);
    case 504:
      return body("Gateway timeout.", "cf_gateway_timeout", 504);
    default:
      return body(`The fake was asked to fail with status ${status}.`, "server_error", null);
  }
}

// ---- content ----

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The text of a message's content: a string, or the `text` parts of an array. */
export function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((part) => (isRecord(part) && typeof part["text"] === "string" ? part["text"] : ""))
    .join("");
}

export function messagesOf(reqBody: unknown): Record<string, unknown>[] {
  const messages = isRecord(reqBody) ? reqBody["messages"] : undefined;
  return Array.isArray(messages) ? messages.filter(isRecord) : [];
}

export function lastUserText(messages: Record<string, unknown>[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m?.["role"] === "user") return contentText(m["content"]);
  }
  return "";
}

export function promptTokens(messages: Record<string, unknown>[]): number {
  const chars = messages.reduce((n, m) => n + contentText(m["content"]).length, 0);
  return Math.ceil(chars / 4);
}

/** Splits an answer into stream pieces, each word keeping its trailing space. */
export function words(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

export function wordCount(text: string): number {
  return text.split(/\s+/).filter((w) => w !== "").length;
}

/** The function name of the request's first tool, or `get_weather`. */
export function firstToolName(reqBody: unknown): string {
  const tools = isRecord(reqBody) ? reqBody["tools"] : undefined;
  const first: unknown = Array.isArray(tools) ? tools[0] : undefined;
  const fn = isRecord(first) ? first["function"] : undefined;
  return isRecord(fn) && typeof fn["name"] === "string" ? fn["name"] : "get_weather";
}

export function field(reqBody: unknown, name: string): unknown {
  return isRecord(reqBody) ? reqBody[name] : undefined;
}

export function includeUsage(reqBody: unknown): boolean {
  const so = field(reqBody, "stream_options");
  return isRecord(so) && so["include_usage"] === true;
}

/** Embedding inputs as strings (token arrays are serialised), one per vector. */
export function embeddingInputs(input: unknown): string[] | undefined {
  if (typeof input === "string") return [input];
  if (!Array.isArray(input) || input.length === 0) return undefined;
  if (input.every((x) => typeof x === "number")) return [JSON.stringify(input)];
  return input.map((x) => (typeof x === "string" ? x : JSON.stringify(x)));
}

/** A deterministic unit-length vector of `dims` floats derived from a hash of the text. */
export function embeddingVector(text: string, dims: number): number[] {
  const out: number[] = [];
  let block = 0;
  while (out.length < dims) {
    const digest = createHash("sha256").update(`${block++}:${text}`).digest();
    for (let i = 0; i + 1 < digest.length && out.length < dims; i += 2) {
      out.push((digest.readUInt16BE(i) / 65535) * 2 - 1);
    }
  }
  const norm = Math.sqrt(out.reduce((s, x) => s + x * x, 0)) || 1;
  // Round through float32 so the float and base64 encodings carry the same numbers.
  return out.map((x) => Math.fround(x / norm));
}

export function float32Base64(vector: number[]): string {
  return Buffer.from(new Float32Array(vector).buffer).toString("base64");
}

// ---- exchange primitives and answers ----

export const FINGERPRINT = "fp_fake0001";

export function baseHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return {
    "x-request-id": `req_${randomBytes(16).toString("hex")}`,
    "openai-version": "2020-10-01",
    "openai-organization": "user-fake",
    "openai-processing-ms": "1",
    ...extra,
  };
}

export function retryHeaders(d: Directives): Record<string, string> {
  const h: Record<string, string> = {};
  if (d.retryAfter !== undefined) h["retry-after"] = d.retryAfter;
  if (d.retryAfterMs !== undefined) h["retry-after-ms"] = d.retryAfterMs;
  if (d.shouldRetry !== undefined) h["x-should-retry"] = d.shouldRetry;
  return h;
}

export function sendJson(
  ex: Exchange,
  status: number,
  payload: unknown,
  headers: Record<string, string> = {},
): void {
  writeJson(ex, status, payload, baseHeaders(headers));
}

export function sendError(
  ex: Exchange,
  status: number,
  err: OpenAIErrorBody,
  headers: Record<string, string> = {},
) {
  sendJson(ex, status, err, headers);
}

/** Destroys the connection on purpose: RST for `reset`, a plain close for `drop`. */
export function kill(ex: Exchange, rst: boolean): void {
  ex.killed = true;
  if (rst) ex.req.socket.resetAndDestroy();
  else ex.req.socket.destroy();
}

/** Kills (plain close) once everything written so far has left the socket's buffer. */
export function killAfterFlush(ex: Exchange): void {
  setImmediate(() => {
    const s = ex.req.socket;
    if (ex.closed) return;
    if (s.writableLength === 0) kill(ex, false);
    else s.once("drain", () => kill(ex, false));
  });
}

/** Waits ms; resolves false (early) if the connection closes meanwhile. */
export function pause(ex: Exchange, ms: number): Promise<boolean> {
  if (ex.closed) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onClose = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      ex.res.off("close", onClose);
      resolve(true);
    }, ms);
    ex.res.once("close", onClose);
  });
}

export function usageOf(prompt: number, completion: number) {
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

export const TOOL_ARGS = '{"city":"Paris"}';
export const TOOL_ARG_FRAGMENTS = ['{"', "city", '":"', "Paris", '"}'];

export interface Answer {
  content: string | null;
  tool?: { id: string; name: string };
  finish: "stop" | "length" | "tool_calls";
  promptTokens: number;
  completionTokens: number;
}

export function answerFor(d: Directives, reqBody: unknown, seq: number): Answer {
  const messages = messagesOf(reqBody);
  const finish = d.length ? "length" : d.tools ? "tool_calls" : "stop";
  const prompt = promptTokens(messages);
  if (d.tools) {
    const tool = { id: `call_fake${seq}`, name: firstToolName(reqBody) };
    return { content: null, tool, finish, promptTokens: prompt, completionTokens: TOOL_ARG_FRAGMENTS.length };
  }
  if (d.nullContent) return { content: null, finish, promptTokens: prompt, completionTokens: 0 };
  const content = `echo: ${lastUserText(messages)}`;
  return { content, finish, promptTokens: prompt, completionTokens: wordCount(content) };
}
