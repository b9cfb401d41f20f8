// The Connect protocol's unary calls (POST, uncompressed application/json or application/proto),
// served without Connect's generic machinery: read the body, decode, call the same handler table as
// the router (routes.ts), encode, one write. This is the hot path of every Connect and curl client;
// it costs a fraction of the generic handler (bench/README.md has the figures). Anything else —
// compression, GET, an unknown protocol version, a bad timeout header — goes to Connect, which
// answers it exactly as before.
import { fromBinary, fromJsonString, toBinary, toJsonString } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { codeToHttpStatus, errorToJsonBytes, parseTimeout } from "@connectrpc/connect/protocol-connect";
import { ClientGone } from "../gateway/context.js";
import { GatewayError } from "../gateway/errors.js";
import type { Logger } from "../telemetry/logger.js";
import { type NodeRequest, type NodeResponse, readBody } from "./bridge.js";
import { toConnectError } from "./errors.js";
import { decodeError, tooLarge } from "./request-errors.js";
import { requestIdFrom, type UnaryMethod } from "./routes.js";

const JSON_TYPE = /^application\/json(?:; ?charset=utf-?8)?$/i;
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

/**
 * Returns a function that serves the request and returns true when it is a Connect unary call it
 * handles, or returns false (having touched nothing) to let Connect handle it.
 */
export function createFastUnary(
  methods: ReadonlyMap<string, UnaryMethod>,
  maxRequestBytes: number,
  log: Logger,
): (req: NodeRequest, res: NodeResponse) => boolean {
  return (req, res) => {
    if (req.method !== "POST") return false;
    const m = methods.get(req.url ?? "");
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
