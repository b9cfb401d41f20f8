// The load generator's clients. Every HTTP/1.1 target goes through the same undici code, every
// HTTP/2 target through the same node:http2 code; only paths, headers and prebuilt bodies differ,
// so client overhead is identical across the targets that are compared with each other.
import http2, { type ClientHttp2Session, type OutgoingHttpHeaders } from "node:http2";
import { fromBinary } from "@bufbuild/protobuf";
import type { Pool } from "undici";
import { ChatStreamResponseSchema } from "../gen/llmgateway/v1/llm_pb.js";

/** One unary call; resolves with the response body, rejects on any failure. */
export type Unary = () => Promise<Buffer>;
/** One streaming call; resolves with ms from send to the first delta (after draining the rest). */
export type FirstDelta = () => Promise<number>;
/** Fed each response chunk in order; true once the first delta has arrived. */
type Detector = (chunk: Buffer) => boolean;

/** A Connect/gRPC envelope: flags byte, 4-byte big-endian length, message. */
export function envelope(message: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/** Any byte counts (SSE from the upstream or the floor: time to first byte). */
export const firstByte = (): Detector => () => true;

/** Parses envelopes until a ChatStreamResponse whose event is a delta (JSON or binary). */
export function firstConnectDelta(json: boolean): () => Detector {
  return () => {
    let buf: Buffer = Buffer.alloc(0);
    return (chunk) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      while (buf.length >= 5) {
        const len = buf.readUInt32BE(1);
        if (buf.length < 5 + len) return false;
        const flags = buf[0] ?? 0;
        const msg = buf.subarray(5, 5 + len);
        buf = buf.subarray(5 + len);
        if (flags & 0x02) continue; // Connect end-of-stream message
        const isDelta = json
          ? (JSON.parse(msg.toString("utf8")) as { delta?: unknown }).delta !== undefined
          : fromBinary(ChatStreamResponseSchema, msg).event.case === "delta";
        if (isDelta) return true;
      }
      return false;
    };
  };
}

const H1_HEADERS = { "connect-protocol-version": "1", authorization: "Bearer x" };

/** A unary POST over HTTP/1.1 keep-alive. */
export function h1Unary(pool: Pool, path: string, contentType: string, body: string | Buffer): Unary {
  const headers = { ...H1_HEADERS, "content-type": contentType };
  return async () => {
    const res = await pool.request({ path, method: "POST", headers, body });
    const bytes = Buffer.from(await res.body.arrayBuffer());
    if (res.statusCode !== 200) throw new Error(`${path}: HTTP ${res.statusCode}: ${bytes.toString("utf8")}`);
    return bytes;
  };
}

/** A streaming POST over HTTP/1.1: time until `detector` fires. */
export function h1Stream(
  pool: Pool,
  path: string,
  contentType: string,
  body: string | Buffer,
  detector: () => Detector,
): FirstDelta {
  const headers = { ...H1_HEADERS, "content-type": contentType };
  return async () => {
    const t0 = performance.now();
    const res = await pool.request({ path, method: "POST", headers, body });
    const seen = detector();
    let first = -1;
    for await (const chunk of res.body) {
      if (first < 0 && seen(chunk as Buffer)) first = performance.now() - t0;
    }
    if (res.statusCode !== 200 || first < 0) throw new Error(`${path}: HTTP ${res.statusCode}, no delta`);
    return first;
  };
}

/** One HTTP/2 exchange; `onChunk` sees each data chunk, the promise settles at end of stream. */
function h2Exchange(
  session: ClientHttp2Session,
  headers: OutgoingHttpHeaders,
  body: Uint8Array,
  onChunk: (c: Buffer) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers);
    stream.setTimeout(10_000, () => stream.close(http2.constants.NGHTTP2_CANCEL));
    let status = 0;
    let grpcStatus: unknown;
    stream.on("response", (h) => {
      status = Number(h[":status"]);
      grpcStatus = h["grpc-status"];
    });
    stream.on("trailers", (t) => {
      grpcStatus = t["grpc-status"];
    });
    stream.on("data", onChunk);
    stream.on("error", reject);
    // After 'end' this is a no-op; before it (timeout, reset) it fails the call.
    stream.on("close", () =>
      reject(new Error(`${String(headers[":path"])}: stream closed (${stream.rstCode})`)),
    );
    stream.on("end", () => {
      const grpcOk = !String(headers["content-type"]).startsWith("application/grpc") || grpcStatus === "0";
      if (status === 200 && grpcOk) resolve();
      else
        reject(new Error(`${String(headers[":path"])}: HTTP ${status}, grpc-status ${String(grpcStatus)}`));
    });
    stream.end(body);
  });
}

function h2Headers(path: string, contentType: string): OutgoingHttpHeaders {
  const h: OutgoingHttpHeaders = { ":method": "POST", ":path": path, "content-type": contentType };
  if (contentType.startsWith("application/grpc")) h["te"] = "trailers";
  else h["connect-protocol-version"] = "1";
  return h;
}

/** A unary call over HTTP/2 (Connect binary, or gRPC when contentType is application/grpc*). */
export function h2Unary(
  session: ClientHttp2Session,
  path: string,
  contentType: string,
  body: Uint8Array,
): Unary {
  const headers = h2Headers(path, contentType);
  return async () => {
    const parts: Buffer[] = [];
    await h2Exchange(session, headers, body, (c) => parts.push(c));
    return Buffer.concat(parts);
  };
}

/** A server-streaming call over HTTP/2: time until the first delta. */
export function h2Stream(
  session: ClientHttp2Session,
  path: string,
  contentType: string,
  body: Uint8Array,
  detector: () => Detector,
): FirstDelta {
  const headers = h2Headers(path, contentType);
  return async () => {
    const t0 = performance.now();
    const seen = detector();
    let first = -1;
    await h2Exchange(session, headers, body, (c) => {
      if (first < 0 && seen(c)) first = performance.now() - t0;
    });
    if (first < 0) throw new Error(`${path}: no delta`);
    return first;
  };
}
