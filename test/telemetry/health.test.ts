// Liveness vs readiness through a real gateway, over grpc.health.v1 (grpc-js, health.proto loaded at
// run time) and the Health RPC: every deployment circuit-open -> not ready but live; Redis down with
// redis.on_outage: fail_closed -> not ready (fail_open: still ready); shutdown -> not ready, still live.
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../e2e/helpers.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { RedisServer } from "../limits/helpers.js";
import { sampleValue, scrape } from "./helpers.js";

interface WireStatus {
  status: string;
}
interface HealthClient extends grpc.Client {
  Check(
    req: { service: string },
    options: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, res?: WireStatus) => void,
  ): grpc.ClientUnaryCall;
  Watch(req: { service: string }): grpc.ClientReadableStream<WireStatus>;
}
type HealthCtor = new (address: string, credentials: grpc.ChannelCredentials) => HealthClient;

const definition = protoLoader.loadSync(path.join(ROOT, "proto/grpc/health/v1/health.proto"), {
  keepCase: true,
  enums: String,
  defaults: true,
});
const Health = (
  grpc.loadPackageDefinition(definition) as unknown as { grpc: { health: { v1: { Health: HealthCtor } } } }
).grpc.health.v1.Health;

const clients: HealthClient[] = [];
function healthClient(url: string): HealthClient {
  const c = new Health(url.replace("http://", ""), grpc.credentials.createInsecure());
  clients.push(c);
  return c;
}
afterAll(() => {
  for (const c of clients) c.close();
});

function check(c: HealthClient, service: string): Promise<string> {
  return new Promise((resolve, reject) => {
    c.Check({ service }, { deadline: Date.now() + 5000 }, (err, res) =>
      err ? reject(err) : resolve(res?.status ?? ""),
    );
  });
}

/** The Health RPC over Connect JSON (plain fetch). */
async function healthRpc(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}/llmgateway.v1.LLMService/Health`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  return (await res.json()) as Record<string, unknown>;
}

async function chat(url: string, model: string): Promise<number> {
  const res = await fetch(`${url}/llmgateway.v1.LLMService/Chat`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "ROLE_USER", content: [{ text: "hi" }] }] }),
  });
  await res.text();
  return res.status;
}

describe("readiness follows the breakers", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({
      yaml: `
defaults:
  retries: { max_attempts: 1 }
  breaker: { min_calls: 2, error_threshold_pct: 50, reset_ms: 60000 }
models:
  only:
    deployments: [{ target: mock/error-503 }]
`,
    });
  });
  afterAll(() => gw?.close());

  it("every deployment circuit-open -> readiness NOT_SERVING (Watch told), liveness SERVING", async () => {
    const c = healthClient(gw.url);
    expect(await check(c, "liveness")).toBe("SERVING");
    expect(await check(c, "readiness")).toBe("SERVING");
    expect(await check(c, "")).toBe("SERVING");
    const h0 = await healthRpc(gw.url);
    expect(h0).toMatchObject({ liveness: "SERVING_STATUS_SERVING", readiness: "SERVING_STATUS_SERVING" });
    expect(h0["readinessDetail"]).toBeUndefined();

    const watch = c.Watch({ service: "readiness" });
    const seen: string[] = [];
    watch.on("data", (m: WireStatus) => seen.push(m.status));
    watch.on("error", () => {}); // CANCELLED when we leave
    await expect.poll(() => seen, { timeout: 10_000 }).toEqual(["SERVING"]);

    // Failures open the only deployment's breaker.
    for (let i = 0; i < 4; i++) expect(await chat(gw.url, "only")).toBe(503);
    const h = await healthRpc(gw.url);
    expect(h["deployments"]).toEqual([
      expect.objectContaining({ target: "mock/error-503", breaker: "open" }),
    ]);
    expect(await check(c, "readiness")).toBe("NOT_SERVING");
    expect(await check(c, "")).toBe("NOT_SERVING");
    expect(await check(c, "llmgateway.v1.LLMService")).toBe("NOT_SERVING");
    expect(await check(c, "liveness")).toBe("SERVING");
    expect(h).toMatchObject({
      status: "SERVING_STATUS_SERVING",
      liveness: "SERVING_STATUS_SERVING",
      readiness: "SERVING_STATUS_NOT_SERVING",
    });
    expect(String(h["readinessDetail"])).toMatch(/circuit breaker is open/);
    expect(h["providers"]).toEqual([
      expect.objectContaining({ name: "mock", status: "SERVING_STATUS_NOT_SERVING" }),
    ]);
    await expect.poll(() => seen, { timeout: 10_000 }).toEqual(["SERVING", "NOT_SERVING"]);
    watch.cancel();
    expect(
      sampleValue(await scrape(gw.url), "llmgw_breaker_state", {
        deployment: "mock/error-503",
        provider: "mock",
      }),
    ).toBe(2);
  });

  it("another deployment (never called) counts as closed: a gateway with one is ready", async () => {
    const two = await startGateway({
      yaml: `
defaults:
  retries: { max_attempts: 1 }
  breaker: { min_calls: 2, error_threshold_pct: 50, reset_ms: 60000 }
models:
  only: { deployments: [{ target: mock/error-503 }] }
  spare: { deployments: [{ target: mock/echo }] }
`,
    });
    try {
      for (let i = 0; i < 4; i++) await chat(two.url, "only");
      expect(await check(healthClient(two.url), "readiness")).toBe("SERVING");
    } finally {
      await two.close();
    }
  });

  it("shutdown: readiness NOT_SERVING at once, liveness SERVING while it drains", async () => {
    const g = await startGateway();
    const c = healthClient(g.url);
    expect(await check(c, "readiness")).toBe("SERVING");
    const slow = chat(g.url, "mock/slow-800");
    await expect.poll(() => g.app.gateway.inFlight, { timeout: 10_000 }).toBe(1);
    const stopped = g.app.shutdown(1500);
    expect(await check(c, "readiness")).toBe("NOT_SERVING");
    expect(await check(c, "liveness")).toBe("SERVING");
    expect(await slow).toBe(200);
    c.close();
    await stopped;
  });
});

describe("readiness follows Redis when redis.on_outage is fail_closed", () => {
  let redis: RedisServer;
  let closed: TestGateway;
  let open: TestGateway;
  beforeAll(async () => {
    redis = await RedisServer.start();
    const yaml = (policy: string) => `redis: { url: "${redis.url}", on_outage: ${policy} }\n`;
    closed = await startGateway({ yaml: yaml("fail_closed") });
    open = await startGateway({ yaml: yaml("fail_open") });
  });
  afterAll(async () => {
    await closed?.close();
    await open?.close();
    await redis?.kill();
  });

  it("Redis up: ready; stopped: fail_closed not ready (live), fail_open still ready; back: ready", async () => {
    const c = healthClient(closed.url);
    const o = healthClient(open.url);
    await expect.poll(() => check(c, "readiness"), { timeout: 10_000 }).toBe("SERVING");
    expect(sampleValue(await scrape(closed.url), "llmgw_redis_up")).toBe(1);

    await redis.kill();
    await expect.poll(() => check(c, "readiness"), { timeout: 10_000 }).toBe("NOT_SERVING");
    expect(await check(c, "liveness")).toBe("SERVING");
    expect(await check(o, "readiness")).toBe("SERVING");
    expect(String((await healthRpc(closed.url))["readinessDetail"])).toMatch(
      /redis is \w+ and redis.on_outage is fail_closed/,
    );
    expect(sampleValue(await scrape(closed.url), "llmgw_redis_up")).toBe(0);

    await redis.spawn();
    await expect.poll(() => check(c, "readiness"), { timeout: 10_000 }).toBe("SERVING");
  });
});
