// A lean bridge between Node's http/http2 servers and Connect's universal handlers, replacing
// connect-node's universalRequestFromNodeRequest / universalResponseToNodeResponse on the hot path:
// request bodies with a single message are read with plain 'data' events (no stream async
// iterator), a unary answer goes out in one write, and a call that completed normally does not
// abort a signal (each abort builds a DOMException). Measured in bench/: see the README.
import type http from "node:http";
import type http2 from "node:http2";
import { createContextKey, createContextValues } from "@connectrpc/connect";
import type { UniversalServerRequest, UniversalServerResponse } from "@connectrpc/connect/protocol";
import { CLIENT_CANCELLED } from "../gateway/scope.js";
import { Cancel } from "../lib/cancel.js";
import { CLIENT_CERT, clientCertNames } from "./tls.js";

/** What both Node servers hand a request listener. */
export type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
export type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

/** The socket peer's address, handed to Connect's handlers as a context value (routes.ts). */
export const PEER_IP = createContextKey<string | undefined>(undefined, { description: "socket peer" });

/** A body read whole, or why it could not be. */
export type ReadResult = { ok: true; bytes: Buffer } | { ok: false; size: number; aborted: boolean };

/**
 * Reads a whole request body, giving up (and discarding the rest) once it passes `max` bytes or
 * its declared length already does.
 */
export function readBody(req: NodeRequest, max: number): Promise<ReadResult> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > max) {
    req.resume();
    return Promise.resolve({ ok: false, size: declared, aborted: false });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (r: ReadResult) => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
      resolve(r);
    };
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > max) {
        done({ ok: false, size, aborted: false });
        req.resume(); // keep reading into nothing so the connection stays usable
        return;
      }
      chunks.push(c);
    };
    const onEnd = () =>
      done({ ok: true, bytes: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size) });
    const onError = () => done({ ok: false, size, aborted: true });
    // A close before `end` is a client gone mid-request. (Not `req.complete`: on HTTP/2 it is true
    // once the stream is reset, and a reset that arrives with the body can precede `end` or leave
    // it never emitted at all — the promise would then never settle.)
    const onClose = () => done({ ok: false, size, aborted: true });
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);
  });
}

/** Node's header object as the Fetch API Headers Connect reads (pseudo-headers skipped). */
export function webHeaders(h: NodeRequest["headers"]): Headers {
  const out = new Headers();
  for (const k in h) {
    if (k.charCodeAt(0) === 58 /* ":" */) continue;
    const v = h[k];
    if (typeof v === "string") out.append(k, v);
    else if (Array.isArray(v)) for (const e of v) out.append(k, e);
  }
  return out;
}

function nodeHeaders(h: Headers | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  h?.forEach((v, k) => {
    out[k] = v;
  });
  return out;
}

/**
 * True once the answer can no longer reach the client: the HTTP/2 stream is closed or reset, or the
 * HTTP/1.1 response or its socket is destroyed. (An Http2ServerResponse has no `destroyed` at all:
 * reading it there is always undefined.) A stream reset together with its request (HEADERS + DATA +
 * RST_STREAM in one read) is already closed when its body's `end` arrives, so `close` listeners
 * attached from then on never run: whoever attaches one checks this first.
 */
export function isGone(res: NodeResponse): boolean {
  if ("stream" in res) return res.stream.destroyed;
  return res.destroyed || (res.socket?.destroyed ?? false);
}

/**
 * The universal request for a Node request. The signal aborts when the client goes away before
 * the response is complete (not after a normal finish: nothing listens then, and aborting costs),
 * or at once when it has already gone.
 */
export function universalRequest(
  req: NodeRequest,
  res: NodeResponse,
  body: UniversalServerRequest["body"],
): UniversalServerRequest {
  const ac = new AbortController();
  const onClose = () => {
    if (!res.writableEnded) ac.abort();
  };
  // HTTP/2: the request's stream closes (also on RST_STREAM); HTTP/1.1: the response closes.
  if (isGone(res)) ac.abort();
  else if ("stream" in req) req.once("close", onClose);
  else res.once("close", onClose);
  const authority = "authority" in req ? req.authority : (req.headers.host ?? "localhost");
  const u: UniversalServerRequest = {
    httpVersion: req.httpVersion,
    method: req.method ?? "",
    url: `http://${authority}${req.url ?? ""}`,
    header: webHeaders(req.headers),
    body,
    signal: ac.signal,
  };
  // Who is calling, for the handler's CallContext (routes.ts): the socket peer and, with mutual
  // TLS, the verified client certificate's names. Never a header a client could set.
  const values = createContextValues().set(PEER_IP, req.socket?.remoteAddress);
  const cert = clientCertNames(req);
  if (cert) values.set(CLIENT_CERT, cert);
  u.contextValues = values;
  return u;
}

/** A one-chunk async iterable (what Connect's stream handlers read a single message from). */
export async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

/** An async iterable that fails at once: lets Connect render `error` in the call's protocol. */
// biome-ignore lint/correctness/useYield: it throws before yielding on purpose
export async function* failing(error: Error): AsyncIterable<Uint8Array> {
  throw error;
}

/** The request body as a stream of chunks (bidi / client streams). */
export async function* chunks(req: NodeRequest): AsyncIterable<Uint8Array> {
  for await (const c of req as AsyncIterable<Buffer>) yield c;
}

/**
 * Writes a universal response. `whole`: the body is one message (Connect unary), sent with the
 * headers in a single write; otherwise chunks are written (and flushed on HTTP/2) as they come.
 */
export async function writeResponse(
  uRes: UniversalServerResponse,
  res: NodeResponse,
  whole: boolean,
): Promise<void> {
  const it = uRes.body?.[Symbol.asyncIterator]();
  try {
    if (whole && it) {
      const parts: Uint8Array[] = [];
      for (let r = await it.next(); !r.done; r = await it.next()) parts.push(r.value);
      const body = parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts);
      const headers = nodeHeaders(uRes.header);
      headers["content-length"] = String(body.byteLength);
      res.writeHead(uRes.status, headers);
      if (uRes.trailer) res.addTrailers(nodeHeaders(uRes.trailer));
      res.end(body);
      return;
    }
    let first = it ? await it.next() : undefined;
    res.writeHead(uRes.status, nodeHeaders(uRes.header));
    const flush = (res as { flush?: () => void }).flush;
    while (first && !first.done) {
      if (isGone(res)) throw new Error("response closed");
      const wait = write(res, first.value);
      if (wait) {
        await wait;
        if (isGone(res)) throw new Error("response closed"); // closed while we waited for drain
      }
      if (typeof flush === "function") flush.call(res);
      first = await (it as AsyncIterator<Uint8Array>).next();
    }
    if (uRes.trailer) res.addTrailers(nodeHeaders(uRes.trailer));
    res.end();
  } catch (e: unknown) {
    void it?.throw?.(e).catch(() => {});
    if (!isGone(res)) res.destroy();
    throw e;
  }
}

/**
 * A cancel signal fired when the client goes away before our end() (HTTP/2: stream closed or
 * reset) — already fired when it has gone before we ask.
 */
export function clientGone(req: NodeRequest, res: NodeResponse): Cancel {
  const gone = new Cancel();
  const onClose = () => {
    if (!res.writableEnded) gone.abort(CLIENT_CANCELLED);
  };
  if (isGone(res)) onClose();
  else if ("stream" in req) req.once("close", onClose);
  else res.once("close", onClose);
  return gone;
}

type Corkable = {
  write(c: Uint8Array | string): boolean;
  cork(): void;
  uncork(): void;
  writableCorked: number;
};

/** Sends what a corked answer holds now (the pending uncork of `write` then finds nothing to do). */
export function flush(res: NodeResponse): void {
  const w = res as unknown as Corkable;
  if (w.writableCorked > 0) w.uncork();
}

/**
 * Writes a chunk of a streamed answer; returns a promise only when the socket is full (resolves on
 * drain or close). Nothing is written, and nothing waited for, once the client has gone: a
 * `close` that already fired would never resolve the wait (callers check `isGone` next). With
 * `cork`, chunks written in the same tick (a `start` and the first delta, a
 * burst of deltas) go out in one write: one syscall, one TCP segment, the delta not behind.
 */
export function write(
  res: NodeResponse,
  chunk: Uint8Array | string,
  cork = false,
): Promise<void> | undefined {
  const w = res as unknown as Corkable;
  if (cork && w.writableCorked === 0) {
    w.cork();
    process.nextTick(() => w.uncork());
  }
  if (isGone(res) || w.write(chunk) || isGone(res)) return undefined;
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.once("drain", done);
    res.once("close", done);
  });
}
