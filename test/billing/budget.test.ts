// Budgets, the same suite on memory and on real Redis: a reserve fits iff spent + reserved + amount <=
// limit, settle moves the hold to spent (an actual above the hold overshoots by that call only), the
// refusal's code / reason / metadata and no retry info, exactly N of 200 parallel reserves that fit N,
// expired leases released, periods rolling over, and on Redis two connections sharing one budget.
import { randomBytes } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import { describe, expect, it } from "vitest";
import {
  type BudgetLedgerOptions,
  type Budgets,
  budgetKeys,
  createBudgetLedger,
  periodOf,
  RedisBudgetStore,
} from "../../src/billing/index.js";
import type { BudgetSpec, BudgetStatus } from "../../src/billing/types.js";
import { GatewayError } from "../../src/errors.js";
import type { RedisLink } from "../../src/redis/client.js";
import { waitForValue } from "../helpers/wait.js";
import { log, plainClient, redisPair } from "./helpers.js";

const ledgers: Budgets[] = [];
const r = redisPair("budget", () => {
  for (const l of ledgers) l.close();
});
const PREFIX = r.prefix;

const newKey = () => `key-${randomBytes(4).toString("hex")}`;

/** The refusal a promise ends with. */
async function refusal(p: Promise<unknown>): Promise<GatewayError> {
  try {
    await p;
  } catch (e: unknown) {
    if (e instanceof GatewayError) return e;
    throw e;
  }
  throw new Error("expected the reserve to be refused");
}

const backends: [string, (opts?: BudgetLedgerOptions, which?: RedisLink) => Budgets][] = [
  ["memory", (opts) => track(createBudgetLedger(undefined, "fail_closed", log, opts))],
  [
    "redis",
    (opts, which) =>
      track(createBudgetLedger(which ?? r.link, "fail_closed", log, { prefix: PREFIX, ...opts })),
  ],
];

/**
 * Settles are fire-and-forget: waits until the ledger's status shows `want` (a settle that never
 * lands fails here, naming what was awaited), then asserts it.
 */
async function statusBecomes(b: Budgets, k: string, spec: BudgetSpec, want: Partial<BudgetStatus>) {
  const got = await waitForValue(
    () => b.status(k, spec),
    (s) => Object.entries(want).every(([f, v]) => isDeepStrictEqual(s[f as keyof BudgetStatus], v)),
    { what: `budget status ${JSON.stringify(want)}` },
  );
  expect(got).toMatchObject(want);
}

function track(b: Budgets): Budgets {
  ledgers.push(b);
  return b;
}

describe.each(backends)("budgets on %s", (name, make) => {
  const day = { usd: 0.001, period: "day" as const }; // 1 000 micro-dollars

  it("reserves iff spent + reserved + amount <= limit; settle moves the hold to spent", async () => {
    const b = make();
    const k = newKey();
    const first = await b.reserve(k, day, 600, 60_000);
    expect(first.reservedMicros).toBe(600);
    expect((await refusal(b.reserve(k, day, 401, 60_000))).reason).toBe("BUDGET_EXCEEDED");
    const second = await b.reserve(k, day, 400, 60_000); // exactly the limit
    expect(await b.status(k, day)).toMatchObject({ limitMicros: 1000, spentMicros: 0, reservedMicros: 1000 });
    first.settle(250);
    second.settle(400);
    await statusBecomes(b, k, day, { spentMicros: 650, reservedMicros: 0 });
    await b.reserve(k, day, 350, 60_000); // 650 + 350 = 1000
    expect((await refusal(b.reserve(k, day, 1, 60_000))).reason).toBe("BUDGET_EXCEEDED");
  });

  it("an actual above the hold overshoots by that call's difference only, then refuses", async () => {
    const b = make();
    const k = newKey();
    const h1 = await b.reserve(k, day, 500, 60_000);
    const h2 = await b.reserve(k, day, 500, 60_000);
    h1.settle(700); // 200 more than held
    await statusBecomes(b, k, day, { spentMicros: 700, reservedMicros: 500 });
    h2.settle(500);
    h2.settle(999); // idempotent: the first settle wins
    await statusBecomes(b, k, day, { spentMicros: 1200, reservedMicros: 0 });
    expect((await refusal(b.reserve(k, day, 0, 60_000))).reason).toBe("BUDGET_EXCEEDED");
  });

  it("refuses with RESOURCE_EXHAUSTED / BUDGET_EXCEEDED, the period and its reset, and no retry info", async () => {
    const b = make();
    const k = newKey();
    const week = { usd: 0.25, period: "week" as const };
    await b.reserve(k, week, 250_000, 60_000);
    const e = await refusal(b.reserve(k, week, 1, 60_000));
    const resetAt = periodOf("week", Date.now()).resetAt.toISOString();
    expect(e.code).toBe("RESOURCE_EXHAUSTED");
    expect(e.reason).toBe("BUDGET_EXCEEDED");
    expect(e.details.metadata).toEqual({ period: "week", budget_usd: "0.25", reset_at: resetAt });
    expect(e.details.retryAfterMs).toBeUndefined();
    expect(e.message).toBe(`the key's budget of $0.25 per week is used up; it resets at ${resetAt}`);
    // A call that could never fit says so.
    const big = await refusal(b.reserve(newKey(), week, 300_000, 60_000));
    expect(big.message).toMatch(
      /may cost up to \$0\.3, more than the key's whole budget of \$0\.25 per week/,
    );
    expect(big.details.metadata?.["reset_at"]).toBe(resetAt);
  });

  it("200 parallel reserves of A against a limit of exactly 37 A: exactly 37 succeed", async () => {
    const b = make();
    const k = newKey();
    const A = 1234;
    const spec = { usd: (37 * A) / 1e6, period: "month" as const };
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, () => b.reserve(k, spec, A, 60_000)),
    );
    const ok = results.filter((r) => r.status === "fulfilled");
    const refused = results.filter(
      (r) =>
        r.status === "rejected" && r.reason instanceof GatewayError && r.reason.reason === "BUDGET_EXCEEDED",
    );
    expect(ok).toHaveLength(37);
    expect(refused).toHaveLength(163);
    expect(await b.status(k, spec)).toMatchObject({
      limitMicros: 37 * A,
      spentMicros: 0,
      reservedMicros: 37 * A,
    });
    // Every decision was taken where it should be (none fell back to memory on the Redis backend).
    expect(b.stats).toMatchObject(name === "redis" ? { redis: 201, local: 0 } : { redis: 0, local: 200 });
  });

  it("a reservation not settled within its lease is released by the next reserve or status", async () => {
    let t = Date.now();
    const b = make({ now: () => t });
    const k = newKey();
    const lost = await b.reserve(k, day, 800, 100);
    expect((await refusal(b.reserve(k, day, 300, 60_000))).reason).toBe("BUDGET_EXCEEDED");
    // Memory leases run on the ledger's clock, Redis leases on Redis TIME.
    // (On Redis: the status after the lease has run out on Redis's clock releases it.)
    if (name === "memory") t += 101;
    await statusBecomes(b, k, day, { spentMicros: 0, reservedMicros: 0 });
    const h = await b.reserve(k, day, 1000, 60_000);
    // The crashed-looking call settles after all: its spend still counts, its hold is not freed twice.
    lost.settle(100);
    await statusBecomes(b, k, day, { spentMicros: 100, reservedMicros: 1000 });
    h.settle(0);
  });

  it("a new period starts empty; a settle lands in its reservation's period", async () => {
    let t = Date.parse("2099-11-22T23:59:00.000Z");
    const b = make({ now: () => t });
    const k = newKey();
    const h = await b.reserve(k, day, 1000, 600_000);
    expect((await refusal(b.reserve(k, day, 1, 600_000))).details.metadata?.["reset_at"]).toBe(
      "2099-11-23T00:00:00.000Z",
    );
    t = Date.parse("2099-11-23T00:00:30.000Z");
    const next = await b.reserve(k, day, 1000, 600_000);
    h.settle(900);
    next.settle(10);
    await statusBecomes(b, k, day, {
      spentMicros: 10,
      reservedMicros: 0,
      periodStart: new Date("2099-11-23T00:00:00.000Z"),
      resetAt: new Date("2099-11-24T00:00:00.000Z"),
    });
    t = Date.parse("2099-11-22T23:59:59.000Z");
    expect(await b.status(k, day)).toMatchObject({ spentMicros: 900, reservedMicros: 0 });
  });
});

describe("budgets on redis, across connections", () => {
  it("two connections (two replicas) share one budget exactly", async () => {
    const a = backends[1]![1]({}, r.link);
    const b = backends[1]![1]({}, r.link2);
    const k = newKey();
    const A = 777;
    const spec = { usd: (50 * A) / 1e6, period: "day" as const };
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).reserve(k, spec, A, 60_000)),
    );
    const held = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    expect(held).toHaveLength(50);
    for (const h of held) h.settle(A - 1);
    await statusBecomes(a, k, spec, { spentMicros: 50 * (A - 1), reservedMicros: 0 });
    expect(await b.status(k, spec)).toMatchObject({ spentMicros: 50 * (A - 1), reservedMicros: 0 });
    await b.reserve(k, spec, 50, 60_000);
    expect((await refusal(a.reserve(k, spec, 1, 60_000))).reason).toBe("BUDGET_EXCEEDED");
  });

  it("keeps one key's counters under one hash tag, expiring an hour after the period", async () => {
    const b = backends[1]![1]();
    const k = newKey();
    const spec = { usd: 1, period: "month" as const };
    await b.reserve(k, spec, 5, 60_000);
    const p = periodOf("month", Date.now());
    const [hash, leases] = budgetKeys(PREFIX, k, p.id);
    expect(hash).toBe(`${PREFIX}budget:{${k}}:${p.id}`);
    expect(leases).toBe(`${hash}:leases`);
    const c = plainClient(r.url);
    try {
      expect(await c.hget(hash, "reserved")).toBe("5");
      expect(await c.zcard(leases)).toBe(1);
      const expiry = p.resetAt.getTime() + 3_600_000;
      expect(Number(await c.call("PEXPIRETIME", hash))).toBe(expiry);
      expect(Number(await c.call("PEXPIRETIME", leases))).toBe(expiry);
    } finally {
      c.disconnect();
    }
  });

  it("a settle is idempotent in the store, so a retried settle never counts twice", async () => {
    const store = new RedisBudgetStore(r.link, PREFIX);
    const k = newKey();
    const p = periodOf("day", Date.now());
    expect((await store.reserve(k, p, 1000, 400, "h1", 60_000)).ok).toBe(true);
    await store.settle(k, p, "h1", 300);
    await store.settle(k, p, "h1", 300);
    await store.settle(k, p, "never-reserved", 50);
    expect(await store.status(k, p)).toEqual({ spentMicros: 300, reservedMicros: 0 });
  });
});
