// Redis frozen (SIGSTOP) or killed under the cache: get/set return within the timeout, later calls skip
// Redis without waiting, and once it answers again (SIGCONT) the cache uses it again.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cacheKey, type RedisState, ResponseCache } from "../../src/cache/index.js";
import { elapse, waitFor } from "../helpers/wait.js";
import { chatRequest, chatResponse, fastRedis, ready, startRedis, uniquePrefix } from "./helpers.js";

// The guard's timeout (below the client's own 1 s commandTimeout, so ours is the one that fires) and a
// skip window long enough that a busy machine finishes the skipped calls inside it.
const TIMEOUT_MS = 500;
const SKIP_MS = 2_000;

let server: Awaited<ReturnType<typeof startRedis>>;
let redis: ReturnType<typeof fastRedis>;
const prefix = uniquePrefix();

beforeAll(async () => {
  server = await startRedis();
  redis = fastRedis(server.port);
  await ready(redis);
});

afterAll(() => {
  redis.disconnect();
  server.stop();
});

function signal(name: "SIGSTOP" | "SIGCONT"): void {
  if (server.proc.pid) process.kill(server.proc.pid, name);
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

describe("cache with a sick Redis", () => {
  it("frozen: returns within the timeout, then skips Redis; thawed: uses it again", async () => {
    const errors: string[] = [];
    const states: RedisState[] = [];
    const opts = { redis, prefix, timeoutMs: TIMEOUT_MS, skipMs: SKIP_MS };
    const cache = new ResponseCache({
      ...opts,
      onError: (_e, op) => errors.push(op),
      onState: (s) => states.push(s),
    });
    const warm = cacheKey(chatRequest({ model: "mock/warm" }), "t");
    await cache.set(warm, { kind: "chat", response: chatResponse("before") }, 60_000);
    expect((await new ResponseCache(opts).get(warm))?.level).toBe("redis");

    signal("SIGSTOP");
    try {
      const k = (i: number) => cacheKey(chatRequest({ model: `mock/frozen${i}` }), "t");
      const first = await timed(() => cache.get(k(0)));
      expect(first.value).toBeUndefined();
      expect(first.ms).toBeLessThan(TIMEOUT_MS + 3_000);
      expect(first.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 10);
      expect(cache.redisState).toBe("down");
      // Later calls do not each pay the timeout.
      const many = await timed(async () => {
        for (let i = 1; i <= 20; i++) await cache.get(k(i));
        for (let i = 1; i <= 20; i++)
          await cache.set(k(i), { kind: "chat", response: chatResponse("m") }, 60_000);
      });
      // 40 calls that each paid the timeout would take 20 s; none tried Redis (errors below).
      expect(many.ms).toBeLessThan(5_000);
      // Writes still land in memory; memory hits are unaffected.
      expect((await cache.get(k(3)))?.level).toBe("memory");
      expect((await cache.get(warm))?.level).toBe("memory");
      expect(errors).toEqual(["get"]);
      // After the skip window one call probes (and pays the timeout once more); the rest skip.
      await elapse(SKIP_MS + 50); // the skip window is the behaviour under test: its clock must move
      const [probe, ...rest] = await Promise.all(
        Array.from({ length: 10 }, (_, i) => timed(() => cache.get(k(100 + i)))),
      );
      expect(probe?.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 10);
      // The others were answered at once, while the probe still waited for its timeout.
      for (const r of rest) expect(r.ms).toBeLessThan(probe?.ms ?? 0);
      expect(errors).toEqual(["get", "get"]);
    } finally {
      signal("SIGCONT");
    }
    // Writes are skipped until the window ends; then one probes the thawed Redis and it is used again.
    const back = cacheKey(chatRequest({ model: "mock/back" }), "t");
    await waitFor(
      async () => {
        await cache.set(back, { kind: "chat", response: chatResponse("after") }, 60_000);
        return cache.redisState === "up";
      },
      { what: "a write to probe the thawed Redis" },
    );
    expect(cache.redisState).toBe("up");
    expect(states).toEqual(["down", "up"]);
    expect((await new ResponseCache(opts).get(back))?.level).toBe("redis");
  });

  it("killed: fails fast and falls through to a miss", async () => {
    const mine = await startRedis();
    const r = fastRedis(mine.port);
    await ready(r);
    const errors: string[] = [];
    const cache = new ResponseCache({
      redis: r,
      prefix,
      timeoutMs: 3_000,
      skipMs: 10_000,
      onError: (e) => errors.push(e instanceof Error ? e.message : String(e)),
    });
    mine.stop();
    await waitFor(() => r.status !== "ready", { what: "the client to see the killed Redis" });
    const key = cacheKey(chatRequest({ model: "mock/killed" }), "t");
    const t = await timed(async () => {
      for (let i = 0; i < 20; i++) await cache.get(key);
      await cache.set(key, { kind: "chat", response: chatResponse("x") }, 60_000);
    });
    // Failed at once (the connection is gone), not by waiting out a timeout; then skipped.
    expect(t.ms).toBeLessThan(3_000);
    expect(errors).toHaveLength(1);
    expect(errors[0]).not.toMatch(/timed out|timeout/i);
    expect(cache.redisState).toBe("down");
    expect((await cache.get(key))?.level).toBe("memory");
    r.disconnect();
  });
});
