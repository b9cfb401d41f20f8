// Our Node adapter for the Connect router (connect-node's connectNodeAdapter on a leaner bridge,
// bridge.ts, plus two things it cannot do): the request size limit answers REQUEST_TOO_LARGE with ErrorInfo on every protocol, and
// a Connect JSON body that fails to decode (unknown field, unknown enum name) gets INVALID_REQUEST
// with a BadRequest violation — both rendered by Connect itself in each protocol's error format.
import { ConnectError, type ConnectRouter, createConnectRouter, type Interceptor } from "@connectrpc/connect";
import type { UniversalServerRequest, UniversalServerResponse } from "@connectrpc/connect/protocol";
import { errorFromJsonBytes, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { parseTimeout as parseGrpcTimeout } from "@connectrpc/connect/protocol-grpc";
import { MAX_TIMER_MS } from "../gateway/scope.js";
import type { Logger } from "../lib/logger.js";
import {
  chunks,
  failing,
  isGone,
  type NodeRequest,
  type NodeResponse,
  once,
  readBody,
  universalRequest,
  writeResponse,
} from "./bridge.js";
import { OFFERED_COMPRESSION } from "./fast-compression.js";
import { binaryUtf8Error, decodeError, strictJsonText, tooLarge } from "./request-errors.js";
import { requestIdFrom } from "./request-id.js";

type NodeHandlerFn = (req: NodeRequest, res: NodeResponse) => void;
type Body = UniversalServerRequest["body"];

/**
 * A fast path: serves the request and returns true, or returns false having touched nothing. Once
 * it has read the body it may still hand the request back (`handBack(bytes)`) for Connect to answer.
 */
export type FastPath = (req: NodeRequest, res: NodeResponse, handBack: (bytes: Buffer) => void) => boolean;

/** Which handler took an RPC request: a fast path, Connect's, or Connect's after a fast path read it. */
export type Served = "fast" | "connect" | "fallback";

/** Every answer carries the request id, also one Connect refused before our handler ran. */
function withRequestId(uRes: UniversalServerResponse, req: NodeRequest): UniversalServerResponse {
  const header = uRes.header ?? new Headers();
  if (!header.has("x-request-id"))
    header.set("x-request-id", requestIdFrom(req.headers["x-request-id"] as string | undefined));
  return { ...uRes, header };
}

/** Options of {@link createConnectHandler}. */
export interface AdapterOptions {
  routes: (router: ConnectRouter) => void;
  maxRequestBytes: number;
  shutdownSignal: AbortSignal;
  fallback: NodeHandlerFn;
  log: Logger;
  /**
   * Serves what it can (returning true) before the generic Connect handler: fast-connect.ts,
   * fast-grpc.ts. Not used at all when `interceptors` are set (the fast paths do not run them).
   */
  fast?: FastPath;
  /** Connect interceptors: every call then goes through Connect's own handler. */
  interceptors?: Interceptor[];
  /** Told which handler took each RPC request (the differential test proves both are hit). */
  onServed?: (by: Served) => void;
}

/** The body, failing with REQUEST_TOO_LARGE as soon as it (or its declared length) passes `max`. */
async function* limited(
  body: AsyncIterable<Uint8Array>,
  max: number,
  declared: number,
  keep: Uint8Array[] | undefined,
): AsyncIterable<Uint8Array> {
  if (declared > max) throw tooLarge(declared, max);
  let n = 0;
  for await (const chunk of body) {
    n += chunk.byteLength;
    if (n > max) throw tooLarge(n, max);
    keep?.push(chunk);
    yield chunk;
  }
}

/** Rewrites Connect's detail-less "cannot decode ... from JSON" 400 into INVALID_REQUEST with a violation. */
async function enrichDecodeError(
  res: UniversalServerResponse,
  request: Uint8Array[],
): Promise<UniversalServerResponse> {
  const chunks: Uint8Array[] = [];
  for await (const c of res.body ?? []) chunks.push(c);
  const bytes = Buffer.concat(chunks);
  let err: ConnectError;
  try {
    err = errorFromJsonBytes(bytes, undefined, new ConnectError("invalid request"));
  } catch {
    return {
      ...res,
      body: (async function* () {
        yield bytes;
      })(),
    };
  }
  if (err.details.length > 0 || !err.rawMessage.startsWith("cannot decode")) {
    return {
      ...res,
      body: (async function* () {
        yield bytes;
      })(),
    };
  }
  const rich = decodeError(err.rawMessage, request);
  const body = errorToJsonBytes(rich, undefined);
  res.header?.set("content-length", String(body.byteLength));
  return {
    ...res,
    body: (async function* () {
      yield body;
    })(),
  };
}

/**
 * Cuts a client deadline header past what a Node timer can wait down to that, before Connect reads
 * it: Connect arms a timer with the value as given, and Node fires a longer one after 1 ms (the call
 * failed DEADLINE_EXCEEDED at once). The pipeline then cuts every deadline at the server's own limit
 * for the call (request_ms / max_stream_ms).
 */
function capDeadlineHeaders(h: Headers): void {
  const c = h.get("connect-timeout-ms");
  if (c !== null && /^\d{1,10}$/.test(c) && Number(c) > MAX_TIMER_MS) {
    h.set("connect-timeout-ms", String(MAX_TIMER_MS));
  }
  const g = h.get("grpc-timeout");
  const ms = g === null ? undefined : parseGrpcTimeout(g, Number.MAX_SAFE_INTEGER).timeoutMs;
  if (ms !== undefined && ms > MAX_TIMER_MS) h.set("grpc-timeout", `${Math.floor(MAX_TIMER_MS / 1000)}S`);
}

/** Builds the Node request handler serving every route on gRPC, gRPC-Web and Connect. */
export function createConnectHandler(o: AdapterOptions): NodeHandlerFn {
  // A strict text decoder (Connect reads it from jsonOptions): invalid UTF-8 in a JSON body is
  // refused naming the field (request-errors.ts), where the default decoder writes U+FFFD.
  const jsonOptions = { ignoreUnknownFields: false, textDecoder: strictJsonText };
  const router = createConnectRouter({
    // Our own limit (above) answers first with a proper reason; Connect's stays as a backstop for
    // compressed messages that grow when inflated.
    readMaxBytes: o.maxRequestBytes + 64 * 1024,
    jsonOptions,
    shutdownSignal: o.shutdownSignal,
    acceptCompression: OFFERED_COMPRESSION,
    // A backstop: capDeadlineHeaders already cut any longer client deadline to this.
    maxTimeoutMs: MAX_TIMER_MS,
    interceptors: o.interceptors ?? [],
  });
  const fast = o.interceptors?.length ? undefined : o.fast;
  o.routes(router);
  const paths = new Map(router.handlers.map((h) => [h.requestPath, h]));
  const max = o.maxRequestBytes;
  type Handler = NonNullable<ReturnType<typeof paths.get>>;
  /** Serves a call on Connect's handler; `raw`: its single request message's bytes, read already. */
  const serve = (
    req: NodeRequest,
    res: NodeResponse,
    handler: Handler,
    body: Body,
    raw: Buffer | undefined,
  ) => {
    const ct = req.headers["content-type"] ?? "";
    const connectJson = req.method === "POST" && ct.startsWith("application/json");
    const connectUnary = connectJson || (req.method === "POST" && ct.startsWith("application/proto"));
    const u = universalRequest(req, res, body);
    capDeadlineHeaders(u.header);
    // Our own limit answered already: Connect must not re-check the declared length against its own.
    if (raw === undefined && body !== undefined) u.header.delete("content-length");
    return handler(u)
      .then((uRes) => (raw && connectJson && uRes.status === 400 ? enrichDecodeError(uRes, [raw]) : uRes))
      .then((uRes) => writeResponse(withRequestId(uRes, req), res, connectUnary))
      .catch((reason: unknown) => {
        if (isGone(res) || ConnectError.from(reason).code === 10 /* Aborted: the client went away */) return;
        o.log.error(
          {
            rpc: `${handler.service.typeName}/${handler.method.name}`,
            err: reason instanceof Error ? reason.message : String(reason),
          },
          "handler failed",
        );
      });
  };
  /** Serves a single-message call whose body is read (bounded) on Connect's handler. */
  const serveRead = (req: NodeRequest, res: NodeResponse, handler: Handler, bytes: Buffer) => {
    const ct = req.headers["content-type"] ?? "";
    // Connect would answer invalid UTF-8 in a binary message INTERNAL, naming nothing.
    const bad = ct.startsWith("application/json")
      ? undefined
      : binaryUtf8Error(handler.method.input, req.headers, bytes, max);
    if (bad) return void serve(req, res, handler, failing(bad), undefined);
    void serve(req, res, handler, once(bytes), bytes);
  };
  return (req, res) => {
    const url = req.url ?? "";
    const q = url.indexOf("?");
    const handler = paths.get(q < 0 ? url : url.slice(0, q));
    // A fast path hands back a request it read but will not answer (a malformed envelope, say):
    // Connect's handler answers it, so the two never differ.
    const handBack = (bytes: Buffer) => {
      o.onServed?.("fallback");
      if (handler) serveRead(req, res, handler, bytes);
    };
    if (fast?.(req, res, handBack)) {
      o.onServed?.("fast");
      return;
    }
    if (!handler) {
      o.fallback(req, res);
      return;
    }
    o.onServed?.("connect");
    const kind = handler.method.methodKind;
    if (kind === "unary" || kind === "server_streaming") {
      // One request message: read it whole (bounded), no stream machinery.
      void readBody(req, max).then((r) => {
        if (!r.ok) {
          if (!r.aborted) void serve(req, res, handler, failing(tooLarge(r.size, max)), undefined);
          return;
        }
        // Reset with its body (HEADERS + DATA + RST_STREAM at once): nobody to answer, nothing to run.
        if (isGone(res)) return;
        serveRead(req, res, handler, r.bytes);
      });
      return;
    }
    const body = limited(chunks(req), max, Number(req.headers["content-length"] ?? 0), undefined);
    void serve(req, res, handler, body, undefined);
  };
}
