// Every exit of a call releases its slots exactly once: streams reset (RST_STREAM CANCEL) at every
// step on gRPC, Connect and gRPC-Web, HTTP/1.1 sockets destroyed on REST and Connect. The in-flight
// gauges return to 0, the key's `concurrent` slots come back, and a call whose client left before
// it reached the provider never reaches it (issue 14).
import { createHash } from "node:crypto";
import http2 from "node:http2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OpenAIFake, startOpenAIFake } from "../fakes/openai.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { waitFor } from "../helpers/wait.js";
import { samplesOf, scrape } from "../telemetry/helpers.js";
import {
  chatJson,
  destroyAt,
  h1Request,
  resetAt,
  resetWithBodies,
  rpcCall,
  type Step,
  WIRES,
} from "./abandon.js";

const UPSTREAM_KEY = "sk-test-reset-leak-0123456789";
const KEY = "llmgw-reset-leak-key-aaaaaaaaaaaaaaaaaaaa";
const sha = (k: string) => createHash("sha256").update(k).digest("hex");
/** The provider holds its answer a while (unary), sends a chunk every 100 ms, or both. */
const SLOW = "openai/gpt-4o-mini+delay=300";
const DRIP = "openai/gpt-4o-mini+chunk_delay=100";
const SLOW_DRIP = "openai/gpt-4o-mini+delay=300+chunk_delay=100";
const BURST = "openai/gpt-4o-mini";

let fake: OpenAIFake;
let gw: TestGateway;
let h2: http2.ClientHttp2Session;
let n = 0;

beforeAll(async () => {
  fake = await startOpenAIFake({ apiKey: UPSTREAM_KEY });
  gw = await startGateway({
    env: { OPENAI_API_KEY: UPSTREAM_KEY, OPENAI_BASE_URL: fake.url },
    // Small enough that a handful of leaked slots would lock everyone out.
    yaml: `
server: { max_inflight: 8, max_streams: 4 }
defaults:
  breaker: { min_calls: 100000 }
keys:
  - { name: leaky, sha256: ${sha(KEY)}, limits: { rpm: 100000, concurrent: 3 } }
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

const AUTH = { authorization: `Bearer ${KEY}` };

/** The provider got a request whose prompt carries `marker`. */
const reached = (marker: string) => fake.requests.some((r) => JSON.stringify(r.body).includes(marker));

/** The pipeline's log line for request `rid` (undefined when the call never entered the pipeline). */
function callLine(rid: string): { attempts: number; code: string } | undefined {
  for (const l of gw.logs) {
    if (!l.includes(`"rid":"${rid}"`)) continue;
    const o = JSON.parse(l) as { msg?: string; attempts?: number; code?: string };
    if (o.msg === "call" || o.msg === "call failed") return { attempts: o.attempts ?? 0, code: o.code ?? "" };
  }
  return undefined;
}

/**
 * A whole call on the same HTTP/2 connection, after the abandoned one: by the time it is answered
 * the gateway has read (and acted on) everything the abandoned call sent before it.
 */
async function sentinel(): Promise<void> {
  const call = rpcCall("grpc", false, "mock/echo", "sentinel", AUTH);
  const s = h2.request({ ":method": "POST", ":path": call.path, ...call.headers });
  s.end(call.body);
  s.resume();
  const trailers = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
    s.on("trailers", resolve);
    s.on("error", reject);
  });
  expect(trailers["grpc-status"]).toBe("0");
}

/** Waits for the gauges to return to 0 (never below), then checks what reached the provider. */
async function settled(rid: string, marker: string, step: Step): Promise<void> {
  const g = () => gw.app.gateway;
  await sentinel();
  await waitFor(() => g().inFlight === 0 && g().streamsInFlight === 0, {
    what: `in-flight gauges back to 0 after ${rid}`,
    timeoutMs: 5000,
  });
  expect(g().inFlight).toBe(0);
  expect(g().streamsInFlight).toBe(0);
  const line = callLine(rid);
  if (step === "before-body" || step.startsWith("with-body")) {
    // The client left before the call could reach a provider: nothing was sent.
    expect(line?.attempts ?? 0, `${rid} made an upstream attempt`).toBe(0);
    expect(reached(marker), `${rid} reached the provider`).toBe(false);
  } else if (step !== "mid-burst" && reached(marker)) {
    // It reached the provider: the upstream request was cancelled with it, not run to the end. (A
    // burst is all sent by the provider before the client leaves: only the release counts there.)
    const i = fake.requests.findIndex((r) => JSON.stringify(r.body).includes(marker));
    expect(await fake.waitForAbort(i, 5000), `${rid}: upstream request not cancelled`).toBe(true);
  }
}

const UNARY_STEPS: Step[] = ["before-body", "with-body", "with-body-ended", "with-body-split", "during-call"];
const STREAM_STEPS: Step[] = [
  "before-body",
  "with-body",
  "with-body-ended",
  "with-body-split",
  "after-headers",
  "mid-stream",
  "mid-burst",
];

describe("HTTP/2: a stream reset at any step releases its slots", () => {
  for (const wire of WIRES) {
    for (const step of UNARY_STEPS) {
      it(`${wire} Chat, reset ${step}`, async () => {
        const rid = `h2-${wire}-chat-${step}-${++n}`;
        const call = rpcCall(wire, false, SLOW, rid, { ...AUTH, "x-request-id": rid });
        await resetAt(h2, gw.port, call, step, () => reached(rid));
        await settled(rid, rid, step);
      });
    }
    for (const step of STREAM_STEPS) {
      it(`${wire} ChatStream, reset ${step}`, async () => {
        const rid = `h2-${wire}-stream-${step}-${++n}`;
        const model =
          { "after-headers": SLOW_DRIP, "mid-burst": BURST, "with-body-split": SLOW }[step as string] ?? DRIP;
        // A burst: the provider echoes 3,000 words at once, more than the stream's flow-control window.
        const text = step === "mid-burst" ? `${rid}${" word".repeat(3000)}` : rid;
        const call = rpcCall(wire, true, model, text, { ...AUTH, "x-request-id": rid });
        await resetAt(h2, gw.port, call, step, () => reached(rid));
        await settled(rid, rid, step);
      });
    }
  }

  // The REST door over HTTP/2 (an OpenAI SDK with an HTTP/2 client): same guarantees.
  for (const stream of [false, true]) {
    const steps: Step[] = stream
      ? ["before-body", "with-body", "with-body-split", "after-headers", "mid-stream", "mid-burst"]
      : ["before-body", "with-body", "with-body-split", "during-call"];
    for (const step of steps) {
      it(`REST ${stream ? "stream" : "unary"}, reset ${step}`, async () => {
        const rid = `h2-rest-${stream ? "stream" : "unary"}-${step}-${++n}`;
        const model = !stream
          ? SLOW
          : step === "after-headers"
            ? SLOW_DRIP
            : step === "mid-burst"
              ? BURST
              : DRIP;
        const text = step === "mid-burst" ? `${rid}${" word".repeat(3000)}` : rid;
        const call = {
          path: "/v1/chat/completions",
          headers: { "content-type": "application/json", ...AUTH, "x-request-id": rid },
          body: Buffer.from(JSON.stringify({ model, stream, messages: [{ role: "user", content: text }] })),
        };
        await resetAt(h2, gw.port, call, step, () => reached(rid));
        await settled(rid, rid, step);
      });
    }
  }

  it("forty calls reset right after their bodies leave nothing held", async () => {
    const rids = Array.from({ length: 40 }, (_, i) => `h2-burst-${i}-${++n}`);
    const calls = rids.map((rid, i) =>
      rpcCall(WIRES[i % WIRES.length] ?? "grpc", i % 2 === 0, DRIP, rid, { ...AUTH, "x-request-id": rid }),
    );
    const close = await resetWithBodies(gw.port, calls, { endStream: false, split: true });
    for (const rid of rids) await settled(rid, rid, "with-body");
    close();
  });
});

describe("HTTP/1.1: a socket destroyed at any step releases its slots", () => {
  const rest = (stream: boolean, model: string, text: string) =>
    Buffer.from(JSON.stringify({ model, stream, messages: [{ role: "user", content: text }] }));
  const cases: {
    door: string;
    stream: boolean;
    path: string;
    ct: string;
    body: (m: string, t: string) => Buffer;
  }[] = [
    {
      door: "REST",
      stream: false,
      path: "/v1/chat/completions",
      ct: "application/json",
      body: (m, t) => rest(false, m, t),
    },
    {
      door: "REST",
      stream: true,
      path: "/v1/chat/completions",
      ct: "application/json",
      body: (m, t) => rest(true, m, t),
    },
    {
      door: "Connect",
      stream: false,
      path: "/llmgateway.v1.LLMService/Chat",
      ct: "application/json",
      body: (m, t) => Buffer.from(chatJson(m, t)),
    },
    {
      door: "Connect",
      stream: true,
      path: "/llmgateway.v1.LLMService/ChatStream",
      ct: "application/connect+json",
      body: (m, t) => rpcCall("connect", true, m, t, {}).body,
    },
  ];
  for (const c of cases) {
    const steps: Step[] = c.stream
      ? ["before-body", "after-headers", "mid-stream"]
      : ["before-body", "during-call"];
    for (const step of [...steps, "with-body" as Step]) {
      it(`${c.door} ${c.stream ? "stream" : "unary"}, socket destroyed ${step}`, async () => {
        const rid = `h1-${c.door}-${c.stream ? "stream" : "unary"}-${step}-${++n}`;
        const model = !c.stream ? SLOW : step === "after-headers" ? SLOW_DRIP : DRIP;
        const body = c.body(model, rid);
        const req = h1Request(c.path, { "content-type": c.ct, ...AUTH, "x-request-id": rid }, body);
        await destroyAt(gw.port, req, body.length, step, () => reached(rid));
        // On HTTP/1.1 the close may be read after the call was dispatched ("with-body"): then the
        // upstream request must have been cancelled. Before the body, nothing may be sent.
        await settled(rid, rid, step === "with-body" ? "during-call" : step);
      });
    }
  }
});

describe("afterwards", () => {
  it("the gauges read 0 and the key gets exactly its 3 concurrent slots", async () => {
    const m = await scrape(gw.url);
    expect(samplesOf(m, "llmgw_inflight_calls")[0]?.value).toBe(0);
    expect(samplesOf(m, "llmgw_inflight_streams")[0]?.value).toBe(0);
    const one = async (i: number) => {
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", ...AUTH },
        body: JSON.stringify({ model: SLOW, messages: [{ role: "user", content: `after ${i}` }] }),
      });
      await res.arrayBuffer();
      return res.status;
    };
    const statuses = await Promise.all([0, 1, 2, 3].map(one));
    expect(statuses.filter((s) => s === 200)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(1);
  });
});
