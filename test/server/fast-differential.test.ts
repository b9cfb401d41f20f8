// The Connect and gRPC fast paths (src/server/fast-connect.ts, fast-grpc.ts) proven equal to
// Connect's own handler: the same raw requests, byte for byte, go to a gateway with the fast paths
// and to one without (startApp's test-only `fastPaths: false`); status, headers, trailers and body
// bytes must match. A counter (`onServed`) proves which handler took each call on each side.
import { mkdtempSync, writeFileSync } from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { gunzipSync, gzipSync } from "node:zlib";
import { create, type DescMessage, fromBinary, toBinary, toJsonString } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ChatRequestSchema,
  ChatResponseSchema,
  ChatStreamResponseSchema,
  ListModelsResponseSchema,
  Role,
} from "../../gen/llmgateway/v1/llm_pb.js";
import { loadConfig } from "../../src/config/index.js";
import { createLogger } from "../../src/lib/logger.js";
import { implementedTypes, presetInfo } from "../../src/providers/index.js";
import type { Served } from "../../src/server/adapter.js";
import { type App, type AppInternals, startApp } from "../../src/server/app.js";
import { waitFor } from "../helpers/wait.js";

interface Side {
  app: App;
  served: Record<Served, number>;
  logs: string[];
  session?: http2.ClientHttp2Session;
}

async function side(internals: AppInternals): Promise<Side> {
  const dir = mkdtempSync(join(tmpdir(), "llmgw-diff-"));
  writeFileSync(join(dir, "c.yaml"), "server:\n  max_request_bytes: 300000\n");
  const config = loadConfig({
    argv: ["--port", "0", "--config", join(dir, "c.yaml")],
    env: {},
    presets: presetInfo,
    implementedTypes,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      for (const l of chunk.toString("utf8").split("\n")) if (l) logs.push(l);
      cb();
    },
  });
  const served = { fast: 0, connect: 0, fallback: 0 };
  const app = await startApp(config, createLogger("info", sink), {
    ...internals,
    onServed: (by) => served[by]++,
  });
  return { app, served, logs };
}

let fast: Side;
let slow: Side;
let intercepted: Side;
let intercepts = 0;
beforeAll(async () => {
  const count: Interceptor = (next) => (req) => {
    intercepts++;
    return next(req);
  };
  [fast, slow, intercepted] = await Promise.all([
    side({}),
    side({ fastPaths: false }),
    side({ interceptors: [count] }),
  ]);
});
afterAll(async () => {
  for (const s of [fast, slow, intercepted]) {
    s?.session?.close();
    await s?.app.shutdown(1000);
  }
});

/** What a client sees of an answer: every header and trailer (names lowercased), and the body. */
interface Seen {
  status: number;
  headers: [string, string][];
  trailers: [string, string][];
  body: string;
}

interface Req {
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

function h1(s: Side, r: Req): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port: s.app.port, method: "POST", path: r.path, headers: r.headers, agent: false },
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

function h2(s: Side, r: Req): Promise<Seen> {
  s.session ??= http2.connect(`http://127.0.0.1:${s.app.port}`);
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
function readable(path: string, ct: string, body: Buffer): string {
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
 * - a request id the gateway generated (the client sent none): each process counts its own.
 */
function normalize(path: string, s: Seen): Seen {
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
        k === "grpc-status-details-bin" ? t(Buffer.from(v, "base64").toString("latin1")) : t(v),
      ])
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return {
    status: s.status,
    headers: keep(s.headers),
    trailers: keep(s.trailers),
    body: t(readable(path, ct, zipped ? gunzipSync(body) : body)),
  };
}

const CHAT = "/llmgateway.v1.LLMService/Chat";
const STREAM = "/llmgateway.v1.LLMService/ChatStream";
const json = (model: string, text = "hi", extra = {}) =>
  Buffer.from(JSON.stringify({ model, messages: [{ role: "ROLE_USER", content: [{ text }] }], ...extra }));
const proto = (model: string, text = "hi") =>
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
const UNKNOWN_FIELD = Buffer.from([0xb8, 0x3e, 0x01]);
function env(payload: Buffer, flags = 0): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flags;
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

const RID = { "x-request-id": "rid-diff" };
const CJ = { ...RID, "content-type": "application/json" };
const CP = { ...RID, "content-type": "application/proto" };
const SJ = { ...RID, "content-type": "application/connect+json" };
const SP = { ...RID, "content-type": "application/connect+proto" };
const G = { ...RID, "content-type": "application/grpc", te: "trailers" };
const BIG = "x".repeat(250_000);

/** Calls both doors of the Connect protocol (HTTP/1.1 and HTTP/2) serve; gRPC ones are HTTP/2 only. */
const connectCases: [string, Req][] = [
  ["unary JSON", { path: CHAT, headers: CJ, body: json("mock/echo") }],
  [
    "unary JSON, charset and protocol version",
    {
      path: CHAT,
      headers: { ...CJ, "content-type": "application/json; charset=utf-8", "connect-protocol-version": "1" },
      body: json("mock/echo"),
    },
  ],
  ["unary proto", { path: CHAT, headers: CP, body: proto("mock/echo") }],
  [
    "unary proto with an unknown field",
    { path: CHAT, headers: CP, body: Buffer.concat([proto("mock/echo"), UNKNOWN_FIELD]) },
  ],
  [
    "unary JSON with an unknown field",
    { path: CHAT, headers: CJ, body: json("mock/echo", "hi", { nope: 1 }) },
  ],
  [
    "unary JSON, bad enum name",
    { path: CHAT, headers: CJ, body: Buffer.from('{"model":"mock/echo","messages":[{"role":"user"}]}') },
  ],
  ["unary, model not found (ErrorInfo)", { path: CHAT, headers: CJ, body: json("mock/nope") }],
  ["unary, upstream 429 (RetryInfo)", { path: CHAT, headers: CJ, body: json("mock/error-429") }],
  [
    "unary, deadline",
    { path: CHAT, headers: { ...CJ, "connect-timeout-ms": "150" }, body: json("mock/slow-5000") },
  ],
  [
    "unary, deadline not reached",
    { path: CHAT, headers: { ...CJ, "connect-timeout-ms": "60000" }, body: json("mock/echo") },
  ],
  [
    "unary, metadata (trace context, custom headers)",
    {
      path: CHAT,
      headers: {
        ...CJ,
        traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "x-custom": "v",
        "x-custom-bin": "AAE=",
      },
      body: json("mock/echo"),
    },
  ],
  [
    "unary, no request id",
    {
      path: CHAT,
      headers: { "content-type": "application/json", "x-request-id": "" },
      body: json("mock/echo"),
    },
  ],
  ["unary, large message", { path: CHAT, headers: CJ, body: json("mock/echo", BIG) }],
  ["unary, too large", { path: CHAT, headers: CJ, body: json("mock/echo", `${BIG}${BIG}`) }],
  ["unary JSON, empty body", { path: CHAT, headers: CJ, body: Buffer.alloc(0) }],
  ["unary proto, empty message", { path: CHAT, headers: CP, body: Buffer.alloc(0) }],
  ["unary JSON, not JSON", { path: CHAT, headers: CJ, body: Buffer.from("{nope") }],
  [
    "unary JSON, invalid UTF-8",
    {
      path: CHAT,
      headers: CJ,
      body: Buffer.concat([Buffer.from('{"model":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
    },
  ],
  ["ListModels", { path: "/llmgateway.v1.LLMService/ListModels", headers: CJ, body: Buffer.from("{}") }],
  ["stream JSON", { path: STREAM, headers: SJ, body: env(json("mock/echo", "one two three")) }],
  ["stream proto", { path: STREAM, headers: SP, body: env(proto("mock/echo", "one two three")) }],
  ["stream, error before the first message", { path: STREAM, headers: SJ, body: env(json("mock/nope")) }],
  ["stream, cut mid-way", { path: STREAM, headers: SJ, body: env(json("mock/cut", "one two three")) }],
  [
    "stream, deadline",
    { path: STREAM, headers: { ...SJ, "connect-timeout-ms": "150" }, body: env(json("mock/slow-5000")) },
  ],
  ["stream, empty envelope", { path: STREAM, headers: SP, body: env(Buffer.alloc(0)) }],
  ["stream, no envelope", { path: STREAM, headers: SJ, body: Buffer.alloc(0), handedBack: true }],
  [
    "stream, two messages",
    {
      path: STREAM,
      headers: SJ,
      body: Buffer.concat([env(json("mock/echo")), env(json("mock/echo"))]),
      handedBack: true,
    },
  ],
  ["stream, large message", { path: STREAM, headers: SJ, body: env(json("mock/echo", BIG)) }],
  [
    "unary, accepts gzip, br: a large answer compressed",
    { path: CHAT, headers: { ...CJ, "accept-encoding": "gzip, deflate, br" }, body: json("mock/echo", BIG) },
  ],
  [
    "unary, accepts br: a small answer as it is",
    { path: CHAT, headers: { ...CJ, "accept-encoding": "br" }, body: json("mock/echo") },
  ],
  [
    "unary, accepts gzip: an error",
    { path: CHAT, headers: { ...CJ, "accept-encoding": "gzip" }, body: json("mock/nope") },
  ],
  [
    "stream, accepts gzip: large messages compressed",
    {
      path: STREAM,
      headers: { ...SJ, "connect-accept-encoding": "gzip" },
      body: env(json("mock/echo", BIG)),
    },
  ],
  [
    "stream, accepts gzip: an error",
    {
      path: STREAM,
      headers: { ...SP, "connect-accept-encoding": "gzip" },
      body: env(proto("mock/cut", "one two")),
    },
  ],
];

const grpcCases: [string, Req][] = [
  ["gRPC unary", { path: CHAT, headers: G, body: env(proto("mock/echo")) }],
  [
    "gRPC unary, +proto",
    {
      path: CHAT,
      headers: { ...G, "content-type": "application/grpc+proto" },
      body: env(proto("mock/echo")),
    },
  ],
  [
    "gRPC unary, unknown field",
    { path: CHAT, headers: G, body: env(Buffer.concat([proto("mock/echo"), UNKNOWN_FIELD])) },
  ],
  ["gRPC unary, model not found (details)", { path: CHAT, headers: G, body: env(proto("mock/nope")) }],
  ["gRPC unary, upstream 429", { path: CHAT, headers: G, body: env(proto("mock/error-429")) }],
  [
    "gRPC unary, deadline",
    { path: CHAT, headers: { ...G, "grpc-timeout": "150m" }, body: env(proto("mock/slow-5000")) },
  ],
  [
    "gRPC unary, metadata",
    { path: CHAT, headers: { ...G, "x-custom": "v", "x-custom-bin": "AAE=" }, body: env(proto("mock/echo")) },
  ],
  ["gRPC unary, large", { path: CHAT, headers: G, body: env(proto("mock/echo", BIG)) }],
  ["gRPC unary, too large", { path: CHAT, headers: G, body: env(proto("mock/echo", `${BIG}${BIG}`)) }],
  ["gRPC unary, empty message", { path: CHAT, headers: G, body: env(Buffer.alloc(0)) }],
  ["gRPC unary, no envelope", { path: CHAT, headers: G, body: Buffer.alloc(0), handedBack: true }],
  [
    "gRPC unary, compressed flag without grpc-encoding",
    { path: CHAT, headers: G, body: env(proto("mock/echo"), 1), handedBack: true },
  ],
  ["gRPC stream", { path: STREAM, headers: G, body: env(proto("mock/echo", "one two three")) }],
  ["gRPC stream, error first", { path: STREAM, headers: G, body: env(proto("mock/nope")) }],
  ["gRPC stream, cut mid-way", { path: STREAM, headers: G, body: env(proto("mock/cut", "one two three")) }],
  [
    "gRPC stream, deadline",
    { path: STREAM, headers: { ...G, "grpc-timeout": "150m" }, body: env(proto("mock/slow-5000")) },
  ],
  [
    "gRPC unary, grpc-accept-encoding as grpc-js sends it, a large answer",
    {
      path: CHAT,
      headers: { ...G, "grpc-accept-encoding": "identity,deflate,gzip" },
      body: env(proto("mock/echo", BIG)),
    },
  ],
  [
    "gRPC stream, grpc-accept-encoding gzip",
    { path: STREAM, headers: { ...G, "grpc-accept-encoding": "gzip" }, body: env(proto("mock/echo", BIG)) },
  ],
  [
    "gRPC unary, grpc-accept-encoding gzip, an error",
    { path: CHAT, headers: { ...G, "grpc-accept-encoding": "gzip" }, body: env(proto("mock/nope")) },
  ],
];

/** Sends `r` to both gateways; each side's handler is proven by its counter. */
async function both(send: (s: Side, r: Req) => Promise<Seen>, r: Req): Promise<[Seen, Seen]> {
  const before = { ...fast.served };
  const connect = slow.served.connect;
  const a = await send(fast, r);
  const b = await send(slow, r);
  expect(fast.served.fast, "the fast gateway took it on a fast path").toBe(before.fast + 1);
  expect(fast.served.fallback, "...and handed it to Connect only when expected").toBe(
    before.fallback + (r.handedBack ? 1 : 0),
  );
  expect(slow.served.connect, "the other gateway served it with Connect's handler").toBe(connect + 1);
  expect(fast.served.connect + slow.served.fast + slow.served.fallback, "no call crossed over").toBe(0);
  return [a, b];
}

describe("fast paths answer exactly as Connect's handler", () => {
  for (const [name, r] of connectCases) {
    for (const [door, send] of [
      ["HTTP/1.1", h1],
      ["HTTP/2", h2],
    ] as const) {
      it(`Connect ${name} (${door})`, async () => {
        const [a, b] = await both(send, r);
        expect(normalize(r.path, a)).toEqual(normalize(r.path, b));
      });
    }
  }
  for (const [name, r] of grpcCases) {
    it(`${name} (HTTP/2)`, async () => {
      const [a, b] = await both(h2, r);
      expect(normalize(r.path, a)).toEqual(normalize(r.path, b));
    });
  }
});

describe("what the fast paths do not handle goes to Connect's handler", () => {
  const gz = (b: Buffer) => gzipSync(b);
  const cases: [string, (s: Side, r: Req) => Promise<Seen>, Req][] = [
    [
      "Connect unary, gzip body",
      h1,
      { path: CHAT, headers: { ...CJ, "content-encoding": "gzip" }, body: gz(json("mock/echo")) },
    ],
    [
      "Connect stream, connect-content-encoding",
      h1,
      {
        path: STREAM,
        headers: { ...SJ, "connect-content-encoding": "gzip" },
        body: env(gz(json("mock/echo")), 1),
      },
    ],
    [
      "Connect unary, GET",
      h1,
      {
        path: `${CHAT}?encoding=json&message=${encodeURIComponent(json("mock/echo").toString())}`,
        headers: RID,
        body: Buffer.alloc(0),
      },
    ],
    [
      "Connect unary, bad timeout header",
      h1,
      { path: CHAT, headers: { ...CJ, "connect-timeout-ms": "soon" }, body: json("mock/echo") },
    ],
    [
      "gRPC, grpc-encoding gzip",
      h2,
      { path: CHAT, headers: { ...G, "grpc-encoding": "gzip" }, body: env(gz(proto("mock/echo")), 1) },
    ],
    [
      "gRPC-Web",
      h1,
      {
        path: CHAT,
        headers: { ...RID, "content-type": "application/grpc-web+proto" },
        body: env(proto("mock/echo")),
      },
    ],
  ];
  for (const [name, send, r] of cases) {
    it(`${name}: served by Connect on both gateways, the same answer`, async () => {
      const before = { ...fast.served };
      const a = await send(fast, r);
      expect(fast.served.fast, "no fast path took it").toBe(before.fast);
      expect(fast.served.connect).toBe(before.connect + 1);
      const b = await send(slow, r);
      expect(normalize(r.path, a)).toEqual(normalize(r.path, b));
    });
  }

  it("with an interceptor configured every call goes through Connect's handler, and the interceptor runs", async () => {
    for (const [, r] of [...connectCases.slice(0, 3), ...grpcCases.slice(0, 1)]) {
      const before = { ...intercepted.served };
      const n = intercepts;
      const a = await h2(intercepted, r);
      expect(intercepted.served.connect).toBe(before.connect + 1);
      expect(intercepted.served.fast).toBe(0);
      expect(intercepts).toBe(n + 1);
      expect(normalize(r.path, a)).toEqual(normalize(r.path, await h2(slow, r)));
    }
  });
});

describe("a client that cancels", () => {
  // Both sides must end the call as cancelled: the access log's line for the call says so.
  const cancelled = async (s: Side, send: (s: Side, r: Req) => Promise<Seen>, r: Req) => {
    const rid = `rid-cancel-${Math.random().toString(36).slice(2)}`;
    await send(s, { ...r, headers: { ...r.headers, "x-request-id": rid }, cancelAfter: 1 });
    let line: { code?: string } | undefined;
    await waitFor(
      () => {
        const l = s.logs.find((x) => x.includes(rid));
        line = l ? (JSON.parse(l) as { code?: string }) : undefined;
        return line !== undefined;
      },
      { what: `the call log line of ${rid}` },
    );
    return line?.code;
  };
  for (const [name, send, r] of [
    ["Connect stream (HTTP/1.1)", h1, { path: STREAM, headers: SJ, body: env(json("mock/stall")) }],
    ["Connect stream (HTTP/2)", h2, { path: STREAM, headers: SJ, body: env(json("mock/stall")) }],
    ["gRPC stream", h2, { path: STREAM, headers: G, body: env(proto("mock/stall")) }],
  ] as const) {
    it(`${name}: both end the call the same way`, async () => {
      const [a, b] = await Promise.all([cancelled(fast, send, r), cancelled(slow, send, r)]);
      expect(a).toBeDefined();
      expect(a).toBe(b);
    });
  }
});

describe("answer compression on the fast paths", () => {
  it("a large answer is compressed, as Connect does it (the comparison above then holds)", async () => {
    const before = fast.served.fast;
    const u = await h1(fast, {
      path: CHAT,
      headers: { ...CJ, "accept-encoding": "gzip" },
      body: json("mock/echo", BIG),
    });
    expect(u.headers).toContainEqual(["content-encoding", "gzip"]);
    const g = await h2(fast, {
      path: STREAM,
      headers: { ...G, "grpc-accept-encoding": "gzip" },
      body: env(proto("mock/echo", BIG)),
    });
    expect(g.headers).toContainEqual(["grpc-encoding", "gzip"]);
    const flags: number[] = [];
    const b = Buffer.from(g.body, "hex");
    for (let i = 0; i + 5 <= b.length; i += 5 + b.readUInt32BE(i + 1)) flags.push(b[i] as number);
    expect(flags, "small messages as they are, the large one compressed").toContain(1);
    expect(flags).toContain(0);
    expect(fast.served.fast).toBe(before + 2);
  });
});
