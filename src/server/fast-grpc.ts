// gRPC's unary and server-streaming calls (HTTP/2, application/grpc[+proto], uncompressed request)
// served without Connect's generic machinery, on the same handler table as the router (routes.ts):
// read the one enveloped request, decode, call, write enveloped messages (compressed as Connect
// would), end with the grpc-status trailers (details in grpc-status-details-bin, as Connect writes
// them). Proven equal by test/server/fast-differential.test.ts. Anything else — a compressed request,
// JSON codec, a bad grpc-timeout, gRPC-Web, HTTP/1.1, a malformed envelope — goes to Connect.
import { type DescMessage, fromBinary, type MessageShape, toBinary } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { parseTimeout, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import type { CallContext } from "../gateway/context.js";
import type { Logger } from "../lib/logger.js";
import type { FastPath } from "./adapter.js";
import { isGone, type NodeResponse, readBody } from "./bridge.js";
import { negotiate } from "./fast-compression.js";
import { capDeadline, framed, nodeCallContext, pump, unenvelope } from "./fast-shared.js";
import { binaryDecodeError, tooLarge } from "./request-errors.js";
import { requestIdFrom } from "./request-id.js";
import type { StreamMethod, UnaryMethod } from "./routes.js";

function decode<I extends DescMessage>(schema: I, bytes: Buffer): MessageShape<I> | ConnectError {
  try {
    return fromBinary(schema, bytes);
  } catch (e: unknown) {
    return binaryDecodeError(schema, bytes, e); // names a string field with invalid UTF-8
  }
}

/** The grpc-status trailers for `error` (none = OK), as a header object. */
function trailers(error: ConnectError | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  setTrailerStatus(new Headers(), error).forEach((v, k) => {
    out[k] = v;
  });
  return out;
}

/** The trailers of a call that ended well: always the same. */
const OK_TRAILERS = trailers(undefined);

/** A gRPC call being answered: headers once (with what the pipeline set), messages, then trailers. */
class GrpcReply {
  constructor(
    private readonly res: NodeResponse,
    private readonly rid: string,
    private readonly encoding: string | undefined,
  ) {}

  head(extra?: Record<string, string>): void {
    if (this.res.headersSent) return;
    // Connect answers application/grpc+proto to either request type.
    this.res.writeHead(200, {
      "content-type": "application/grpc+proto",
      ...(this.encoding ? { "grpc-encoding": this.encoding } : {}),
      "x-request-id": this.rid,
      ...extra,
    });
  }

  /** Ends the call with its status; the error's metadata (x-ratelimit-*, ...) joins the trailers. */
  end(error: ConnectError | undefined, extra?: Record<string, string>): void {
    if (isGone(this.res)) return;
    this.head(extra);
    const t = error ? trailers(error) : OK_TRAILERS;
    (this.res as unknown as { addTrailers(t: Record<string, string>): void }).addTrailers(t);
    this.res.end();
  }
}

/** A unary call's answer as a stream of one message. */
async function* one(m: UnaryMethod, input: MessageShape<DescMessage>, cc: CallContext) {
  yield await m.serve(input, cc);
}

/**
 * Returns a function that serves the request and returns true when it is a gRPC unary or
 * server-streaming call it handles, or returns false (having touched nothing) to let Connect do it.
 */
export function createFastGrpc(
  methods: ReadonlyMap<string, UnaryMethod>,
  streams: ReadonlyMap<string, StreamMethod>,
  maxRequestBytes: number,
  log: Logger,
): FastPath {
  return (req, res, handBack) => {
    if (req.method !== "POST" || req.httpVersionMajor !== 2) return false;
    const ct = req.headers["content-type"];
    if (ct !== "application/grpc" && ct !== "application/grpc+proto") return false;
    const path = req.url ?? "";
    const unary = methods.get(path);
    const stream = unary ? undefined : streams.get(path);
    if (!unary && !stream) return false;
    const enc = req.headers["grpc-encoding"];
    if (enc !== undefined && enc !== "identity") return false;
    // The answer is compressed as Connect would (fast-compression.ts).
    const comp = negotiate(req.headers["grpc-accept-encoding"]);
    const t = req.headers["grpc-timeout"];
    const timeout = parseTimeout(typeof t === "string" ? t : null, Number.MAX_SAFE_INTEGER);
    if (timeout.error) return false;

    const rid = requestIdFrom(req.headers["x-request-id"] as string | undefined);
    const reply = new GrpcReply(res, rid, comp?.name);
    void readBody(req, maxRequestBytes).then((body) => {
      if (!body.ok) {
        if (!body.aborted) reply.end(tooLarge(body.size, maxRequestBytes));
        return;
      }
      // Reset with its body (HEADERS + DATA + RST_STREAM at once): nobody to answer, nothing to run.
      if (isGone(res)) return;
      const payload = unenvelope(body.bytes);
      if (!payload) return handBack(body.bytes);
      const m = (unary ?? stream) as UnaryMethod | StreamMethod;
      const input = decode(m.input, payload);
      if (input instanceof ConnectError) return reply.end(input);
      const cc = nodeCallContext(req, res, m.name, rid, capDeadline(timeout.timeoutMs));
      if (stream) cc.onResponseHeaders = (h) => reply.head(h);
      const messages = unary ? one(unary, input, cc) : (m as StreamMethod).serve(input, cc);
      return pump(
        m.name,
        messages,
        res,
        {
          head: () => reply.head(cc.responseHeaders),
          frame: (msg) => framed(comp, toBinary(m.output, msg)),
          end: (error) => reply.end(error, cc.responseHeaders),
        },
        log,
      );
    });
    return true;
  };
}
