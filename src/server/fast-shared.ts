// What the Connect and gRPC fast paths (fast-connect.ts, fast-grpc.ts) share, and the REST door
// too: envelopes, the streaming pump with backpressure, and the CallContext of a Node request.

import { ConnectError } from "@connectrpc/connect";
import type { Compression } from "@connectrpc/connect/protocol";
import { presentedKey } from "../auth/keys.js";
import { GatewayError } from "../errors.js";
import type { CallContext } from "../gateway/context.js";
import { MAX_TIMER_MS } from "../gateway/scope.js";
import type { Logger } from "../lib/logger.js";
import { clientGone, flush, isGone, type NodeRequest, type NodeResponse, write } from "./bridge.js";
import { toConnectError } from "./errors.js";
import { squeeze } from "./fast-compression.js";
import { clientCertNames } from "./tls.js";

/** The 5-byte envelope of a Connect stream message: flags, then the big-endian length. */
export function envelope(flags: number, payload: Uint8Array | string): Buffer {
  const body = typeof payload === "string" ? Buffer.from(payload) : payload;
  const out = Buffer.allocUnsafe(5 + body.byteLength);
  out[0] = flags;
  out.writeUInt32BE(body.byteLength, 1);
  out.set(body, 5);
  return out;
}

/**
 * The single message of a server-streaming (or gRPC) request: one uncompressed envelope, exactly.
 * Anything else is handed back to Connect's handler, which answers it in its own words.
 */
export function unenvelope(bytes: Buffer): Buffer | undefined {
  if (bytes.length < 5 || bytes[0] !== 0) return undefined;
  return bytes.length === 5 + bytes.readUInt32BE(1) ? bytes.subarray(5) : undefined;
}

export function logUnexpected(log: Logger, rpc: string, e: unknown): void {
  if (e instanceof ConnectError || e instanceof GatewayError) return;
  log.error({ rpc, err: e instanceof Error ? e.message : String(e) }, "handler failed");
}

/** A message's envelope, compressed when Connect would compress it. */
export function framed(
  comp: Compression | undefined,
  payload: Uint8Array | string,
): Buffer | Promise<Buffer> {
  if (!comp) return envelope(0, payload);
  return squeeze(comp, payload).then((o) => envelope(o.compressed ? 1 : 0, o.bytes));
}

/** How a streamed answer is framed: headers before the first message, each message, the end. */
export interface StreamFraming<M> {
  head(): void;
  /** The message's bytes on the wire (a promise while they are being compressed). */
  frame(message: M): Uint8Array | string | Promise<Uint8Array>;
  /** Ends the answer with the call's outcome (undefined = success). */
  end(error: ConnectError | undefined): void | Promise<void>;
}

/** ChatStream's `start`: written together with the first content, never alone. */
function isStreamStart(message: unknown): boolean {
  return (message as { event?: { case?: unknown } }).event?.case === "start";
}

/**
 * Writes each message of a call as it comes (with backpressure), then ends the answer with the
 * call's status; a client gone mid-way ends it silently. Shared by the Connect and gRPC fast paths.
 * Messages written in one tick go out in one write (corked until the next tick), except a stream's
 * `start` and the first content after it: that pair is flushed at once, so the first token does
 * not wait for the rest of a burst to be translated.
 */
export async function pump<M>(
  name: string,
  messages: AsyncIterable<M>,
  res: NodeResponse,
  framing: StreamFraming<M>,
  log: Logger,
): Promise<void> {
  let error: ConnectError | undefined;
  let held = false;
  try {
    for await (const msg of messages) {
      if (isGone(res)) return; // leaving the loop ends the call (its generator's finally)
      if (!res.headersSent) framing.head();
      const f = framing.frame(msg);
      const chunk = typeof f === "object" && "then" in f ? await f : f;
      if (isGone(res)) return;
      const wait = write(res, chunk, true);
      const holds = isStreamStart(msg);
      if (held && !holds) flush(res);
      held = holds;
      if (wait) await wait;
    }
  } catch (e: unknown) {
    logUnexpected(log, name, e); // a bug is worth a line even when the client has gone
    error = toConnectError(e);
  }
  if (isGone(res)) return;
  framing.head();
  await framing.end(error);
}

/**
 * The pipeline's view of a call arriving on a Node request (the fast Connect and gRPC paths, the
 * REST door): the client-gone signal, the deadline, the request id, and who is calling — the
 * presented gateway key, the socket peer, X-Forwarded-For and the W3C trace context.
 */
export function nodeCallContext(
  req: NodeRequest,
  res: NodeResponse,
  method: string,
  requestId: string,
  timeoutMs: number | undefined,
): CallContext {
  const h = req.headers;
  return {
    signal: clientGone(req, res),
    timeoutMs,
    requestId,
    method,
    apiKey: presentedKey(one(h.authorization), one(h["x-api-key"])),
    clientCert: clientCertNames(req),
    peerIp: req.socket?.remoteAddress,
    forwardedFor: one(h["x-forwarded-for"]),
    traceparent: one(h["traceparent"]),
    tracestate: one(h["tracestate"]),
  };
}

/** A header that may repeat, as one value. */
function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(", ") : v;
}

/**
 * A client's deadline, at most what a Node timer can wait (a longer one would fire after 1 ms); the
 * pipeline then cuts it at the server's own limit for the call (request_ms / max_stream_ms).
 */
export function capDeadline(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : Math.min(ms, MAX_TIMER_MS);
}
