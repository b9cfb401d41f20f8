// A sick Redis of our own (frozen with SIGSTOP: a blackhole; or killed and restarted): usage recorded
// meanwhile is written once Redis answers, exactly once even when a timed-out write lands late; budgets
// follow redis.on_outage (fail_closed: BUDGET_UNAVAILABLE; fail_open: this process's ledger), a late
// reserve does nothing, and a settle Redis missed is applied once it answers again.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Budgets,
  createBudgetLedger,
  RedisUsageLedger,
  type UsageEvent,
} from "../../src/billing/index.js";
import { GatewayError } from "../../src/errors.js";
import type { RedisLink } from "../../src/redis/client.js";
import { elapse, waitFor } from "../helpers/wait.js";
import { RedisServer } from "../limits/helpers.js";
import { connectLink, log, until } from "./helpers.js";

const PREFIX = "llmgwtest:outage:";
// The link's command timeout: short enough to keep the suite quick, long enough that a busy machine
// does not time out a healthy Redis.
const TIMEOUT_MS = 500;
let server: RedisServer;
let link: RedisLink;
const closers: (() => void)[] = [];

beforeAll(async () => {
  server = await RedisServer.start();
  link = await connectLink(server.url, TIMEOUT_MS, 300);
});

afterAll(async () => {
  for (const c of closers) c();
  server?.thaw();
  await link?.close();
  await server?.kill();
});

const up = () => until(() => link.usable && link.state === "up", 10_000, "redis to answer again");

function event(key: string, i: number): UsageEvent {
  return {
    key,
    model: i % 3 ? "openai/gpt-4o" : "mock/echo",
    atMs: Date.now(),
    inputTokens: 100 + i,
    outputTokens: 10 + (i % 7),
    cachedInputTokens: i % 5,
    cacheWriteTokens: 0,
    reasoningTokens: i % 2,
    costMicros: 1000 + i,
    cacheHit: i % 11 === 0,
    error: i % 13 === 0,
  };
}

/** calls, inputTokens and costMicros of `n` events from `from`. */
function sums(from: number, n: number): { calls: number; inputTokens: number; costMicros: number } {
  const out = { calls: 0, inputTokens: 0, costMicros: 0 };
  for (let i = from; i < from + n; i++) {
    const e = event("", i);
    out.calls++;
    out.inputTokens += e.inputTokens;
    out.costMicros += e.costMicros;
  }
  return out;
}

async function totals(u: RedisUsageLedger, key: string) {
  const rows = await u.query({ key });
  return {
    calls: rows.reduce((s, r) => s + r.calls, 0),
    inputTokens: rows.reduce((s, r) => s + r.inputTokens, 0),
    costMicros: rows.reduce((s, r) => s + r.costMicros, 0),
  };
}

function usage(): RedisUsageLedger {
  const u = new RedisUsageLedger(link, log, { retentionDays: 90, prefix: PREFIX, flushMs: 20 });
  closers.push(() => u.close());
  return u;
}

function budgets(policy: "fail_open" | "fail_closed"): Budgets {
  const b = createBudgetLedger(link, policy, log, { prefix: PREFIX });
  closers.push(() => b.close());
  return b;
}

const key = (what: string) => `${what}-${randomBytes(3).toString("hex")}`;

describe("usage through an outage", () => {
  it("frozen: writes fail fast, are kept, and land exactly once after the thaw", async () => {
    const u = usage();
    const k = key("frozen");
    for (let i = 0; i < 100; i++) u.record(event(k, i));
    await u.flush();
    server.freeze();
    // These are in flight when Redis stops answering: the first write times out (and may land at the thaw).
    for (let i = 100; i < 400; i++) u.record(event(k, i));
    await until(() => u.stats.failedWrites >= 2, 5000, "failed writes");
    for (let i = 400; i < 500; i++) u.record(event(k, i));
    const t0 = Date.now();
    // record never waits: it returns nothing to wait for, at once, while Redis is frozen.
    expect(u.record(event(k, 500))).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(TIMEOUT_MS);
    server.thaw();
    await u.flush();
    expect(await totals(u, k)).toEqual(sums(0, 501));
    expect(u.stats).toMatchObject({ pendingRows: 0, dropped: 0 });
    // The write that timed out at the freeze was applied at the thaw; its resend was recognised.
    expect(u.stats.duplicates).toBeGreaterThanOrEqual(1);
  });

  it("killed and restarted: what was recorded while it was gone is written to the new server", async () => {
    const u = usage();
    const k = key("killed");
    await server.kill();
    for (let i = 0; i < 200; i++) u.record(event(k, i));
    await until(() => u.stats.failedWrites >= 1, 5000, "a failed write");
    await server.spawn();
    await up();
    await u.flush();
    expect(await totals(u, k)).toEqual(sums(0, 200));
  });

  it("keeps at most maxPendingRows rows waiting and counts what it drops", async () => {
    const u = new RedisUsageLedger(link, log, {
      retentionDays: 90,
      prefix: PREFIX,
      flushMs: 20,
      maxPendingRows: 2,
    });
    closers.push(() => u.close());
    server.freeze();
    try {
      const k = key("bounded");
      for (let i = 0; i < 30; i++) u.record({ ...event(k, i), model: `m/${i % 3}` });
      expect(u.stats).toMatchObject({ pendingRows: 2, dropped: 10 });
    } finally {
      server.thaw();
    }
    await up();
    await u.flush();
  });
});

describe("budgets through an outage", () => {
  const spec = { usd: 0.001, period: "day" as const };

  it("fail_closed: BUDGET_UNAVAILABLE fast while frozen; a reserve that timed out does nothing late", async () => {
    await up();
    const b = budgets("fail_closed");
    const k = key("closed");
    await b.reserve(k, spec, 100, 60_000);
    server.freeze();
    const refused: GatewayError[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = Date.now();
      const e = await b.reserve(k, spec, 100, 60_000).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(Date.now() - t0).toBeLessThan(TIMEOUT_MS + 3_000); // one timeout at most, not a hang
      if (!(e instanceof GatewayError)) throw new Error(`expected a GatewayError, got ${String(e)}`);
      refused.push(e);
    }
    expect(refused.map((e) => [e.code, e.reason])).toEqual(
      Array(3).fill(["UNAVAILABLE", "BUDGET_UNAVAILABLE"]),
    );
    expect(b.stats.failedClosed).toBe(3);
    // The clock must pass the first reserve's "not after" (its timeout + slack, in Redis time).
    await elapse(TIMEOUT_MS + 300);
    server.thaw();
    await up();
    // The late reserves were queued on this link's connection before the status below, so Redis has
    // run them by the time it answers it.
    // Only the reserve made before the freeze holds money: the one that reached Redis late was void.
    expect(await b.status(k, spec)).toMatchObject({ spentMicros: 0, reservedMicros: 100 });
    await b.reserve(k, spec, 900, 60_000);
  });

  it("fail_open: this process's ledger decides while Redis is down, Redis again after", async () => {
    await up();
    const b = budgets("fail_open");
    const k = key("open");
    await b.reserve(k, spec, 600, 60_000);
    server.freeze();
    try {
      await b.reserve(k, spec, 1000, 60_000); // memory: a budget of its own for the outage
      const e = await b.reserve(k, spec, 1, 60_000).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(e instanceof GatewayError && e.reason).toBe("BUDGET_EXCEEDED");
      expect(b.stats).toMatchObject({ redis: 1, local: 2, failedClosed: 0 });
    } finally {
      server.thaw();
    }
    await up();
    expect((await b.status(k, spec)).reservedMicros).toBe(600);
    await b.reserve(k, spec, 400, 60_000);
    expect(b.stats.redis).toBe(3);
  });

  it("a settle Redis missed is applied once, when it answers again", async () => {
    await up();
    const b = budgets("fail_closed");
    const k = key("settle");
    const h = await b.reserve(k, spec, 500, 60_000);
    server.freeze();
    h.settle(321);
    await until(() => b.stats.pendingSettles === 1, 5000, "the settle to be queued");
    server.thaw();
    const spent = () =>
      b.status(k, spec).then(
        (st) => st.spentMicros,
        () => -1,
      );
    await until(async () => (await spent()) === 321, 5000, "the settle to be retried");
    // The settle that timed out reached Redis at the thaw, and was retried: once the retry is done
    // (nothing pending), a status read after it still counts it once.
    await waitFor(() => b.stats.pendingSettles === 0, { what: "the settle's retry to finish" });
    expect(await b.status(k, spec)).toMatchObject({ spentMicros: 321, reservedMicros: 0 });
    expect(b.stats).toMatchObject({ pendingSettles: 0, lostSettles: 0 });
  });
});
