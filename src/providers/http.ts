// The only HTTP client to upstreams: one keep-alive pool per origin (h1-pool.ts), bounded body reads,
// SSE / NDJSON parsing, Retry-After parsing and the default status -> UpstreamErrorKind mapping.

import type { IncomingHttpHeaders } from "node:http";
import { UpstreamError, type UpstreamErrorKind } from "../errors.js";
import type { Signal } from "../lib/cancel.js";
import { exchange, type UpstreamBody, type Wire } from "./exchange.js";
import { H1Pool, type H1PoolOptions } from "./h1-pool.js";

/** Upstream response headers (lower-case names; a repeated one as an array). */
export type HttpHeaders = IncomingHttpHeaders;
/** A response body: it must be read to its end or discarded, or the connection is held. */
export type HttpBody = UpstreamBody;

/** What `request` needs; the body is a string because every provider builds its JSON once. */
export interface HttpRequest {
  url: string;
  method?: "GET" | "POST" | "DELETE";
  headers: Record<string, string>;
  body?: string;
  /** Aborting it cancels the request and destroys the body with the signal's reason. */
  signal: Signal;
  /** Provider name for errors. */
  provider: string;
}

/** An upstream answer whose body the caller must read (readText / parseSSE) or `discard`. */
export interface HttpResponse {
  status: number;
  headers: HttpHeaders;
  body: HttpBody;
}

/** Default cap on a body read into memory; an upstream can never make us buffer more. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

const POOL_OPTIONS: H1PoolOptions = {
  connections: 256,
  keepAliveTimeout: 30_000,
  keepAliveMaxTimeout: 60_000,
  // Last-resort guards only: the pipeline owns deadlines and idle timeouts through the signal.
  headersTimeout: 600_000,
  bodyTimeout: 600_000,
};

const pools = new Map<string, Wire>();
const refs = new Map<string, number>();

function splitUrl(url: string): { origin: string; path: string } {
  const slash = url.indexOf("/", url.indexOf("//") + 2);
  return slash < 0 ? { origin: url, path: "/" } : { origin: url.slice(0, slash), path: url.slice(slash) };
}

function poolFor(origin: string): Wire {
  let pool = pools.get(origin);
  if (pool === undefined) {
    const o = new URL(origin).origin;
    pool = new H1Pool(o, POOL_OPTIONS);
    pools.set(origin, pool);
  }
  return pool;
}

/**
 * Marks an origin as used by a provider; the returned release closes the pool when its last user
 * goes, so two providers on one host share connections and one's close() does not break the other.
 */
export function retainOrigin(url: string): () => Promise<void> {
  const { origin } = splitUrl(url);
  refs.set(origin, (refs.get(origin) ?? 0) + 1);
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    const n = (refs.get(origin) ?? 1) - 1;
    if (n > 0) {
      refs.set(origin, n);
      return;
    }
    refs.delete(origin);
    const pool = pools.get(origin);
    pools.delete(origin);
    await pool?.close();
  };
}

/** Closes every pool (graceful shutdown); in-flight requests finish first. */
export async function closeAll(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  refs.clear();
  await Promise.all(all.map((p) => p.close()));
}

/** Sends one request on the origin's pool; network failures become UpstreamError("network"). */
export async function request(req: HttpRequest): Promise<HttpResponse> {
  const { origin, path } = splitUrl(req.url);
  try {
    return await exchange(
      poolFor(origin),
      {
        path,
        method: req.method ?? (req.body === undefined ? "GET" : "POST"),
        headers: req.headers,
        body: req.body ?? null,
      },
      req.signal,
    );
  } catch (e: unknown) {
    throw networkError(e, req.provider, req.signal);
  }
}

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_DESTROYED",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/**
 * Maps a failure of the HTTP layer to what the caller must throw: the signal's reason untouched
 * when the caller aborted (the pipeline recognises its own timeouts by it), the error itself when
 * already classified, else an UpstreamError ("timeout" for the pool's guards, "network" otherwise).
 */
export function networkError(e: unknown, provider: string, signal?: Signal): unknown {
  if (signal?.aborted) return signal.reason;
  if (e instanceof UpstreamError) return e;
  const code = errorCode(e);
  const detail = e instanceof Error ? e.message : String(e);
  if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") {
    return new UpstreamError("timeout", `upstream timed out (${code})`, provider, { cause: e });
  }
  if (code === "UND_ERR_RES_EXCEEDED_MAX_SIZE") {
    return new UpstreamError("protocol", "upstream response too large", provider, { cause: e });
  }
  const label = code !== undefined && NETWORK_CODES.has(code) ? code : "network error";
  return new UpstreamError("network", `${label}: ${detail}`, provider, { cause: e });
}

function errorCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let depth = 0; depth < 3 && typeof cur === "object" && cur !== null; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === "string") return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Reads a whole body as UTF-8, refusing more than `limit` bytes (the exchange is aborted then). */
export async function readText(
  body: HttpBody,
  provider: string,
  signal?: Signal,
  limit = MAX_BODY_BYTES,
): Promise<string> {
  try {
    return await body.text(limit, provider);
  } catch (e: unknown) {
    throw networkError(e, provider, signal);
  }
}

/**
 * Throws a body away, releasing the connection: nothing to do for a body whose last byte already
 * arrived (a stream read up to its `[DONE]`), else the exchange is aborted.
 */
export function discard(body: HttpBody): void {
  body.discard();
}

/** First value of a header that may repeat. */
export function header(headers: HttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

const SPACES = /\s+/g;

/**
 * The message of an error answer that carries no usable message of its own: "HTTP 503", plus the
 * start of the body (200 characters, whitespace folded) when there is one.
 */
export function statusMessage(status: number, body: string): string {
  return `HTTP ${status}${body === "" ? "" : `: ${body.slice(0, 200).replace(SPACES, " ")}`}`;
}

/**
 * The UpstreamError options every provider reads off an error answer: the status, the wait
 * (`Retry-After` / `retry-after-ms`, else `fallbackRetryMs` from the provider's own body), the
 * `x-should-retry` verdict when the upstream gave one, and the model.
 */
export function errorOptions(
  status: number,
  headers: HttpHeaders,
  model: string | undefined,
  fallbackRetryMs?: number,
): UpstreamError["opts"] {
  const opts: UpstreamError["opts"] = { status };
  const retryAfterMs = parseRetryAfter(headers) ?? fallbackRetryMs;
  if (retryAfterMs !== undefined) opts.retryAfterMs = retryAfterMs;
  const should = header(headers, "x-should-retry");
  if (should === "true") opts.shouldRetry = true;
  else if (should === "false") opts.shouldRetry = false;
  if (model !== undefined) opts.model = model;
  return opts;
}

/** The wait an upstream asked for, in ms: `retry-after-ms`, else `Retry-After` (seconds or date). */
export function parseRetryAfter(headers: HttpHeaders, now = Date.now()): number | undefined {
  const ms = header(headers, "retry-after-ms");
  if (ms !== undefined && ms.trim() !== "") {
    const n = Number(ms);
    if (Number.isFinite(n) && n >= 0) return Math.ceil(n);
  }
  const ra = header(headers, "retry-after")?.trim();
  if (ra === undefined || ra === "") return undefined;
  const seconds = Number(ra);
  if (Number.isFinite(seconds)) return seconds >= 0 ? Math.ceil(seconds * 1000) : undefined;
  const at = Date.parse(ra);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The default HTTP status -> kind table; providers refine it from their error bodies. */
export function classifyStatus(status: number): UpstreamErrorKind {
  switch (status) {
    case 400:
    case 413:
    case 422:
      return "bad_request";
    case 401:
      return "auth";
    case 403:
      return "permission";
    case 404:
      return "not_found";
    case 429:
      return "rate_limited";
    case 408:
    case 409:
      return "unavailable";
    default:
      if (status >= 500) return "unavailable";
      return status >= 400 ? "bad_request" : "protocol";
  }
}

/** One server-sent event. `event` is "message" unless the server named it. */
export interface SSEEvent {
  event: string;
  data: string;
  id?: string;
}

/**
 * Parses a text/event-stream body per the WHATWG rules: LF, CR or CRLF line ends (also split
 * across chunks), `:` comments, multi-line `data`, `event` names. An event left incomplete when
 * the body ends is dropped (the caller sees an interrupted stream, not a truncated event).
 */
export async function* parseSSE(
  body: AsyncIterable<Uint8Array | string>,
  opts: { provider?: string; maxBufferBytes?: number } = {},
): AsyncGenerator<SSEEvent> {
  const max = opts.maxBufferBytes ?? MAX_BODY_BYTES;
  const decoder = new TextDecoder();
  let buf = "";
  let skipLF = false; // the previous chunk ended with CR: a leading LF belongs to it
  let data: string | undefined;
  let event = "";
  let id: string | undefined;
  for await (const chunk of body) {
    buf += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
    let start = 0;
    if (skipLF && buf.charCodeAt(0) === 10) start = 1;
    skipLF = false;
    let lf = buf.indexOf("\n", start);
    let cr = buf.indexOf("\r", start);
    while (lf >= 0 || cr >= 0) {
      const end = lf < 0 ? cr : cr < 0 ? lf : Math.min(lf, cr);
      const line = buf.slice(start, end);
      start = end + 1;
      if (end === cr) {
        if (buf.charCodeAt(start) === 10) start++;
        else if (start === buf.length) skipLF = true;
      }
      if (lf >= 0 && lf < start) lf = buf.indexOf("\n", start);
      if (cr >= 0 && cr < start) cr = buf.indexOf("\r", start);
      if (line === "") {
        if (data !== undefined) {
          yield id === undefined
            ? { event: event || "message", data }
            : { event: event || "message", data, id };
        }
        data = undefined;
        event = "";
        continue;
      }
      if (line.charCodeAt(0) === 58) continue; // ":" comment
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.charCodeAt(0) === 32) value = value.slice(1);
      if (field === "data") data = data === undefined ? value : data + "\n" + value;
      else if (field === "event") event = value;
      else if (field === "id") id = value;
    }
    buf = start === 0 ? buf : buf.slice(start);
    if (buf.length > max || (data?.length ?? 0) > max) {
      throw new UpstreamError("protocol", "event stream line too long", opts.provider ?? "upstream");
    }
  }
}

/** Splits a body into non-empty lines (LF or CRLF), for NDJSON and other line protocols. */
export async function* parseLines(
  body: AsyncIterable<Uint8Array | string>,
  opts: { provider?: string; maxBufferBytes?: number } = {},
): AsyncGenerator<string> {
  const max = opts.maxBufferBytes ?? MAX_BODY_BYTES;
  const decoder = new TextDecoder();
  let buf = "";
  for await (const chunk of body) {
    buf += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n", start)) {
      const end = nl > start && buf.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      if (end > start) yield buf.slice(start, end);
      start = nl + 1;
    }
    buf = start === 0 ? buf : buf.slice(start);
    if (buf.length > max) throw new UpstreamError("protocol", "line too long", opts.provider ?? "upstream");
  }
  buf += decoder.decode();
  const last = buf.trim();
  if (last !== "") yield last;
}

/** NDJSON: one JSON value per line; a line that is not JSON is an UpstreamError("protocol"). */
export async function* parseNDJSON(
  body: AsyncIterable<Uint8Array | string>,
  opts: { provider?: string; maxBufferBytes?: number } = {},
): AsyncGenerator<unknown> {
  for await (const line of parseLines(body, opts)) {
    if (line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e: unknown) {
      throw new UpstreamError(
        "protocol",
        "upstream sent a line that is not JSON",
        opts.provider ?? "upstream",
        {
          cause: e,
        },
      );
    }
    yield value;
  }
}
