// Usage, the same suite on memory and on real Redis: recorded events queried back equal their exact
// sums per key / model / UTC day, filters match exactly, the default range is the last 30 days and
// retention bounds everything; on Redis writes are coalesced, expire with the retention window, two
// writers add up, and a batch sent twice (a retry of one that had landed) is counted once.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  createUsageLedger,
  DAY_MS,
  dayName,
  dayStart,
  RedisUsageLedger,
  type UsageEvent,
  type UsageLedger,
  type UsageLedgerOptions,
  type UsageRow,
} from "../../src/billing/index.js";
import { USAGE_SCRIPTS } from "../../src/billing/usage-redis.js";
import type { RedisLink } from "../../src/redis/client.js";
import { log, plainClient, redisPair } from "./helpers.js";

const ledgers: UsageLedger[] = [];
const r = redisPair("usage", () => {
  for (const l of ledgers) l.close();
});
const PREFIX = r.prefix;

/** A deterministic pseudo-random source (LCG), so a failure can be replayed. */
function rng(seed: number): (n: number) => number {
  let s = seed;
  return (n) => {
    s = (Math.imul(s, 1_103_515_245) + 12_345) >>> 0;
    return (s >>> 16) % n; // the high bits: an LCG's low bits repeat quickly
  };
}

const tag = () => randomBytes(3).toString("hex");

/** `n` events for the keys and models given, spread over the last `days` days. */
function events(n: number, keys: string[], models: string[], days: number, seed = 7): UsageEvent[] {
  const r = rng(seed);
  const now = Date.now();
  return Array.from({ length: n }, () => ({
    key: keys[r(keys.length)]!,
    model: models[r(models.length)]!,
    atMs: now - r(days) * DAY_MS - r(1000),
    inputTokens: r(5000),
    outputTokens: r(2000),
    cachedInputTokens: r(100),
    cacheWriteTokens: r(50),
    reasoningTokens: r(300),
    costMicros: r(100_000),
    cacheHit: r(5) === 0,
    error: r(7) === 0,
  }));
}

/** The rows the events should sum to, computed here independently of the ledgers. */
function expected(es: UsageEvent[]): UsageRow[] {
  const rows = new Map<string, UsageRow>();
  for (const e of es) {
    const day = new Date(e.atMs).toISOString().slice(0, 10);
    const id = `${day} ${e.key} ${e.model}`;
    const row = rows.get(id) ?? {
      key: e.key,
      model: e.model,
      day,
      calls: 0,
      errors: 0,
      cacheHits: 0,
      inputTokens: 0,
      outputTokens: 0,
      cachedInputTokens: 0,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
      costMicros: 0,
    };
    row.calls++;
    row.errors += e.error ? 1 : 0;
    row.cacheHits += e.cacheHit ? 1 : 0;
    row.inputTokens += e.inputTokens;
    row.outputTokens += e.outputTokens;
    row.cachedInputTokens += e.cachedInputTokens;
    row.cacheWriteTokens += e.cacheWriteTokens;
    row.reasoningTokens += e.reasoningTokens;
    row.costMicros += e.costMicros;
    rows.set(id, row);
  }
  return [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
}

type Make = (opts?: UsageLedgerOptions, which?: RedisLink) => UsageLedger;
const backends: [string, Make][] = [
  ["memory", (opts) => track(createUsageLedger(undefined, { retentionDays: 90, ...opts }, log))],
  [
    "redis",
    (opts, which) =>
      track(
        createUsageLedger(which ?? r.link, { retentionDays: 90, prefix: PREFIX, flushMs: 20, ...opts }, log),
      ),
  ],
];

function track(u: UsageLedger): UsageLedger {
  ledgers.push(u);
  return u;
}

describe.each(backends)("usage on %s", (_name, make) => {
  it("queries back the exact sums per key, model and UTC day, sorted", async () => {
    const u = make();
    const t = tag();
    const keys = [`svc-${t}`, `batch-${t}`, `anonymous-${t}`];
    const es = events(2000, keys, ["openai/gpt-4o", "anthropic/claude-sonnet-4-5", "mock/echo"], 3);
    for (const e of es) u.record(e);
    await u.flush();
    const all = (await u.query({})).filter((r) => keys.includes(r.key));
    expect(all).toEqual(expected(es));
    expect(all.reduce((s, r) => s + r.calls, 0)).toBe(2000);
  });

  it("filters by key and model exactly, and by a range of days", async () => {
    const u = make();
    const t = tag();
    const keys = [`svc-${t}`, `svc-${t}-2`];
    const es = events(300, keys, ["openai/gpt-4o", "openai/gpt-4o-mini"], 3, 11);
    for (const e of es) u.record(e);
    await u.flush();
    const want = expected(es);
    expect(await u.query({ key: keys[0] })).toEqual(want.filter((r) => r.key === keys[0]));
    const gpt4o = (await u.query({ model: "openai/gpt-4o" })).filter((r) => keys.includes(r.key));
    expect(gpt4o).toEqual(want.filter((r) => r.model === "openai/gpt-4o"));
    const yesterday = Date.now() - DAY_MS;
    const oneDay = await u.query({ key: keys[1], fromMs: yesterday, toMs: yesterday });
    expect(oneDay).toEqual(want.filter((r) => r.key === keys[1] && r.day === dayName(yesterday)));
    expect(oneDay.length).toBeGreaterThan(0);
    expect(await u.query({ key: `svc-${t}-` })).toEqual([]);
  });

  it("reads the last 30 days by default, earlier days on request, nothing beyond retention", async () => {
    const u = make({ retentionDays: 40 });
    const key = `old-${tag()}`;
    const base = { key, model: "mock/echo", inputTokens: 1, outputTokens: 1, cachedInputTokens: 0 };
    const e = {
      ...base,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
      costMicros: 1,
      cacheHit: false,
      error: false,
    };
    const today = dayStart(Date.now()) + 1000;
    for (const ago of [0, 29, 30, 39, 45]) u.record({ ...e, atMs: today - ago * DAY_MS });
    await u.flush();
    const days = (rows: UsageRow[]) => rows.map((r) => r.day);
    const name = (ago: number) => dayName(today - ago * DAY_MS);
    expect(days(await u.query({ key }))).toEqual([name(29), name(0)]);
    const old = await u.query({ key, fromMs: today - 60 * DAY_MS });
    expect(days(old)).toEqual([name(39), name(30), name(29), name(0)]);
  });

  it("never throws from record, and counts nonsense as zeros", async () => {
    const u = make();
    const key = `odd-${tag()}`;
    const odd = {
      key,
      model: "mock/echo",
      atMs: Date.now(),
      inputTokens: -5,
      outputTokens: Number.NaN,
      cachedInputTokens: 2.6,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
      costMicros: -1,
      cacheHit: true,
      error: true,
    };
    expect(() => u.record(odd)).not.toThrow();
    await u.flush();
    expect(await u.query({ key })).toMatchObject([
      { calls: 1, errors: 1, cacheHits: 1, inputTokens: 0, cachedInputTokens: 3 },
    ]);
  });
});

describe("usage on redis", () => {
  it("coalesces a burst into one write per key and day, expiring retention days after the day", async () => {
    const u = new RedisUsageLedger(r.link, log, { retentionDays: 7, prefix: PREFIX, flushMs: 20 });
    ledgers.push(u);
    const t = tag();
    const keys = [`a-${t}`, `b-${t}`, `c-${t}`];
    for (const e of events(3000, keys, ["m/1", "m/2"], 3, 5)) u.record(e);
    await u.flush();
    expect(u.stats).toMatchObject({ writes: 9, pendingRows: 0, dropped: 0 });
    const c = plainClient(r.url);
    try {
      for (const ago of [0, 1, 2]) {
        const day = dayStart(Date.now() - ago * DAY_MS);
        const expiry = day + 8 * DAY_MS;
        const hash = `${PREFIX}usage:${dayName(day)}:{${keys[0]}}`;
        expect(Number(await c.call("PEXPIRETIME", hash))).toBe(expiry);
        expect(Number(await c.call("PEXPIRETIME", `${PREFIX}usage:${dayName(day)}:keys`))).toBe(expiry);
        expect((await c.smembers(`${PREFIX}usage:${dayName(day)}:keys`)).sort()).toEqual(
          expect.arrayContaining(keys),
        );
      }
    } finally {
      c.disconnect();
    }
  });

  it("two writers (two replicas) add up exactly", async () => {
    const a = backends[1]![1]({}, r.link);
    const b = backends[1]![1]({}, r.link2);
    const t = tag();
    const keys = [`shared-${t}`];
    const es = events(1000, keys, ["openai/gpt-4o"], 2, 3);
    for (const [i, e] of es.entries()) (i % 2 ? a : b).record(e);
    await Promise.all([a.flush(), b.flush()]);
    expect(await a.query({ key: keys[0] })).toEqual(expected(es));
  });

  it("a batch sent twice (a retry of a write that had landed) is counted once", async () => {
    const c = plainClient(r.url);
    try {
      const hash = `${PREFIX}usage:${dayName(Date.now())}:{dup-${tag()}}`;
      const exp = Date.now() + DAY_MS;
      const add = (seq: number, n: number) =>
        c.call("EVAL", USAGE_SCRIPTS[0]!.lua, 1, hash, "w1", seq, exp, "m|calls", n, "m|costMicros", n * 10);
      expect(await add(1, 2)).toBe(1);
      expect(await add(1, 2)).toBe(0);
      expect(await add(2, 3)).toBe(1);
      expect(await add(1, 2)).toBe(0);
      expect(await c.hgetall(hash)).toEqual({ "m|calls": "5", "m|costMicros": "50", "w:w1": "2" });
    } finally {
      c.disconnect();
    }
  });
});
