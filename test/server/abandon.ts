// Calls a client abandons at a chosen step, on raw sockets: HTTP/2 streams reset with RST_STREAM
// (CANCEL) before the body, together with it, after the response headers or mid-stream, on gRPC,
// Connect and gRPC-Web; HTTP/1.1 sockets destroyed the same way (REST and Connect).
import { once } from "node:events";
import http2 from "node:http2";
import net from "node:net";
import { gzipSync } from "node:zlib";
import { toBinary } from "@bufbuild/protobuf";
import { ChatRequestSchema } from "../../gen/llmgateway/v1/llm_pb.js";
import { chatReq } from "../e2e/helpers.js";
import { waitFor } from "../helpers/wait.js";

/** The protocols on HTTP/2; the `-gzip` ones and gRPC-Web take Connect's generic handler, not a fast path. */
export type Wire = "grpc" | "grpc-gzip" | "connect" | "connect-gzip" | "grpc-web";
export const WIRES: readonly Wire[] = ["grpc", "grpc-gzip", "connect", "connect-gzip", "grpc-web"];

/**
 * When the client leaves: with only part of the body sent; with the whole message (HEADERS + DATA +
 * RST_STREAM read together; "-ended": the DATA carried END_STREAM; "-split": the RST_STREAM read
 * after the request, as node:http2's client sends `end()` + `close()` from one tick); once the
 * answer's headers arrived; once the first message arrived (or, "mid-burst", in the middle of a
 * long burst); or (unary) once the provider has the request.
 */
export type Step =
  | "before-body"
  | "with-body"
  | "with-body-ended"
  | "with-body-split"
  | "after-headers"
  | "mid-stream"
  | "mid-burst"
  | "during-call";

/** A call ready to send: its path, headers and body bytes. */
export interface RawCall {
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

function envelope(flags: number, payload: Uint8Array | string): Buffer {
  const body = Buffer.from(payload);
  const out = Buffer.alloc(5 + body.length);
  out[0] = flags;
  out.writeUInt32BE(body.length, 1);
  body.copy(out, 5);
  return out;
}

const SVC = "/llmgateway.v1.LLMService/";

/** A Connect-JSON ChatRequest. */
export function chatJson(model: string, text: string): string {
  return JSON.stringify({ model, messages: [{ role: "ROLE_USER", content: [{ text }] }] });
}

/** A Chat (unary) or ChatStream call in `wire`, with extra headers (key, request id, deadline). */
export function rpcCall(
  wire: Wire,
  stream: boolean,
  model: string,
  text: string,
  extra: Record<string, string>,
): RawCall {
  const path = SVC + (stream ? "ChatStream" : "Chat");
  const bin = toBinary(ChatRequestSchema, chatReq(model, text));
  const json = chatJson(model, text);
  const h = (headers: Record<string, string>, body: Buffer): RawCall => ({
    path,
    headers: { ...headers, ...extra },
    body,
  });
  switch (wire) {
    case "grpc":
      return h({ "content-type": "application/grpc", te: "trailers" }, envelope(0, bin));
    case "grpc-gzip":
      return h(
        { "content-type": "application/grpc", te: "trailers", "grpc-encoding": "gzip" },
        envelope(1, gzipSync(bin)),
      );
    case "grpc-web":
      return h({ "content-type": "application/grpc-web+proto", "x-grpc-web": "1" }, envelope(0, bin));
    case "connect":
      return stream
        ? h({ "content-type": "application/connect+json" }, envelope(0, json))
        : h({ "content-type": "application/json" }, Buffer.from(json));
    case "connect-gzip":
      return stream
        ? h(
            { "content-type": "application/connect+json", "connect-content-encoding": "gzip" },
            envelope(1, gzipSync(json)),
          )
        : h({ "content-type": "application/json", "content-encoding": "gzip" }, gzipSync(json));
  }
}

/** An HPACK integer with a 7-bit prefix (RFC 7541 section 5.1). */
function hpackInt(n: number): number[] {
  if (n < 127) return [n];
  const out = [127];
  let v = n - 127;
  for (; v >= 128; v = Math.floor(v / 128)) out.push((v % 128) + 128);
  out.push(v);
  return out;
}

/** A header block of literal fields without indexing, no Huffman coding: any HPACK decoder reads it. */
function hpack(headers: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(headers)) {
    const value = Buffer.from(v);
    parts.push(
      Buffer.from([0, ...hpackInt(k.length)]),
      Buffer.from(k),
      Buffer.from(hpackInt(value.length)),
      value,
    );
  }
  return Buffer.concat(parts);
}

/** One HTTP/2 frame (RFC 9113 section 4.1). */
function frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream, 5);
  return Buffer.concat([head, payload]);
}

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
const [DATA, HEADERS, RST_STREAM, SETTINGS, PING] = [0, 1, 3, 4, 6];
const END_STREAM = 1;
const END_HEADERS = 4;
const CANCEL = Buffer.from([0, 0, 0, 8]);

/** How the raw client leaves: DATA with END_STREAM or not; RST_STREAM in the same write or after. */
export interface RawReset {
  /** The DATA frame ends the stream (a complete request); node:http2's `end()` + `close()` does not. */
  endStream: boolean;
  /** The RST_STREAM goes only once the server has read HEADERS + DATA (a PING answered between). */
  split: boolean;
}

/**
 * Opens a raw HTTP/2 connection and sends each call's HEADERS and DATA, then RST_STREAM (CANCEL) —
 * in the same write (the server reads them together) or, `split`, once the server has read the
 * request (node:http2's client sends the reset in a write of its own like that). Resolves, with a
 * way to close the connection, once a PING sent after the resets is answered: all were read.
 */
export async function resetWithBodies(port: number, calls: RawCall[], how: RawReset): Promise<() => void> {
  const sock = net.connect(port, "127.0.0.1");
  sock.on("error", () => {});
  await once(sock, "connect");
  let got = Buffer.alloc(0);
  sock.on("data", (c: Buffer) => {
    got = Buffer.concat([got, c]);
  });
  const pinged = async (frames: Buffer[], tag: string) => {
    const ping = Buffer.from(tag.padEnd(8, "_").slice(0, 8));
    sock.write(Buffer.concat([...frames, frame(PING, 0, 0, ping)]));
    await waitFor(() => got.includes(ping), { what: `the server to answer the PING after ${tag}` });
  };
  const requests = [PREFACE, frame(SETTINGS, 0, 0, Buffer.alloc(0))];
  const resets: Buffer[] = [];
  calls.forEach((c, i) => {
    const id = 2 * i + 1;
    const head = { ":method": "POST", ":scheme": "http", ":path": c.path, ":authority": "localhost" };
    requests.push(frame(HEADERS, END_HEADERS, id, hpack({ ...head, ...c.headers })));
    requests.push(frame(DATA, how.endStream ? END_STREAM : 0, id, c.body));
    resets.push(frame(RST_STREAM, 0, id, CANCEL));
  });
  if (how.split) {
    await pinged(requests, "requests");
    await pinged(resets, "resets");
  } else await pinged([...requests, ...resets], "all");
  return () => sock.destroy();
}

/** The raw resets behind the "with-body" steps. */
const RAW: Partial<Record<Step, RawReset>> = {
  "with-body": { endStream: false, split: false },
  "with-body-ended": { endStream: true, split: false },
  "with-body-split": { endStream: false, split: true },
};

/**
 * Sends `call` and abandons it at `step`; resolves once the stream is closed. `upstreamSaw` tells
 * when the provider has the request (for "during-call"). The "with-body" steps go raw, on a
 * connection of their own (resetWithBodies); the others on `session`.
 */
export async function resetAt(
  session: http2.ClientHttp2Session,
  port: number,
  call: RawCall,
  step: Step,
  upstreamSaw: () => boolean,
): Promise<void> {
  const raw = RAW[step];
  if (raw) {
    const close = await resetWithBodies(port, [call], raw);
    close();
    return;
  }
  const s = session.request({ ":method": "POST", ":path": call.path, ...call.headers }, { endStream: false });
  s.on("error", () => {});
  const closed = once(s, "close");
  const cancel = () => s.close(http2.constants.NGHTTP2_CANCEL);
  if (step === "before-body") {
    s.write(call.body.subarray(0, 3));
    cancel();
  } else {
    s.end(call.body);
    if (step === "after-headers") await once(s, "response");
    else if (step === "mid-stream" || step === "mid-burst") await once(s, "data");
    else await waitFor(upstreamSaw, { what: "the provider to get the request" });
    cancel();
  }
  await closed;
}

/** An HTTP/1.1 request as bytes. */
export function h1Request(path: string, headers: Record<string, string>, body: Buffer): Buffer {
  const head = [`POST ${path} HTTP/1.1`, "host: localhost", `content-length: ${body.length}`];
  for (const [k, v] of Object.entries(headers)) head.push(`${k}: ${v}`);
  return Buffer.concat([Buffer.from(`${head.join("\r\n")}\r\n\r\n`), body]);
}

/**
 * Sends an HTTP/1.1 request on a fresh socket and destroys the socket at `step`; resolves once it is
 * closed. "after-headers" / "mid-stream" wait for the answer's head / its first body bytes.
 */
export async function destroyAt(
  port: number,
  request: Buffer,
  bodyLength: number,
  step: Step,
  upstreamSaw: () => boolean,
): Promise<void> {
  const sock = net.connect(port, "127.0.0.1");
  sock.on("error", () => {});
  await once(sock, "connect");
  const closed = once(sock, "close");
  let got = Buffer.alloc(0);
  sock.on("data", (c: Buffer) => {
    got = Buffer.concat([got, c]);
  });
  if (step === "before-body") {
    sock.write(request.subarray(0, request.length - bodyLength + 3));
    await waitFor(() => sock.writableLength === 0, { what: "the request head to leave" });
    sock.destroy();
  } else if (step === "with-body") {
    sock.write(request, () => sock.destroy());
  } else {
    sock.write(request);
    const headEnd = () => got.indexOf("\r\n\r\n");
    if (step === "after-headers") await waitFor(() => headEnd() >= 0, { what: "the answer's head" });
    else if (step === "mid-stream") {
      const body = () => headEnd() >= 0 && got.length > headEnd() + 4;
      await waitFor(body, { what: "the first answer bytes" });
    } else await waitFor(upstreamSaw, { what: "the provider to get the request" });
    sock.destroy();
  }
  await closed;
}
