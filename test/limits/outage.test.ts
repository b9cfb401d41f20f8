// A sick Redis hurts nobody: frozen (SIGSTOP, a blackhole) or killed mid-load, no call hangs, only
// the first call after a failure (and one probe a second) pays the command timeout, and the
// redis.on_outage policy decides (fail_open: local buckets; fail_closed: LIMITER_UNAVAILABLE).
// Thawed or restarted, Redis is used again, and nothing that timed out is applied late.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { elapse, waitFor } from "../helpers/wait.js";
import { type CallResult, chat, RedisServer } from "./helpers.js";

const KEY = "llmgw-outage-test-key-00000000000000";
const DIGEST = createHash("sha256").update(KEY).digest("hex");
const AUTH = { authorization: `Bearer ${KEY}` };
// Long enough that a busy machine does not time out a healthy Redis; short enough for a quick suite.
const TIMEOUT_MS = 500;

async function health(url: string): Promise<{ status?: string; detail?: string }> {
  const r = await fetch(`${url}/llmgateway.v1.LLMService/Health`, {
    method: "POST",
    // With keys configured, Health needs one (issue 14 §3); the redis component's status is public to keys.
    headers: { "content-type": "application/json", ...AUTH },
    body: "{}",
  });
  const h = (await r.json()) as { providers?: { name: string; status?: string; detail?: string }[] };
  return h.providers?.find((p) => p.name === "redis") ?? {};
}

/** `n` calls in waves of 10, `gapMs` apart. */
async function load(url: string, n: number, gapMs: number): Promise<CallResult[]> {
  const out: CallResult[] = [];
  for (let i = 0; i < n; i += 10) {
    out.push(
      ...(await Promise.all(Array.from({ length: Math.min(10, n - i) }, () => chat(url, "mock/echo", AUTH)))),
    );
    await elapse(gapMs); // spreads the load across the outage (the scenario, not a wait for work)
  }
  return out;
}

/** How many EVALSHA commands (the limiter's scripts) the server has run. */
async function scriptsRun(redis: RedisServer): Promise<number> {
  const c = redis.client();
  try {
    return Number(/cmdstat_evalsha:calls=(\d+)/.exec(await c.info("commandstats"))?.[1] ?? 0);
  } finally {
    c.disconnect();
  }
}

/** Makes calls until one is decided in Redis again (a later decision than `before`) and answered. */
async function usedAgain(gw: TestGateway, before: number): Promise<boolean> {
  const stats = () => gw.app.gateway.guard.limiter.stats;
  await waitFor(
    async () => {
      const r = await chat(gw.url, "mock/echo", AUTH);
      return stats().redis > before && r.status === 200;
    },
    { what: "a call decided in Redis again", everyMs: 100 },
  );
  return true;
}

async function lastWrite(redis: RedisServer): Promise<string | null> {
  const c = redis.client();
  try {
    return await c.hget(`{rl:k:${DIGEST}}:r`, "t");
  } finally {
    c.disconnect();
  }
}

for (const policy of ["fail_open", "fail_closed"] as const) {
  describe(`redis outage, ${policy}`, () => {
    let redis: RedisServer;
    let gw: TestGateway;
    const stats = () => gw.app.gateway.guard.limiter.stats;

    beforeAll(async () => {
      redis = await RedisServer.start();
      gw = await startGateway({
        yaml: `
redis: { url: ${redis.url}, command_timeout_ms: ${TIMEOUT_MS}, on_outage: ${policy} }
keys: [{ name: svc, sha256: ${DIGEST}, limits: { rpm: 300, concurrent: 50 } }]
`,
      });
      // Connected and used: 150 decisions in Redis (the bucket then needs 30 s to refill, so its key
      // stays through a freeze that lasts several seconds on a busy machine).
      await waitFor(
        async () => {
          if (stats().redis < 150) await chat(gw.url, "mock/echo", AUTH);
          return stats().redis >= 150;
        },
        { what: "150 decisions in Redis", timeoutMs: 60_000 },
      );
      expect(stats().redis).toBe(150);
    }, 90_000);

    afterAll(async () => {
      redis?.thaw();
      await gw?.close();
      await redis?.kill();
    });

    const expectPolicy = (results: CallResult[]) => {
      for (const r of results) {
        if (policy === "fail_open") expect(r.status).toBe(200);
        else if (r.status !== 200) {
          expect(r.code).toBe("unavailable");
          expect(r.reason).toBe("LIMITER_UNAVAILABLE");
        }
      }
      if (policy === "fail_closed") expect(results.filter((r) => r.status !== 200).length).toBeGreaterThan(0);
    };

    it("frozen mid-load: no call hangs, few pay the timeout, the policy holds; thawed: used again, nothing late", async () => {
      const before = await lastWrite(redis);
      expect(before).not.toBeNull();
      const redisBefore = stats().redis;
      const scriptsBefore = await scriptsRun(redis);
      redis.freeze();
      const t0 = Date.now();
      const results = await load(gw.url, 120, 120); // ~1.5 s of load across the outage
      const frozenFor = Date.now() - t0;
      const h = await health(gw.url);
      expect(h.status).toBe("SERVING_STATUS_NOT_SERVING");
      expect(stats().redis).toBe(redisBefore);
      // No call hangs: each is far below the 30 s a blackhole would cost (one timeout at most).
      for (const r of results) expect(r.ms).toBeLessThan(TIMEOUT_MS * 5);
      // The first wave (10 calls already waiting on Redis together) pays the timeout once; after
      // it, only about one probe a second does.
      const slow = results.slice(10).filter((r) => r.ms >= TIMEOUT_MS * 0.9).length;
      expect(slow).toBeLessThanOrEqual(Math.ceil(frozenFor / 1000) + 1);
      expectPolicy(results);

      redis.thaw();
      // Nothing that timed out is applied late (nor resent): once Redis has run the scripts sent to
      // it while frozen, the bucket is still untouched.
      await waitFor(async () => (await scriptsRun(redis)) > scriptsBefore, {
        what: "Redis to run the scripts sent while it was frozen",
      });
      expect(await lastWrite(redis)).toBe(before);
      // Used again once it answers.
      const again = await usedAgain(gw, redisBefore);
      expect(again).toBe(true);
      expect(await lastWrite(redis)).not.toBe(before);
      expect((await health(gw.url)).status).toBe("SERVING_STATUS_SERVING");
    });

    it("killed outright: calls fail fast under the policy; restarted: used again", async () => {
      await redis.kill();
      const redisBefore = stats().redis;
      const results = await load(gw.url, 30, 30);
      for (const r of results) expect(r.ms).toBeLessThan(TIMEOUT_MS * 5);
      expectPolicy(results);
      expect(stats().redis).toBe(redisBefore);
      await redis.spawn();
      const again = await usedAgain(gw, redisBefore);
      expect(again).toBe(true);
    });
  });
}
