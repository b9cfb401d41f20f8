// A real HTTP/1.1 server on loopback speaking the Gemini API (v1beta generateContent, SSE
// streamGenerateContent, embedContent, batchEmbedContents, models list/get, google.rpc error
// bodies), with faults chosen by the model string (`gemini-2.5-flash+status=429`; gemini-faults.ts).
import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import {
  type RecordedRequest as BaseRecordedRequest,
  type BodyInfo,
  crashWith,
  type Exchange,
  type FakeWithCounters,
  recordRequest,
  startFakeServer,
} from "./fake-server.js";
import {
  path as at,
  badRequestBody,
  finishOf,
  firstFunctionName,
  type GeminiDirectives,
  type GoogleErrorBody,
  geminiFault,
  invalidKeyBody,
  lastUserText,
  missingKeyBody,
  notFoundBody,
  parseGeminiDirectives,
  promptTokenCount,
  SAFETY_RATINGS,
  THOUGHT,
  THOUGHT_TOKENS,
  TOOL_ARGS,
  wantsThoughts,
  withoutFailures,
} from "./gemini-faults.js";
import { SignatureBook, signsThoughts } from "./gemini-signatures.js";
import { embeddingVector, kill, killAfterFlush, pause, wordCount, words } from "./openai-faults.js";

/** One request as the fake saw it. */
export interface RecordedRequest extends BaseRecordedRequest {
  /** Path without the query string. */
  path: string;
  /** The raw request target, query included (to assert no key ever travels in it). */
  url: string;
  /** An API key appeared in the URL (`?key=`), as some SDK versions send it. */
  keyInUrl: boolean;
}

function recordGemini(req: IncomingMessage): RecordedRequest {
  const url = req.url ?? "/";
  const parsed = new URL(url, "http://fake");
  const { method, headers, body, aborted, finished } = recordRequest(req);
  return {
    method,
    path: parsed.pathname,
    url,
    keyInUrl: parsed.searchParams.has("key"),
    headers,
    body,
    aborted,
    finished,
  };
}

/** A running fake; `url` is the origin (clients append /v1beta). */
export interface GeminiFake extends FakeWithCounters<RecordedRequest> {
  url: string;
}

/** The models the fake lists; pages hold at most PAGE_CAP of them so pagination is exercised. */
export const FAKE_GEMINI_MODELS = [
  ["gemini-2.5-flash", 1048576, 65536, ["generateContent", "countTokens", "createCachedContent"]],
  ["gemini-2.5-pro", 1048576, 65536, ["generateContent", "countTokens"]],
  ["gemini-2.0-flash-lite", 1048576, 8192, ["generateContent", "countTokens"]],
  ["gemini-embedding-001", 2048, 1, ["embedContent", "countTextTokens"]],
  ["imagen-4.0-generate-001", 480, 8192, ["predict"]],
].map(([id, input, output, methods]) => ({
  name: `models/${id}`,
  version: "001",
  displayName: String(id),
  description: `Fake ${String(id)}`,
  inputTokenLimit: input,
  outputTokenLimit: output,
  supportedGenerationMethods: methods,
}));
const PAGE_CAP = 2;

const SSE_END = "\r\n\r\n";

function sendJson(ex: Exchange, status: number, payload: unknown): void {
  if (ex.closed) return;
  const text = JSON.stringify(payload);
  ex.res.writeHead(status, {
    "content-type": "application/json; charset=UTF-8",
    "content-length": String(Buffer.byteLength(text)),
    "x-goog-fake": "1",
  });
  ex.res.end(text);
}

function sendError(ex: Exchange, body: GoogleErrorBody, headers: Record<string, string> = {}): void {
  if (ex.closed) return;
  const text = JSON.stringify(body, null, 2);
  ex.res.writeHead(body.error.code, { ...headers, "content-type": "application/json; charset=UTF-8" });
  ex.res.end(text);
}

interface Answer {
  text: string;
  thought?: string;
  calls: { name: string; args: Record<string, unknown> }[];
  finish: string;
  usage?: Record<string, number>;
}

function answerFor(d: GeminiDirectives, reqBody: unknown): Answer {
  const prompt = promptTokenCount(reqBody);
  const a: Answer = { text: "", calls: [], finish: finishOf(d) };
  if (d.tools || d.malformedCall) {
    a.calls.push({ name: firstFunctionName(reqBody), args: TOOL_ARGS });
    if (d.parallel) a.calls.push({ name: firstFunctionName(reqBody), args: { city: "Rome" } });
  } else if (!d.safety) a.text = `echo: ${lastUserText(reqBody)}`;
  if (d.thinking && wantsThoughts(reqBody)) a.thought = THOUGHT;
  if (d.noUsage) return a;
  const out = a.calls.length > 0 ? 5 * a.calls.length : wordCount(a.text);
  a.usage = { promptTokenCount: prompt, candidatesTokenCount: out, totalTokenCount: prompt + out };
  if (d.thinking) {
    a.usage["thoughtsTokenCount"] = THOUGHT_TOKENS;
    a.usage["totalTokenCount"] = prompt + out + THOUGHT_TOKENS;
  }
  return a;
}

function candidate(parts: unknown[], finish?: string): Record<string, unknown> {
  const c: Record<string, unknown> = { index: 0 };
  if (parts.length > 0) c["content"] = { parts, role: "model" };
  if (finish !== undefined) c["finishReason"] = finish;
  if (finish === "SAFETY") c["safetyRatings"] = SAFETY_RATINGS;
  return c;
}

function envelope(d: GeminiDirectives, id: string, extra: Record<string, unknown>): Record<string, unknown> {
  return { ...extra, modelVersion: d.base, responseId: id };
}

function blockedPayload(d: GeminiDirectives, reqBody: unknown, id: string): Record<string, unknown> {
  const p = promptTokenCount(reqBody);
  return envelope(d, id, {
    promptFeedback: { blockReason: "SAFETY", safetyRatings: SAFETY_RATINGS },
    ...(d.noUsage ? {} : { usageMetadata: { promptTokenCount: p, totalTokenCount: p } }),
  });
}

/** `part` with a new signature when the model signs (Gemini 3), else as it is. */
type Sign = (part: Record<string, unknown>) => Record<string, unknown>;

function signer(d: GeminiDirectives, book: SignatureBook): Sign {
  return signsThoughts(d.base) ? (part) => ({ ...part, thoughtSignature: book.issue() }) : (part) => part;
}

/** The function call parts: only the first of parallel calls is signed. */
function callParts(a: Answer, sign: Sign): Record<string, unknown>[] {
  return a.calls.map((c, k) => (k === 0 ? sign({ functionCall: c }) : { functionCall: c }));
}

function generate(ex: Exchange, d: GeminiDirectives, reqBody: unknown, id: string, book: SignatureBook) {
  if (d.stall) return;
  let payload: Record<string, unknown>;
  if (d.blocked) payload = blockedPayload(d, reqBody, id);
  else {
    const a = answerFor(d, reqBody);
    const sign = signer(d, book);
    const parts: unknown[] = [];
    if (a.thought !== undefined) parts.push(sign({ text: a.thought, thought: true }));
    if (a.text !== "") parts.push(a.calls.length > 0 ? { text: a.text } : sign({ text: a.text }));
    parts.push(...callParts(a, sign));
    payload = envelope(d, id, {
      candidates: [candidate(parts, a.finish)],
      ...(a.usage ? { usageMetadata: a.usage } : {}),
    });
  }
  if (!d.malformed && d.drop === undefined) return sendJson(ex, 200, payload);
  const text = d.malformed ? `{"candidates": [{"content": {"parts": [{"text": "ech` : JSON.stringify(payload);
  ex.res.writeHead(200, {
    "content-type": "application/json; charset=UTF-8",
    "content-length": String(Buffer.byteLength(text)),
  });
  if (d.malformed) ex.res.end(text);
  else ex.res.write(text.slice(0, Math.floor(text.length / 2)), () => kill(ex, false));
}

async function stream(
  ex: Exchange,
  d: GeminiDirectives,
  reqBody: unknown,
  id: string,
  book: SignatureBook,
): Promise<void> {
  ex.res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  const chunks: Record<string, unknown>[] = [];
  if (d.blocked) chunks.push(blockedPayload(d, reqBody, id));
  else {
    const a = answerFor(d, reqBody);
    const running = a.usage
      ? { promptTokenCount: a.usage["promptTokenCount"], totalTokenCount: a.usage["promptTokenCount"] }
      : undefined;
    const sign = signer(d, book);
    const pieces: unknown[][] = [];
    if (a.thought !== undefined) pieces.push([sign({ text: a.thought, thought: true })]);
    for (const w of words(a.text)) pieces.push([{ text: w }]);
    // A streamed text answer's signature comes last, on an empty text part.
    if (a.text !== "" && a.calls.length === 0 && signsThoughts(d.base)) pieces.push([sign({ text: "" })]);
    if (a.calls.length > 0) pieces.push(callParts(a, sign));
    if (pieces.length === 0 || d.safety) pieces.push([]);
    pieces.forEach((parts, i) => {
      const last = i === pieces.length - 1;
      const usage = last ? a.usage : running;
      chunks.push(
        envelope(d, id, {
          candidates: [candidate(parts, last ? a.finish : undefined)],
          ...(usage ? { usageMetadata: usage } : {}),
        }),
      );
    });
  }
  for (let i = 0; i < chunks.length; i++) {
    if (ex.closed) return;
    if (d.drop !== undefined && i >= d.drop) return killAfterFlush(ex);
    ex.res.write(`data: ${JSON.stringify(chunks[i])}${SSE_END}`);
    if (d.malformed && i === 0) ex.res.write(`data: {"candidates": [{"content":${SSE_END}`);
    if (d.stall) return;
    if (!(await pause(ex, d.chunkDelayMs ?? 0))) return;
  }
  if (d.drop !== undefined) return killAfterFlush(ex);
  if (!ex.closed) ex.res.end();
}

function embedOne(text: string, dims: unknown): { values: number[] } {
  const n = typeof dims === "number" && Number.isInteger(dims) && dims > 0 ? dims : 8;
  return { values: embeddingVector(text, n) };
}

function textParts(content: unknown): string | undefined {
  const parts = at(content, "parts");
  if (!Array.isArray(parts) || parts.length === 0) return undefined;
  return parts
    .map((_, i) => at(parts, i, "text"))
    .filter((t) => typeof t === "string")
    .join(" ");
}

function embeddings(ex: Exchange, method: string, model: string, reqBody: unknown) {
  if (method === "embedContent") {
    const text = textParts(at(reqBody, "content"));
    if (text === undefined)
      return sendError(ex, badRequestBody("* EmbedContentRequest.content: contents is not specified\n"));
    return sendJson(ex, 200, { embedding: embedOne(text, at(reqBody, "outputDimensionality")) });
  }
  const requests = at(reqBody, "requests");
  if (!Array.isArray(requests) || requests.length === 0) {
    return sendError(ex, badRequestBody("* BatchEmbedContentsRequest.requests: requests is not specified\n"));
  }
  const out: { values: number[] }[] = [];
  for (let i = 0; i < requests.length; i++) {
    const r: unknown = requests[i];
    if (at(r, "model") !== `models/${model}`) {
      return sendError(
        ex,
        badRequestBody(
          `* BatchEmbedContentsRequest.requests[${i}].model: model names must match the batch model models/${model}\n`,
        ),
      );
    }
    const text = textParts(at(r, "content"));
    if (text === undefined)
      return sendError(
        ex,
        badRequestBody(`* BatchEmbedContentsRequest.requests[${i}].content: contents is not specified\n`),
      );
    out.push(embedOne(text, at(r, "outputDimensionality")));
  }
  sendJson(ex, 200, { embeddings: out });
}

function listModels(ex: Exchange, query: URLSearchParams): void {
  const size = Math.min(Number(query.get("pageSize")) || 50, PAGE_CAP);
  const start = Number((query.get("pageToken") ?? "p0").slice(1)) || 0;
  const models = FAKE_GEMINI_MODELS.slice(start, start + size);
  const next = start + size < FAKE_GEMINI_MODELS.length ? `p${start + size}` : undefined;
  sendJson(ex, 200, next === undefined ? { models } : { models, nextPageToken: next });
}

/** Starts the fake; with `apiKey` set, requests must carry it (x-goog-api-key or ?key=). */
export async function startGeminiFake(opts: { apiKey?: string } = {}): Promise<GeminiFake> {
  const calls = new Map<string, number>();
  const book = new SignatureBook();

  async function handle(ex: Exchange, body: BodyInfo): Promise<void> {
    const { req, rec } = ex;
    const method = rec.method;
    const parsed = new URL(req.url ?? "/", "http://fake");
    if (body.invalidJson) {
      return sendError(
        ex,
        badRequestBody(
          `Invalid JSON payload received. Unexpected token.\n${String(rec.body).slice(0, 20)}\n^`,
        ),
      );
    }
    if (opts.apiKey !== undefined) {
      const given = req.headers["x-goog-api-key"] ?? parsed.searchParams.get("key") ?? "";
      if (given === "") return sendError(ex, missingKeyBody());
      if (given !== opts.apiKey) return sendError(ex, invalidKeyBody());
    }
    const route = /^\/v1(?:beta)?\/(models(?:\/([^:]+))?)(?::([A-Za-z]+))?$/.exec(parsed.pathname);
    if (route === null)
      return sendError(ex, {
        error: { code: 404, message: `Not found: ${parsed.pathname}`, status: "NOT_FOUND" },
      });
    const model = route[2] === undefined ? undefined : decodeURIComponent(route[2]);
    const verb = route[3];
    if (method === "GET" && model === undefined) return listModels(ex, parsed.searchParams);
    if (method === "GET" && verb === undefined && model !== undefined) {
      const m = FAKE_GEMINI_MODELS.find((x) => x.name === `models/${model}`);
      return m ? sendJson(ex, 200, m) : sendError(ex, notFoundBody(model, "get"));
    }
    const known = ["generateContent", "streamGenerateContent", "embedContent", "batchEmbedContents"];
    if (method !== "POST" || model === undefined || verb === undefined || !known.includes(verb)) {
      return sendError(ex, {
        error: { code: 404, message: `Method not found: ${method} ${parsed.pathname}`, status: "NOT_FOUND" },
      });
    }
    const n = (calls.get(model) ?? 0) + 1;
    calls.set(model, n);
    let d = parseGeminiDirectives(model);
    if (d.failTimes !== undefined && n > d.failTimes) d = withoutFailures(d);
    if (d.delayMs !== undefined && !(await pause(ex, d.delayMs))) return;
    if (ex.closed) return;
    if (d.reset) return kill(ex, true);
    const fault = geminiFault(d);
    if (fault)
      return sendError(ex, fault.body, d.retryAfter === undefined ? {} : { "retry-after": d.retryAfter });
    if (verb === "embedContent" || verb === "batchEmbedContents") {
      return d.stall ? undefined : embeddings(ex, verb, model, rec.body);
    }
    if (!Array.isArray(at(rec.body, "contents"))) {
      return sendError(ex, badRequestBody("* GenerateContentRequest.contents: contents is not specified\n"));
    }
    const badSignature = book.check(rec.body, signsThoughts(d.base));
    if (badSignature !== undefined) return sendError(ex, badSignature);
    const id = randomBytes(9).toString("base64url");
    if (verb === "streamGenerateContent") {
      if (parsed.searchParams.get("alt") !== "sse") {
        return sendError(ex, badRequestBody("the fake only streams with alt=sse"));
      }
      return stream(ex, d, rec.body, id, book);
    }
    return generate(ex, d, rec.body, id, book);
  }

  const server = await startFakeServer(handle, {
    record: recordGemini,
    onCrash: crashWith({ error: { code: 500, message: "fake failed", status: "INTERNAL" } }),
  });
  return {
    ...server,
    url: `http://127.0.0.1:${server.port}`,
    reset() {
      server.reset();
      calls.clear();
      book.clear();
    },
  };
}
