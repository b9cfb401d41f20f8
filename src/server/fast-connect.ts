// The Connect protocol's unary and server-streaming calls (POST, JSON or proto, uncompressed request)
// served without Connect's generic machinery: read the body, decode, call the same handler table as
// the router (routes.ts), encode (compressed as Connect would, fast-compression.ts), write. Proven
// equal to Connect's handler by test/server/fast-differential.test.ts. Anything else — a compressed
// request, GET, an unknown protocol version, a bad timeout header, a malformed envelope (handed back
// once read) — goes to Connect, which answers it itself.
import {
  type DescMessage,
  fromBinary,
  fromJsonString,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import type { Compression } from "@connectrpc/connect/protocol";
import {
  codeToHttpStatus,
  endStreamToJson,
  errorToJsonBytes,
  parseTimeout,
} from "@connectrpc/connect/protocol-connect";
import type { CallContext } from "../gateway/context.js";
import { decodeJson } from "../lib/json-decoder.js";
import { jsonEncoder } from "../lib/json-encoder.js";
import type { Logger } from "../lib/logger.js";
import type { FastPath } from "./adapter.js";
import { isGone, type NodeResponse, readBody } from "./bridge.js";
import { toConnectError } from "./errors.js";
import { COMPRESS_MIN_BYTES, negotiate, squeeze } from "./fast-compression.js";
import {
  capDeadline,
  envelope,
  framed,
  logUnexpected,
  nodeCallContext,
  pump,
  unenvelope,
} from "./fast-shared.js";
import { binaryDecodeError, decodeError, jsonUtf8ConnectError, tooLarge } from "./request-errors.js";
import { requestIdFrom } from "./request-id.js";
import type { StreamMethod, UnaryMethod } from "./routes.js";

const UNARY_JSON = /^application\/json(?:; ?charset=utf-?8)?$/i;
const UNARY_PROTO = "application/proto";
const STREAM_JSON = /^application\/connect\+json(?:; ?charset=utf-?8)?$/i;
const STREAM_PROTO = "application/connect+proto";
const READ_JSON = { ignoreUnknownFields: false } as const;

/** A message from its bytes, or the INVALID_REQUEST error naming what is wrong. */
function decode<I extends DescMessage>(
  schema: I,
  bytes: Buffer,
  json: boolean,
): MessageShape<I> | ConnectError {
  // Invalid UTF-8 is refused naming the field, not replaced (one native check over a JSON body).
  const bad = json ? jsonUtf8ConnectError(bytes) : undefined;
  if (bad) return bad;
  try {
    return json
      ? decodeJson(schema, bytes.toString("utf8"), (t) => fromJsonString(schema, t, READ_JSON))
      : fromBinary(schema, bytes);
  } catch (e: unknown) {
    return json
      ? decodeError(e instanceof Error ? e.message : String(e), [bytes])
      : binaryDecodeError(schema, bytes, e);
  }
}

/**
 * Sends a unary answer, compressed as Connect would (fast-compression.ts); `headers` are built in
 * Connect's precedence (later keys win), the length comes last.
 */
function sendUnary(
  res: NodeResponse,
  status: number,
  headers: Record<string, string>,
  body: Uint8Array | string,
  comp: Compression | undefined,
): void | Promise<void> {
  const send = (bytes: Uint8Array | string, size: number) => {
    headers["content-length"] = String(size);
    if (isGone(res)) return;
    res.writeHead(status, headers);
    res.end(bytes);
  };
  const size = typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
  // Uncompressed (the usual case): written in this tick, no promise.
  if (!comp || size < COMPRESS_MIN_BYTES) return send(body, size);
  return squeeze(comp, body).then((out) => {
    headers["content-encoding"] = comp.name;
    send(out.bytes, out.bytes.byteLength);
  });
}

function sendUnaryError(
  res: NodeResponse,
  e: unknown,
  rid: string,
  comp: Compression | undefined,
  extra?: Record<string, string>,
): void | Promise<void> {
  const err = toConnectError(e);
  // As Connect: the call's headers, then content-type, then the error's metadata over them.
  const headers: Record<string, string> = {
    "x-request-id": rid,
    ...extra,
    "content-type": "application/json",
  };
  err.metadata.forEach((v, k) => {
    headers[k] = v;
  });
  return sendUnary(res, codeToHttpStatus(err.code), headers, errorToJsonBytes(err, undefined), comp);
}

/** The end-stream message of a stream that ended well: always the same bytes. */
const END_OK = envelope(2, JSON.stringify(endStreamToJson(new Headers(), undefined, undefined)));

async function endStream(
  res: NodeResponse,
  error: ConnectError | undefined,
  comp: Compression | undefined,
): Promise<void> {
  if (!error) return void res.end(END_OK);
  const out = await squeeze(comp, JSON.stringify(endStreamToJson(new Headers(), error, undefined)));
  if (!isGone(res)) res.end(envelope(out.compressed ? 3 : 2, out.bytes));
}

async function serveUnary(
  m: UnaryMethod,
  input: MessageShape<DescMessage>,
  res: NodeResponse,
  json: boolean,
  cc: CallContext,
  log: Logger,
  comp: Compression | undefined,
) {
  let body: Uint8Array | string;
  try {
    const out = await m.serve(input, cc);
    body = json ? jsonEncoder(m.output)(out) : toBinary(m.output, out);
  } catch (e: unknown) {
    if (isGone(res)) return;
    logUnexpected(log, m.name, e);
    return sendUnaryError(res, e, cc.requestId, comp, cc.responseHeaders);
  }
  const ct = json ? "application/json" : UNARY_PROTO;
  return sendUnary(
    res,
    200,
    { "content-type": ct, "x-request-id": cc.requestId, ...cc.responseHeaders },
    body,
    comp,
  );
}

/** Streams a server-streaming call's messages, then the end-stream message (with any error). */
function serveStream(
  m: StreamMethod,
  input: MessageShape<DescMessage>,
  res: NodeResponse,
  json: boolean,
  cc: CallContext,
  log: Logger,
  comp: Compression | undefined,
): Promise<void> {
  const encode = json ? jsonEncoder(m.output) : (msg: MessageShape<DescMessage>) => toBinary(m.output, msg);
  return pump(
    m.name,
    m.serve(input, cc),
    res,
    {
      head: () => cc.onResponseHeaders?.({}),
      frame: (msg) => framed(comp, encode(msg)),
      end: (error) => endStream(res, error, comp),
    },
    log,
  );
}

/**
 * Returns a function that serves the request and returns true when it is a Connect unary or
 * server-streaming call it handles, or returns false (having touched nothing) to let Connect do it.
 */
export function createFastConnect(
  methods: ReadonlyMap<string, UnaryMethod>,
  streams: ReadonlyMap<string, StreamMethod>,
  maxRequestBytes: number,
  log: Logger,
): FastPath {
  return (req, res, handBack) => {
    if (req.method !== "POST") return false;
    const path = req.url ?? "";
    const unary = methods.get(path);
    const stream = unary ? undefined : streams.get(path);
    if (!unary && !stream) return false;
    const ct = req.headers["content-type"] ?? "";
    const json = unary ? UNARY_JSON.test(ct) : STREAM_JSON.test(ct);
    if (!json && ct !== (unary ? UNARY_PROTO : STREAM_PROTO)) return false;
    const enc = req.headers[unary ? "content-encoding" : "connect-content-encoding"];
    if (enc !== undefined && enc !== "identity") return false;
    // The answer is compressed as Connect would (fast-compression.ts).
    const comp = negotiate(req.headers[unary ? "accept-encoding" : "connect-accept-encoding"]);
    const version = req.headers["connect-protocol-version"];
    if (version !== undefined && version !== "1") return false;
    const t = req.headers["connect-timeout-ms"];
    const timeout = parseTimeout(typeof t === "string" ? t : null, Number.MAX_SAFE_INTEGER);
    if (timeout.error) return false;
    const deadlineMs = capDeadline(timeout.timeoutMs);

    const rid = requestIdFrom(req.headers["x-request-id"] as string | undefined);
    // A stream's headers go out once the pipeline has decided on limits (x-ratelimit-*), or with
    // the first message or the end, whichever comes first.
    const streamHead = (extra?: Record<string, string>) => {
      if (res.headersSent) return;
      res.writeHead(200, {
        "content-type": json ? "application/connect+json" : STREAM_PROTO,
        ...(comp ? { "connect-content-encoding": comp.name } : {}),
        "x-request-id": rid,
        ...extra,
      });
    };
    void readBody(req, maxRequestBytes).then((r) => {
      const fail = (e: ConnectError) => {
        if (unary) return void sendUnaryError(res, e, rid, comp);
        streamHead();
        void endStream(res, e, comp);
      };
      if (!r.ok) {
        if (!r.aborted) fail(tooLarge(r.size, maxRequestBytes));
        return;
      }
      // Reset with its body (HEADERS + DATA + RST_STREAM at once): nobody to answer, nothing to run.
      if (isGone(res)) return;
      const payload = unary ? r.bytes : unenvelope(r.bytes);
      if (!payload) return handBack(r.bytes);
      const m = (unary ?? stream) as UnaryMethod | StreamMethod;
      const input = decode(m.input, payload, json);
      if (input instanceof ConnectError) return fail(input);
      const cc = nodeCallContext(req, res, m.name, rid, deadlineMs);
      if (stream) cc.onResponseHeaders = (h) => streamHead(h);
      return unary
        ? serveUnary(unary, input, res, json, cc, log, comp)
        : serveStream(m as StreamMethod, input, res, json, cc, log, comp);
    });
    return true;
  };
}
