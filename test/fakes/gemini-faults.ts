// Helpers for the Gemini fake (gemini.ts): the model-string directive parser, Google's real error
// bodies (google.rpc.Status JSON with details) by status, and the deterministic answers. The
// exchange primitives (pause, kill, ...) are shared with the OpenAI fake.
import { intOf } from "./openai-faults.js";

/** Behaviour requested through the model string: `gemini-2.5-flash+status=429+retry_after=2`. */
export interface GeminiDirectives {
  /** The first token: the model name the fake answers as. */
  base: string;
  status?: number;
  /** 429 with a per-day QuotaFailure (a spent quota, not a rate limit). */
  quota: boolean;
  /** 400 "input token count exceeds the maximum". */
  contextLength: boolean;
  retryAfter?: string;
  failTimes?: number;
  delayMs?: number;
  chunkDelayMs?: number;
  reset: boolean;
  stall: boolean;
  drop?: number;
  tools: boolean;
  /** With tools: two parallel function calls (a Gemini 3 model signs only the first). */
  parallel: boolean;
  length: boolean;
  /** finishReason SAFETY, no content. */
  safety: boolean;
  /** promptFeedback.blockReason, no candidates. */
  blocked: boolean;
  /** thoughtsTokenCount, and thought parts when includeThoughts was asked for. */
  thinking: boolean;
  /** Broken JSON (unary) or a broken SSE event (stream). */
  malformed: boolean;
  /** finishReason MALFORMED_FUNCTION_CALL. */
  malformedCall: boolean;
  unknownFinish: boolean;
  noUsage: boolean;
}

const FLAGS = {
  quota: "quota",
  context_length: "contextLength",
  reset: "reset",
  stall: "stall",
  tools: "tools",
  parallel: "parallel",
  length: "length",
  safety: "safety",
  blocked: "blocked",
  thinking: "thinking",
  malformed: "malformed",
  malformed_call: "malformedCall",
  unknown_finish: "unknownFinish",
  no_usage: "noUsage",
} as const;

/** Parses `base+key+key=value+...`; unknown tokens are ignored. */
export function parseGeminiDirectives(model: string): GeminiDirectives {
  const [base = "", ...tokens] = model.split("+");
  const d: GeminiDirectives = {
    base,
    quota: false,
    contextLength: false,
    reset: false,
    stall: false,
    tools: false,
    parallel: false,
    length: false,
    safety: false,
    blocked: false,
    thinking: false,
    malformed: false,
    malformedCall: false,
    unknownFinish: false,
    noUsage: false,
  };
  for (const token of tokens) {
    const eq = token.indexOf("=");
    const key = eq < 0 ? token : token.slice(0, eq);
    const value = eq < 0 ? undefined : token.slice(eq + 1);
    if (key in FLAGS) d[FLAGS[key as keyof typeof FLAGS]] = true;
    else if (key === "status") d.status = intOf(value);
    else if (key === "retry_after") d.retryAfter = value;
    else if (key === "fail_times") d.failTimes = intOf(value);
    else if (key === "delay") d.delayMs = intOf(value);
    else if (key === "chunk_delay") d.chunkDelayMs = intOf(value);
    else if (key === "drop") d.drop = intOf(value) ?? 0;
  }
  return d;
}

/** With fail_times=N exhausted the call succeeds: every failure directive is switched off. */
export function withoutFailures(d: GeminiDirectives): GeminiDirectives {
  return {
    ...d,
    status: undefined,
    quota: false,
    contextLength: false,
    reset: false,
    stall: false,
    drop: undefined,
    malformed: false,
  };
}

/** google.rpc.Status as the Gemini API renders it. */
export interface GoogleErrorBody {
  error: { code: number; message: string; status: string; details?: Record<string, unknown>[] };
}

function status(code: number, name: string, message: string, details?: Record<string, unknown>[]) {
  const body: GoogleErrorBody = { error: { code, message, status: name } };
  if (details !== undefined) body.error.details = details;
  return body;
}

const HELP = {
  "@type": "type.googleapis.com/google.rpc.Help",
  links: [{ description: "docs", url: "https://ai.google.dev/gemini-api/docs/rate-limits" }],
};

/** What Gemini answers a wrong key with: 400, not 401. */
export function invalidKeyBody(): GoogleErrorBody {
  return status(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", [
    {
      "@type": "type.googleapis.com/google.rpc.ErrorInfo",
      reason: "API_KEY_INVALID",
      domain: "googleapis.com",
      metadata: { service: "generativelanguage.googleapis.com" },
    },
  ]);
}

/** What Gemini answers a request without a key with. */
export function missingKeyBody(): GoogleErrorBody {
  return status(
    403,
    "PERMISSION_DENIED",
    "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
  );
}

export function notFoundBody(model: string, method: string): GoogleErrorBody {
  return status(
    404,
    "NOT_FOUND",
    `models/${model} is not found for API version v1beta, or is not supported for ${method}. Call ListModels to see the list of available models and their supported methods.`,
  );
}

export function badRequestBody(message: string): GoogleErrorBody {
  return status(400, "INVALID_ARGUMENT", message);
}

function quotaBody(perDay: boolean, model: string, retryAfter?: string): GoogleErrorBody {
  const quotaId = perDay
    ? "GenerateRequestsPerDayPerProjectPerModel-FreeTier"
    : "GenerateRequestsPerMinutePerProjectPerModel-FreeTier";
  const details: Record<string, unknown>[] = [
    {
      "@type": "type.googleapis.com/google.rpc.QuotaFailure",
      violations: [
        {
          quotaMetric: "generativelanguage.googleapis.com/generate_content_free_tier_requests",
          quotaId,
          quotaDimensions: { location: "global", model },
          quotaValue: perDay ? "250" : "10",
        },
      ],
    },
    HELP,
  ];
  if (retryAfter !== undefined) {
    details.push({ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: `${retryAfter}s` });
  }
  return status(
    429,
    "RESOURCE_EXHAUSTED",
    "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
    details,
  );
}

/** The status and body a failure directive answers with, or undefined when none applies. */
export function geminiFault(d: GeminiDirectives): { status: number; body: GoogleErrorBody } | undefined {
  if (d.quota) return { status: 429, body: quotaBody(true, d.base, d.retryAfter) };
  if (d.contextLength) {
    return {
      status: 400,
      body: badRequestBody(
        "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
      ),
    };
  }
  if (d.status === undefined) return undefined;
  return { status: d.status, body: errorBodyForStatus(d.status, d) };
}

/** The body Gemini sends with each error status. */
export function errorBodyForStatus(code: number, d: GeminiDirectives): GoogleErrorBody {
  switch (code) {
    case 400:
      return badRequestBody("Invalid value at 'generation_config.temperature' (TYPE_FLOAT), \"hot\"");
    case 401:
      return status(
        401,
        "UNAUTHENTICATED",
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
      );
    case 403:
      return status(403, "PERMISSION_DENIED", "The caller does not have permission");
    case 404:
      return notFoundBody(d.base, "generateContent");
    case 429:
      return quotaBody(false, d.base, d.retryAfter);
    case 500:
      return status(
        500,
        "INTERNAL",
        "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
      );
    case 503:
      return status(503, "UNAVAILABLE", "The model is overloaded. Please try again later.");
    case 504:
      return status(504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete.");
    default:
      return status(code, "UNKNOWN", `The fake was asked to fail with status ${code}.`);
  }
}

// ---- content ----

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `body[a][b]...`, undefined where a step is missing. */
export function path(body: unknown, ...keys: (string | number)[]): unknown {
  let cur: unknown = body;
  for (const k of keys) {
    if (typeof k === "number") cur = Array.isArray(cur) ? cur[k] : undefined;
    else cur = isRecord(cur) ? cur[k] : undefined;
  }
  return cur;
}

function textOfParts(parts: unknown): string {
  if (!Array.isArray(parts)) return "";
  return parts.map((p) => (isRecord(p) && typeof p["text"] === "string" ? p["text"] : "")).join("");
}

/** The text of the last user turn that has text (function-response turns are skipped). */
export function lastUserText(reqBody: unknown): string {
  const contents = path(reqBody, "contents");
  if (!Array.isArray(contents)) return "";
  for (let i = contents.length - 1; i >= 0; i--) {
    const c: unknown = contents[i];
    const text = textOfParts(path(c, "parts"));
    if (path(c, "role") !== "model" && text !== "") return text;
  }
  return "";
}

/** Prompt tokens, chars / 4 over every text part (system instruction included). */
export function promptTokenCount(reqBody: unknown): number {
  const contents = path(reqBody, "contents");
  let chars = textOfParts(path(reqBody, "systemInstruction", "parts")).length;
  if (Array.isArray(contents)) for (const c of contents) chars += textOfParts(path(c, "parts")).length;
  return Math.max(1, Math.ceil(chars / 4));
}

/** The name of the request's first function declaration, or `get_weather`. */
export function firstFunctionName(reqBody: unknown): string {
  const name = path(reqBody, "tools", 0, "functionDeclarations", 0, "name");
  return typeof name === "string" ? name : "get_weather";
}

/** Whether the request asked for thought parts. */
export function wantsThoughts(reqBody: unknown): boolean {
  return path(reqBody, "generationConfig", "thinkingConfig", "includeThoughts") === true;
}

export const TOOL_ARGS = { city: "Paris" };
export const THOUGHT = "The user said something; I will echo it.";
export const THOUGHT_TOKENS = 12;

/** The finishReason a directive set answers with. */
export function finishOf(d: GeminiDirectives): string {
  if (d.unknownFinish) return "SOMETHING_NEW";
  if (d.malformedCall) return "MALFORMED_FUNCTION_CALL";
  if (d.safety) return "SAFETY";
  return d.length ? "MAX_TOKENS" : "STOP";
}

export const SAFETY_RATINGS = [
  { category: "HARM_CATEGORY_SEXUALLY_EXPLICIT", probability: "NEGLIGIBLE" },
  { category: "HARM_CATEGORY_HATE_SPEECH", probability: "NEGLIGIBLE" },
  { category: "HARM_CATEGORY_HARASSMENT", probability: "NEGLIGIBLE" },
  { category: "HARM_CATEGORY_DANGEROUS_CONTENT", probability: "HIGH", blocked: true },
];
