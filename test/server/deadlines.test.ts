// Client deadlines (issue 14): one past 2^31 ms works like any long deadline on every protocol and
// path (it failed DEADLINE_EXCEEDED at once: Node fires a longer timer after 1 ms); the effective
// deadline is min(client, server limit), so a long client deadline is cut at request_ms /
// max_stream_ms, and a shorter one still wins.
import http2 from "node:http2";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../e2e/helpers.js";
import { type OpenAIFake, startOpenAIFake } from "../fakes/openai.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { waitFor } from "../helpers/wait.js";
import { type RawCall, rpcCall, WIRES, type Wire } from "./abandon.js";

const UPSTREAM_KEY = "sk-test-deadlines-0123456789";
/** Answers after 20 ms: long enough for a 1 ms timer to fire first. */
const QUICK = "openai/gpt-4o-mini+delay=20";

let fake: OpenAIFake;
let gw: TestGateway;
let h2: http2.ClientHttp2Session;

beforeAll(async () => {
  fake = await startOpenAIFake({ apiKey: UPSTREAM_KEY });
  gw = await startGateway({
    env: { OPENAI_API_KEY: UPSTREAM_KEY, OPENAI_BASE_URL: fake.url },
    yaml: `
defaults:
  retries: { max_attempts: 1 }
models:
  capped:          # the provider takes 1.5 s; the server allows 300 ms
    deployments: [{ target: "openai/gpt-4o-mini+delay=1500" }]
    timeouts: { request_ms: 300 }
  capped-stream:   # a chunk every 300 ms for 2 s and more; the server allows a 700 ms stream
    deployments: [{ target: "openai/gpt-4o-mini+chunk_delay=300" }]
    timeouts: { max_stream_ms: 700, first_token_ms: 5000, idle_ms: 5000 }
  slow:            # 1.5 s, within the server's default limits
    deployments: [{ target: "openai/gpt-4o-mini+delay=1500" }]
`,
  });
  h2 = http2.connect(gw.url);
  h2.on("error", () => {});
});

afterAll(async () => {
  h2?.close();
  await gw?.close();
  await fake?.close();
});

/** A whole HTTP/2 exchange: status, headers, body and trailers. */
interface Exchange {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
  trailers: http2.IncomingHttpHeaders;
}

function exchange(call: RawCall): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const s = h2.request({ ":method": "POST", ":path": call.path, ...call.headers });
    const chunks: Buffer[] = [];
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    s.on("response", (h) => {
      headers = h;
    });
    s.on("trailers", (t) => {
      trailers = t;
    });
    s.on("data", (c: Buffer) => chunks.push(c));
    s.on("end", () =>
      resolve({ status: Number(headers[":status"]), headers, body: Buffer.concat(chunks), trailers }),
    );
    s.on("error", reject);
    s.end(call.body);
  });
}

/** The enveloped messages of a streamed body: flags and payload. */
function envelopes(body: Buffer): { flags: number; data: Buffer }[] {
  const out: { flags: number; data: Buffer }[] = [];
  for (let i = 0; i + 5 <= body.length; ) {
    const len = body.readUInt32BE(i + 1);
    out.push({ flags: body[i] ?? 0, data: body.subarray(i + 5, i + 5 + len) });
    i += 5 + len;
  }
  return out;
}

const GRPC_CODES: Record<string, string> = { "0": "ok", "4": "deadline_exceeded" };

/** How a call ended, whatever its protocol: "ok", "deadline_exceeded", or the code as sent. */
function outcome(wire: Wire, stream: boolean, r: Exchange): string {
  if (wire === "grpc" || wire === "grpc-gzip") {
    const s = String(r.trailers["grpc-status"] ?? r.headers["grpc-status"]);
    return GRPC_CODES[s] ?? `grpc ${s}`;
  }
  if (wire === "grpc-web") {
    const t = envelopes(r.body).find((e) => e.flags & 0x80);
    const s = /grpc-status:\s*(\d+)/i.exec(t?.data.toString() ?? "")?.[1] ?? String(r.headers["grpc-status"]);
    return GRPC_CODES[s] ?? `grpc ${s}`;
  }
  if (!stream) return r.status === 200 ? "ok" : String(JSON.parse(r.body.toString()).code);
  const end = envelopes(r.body).find((e) => e.flags & 2);
  const err = (JSON.parse(end?.data.toString() ?? "{}") as { error?: { code?: string } }).error;
  return err?.code ?? "ok";
}

/** The deadline header of `wire`, for `ms` (gRPC's is 8 digits at most: hours for the huge one). */
function deadline(wire: Wire, ms: number | "huge"): Record<string, string> {
  if (wire === "connect" || wire === "connect-gzip") {
    return { "connect-timeout-ms": ms === "huge" ? "9999999999" : String(ms) };
  }
  return { "grpc-timeout": ms === "huge" ? "99999999H" : `${ms}m` };
}

const call = (wire: Wire, stream: boolean, model: string, ms: number | "huge", text = "hello") =>
  rpcCall(wire, stream, model, text, deadline(wire, ms));

describe("a client deadline past 2^31 ms is a long deadline, not an instant failure", () => {
  for (const wire of WIRES) {
    it(`${wire} Chat and ChatStream`, async () => {
      expect(outcome(wire, false, await exchange(call(wire, false, QUICK, "huge")))).toBe("ok");
      expect(outcome(wire, true, await exchange(call(wire, true, QUICK, "huge")))).toBe("ok");
    });
  }

  it("grpc-js with a deadline 30 years out", async () => {
    const def = protoLoader.loadSync("llmgateway/v1/llm.proto", {
      includeDirs: [path.join(ROOT, "proto")],
      oneofs: true,
    });
    type Cb = (err: grpc.ServiceError | null, res?: { message?: unknown }) => void;
    type Stub = grpc.Client & { Chat(req: unknown, opts: grpc.CallOptions, cb: Cb): grpc.ClientUnaryCall };
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      llmgateway: { v1: { LLMService: new (a: string, c: grpc.ChannelCredentials) => Stub } };
    };
    const client = new pkg.llmgateway.v1.LLMService(
      `127.0.0.1:${gw.port}`,
      grpc.credentials.createInsecure(),
    );
    try {
      const req = { model: QUICK, messages: [{ role: "ROLE_USER", content: [{ text: "far" }] }] };
      const far = Date.now() + 30 * 365 * 24 * 3600 * 1000;
      const res = await new Promise<{ message?: unknown }>((resolve, reject) =>
        client.Chat(req, { deadline: far }, (err, r) => (err || !r ? reject(err) : resolve(r))),
      );
      expect(res.message).toBeDefined();
    } finally {
      client.close();
    }
  });
});

describe("the effective deadline is min(client, server limit)", () => {
  for (const wire of WIRES) {
    it(`${wire}: a 60 s client deadline is cut at request_ms (300 ms)`, async () => {
      const t0 = performance.now();
      const r = await exchange(call(wire, false, "capped", 60_000));
      expect(outcome(wire, false, r)).toBe("deadline_exceeded");
      expect(performance.now() - t0).toBeGreaterThanOrEqual(250);
    });

    it(`${wire}: a 60 s client deadline is cut at max_stream_ms (700 ms) mid-stream`, async () => {
      const t0 = performance.now();
      const text = "one two three four five six seven eight nine ten";
      const r = await exchange(call(wire, true, "capped-stream", 60_000, text));
      expect(outcome(wire, true, r)).toBe("deadline_exceeded");
      expect(performance.now() - t0).toBeGreaterThanOrEqual(650);
    });
  }

  it("a shorter client deadline still wins over the server's limit", async () => {
    for (const wire of WIRES) {
      const t0 = performance.now();
      const r = await exchange(call(wire, false, "slow", 200));
      expect(outcome(wire, false, r), wire).toBe("deadline_exceeded");
      expect(performance.now() - t0).toBeGreaterThanOrEqual(150);
    }
  });

  it("nothing is held after the cut calls", async () => {
    const g = () => gw.app.gateway;
    await waitFor(() => g().inFlight === 0 && g().streamsInFlight === 0, { what: "in-flight gauges at 0" });
  });
});
