// Outbound limits per deployment (a provider's RPM / TPM from config): calls beyond a deployment's
// limit go to the next deployment, or wait for its bucket when none is left (bounded by the
// deadline), or fail fast with RetryInfo — and the fake provider never receives more than the limit,
// so it would never have to answer 429. Plus: two limiters on one real Redis share a deployment's RPM.
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { createLogger } from "../../src/lib/logger.js";
import { Limiter } from "../../src/limits/index.js";
import { createRedisLink } from "../../src/redis/client.js";
import type { TestGateway } from "../helpers/gateway.js";
import { waitFor } from "../helpers/wait.js";
import { RedisServer } from "../limits/helpers.js";
import { chatReq, failure, type LLMClient, Rig, reasonOf } from "./harness.js";

let rig: Rig;
let client: LLMClient;
let gw: TestGateway;

// Weighted order puts the heavy deployment first in all but ~1e-6 of calls.
const yaml = `
models:
  spill:
    deployments:
      - { target: "openai/gpt-4o+t=o-a", weight: 1000000, rpm: 3 }
      - { target: "openai/gpt-4o+t=o-b", weight: 1 }
  single:
    deployments: [{ target: "openai/gpt-4o+t=s-one", rpm: 20 }]
  tight:
    deployments: [{ target: "openai/gpt-4o+t=s-two", rpm: 2 }]
  tokens:
    deployments:
      - { target: "openai/gpt-4o+t=tk-a", weight: 1000000, tpm: 1200 }
      - { target: "openai/gpt-4o+t=tk-b", weight: 1 }
  huge:
    deployments: [{ target: "openai/gpt-4o+t=tk-huge", tpm: 100 }]
`;

beforeAll(async () => {
  rig = await Rig.start();
  ({ gw, client } = await rig.gateway(yaml));
});
afterAll(() => rig.close());

/** Upstream answers with status 429: none may exist (the fake only answers 429 when told to). */
function upstream429s(): number {
  return rig.fake.requests.filter((r) => JSON.stringify(r.body ?? "").includes("status=429")).length;
}

describe("outbound limits per deployment", () => {
  it("rpm 3 + a second deployment: 10 sequential calls -> exactly 3 to the first, 7 to the second", async () => {
    const outcomes: string[][] = [];
    for (let i = 0; i < 10; i++) {
      const res = await client.chat(chatReq("spill", `call ${i}`));
      outcomes.push(res.gateway?.attemptTrail.map((a) => `${a.deployment}:${a.outcome}`) ?? []);
    }
    expect(rig.requests("o-a")).toHaveLength(3);
    expect(rig.requests("o-b")).toHaveLength(7);
    // The first three went to o-a; the rest skipped it at once (nothing sent, OUTBOUND_LIMITED).
    for (const t of outcomes.slice(0, 3)) expect(t).toEqual(["openai/gpt-4o+t=o-a:ok"]);
    for (const t of outcomes.slice(3))
      expect(t).toEqual(["openai/gpt-4o+t=o-a:OUTBOUND_LIMITED", "openai/gpt-4o+t=o-b:ok"]);
    expect(upstream429s()).toBe(0);
  });

  it("skips are not failures: the limited deployment's breaker stays closed, nothing in flight", async () => {
    for (let i = 0; i < 10; i++) {
      const res = await client.chat(chatReq("spill", `again ${i}`));
      expect(res.gateway?.attemptTrail.at(-1)?.deployment).toBe("openai/gpt-4o+t=o-b");
    }
    expect(rig.requests("o-a")).toHaveLength(3);
    const a = gw.app.gateway.deploymentHealth().find((d) => d.target === "openai/gpt-4o+t=o-a");
    expect(a).toMatchObject({ breaker: "closed", inflight: 0 });
  });

  it("one deployment, bucket empty, generous deadline: the next call waits for the refill (lower bound)", async () => {
    // rpm 20: a bucket of 20 that refills one request every 3 s (room for a busy machine's burst).
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) await client.chat(chatReq("single", `burst ${i}`));
    const burstMs = performance.now() - t0;
    expect(burstMs).toBeLessThan(2500); // otherwise the refill would blur the bound below
    const t1 = performance.now();
    const res = await client.chat(chatReq("single", "the 21st"), { timeoutMs: 10_000 });
    const end = performance.now();
    // 21 requests need one refill (3000 ms) after the first was taken (>= t0).
    expect(end - t0).toBeGreaterThanOrEqual(2990);
    expect(end - t1).toBeGreaterThanOrEqual(2990 - burstMs - 5);
    expect(res.gateway?.attemptTrail.map((a) => a.outcome)).toEqual(["OUTBOUND_LIMITED", "ok"]);
    expect(rig.requests("s-one")).toHaveLength(21);
    expect(upstream429s()).toBe(0);
  });

  it("one deployment with rpm 2: the 3rd call fails fast with RetryInfo when the wait exceeds the deadline", async () => {
    await client.chat(chatReq("tight", "one"));
    await client.chat(chatReq("tight", "two"));
    const t0 = performance.now();
    const err = await failure(client.chat(chatReq("tight", "three"), { timeoutMs: 10_000 }));
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(5000); // failed at once, did not sit out the 10 s deadline
    expect(err.code).toBe(Code.ResourceExhausted);
    expect(reasonOf(err)).toBe("UPSTREAM_RATE_LIMITED");
    const delay = err.findDetails(RetryInfoSchema)[0]?.retryDelay;
    const delayMs = Number(delay?.seconds ?? 0n) * 1000 + (delay?.nanos ?? 0) / 1e6;
    // One request refills every 30 s at rpm 2.
    expect(delayMs).toBeGreaterThan(25_000);
    expect(delayMs).toBeLessThanOrEqual(30_000);
    expect(rig.requests("s-two")).toHaveLength(2);
    expect(upstream429s()).toBe(0);
  });

  it("tpm: 20 parallel calls admit no more tokens than the limit to the limited deployment", async () => {
    const text = "word ".repeat(80); // ~100 prompt tokens, ~81 completion tokens from the fake
    const t0 = performance.now();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        client.chat({ ...chatReq("tokens", `${text}${i}`), maxTokens: 200 }),
      ),
    );
    const ms = performance.now() - t0;
    let onA = 0;
    let tokensA = 0;
    for (const r of results) {
      if (r.gateway?.attemptTrail.at(-1)?.deployment !== "openai/gpt-4o+t=tk-a") continue;
      onA++;
      tokensA += (r.usage?.inputTokens ?? 0) + (r.usage?.outputTokens ?? 0);
    }
    // The bucket (1200, refilling 20 per second) admits at most 1200 + the refill during the test.
    expect(tokensA).toBeLessThanOrEqual(1200 + Math.ceil((ms * 1200) / 60_000));
    expect(onA).toBeGreaterThan(0);
    expect(onA).toBeLessThan(20); // the limit did bite
    expect(onA).toBe(rig.requests("tk-a").length);
    expect(rig.requests("tk-b").length).toBe(20 - onA);
    expect(upstream429s()).toBe(0);
  });

  it("a call larger than a deployment's whole TPM is refused without reaching it (no RetryInfo)", async () => {
    const err = await failure(client.chat({ ...chatReq("huge", "hi"), maxTokens: 500 }));
    expect(err.code).toBe(Code.ResourceExhausted);
    expect(reasonOf(err)).toBe("UPSTREAM_RATE_LIMITED");
    expect(err.findDetails(RetryInfoSchema)).toHaveLength(0);
    expect(rig.requests("tk-huge")).toHaveLength(0);
  });
});

describe("outbound buckets on Redis", () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await RedisServer.start();
  }, 20_000);
  afterAll(async () => {
    await redis?.kill();
  });

  it("two replicas' limiters share one deployment's RPM through Redis (hash-tagged keys)", async () => {
    const log = createLogger("silent");
    const file = { redis: { url: redis.url, command_timeout_ms: 500 } };
    const links = [createRedisLink(file, redis.url, log), createRedisLink(file, redis.url, log)];
    const limiters = links.map((l) => new Limiter(l, "fail_open", log));
    try {
      for (const l of links)
        await waitFor(() => l?.client.status === "ready", { what: "the Redis links to be ready" });
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          (limiters[i % 2] as Limiter).outbound.take("openai/gpt-4o+t=shared", { rpm: 5 }, 10),
        ),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(5);
      expect(limiters.reduce((n, l) => n + l.stats.redis, 0)).toBe(12);
      const c = redis.client();
      try {
        expect(await c.keys("*")).toContain("{rl:out:openai/gpt-4o+t=shared}:r");
      } finally {
        c.disconnect();
      }
    } finally {
      for (const l of limiters) l.close();
      for (const l of links) await l?.close();
    }
  });
});
