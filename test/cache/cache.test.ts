// The two-level cache against the real Redis at 127.0.0.1:6379 (unique key prefix per run): L1 hit, a
// fresh instance ("new process") hits L2 with its age, tenants isolated, TTL in both levels, L1 bound.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CacheStatus } from "../../gen/llmgateway/v1/llm_pb.js";
import { ByteLru, CachedCalls, cacheKey, ResponseCache, resolveCachePolicy } from "../../src/cache/index.js";
import { waitFor } from "../helpers/wait.js";
import {
  chatRequest,
  chatResponse,
  fastRedis,
  ready,
  streamEvents,
  streamText,
  uniquePrefix,
} from "./helpers.js";

const redis = fastRedis();
const prefix = uniquePrefix();

beforeAll(async () => {
  await ready(redis);
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

describe("ResponseCache", () => {
  it("hits L1, then a fresh instance hits L2 with the right age, and fills its own L1", async () => {
    let clock = Date.now();
    const now = () => clock;
    const a = new ResponseCache({ redis, prefix, now });
    const key = cacheKey(chatRequest({ model: "mock/l1l2" }), "tenant-a");
    expect(await a.get(key)).toBeUndefined();
    await a.set(key, { kind: "chat", response: chatResponse("hi") }, 60_000);
    const h1 = await a.get(key);
    expect(h1?.level).toBe("memory");
    expect(h1?.value.kind === "chat" && h1.value.response.message?.content[0]?.part.value).toBe("hi");
    clock += 7_500;
    const b = new ResponseCache({ redis, prefix, now });
    const h2 = await b.get(key);
    expect(h2?.level).toBe("redis");
    expect(h2?.ageS).toBe(7);
    expect(h2?.value.kind).toBe("chat");
    expect((await b.get(key))?.level).toBe("memory");
    // Every hit is a fresh object: stamping one never changes the next.
    if (h1?.value.kind === "chat") h1.value.response.id = "mutated";
    const h3 = await a.get(key);
    expect(h3?.value.kind === "chat" && h3.value.response.id).toBe("r1");
  });

  it("never serves tenant A's entry to tenant B", async () => {
    const c = new ResponseCache({ redis, prefix });
    const req = chatRequest({ model: "mock/tenants" });
    await c.set(cacheKey(req, "tenant-a"), { kind: "chat", response: chatResponse("for A") }, 60_000);
    expect(await c.get(cacheKey(req, "tenant-b"))).toBeUndefined();
    expect(await new ResponseCache({ redis, prefix }).get(cacheKey(req, "tenant-b"))).toBeUndefined();
    expect((await c.get(cacheKey(req, "tenant-a")))?.level).toBe("memory");
  });

  it("expires entries in both levels", async () => {
    const c = new ResponseCache({ redis, prefix });
    const key = cacheKey(chatRequest({ model: "mock/ttl" }), "t");
    // Long enough that a busy machine still reads it back before it expires.
    await c.set(key, { kind: "chat", response: chatResponse("short") }, 2_000);
    expect((await c.get(key))?.level).toBe("memory");
    expect((await new ResponseCache({ redis, prefix }).get(key))?.level).toBe("redis");
    expect(await redis.pttl(prefix + key)).toBeGreaterThan(0);
    // Redis drops the key once the TTL has passed; by then the L1 entry's expiry has passed too.
    await waitFor(async () => (await redis.exists(prefix + key)) === 0, {
      what: "Redis to expire the entry",
    });
    expect(await c.get(key)).toBeUndefined();
    expect(await new ResponseCache({ redis, prefix }).get(key)).toBeUndefined();
    expect(await redis.exists(prefix + key)).toBe(0);
  });

  it("keeps a stream's events in order and replays them from L2", async () => {
    const c = new ResponseCache({ redis, prefix });
    const key = cacheKey(chatRequest({ model: "mock/stream" }), "t", "stream");
    const events = streamEvents(5);
    await c.set(key, { kind: "stream", events }, 60_000);
    const hit = await new ResponseCache({ redis, prefix }).get(key);
    expect(hit?.level).toBe("redis");
    expect(hit?.value.kind === "stream" && streamText(hit.value.events)).toBe(streamText(events));
  });

  it("bounds L1 by bytes, evicting the least recently used", async () => {
    const c = new ResponseCache({ maxBytes: 4_000 });
    const keys = Array.from({ length: 20 }, (_, i) => cacheKey(chatRequest({ model: `mock/m${i}` }), "t"));
    await c.set(keys[0] as string, { kind: "chat", response: chatResponse("x".repeat(300)) }, 60_000);
    for (const k of keys.slice(1)) {
      expect(c.getMemory(keys[0] as string)).toBeDefined(); // keeps the first one recent
      await c.set(k, { kind: "chat", response: chatResponse("x".repeat(300)) }, 60_000);
      expect(c.l1.bytes).toBeLessThanOrEqual(4_000);
    }
    expect(c.l1.size).toBeLessThan(20);
    expect(c.getMemory(keys[0] as string)).toBeDefined();
    expect(c.getMemory(keys[1] as string)).toBeUndefined();
    // An entry bigger than the whole bound is not kept.
    const big = new ByteLru(1_000);
    big.set("k", new Uint8Array(2_000), Date.now() + 1000);
    expect(big.size).toBe(0);
  });

  it("does not write for no_store / a zero TTL, and follows the model policy when the request is silent", () => {
    expect(resolveCachePolicy({ enabled: false, ttlS: 600 }, undefined)).toBeUndefined();
    expect(resolveCachePolicy({ enabled: true, ttlS: 600 }, undefined)).toEqual({
      store: true,
      ttlMs: 600_000,
    });
    const req = chatRequest({ cache: { enabled: true, noStore: true } });
    expect(resolveCachePolicy({ enabled: false, ttlS: 600 }, req.cache)).toEqual({
      store: false,
      ttlMs: 600_000,
    });
    const off = chatRequest({ cache: { enabled: false } });
    expect(resolveCachePolicy({ enabled: true, ttlS: 600 }, off.cache)).toBeUndefined();
    const ttl = chatRequest({ cache: { ttlS: 5 } });
    expect(resolveCachePolicy({ enabled: true, ttlS: 600 }, ttl.cache)).toEqual({
      store: true,
      ttlMs: 5_000,
    });
  });
});

describe("CachedCalls", () => {
  it("miss, then L1 hit; a new process hits L2; no_store reads but never writes", async () => {
    const calls = new CachedCalls(new ResponseCache({ redis, prefix }));
    const key = cacheKey(chatRequest({ model: "mock/calls" }), "tenant-a");
    let upstream = 0;
    const call = async () => {
      upstream++;
      return chatResponse("answer");
    };
    const policy = { store: true, ttlMs: 60_000 };
    const r1 = await calls.chat(key, policy, undefined, call);
    expect(r1.status).toBe(CacheStatus.MISS);
    const r2 = await calls.chat(key, policy, undefined, call);
    expect(r2.status).toBe(CacheStatus.HIT_MEMORY);
    // The L2 write runs in the background: wait until Redis has it.
    await waitFor(async () => (await redis.exists(prefix + key)) === 1, { what: "the background L2 write" });
    const other = new CachedCalls(new ResponseCache({ redis, prefix }));
    const r3 = await other.chat(key, policy, undefined, call);
    expect(r3.status).toBe(CacheStatus.HIT_REDIS);
    expect(r3.response.message?.content[0]?.part.value).toBe("answer");
    expect(upstream).toBe(1);

    const k2 = cacheKey(chatRequest({ model: "mock/nostore" }), "tenant-a");
    const noStore = { store: false, ttlMs: 60_000 };
    expect((await calls.chat(k2, noStore, undefined, call)).status).toBe(CacheStatus.MISS);
    expect((await calls.chat(k2, noStore, undefined, call)).status).toBe(CacheStatus.MISS);
    expect(upstream).toBe(3);
    // A stored call made after them: once its background write has landed, a no_store write
    // (issued earlier, on the same connection) would have landed too.
    const k3 = cacheKey(chatRequest({ model: "mock/after-nostore" }), "tenant-a");
    await calls.chat(k3, policy, undefined, call);
    await waitFor(async () => (await redis.exists(prefix + k3)) === 1, {
      what: "the later stored call's L2 write",
    });
    expect(await redis.exists(prefix + k2)).toBe(0);
  });

  it("stores a completed stream and replays it as a stream; an unfinished stream is not stored", async () => {
    const calls = new CachedCalls(new ResponseCache({ redis, prefix }));
    const key = cacheKey(chatRequest({ model: "mock/cs" }), "t", "stream");
    const events = streamEvents(4);
    async function* upstream(): AsyncGenerator<(typeof events)[number]> {
      yield* events;
    }
    const policy = { store: true, ttlMs: 60_000 };
    const m = await calls.chatStream(key, policy, undefined, upstream);
    expect(m.status).toBe(CacheStatus.MISS);
    const got = [];
    for await (const e of m.events) got.push(e);
    expect(streamText(got)).toBe(streamText(events));
    const h = await calls.chatStream(key, policy, undefined, upstream);
    expect(h.status).toBe(CacheStatus.HIT_MEMORY);
    const replayed = [];
    for await (const e of h.events) replayed.push(e);
    expect(streamText(replayed)).toBe(streamText(events));

    const k2 = cacheKey(chatRequest({ model: "mock/cut" }), "t", "stream");
    async function* cut(): AsyncGenerator<(typeof events)[number]> {
      yield* events.slice(0, 3);
    }
    const c = await calls.chatStream(k2, policy, undefined, cut);
    for await (const _ of c.events) {
      // drain
    }
    expect((await calls.chatStream(k2, policy, undefined, cut)).status).toBe(CacheStatus.MISS);
  });
});
