// The Connect and gRPC fast paths (src/server/fast-connect.ts, fast-grpc.ts) proven equal to
// Connect's own handler: the same raw requests, byte for byte, go to a gateway with the fast paths
// and to one without (startApp's test-only `fastPaths: false`); status, headers, trailers and body
// bytes must match. A counter (`onServed`) proves which handler took each call on each side.
import { mkdtempSync, writeFileSync } from "node:fs";
import type http2 from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { gzipSync } from "node:zlib";
import type { Interceptor } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { createLogger } from "../../src/lib/logger.js";
import { implementedTypes, presetInfo } from "../../src/providers/index.js";
import type { Served } from "../../src/server/adapter.js";
import { type App, type AppInternals, startApp } from "../../src/server/app.js";
import { waitFor } from "../helpers/wait.js";
import { connectCases, grpcCases } from "./differential-cases.js";
import {
  BIG,
  CHAT,
  CJ,
  env,
  G,
  h1,
  h2,
  json,
  normalize,
  proto,
  type Req,
  RID,
  type Seen,
  SJ,
  SP,
  STREAM,
  type Target,
} from "./wire.js";

interface Side extends Target {
  app: App;
  served: Record<Served, number>;
  logs: string[];
  session?: http2.ClientHttp2Session;
}

/** One gateway key with rate limits (its calls get x-ratelimit-* headers); keyless calls stay open. */
const KEY = "sk-diff-key-0123456789";
const CONFIG = `server:
  max_request_bytes: 300000
auth:
  allow_anonymous: true
keys:
  - name: diff
    sha256: f944395e81676e1a9d184f2db2c0b9a6c0846e41e205f1e6ae2ad2f2300e309e
    limits: { rpm: 100000, tpm: 100000000 }
`;

async function side(internals: AppInternals): Promise<Side> {
  const dir = mkdtempSync(join(tmpdir(), "llmgw-diff-"));
  writeFileSync(join(dir, "c.yaml"), CONFIG);
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
  return { app, port: app.port, served, logs };
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
  // The pipeline's own response headers (x-ratelimit-*) on success, error and stream, each protocol.
  const keyed: [string, (s: Side, r: Req) => Promise<Seen>, Req][] = [
    ["Connect unary", h1, { path: CHAT, headers: CJ, body: json("mock/echo") }],
    ["Connect unary error", h2, { path: CHAT, headers: CJ, body: json("mock/error-503") }],
    ["Connect stream", h1, { path: STREAM, headers: SJ, body: env(json("mock/echo")) }],
    ["Connect stream cut", h2, { path: STREAM, headers: SP, body: env(proto("mock/cut", "a b")) }],
    ["gRPC unary", h2, { path: CHAT, headers: G, body: env(proto("mock/echo")) }],
    ["gRPC unary error", h2, { path: CHAT, headers: G, body: env(proto("mock/nope")) }],
    ["gRPC stream", h2, { path: STREAM, headers: G, body: env(proto("mock/echo", "a b")) }],
  ];
  for (const [name, send, r0] of keyed) {
    it(`${name} with a rate-limited key: the same x-ratelimit-* headers`, async () => {
      const r = { ...r0, headers: { ...r0.headers, authorization: `Bearer ${KEY}` } };
      const [a, b] = await both(send, r);
      expect(a.headers.some(([k]) => k.startsWith("x-ratelimit-"))).toBe(true);
      expect(normalize(r.path, a)).toEqual(normalize(r.path, b));
    });
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
