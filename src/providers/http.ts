// The only HTTP client to upstreams: requests on a provider's undici dispatcher (upstream.ts), bounded
// body reads, failure classification (network / protocol / TLS), Retry-After and status mapping.

import type { IncomingHttpHeaders } from "node:http";
import { errors } from "undici";
import { GatewayError, UpstreamError, type UpstreamErrorKind } from "../errors.js";
import type { Signal } from "../lib/cancel.js";
import { bodyLimits } from "./body-budget.js";
import { exchange, type UpstreamBody } from "./exchange.js";
import { type TransportSettings, Upstream } from "./upstream.js";

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
  /** The provider's transport (openUpstream); a shared direct one with the defaults when absent. */
  upstream?: Upstream;
}

/** An upstream answer whose body the caller must read (readText / parseSSE) or `discard`. */
export interface HttpResponse {
  status: number;
  headers: HttpHeaders;
  body: HttpBody;
}

/** Every open provider transport (for closeAll and the queue gauge). */
const open = new Set<Upstream>();
/** For requests that name no transport (tests, tools): direct, the defaults. */
let shared: Upstream | undefined;

function splitUrl(url: string): { origin: string; path: string } {
  const slash = url.indexOf("/", url.indexOf("//") + 2);
  return slash < 0 ? { origin: url, path: "/" } : { origin: url.slice(0, slash), path: url.slice(slash) };
}

/**
 * A provider's transport: its own connections, proxy, TLS and pool size. The caller closes it
 * (the provider's close()); closing waits for the calls running on it.
 */
export function openUpstream(provider: string, settings: TransportSettings = {}): Upstream {
  const u = new Upstream(provider, settings, process.env, (closed) => open.delete(closed));
  open.add(u);
  return u;
}

/** Per open transport: its provider, calls waiting for a connection and calls running (scrape time). */
export function upstreamLoad(): { provider: string; queued: number; running: number }[] {
  return [...open].map((u) => ({ provider: u.provider, queued: u.queued, running: u.running }));
}

/** Closes every transport (graceful shutdown); in-flight requests finish first. */
export async function closeAll(): Promise<void> {
  const all = [...open];
  if (shared !== undefined) all.push(shared);
  shared = undefined;
  open.clear();
  await Promise.all(all.map((u) => u.close()));
}

function sharedUpstream(): Upstream {
  shared ??= new Upstream("default");
  return shared;
}

/** Sends one request on the provider's transport; failures become UpstreamErrors (networkError). */
export async function request(req: HttpRequest): Promise<HttpResponse> {
  const { origin, path } = splitUrl(req.url);
  const upstream = req.upstream ?? sharedUpstream();
  try {
    return await exchange(
      upstream.dispatcher,
      {
        origin,
        path,
        method: req.method ?? (req.body === undefined ? "GET" : "POST"),
        headers: req.headers,
        body: req.body ?? null,
      },
      req.signal,
      req.provider,
    );
  } catch (e: unknown) {
    throw networkError(upstream.explain(e), req.provider, req.signal);
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

/** undici's wording around llhttp's reason for a parse failure. */
const PARSER_REASON = /^Response does not match the HTTP\/1\.1 protocol \((.*)\)$/;

/** TLS verification failures (OpenSSL's names, as Node reports them): the configuration, not the network. */
const TLS_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "CERT_REVOKED",
  "CERT_SIGNATURE_FAILURE",
  "HOSTNAME_MISMATCH",
  "INVALID_CA",
]);

/**
 * A failure that retrying cannot mend (a broken HTTP answer, a TLS or proxy refusal), as a message
 * naming it; undefined for anything else.
 */
function protocolProblem(e: unknown, code: string | undefined, detail: string): string | undefined {
  // llhttp's verdict (undici 7.30 leaves its HPE_ code unset): the reason is in the message.
  if (e instanceof errors.HTTPParserError) {
    const reason = PARSER_REASON.exec(detail)?.[1] ?? detail;
    return `upstream sent a malformed HTTP answer (${reason})`;
  }
  // undici's tunnel refusal carries only the generic "aborted" code.
  if (detail.startsWith("Proxy response")) return `proxy refused the tunnel: ${detail}`;
  if (code === undefined) return undefined;
  if (code.startsWith("HPE_")) return `upstream sent a malformed HTTP answer (${code}: ${detail})`;
  switch (code) {
    case "UND_ERR_HEADERS_OVERFLOW":
      return "upstream answer head too large (UND_ERR_HEADERS_OVERFLOW)";
    case "UND_ERR_RES_CONTENT_LENGTH_MISMATCH":
      return "upstream answer does not match its Content-Length (UND_ERR_RES_CONTENT_LENGTH_MISMATCH)";
    case "UND_ERR_RES_EXCEEDED_MAX_SIZE":
      return "upstream response too large";
  }
  if (TLS_CODES.has(code) || code.startsWith("ERR_TLS_") || code.startsWith("ERR_SSL_")) {
    return `upstream TLS failed (${code}): ${detail}`;
  }
  return undefined;
}

/**
 * Maps a failure of the HTTP layer to what the caller must throw: the signal's reason untouched
 * when the caller aborted (the pipeline recognises its own timeouts by it), the error itself when
 * already classified, "protocol" for what a retry cannot mend (framing errors, TLS and proxy
 * refusals: fail fast, no retry), "timeout" for the pool's guards, else "network".
 */
export function networkError(e: unknown, provider: string, signal?: Signal): unknown {
  if (signal?.aborted) return signal.reason;
  if (e instanceof UpstreamError || e instanceof GatewayError) return e; // GATEWAY_OVERLOADED: ours
  const code = errorCode(e);
  const detail = e instanceof Error ? e.message : String(e);
  if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") {
    return new UpstreamError("timeout", `upstream timed out (${code})`, provider, { cause: e });
  }
  const problem = protocolProblem(e, code, detail);
  if (problem !== undefined) return new UpstreamError("protocol", problem, provider, { cause: e });
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

/** The cap on a body read whole: the configured one for answers or embeddings, or a number of bytes. */
export type ReadLimit = "answer" | "embed" | number;

/**
 * Reads a whole body as UTF-8, refusing more than its cap (server.max_answer_bytes unless told;
 * the exchange is aborted then) and more than the process-wide budget (GATEWAY_OVERLOADED).
 */
export async function readText(
  body: HttpBody,
  provider: string,
  signal?: Signal,
  limit: ReadLimit = "answer",
): Promise<string> {
  const l = bodyLimits();
  try {
    if (limit === "answer") return await body.text(l.maxAnswerBytes, provider, "server.max_answer_bytes");
    if (limit === "embed")
      return await body.text(l.maxEmbedAnswerBytes, provider, "server.max_embed_answer_bytes");
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
