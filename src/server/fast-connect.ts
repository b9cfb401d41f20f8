// The Connect protocol's unary and server-streaming calls (POST, uncompressed JSON or proto), served
// without Connect's generic machinery: read the body, decode, call the same handler table as the
// router (routes.ts), encode, write. This is the hot path of every Connect and curl client; it costs
// a fraction of the generic handler (bench/README.md has the figures). Anything else — compression,
// GET, an unknown protocol version, a bad timeout header, gRPC, gRPC-Web — goes to Connect, which
// answers it exactly as before.
import { fromBinary, fromJsonString, toBinary, toJsonString } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import {
  codeToHttpStatus,
  endStreamToJson,
  errorToJsonBytes,
  parseTimeout,
} from "@connectrpc/connect/protocol-connect";
import { ClientGone } from "../gateway/context.js";
import { GatewayError } from "../gateway/errors.js";
import type { Logger } from "../telemetry/logger.js";
import { type NodeRequest, type NodeResponse, readBody } from "./bridge.js";
import { toConnectError } from "./errors.js";
import { decodeError, tooLarge } from "./request-errors.js";
import { requestIdFrom, type StreamMethod, type UnaryMethod } from "./routes.js";

const JSON_TYPE = /^application\/json(?:; ?charset=utf-?8)?$/i;
const STREAM_JSON = /^application\/connect\+json(?:; ?charset=utf-?8)?$/i;
const STREAM_PROTO = "application/connect+proto";
const READ_JSON = { ignoreUnknownFields: false } as const;

function sendError(res: NodeResponse, e: unknown, rid: string): void {
  const err = toConnectError(e);
  const body = errorToJsonBytes(err, undefined);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "content-length": String(body.byteLength),
    "x-request-id": rid,
  };
  err.metadata.forEach((v, k) => {
    headers[k] = v;
  });
  res.writeHead(codeToHttpStatus(err.code), headers);
  res.end(body);
}

/** The 5-byte envelope of a Connect stream message: flags, then the big-endian length. */
function envelope(flags: number, payload: Uint8Array | string): Buffer {
  const body = typeof payload === "string" ? Buffer.from(payload) : payload;
  const out = Buffer.allocUnsafe(5 + body.byteLength);
  out[0] = flags;
  out.writeUInt32BE(body.byteLength, 1);
  out.set(body, 5);
  return out;
}

/** The single message of a server-streaming request, or why it is not one. */
function unenvelope(bytes: Buffer): Buffer | string {
  if (bytes.length < 5) return "protocol error: incomplete envelope";
  if (bytes[0] !== 0) return "protocol error: unexpected envelope flags (compression is not negotiated)";
  const len = bytes.readUInt32BE(1);
  if (bytes.length !== 5 + len) return "protocol error: the request must be exactly one message";
  return bytes.subarray(5);
}

function write(res: NodeResponse, chunk: Buffer): Promise<void> | undefined {
  if ((res as { write(c: Buffer): boolean }).write(chunk)) return undefined;
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

/** Streams a server-streaming call's messages, then the end-stream message (with any error). */
async function serveStream(
  m: StreamMethod,
  input: Parameters<StreamMethod["serve"]>[0],
  res: NodeResponse,
  json: boolean,
  cc: Parameters<StreamMethod["serve"]>[1],
  log: Logger,
): Promise<void> {
  res.writeHead(200, {
    "content-type": json ? "application/connect+json" : STREAM_PROTO,
    "x-request-id": cc.requestId,
  });
  let error: ConnectError | undefined;
  try {
    for await (const msg of m.serve(input, cc)) {
      if (res.destroyed) return;
      const wait = write(res, envelope(0, json ? toJsonString(m.output, msg) : toBinary(m.output, msg)));
      if (wait) await wait;
    }
  } catch (e: unknown) {
    if (!(e instanceof ConnectError) && !(e instanceof GatewayError)) {
      log.error({ rpc: m.name, err: e instanceof Error ? e.message : String(e) }, "handler failed");
    }
    error = toConnectError(e);
  }
  if (res.destroyed) return;
  res.end(envelope(2, JSON.stringify(endStreamToJson(new Headers(), error, undefined))));
}

/**
 * Returns a function that serves the request and returns true when it is a Connect unary call it
 and returns true when it is a Connect unary call it
 * handles, or returns false (having touched nothing) to let Connect handle it.
 */
export function createFastConnect(
  methods: ReadonlyMap<string, UnaryMethod>,
  streams: ReadonlyMap<string, StreamMethod>,
  maxRequestBytes: number,
  log: Logger,
): (req: NodeRequest, res: NodeResponse) => boolean {
  const fastStream = (m: StreamMethod, req: NodeRequest, res: NodeResponse): boolean => {
    const ct = req.headers["content-type"] ?? "";
    const json = STREAM_JSON.test(ct);
    if (!json && ct !== STREAM_PROTO) return false;
    const enc = req.headers["connect-content-encoding"];
    if (enc !== undefined && enc !== "identity") return false;
    const timeoutHeader = req.headers["connect-timeout-ms"];
    const timeout = parseTimeout(
      typeof timeoutHeader === "string" ? timeoutHeader : null,
      Number.MAX_SAFE_INTEGER,
    );
    if (timeout.error) return false;
    const rid = requestIdFrom(req.headers["x-request-id"] as string | undefined);
    void readBody(req, maxRequestBytes).then(async (r) => {
      const fail = (e: ConnectError) => {
        res.writeHead(200, {
          "content-type": json ? "application/connect+json" : STREAM_PROTO,
          "x-request-id": rid,
        });
        res.end(envelope(2, JSON.stringify(endStreamToJson(new Headers(), e, undefined))));
      };
      if (!r.ok) {
        if (!r.aborted) fail(tooLarge(r.size, maxRequestBytes));
        return;
      }
      const payload = unenvelope(r.bytes);
      if (typeof payload === "string") return fail(decodeError(payload, []));
      let input: Parameters<StreamMethod["serve"]>[0];
      try {
        input = json
          ? fromJsonString(m.input, payload.toString("utf8"), READ_JSON)
          : fromBinary(m.input, payload);
      } catch (e: unknown) {
        const msg = e instanceof Error ? e.message : String(e);
        return fail(decodeError(msg, json ? [payload] : []));
      }
      const gone = new ClientGone();
      const onClose = () => {
        if (!res.writableEnded) gone.fire();
      };
      if ("stream" in req) req.once("close", onClose);
      else res.once("close", onClose);
      await serveStream(
        m,
        input,
        res,
        json,
        { signal: gone, timeoutMs: timeout.timeoutMs, requestId: rid, method: m.name },
        log,
      );
    });
    return true;
  };
  return (req, res) => {
    if (req.method !== "POST") return false;
    const path = req.url ?? "";
    const sm = streams.get(path);
    if (sm) return fastStream(sm, req, res);
    const m = methods.get(path);
    if (!m) return false;
    const ct = req.headers["content-type"] ?? "";
    const json = JSON_TYPE.test(ct);
    if (!json && ct !== "application/proto") return false;
    const enc = req.headers["content-encoding"];
    if (enc !== undefined && enc !== "identity") return false;
    const version = req.headers["connect-protocol-version"];
    if (version !== undefined && version !== "1") return false;
    const timeoutHeader = req.headers["connect-timeout-ms"];
    const timeout = parseTimeout(
      typeof timeoutHeader === "string" ? timeoutHeader : null,
      Number.MAX_SAFE_INTEGER,
    );
    if (timeout.error) return false;

    const rid = requestIdFrom(req.headers["x-request-id"] as string | undefined);
    void readBody(req, maxRequestBytes).then(async (r) => {
      if (!r.ok) {
        if (!r.aborted) sendError(res, tooLarge(r.size, maxRequestBytes), rid);
        return;
      }
      let input: Parameters<UnaryMethod["serve"]>[0];
      try {
        input = json
          ? fromJsonString(m.input, r.bytes.toString("utf8"), READ_JSON)
          : fromBinary(m.input, r.bytes);
      } catch (e: unknown) {
        const msg = e instanceof Error ? e.message : String(e);
        sendError(
          res,
          json ? decodeError(msg, [r.bytes]) : decodeError(`cannot decode ${m.input.typeName}: ${msg}`, []),
          rid,
        );
        return;
      }
      const gone = new ClientGone();
      const onClose = () => {
        if (!res.writableEnded) gone.fire();
      };
      if ("stream" in req) req.once("close", onClose);
      else res.once("close", onClose);
      try {
        const out = await m.serve(input, {
          signal: gone,
          timeoutMs: timeout.timeoutMs,
          requestId: rid,
          method: m.name,
        });
        const body = json ? toJsonString(m.output, out) : toBinary(m.output, out);
        res.writeHead(200, {
          "content-type": json ? "application/json" : "application/proto",
          "content-length": String(Buffer.byteLength(body)),
          "x-request-id": rid,
        });
        res.end(body);
      } catch (e: unknown) {
        if (res.destroyed) return;
        if (!(e instanceof ConnectError) && !(e instanceof GatewayError)) {
          log.error({ rpc: m.name, err: e instanceof Error ? e.message : String(e) }, "handler failed");
        }
        sendError(res, e, rid);
      }
    });
    return true;
  };
}
