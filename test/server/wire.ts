// Raw HTTP/1.1 and HTTP/2 clients that see every header, trailer and body byte of an answer, the
// named normalizations two gateways' answers may differ by, and request builders: for
// test/server/fast-differential.test.ts (the fast paths against Connect's own handler).
import http from "node:http";
import http2 from "node:http2";
import { gunzipSync } from "node:zlib";
import { create, type DescMessage, fromBinary, toBinary, toJsonString } from "@bufbuild/protobuf";
import { expect } from "vitest";
import {
  ChatRequestSchema,
  ChatResponseSchema,
  ChatStreamResponseSchema,
  ListModelsResponseSchema,
  Role,
} from "../../gen/llmgateway/v1/llm_pb.js";

/** A gateway to call: its port, and the HTTP/2 session reused across calls. */
export interface Target {
  port: number;
  session?: http2.ClientHttp2Session;
}

/** What a client sees of an answer: every header and trailer (names lowercased), and the body. */
export interface Seen {
  status: number;
  headers: [string, string][];
  trailers: [string, string][];
  body: string;
}

export interface Req {
  path: string;
  headers: Record<string, string>;
  body: Buffer;
  /** The fast path reads it, then hands it to Connect's handler (a malformed envelope). */
  handedBack?: boolean;
  /** The client resets the call after this many body bytes have arrived. */
  cancelAfter?: number;
}

function pairs(raw: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < raw.length; i += 2) out.push([(raw[i] as string).toLowerCase(), raw[i + 1] as string]);
  return out;
}

export function h1(s: Target, r: Req): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port: s.port, method: "POST", path: r.path, headers: r.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        const done = () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: pairs(res.rawHeaders),
            trailers: pairs(res.rawTrailers),
            body: Buffer.concat(chunks).toString("hex"),
          });
        res.on("data", (c: Buffer) => {
          chunks.push(c);
          if (r.cancelAfter !== undefined && Buffer.concat(chunks).length >= r.cancelAfter) {
            req.destroy();
            done();
          }
        });
        res.on("end", done);
      },
    );
    req.on("error", (e) => (r.cancelAfter === undefined ? reject(e) : undefined));
    req.end(r.body);
  });
}

export function h2(s: Target, r: Req): Promise<Seen> {
  s.session ??= http2.connect(`http://127.0.0.1:${s.port}`);
  const st = s.session.request({ ":method": "POST", ":path": r.path, ...r.headers });
  return new Promise((resolve, reject) => {
    const seen: Seen = { status: 0, headers: [], trailers: [], body: "" };
    const chunks: Buffer[] = [];
    const list = (h: http2.IncomingHttpHeaders) =>
      Object.entries(h).flatMap(([k, v]) =>
        (Array.isArray(v) ? v : [String(v)]).map((x): [string, string] => [k, x]),
      );
    st.on("response", (h) => {
      seen.status = Number(h[":status"]);
      seen.headers = list(h).filter(([k]) => k !== ":status");
    });
    st.on("trailers", (t) => {
      seen.trailers = list(t);
    });
    st.on("data", (c: Buffer) => {
      chunks.push(c);
      if (r.cancelAfter !== undefined && Buffer.concat(chunks).length >= r.cancelAfter)
        st.close(http2.constants.NGHTTP2_CANCEL);
    });
    st.on("close", () => resolve({ ...seen, body: Buffer.concat(chunks).toString("hex") }));
    st.on("error", (e) => (r.cancelAfter === undefined ? reject(e) : undefined));
    st.end(r.body);
  });
}

/** The response schema of each path, to read binary bodies (timings inside them differ). */
const OUTPUT: Record<string, DescMessage> = {
  "/llmgateway.v1.LLMService/Chat": ChatResponseSchema,
  "/llmgateway.v1.LLMService/ChatStream": ChatStreamResponseSchema,
  "/llmgateway.v1.LLMService/ListModels": ListModelsResponseSchema,
};

/** Binary messages as JSON text (deterministic: the same message always encodes the same). */
export function readable(path: string, ct: string, body: Buffer): string {
  const schema = OUTPUT[path];
  const binary = /proto|grpc/.test(ct);
  const enveloped = /connect|grpc/.test(ct);
  if (!schema || !(binary || enveloped) || body.length === 0) return body.toString("latin1");
  const msg = (b: Buffer) => (binary ? toJsonString(schema, fromBinary(schema, b)) : b.toString("latin1"));
  if (!enveloped) return msg(body);
  const out: string[] = [];
  for (let i = 0; i + 5 <= body.length; ) {
    const flags = body[i] as number;
    const len = body.readUInt32BE(i + 1);
    const framed = body.subarray(i + 5, i + 5 + len);
    const payload = flags & 1 ? gunzipSync(framed) : framed;
    out.push(`[${flags}]${flags & 0x82 ? payload.toString("latin1") : msg(payload)}`);
    i += 5 + len;
  }
  return out.join("");
}

/**
 * What may differ between two gateways answering the same request, each named:
 * - `date`: the clock;
 * - header order: HTTP gives it no meaning, and Connect builds its headers in another order;
 * - `content-length`: checked against the body on each side, then dropped (the timings below
 *   change the body's length);
 * - timings measured per call in the body (`latencyMs`, `upstreamLatencyMs`, `durationMs`), the
 *   mock's per-call answer id (`mock-N`), and the time left of a deadline in its error message
 *   (Connect and the fast path read the clock a moment apart): replaced by N;
 * - a binary body is compared as its messages in JSON, a stream as its envelopes' flags and
 *   messages (so the timings can be replaced);
 * - a request id the gateway generated (the client sent none): each process counts its own;
 * - `x-ratelimit-reset-*`: the time left until a bucket refills, read off the clock.
 */
export function normalize(path: string, s: Seen): Seen {
  const rid = s.headers.find(([k]) => k === "x-request-id")?.[1] ?? "rid-diff";
  const t = (x: string) =>
    x
      .replaceAll(rid, "RID")
      .replace(/mock-\d+/g, "mock-N")
      .replace(/"(latencyMs|upstreamLatencyMs)":[\d.e-]+/g, '"$1":N')
      .replace(/,"durationMs":\d+/g, "")
      .replace(/deadline(%20| )of(%20| )\d+(%20| )ms/g, "deadline of N ms");
  const body = Buffer.from(s.body, "hex");
  const len = s.headers.find(([k]) => k === "content-length");
  if (len) expect(Number(len[1]), "content-length is the body's length").toBe(body.length);
  const ct = s.headers.find(([k]) => k === "content-type")?.[1] ?? "";
  // A compressed answer is compared inflated (its timings differ; the bytes then do too).
  const zipped = s.headers.some(([k, v]) => k === "content-encoding" && v === "gzip");
  const keep = (l: [string, string][]) =>
    l
      .filter(([k]) => k !== "date" && k !== "content-length")
      .map(([k, v]): [string, string] => [
        k,
        k.startsWith("x-ratelimit-reset-")
          ? "N"
          : k === "grpc-status-details-bin"
            ? t(Buffer.from(v, "base64").toString("latin1"))
            : t(v),
      ])
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return {
    status: s.status,
    headers: keep(s.headers),
    trailers: keep(s.trailers),
    body: t(readable(path, ct, zipped ? gunzipSync(body) : body)),
  };
}

export const CHAT = "/llmgateway.v1.LLMService/Chat";
export const STREAM = "/llmgateway.v1.LLMService/ChatStream";
export const json = (model: string, text = "hi", extra = {}) =>
  Buffer.from(JSON.stringify({ model, messages: [{ role: "ROLE_USER", content: [{ text }] }], ...extra }));
export const proto = (model: string, text = "hi") =>
  Buffer.from(
    toBinary(
      ChatRequestSchema,
      create(ChatRequestSchema, {
        model,
        messages: [{ role: Role.USER, content: [{ part: { case: "text", value: text } }] }],
      }),
    ),
  );
/** Field 999 (varint): not in the schema, kept as an unknown field by the binary reader. */
export const UNKNOWN_FIELD = Buffer.from([0xb8, 0x3e, 0x01]);
export function env(payload: Buffer, flags = 0): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flags;
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

export const RID = { "x-request-id": "rid-diff" };
export const CJ = { ...RID, "content-type": "application/json" };
export const CP = { ...RID, "content-type": "application/proto" };
export const SJ = { ...RID, "content-type": "application/connect+json" };
export const SP = { ...RID, "content-type": "application/connect+proto" };
export const G = { ...RID, "content-type": "application/grpc", te: "trailers" };
export const BIG = "x".repeat(250_000);
