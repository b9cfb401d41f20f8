// The budget ledger the pipeline calls: reserve / settle against a key's budget for the current UTC
// period on Redis or memory, the redis.on_outage policy, and the BUDGET_EXCEEDED error.
import { randomBytes } from "node:crypto";
import { GatewayError } from "../errors.js";
import type { Logger } from "../lib/logger.js";
import { type Micros, usdToMicros, wholeMicros } from "../lib/money.js";
import type { OutagePolicy } from "../limits/index.js";
import { RedisDownError, type RedisLink } from "../redis/client.js";
import { type BudgetCounts, type BudgetStore, MemoryBudgetStore } from "./budget-memory.js";
import { LateReserve, RedisBudgetStore } from "./budget-redis.js";
import { type PeriodSpan, periodOf } from "./period.js";
import type { BudgetHold, BudgetLedger, BudgetSpec, BudgetStatus } from "./types.js";

/** What the gateway does when Redis is down (config `redis.on_outage`): the rate limiter's policy. */
export type { OutagePolicy };

/** Options of a budget ledger. */
export interface BudgetLedgerOptions {
  /** Prefix of every Redis key (default "llmgw:"); tests isolate themselves with their own. */
  prefix?: string;
  /** The clock that picks the period, and the memory ledger's lease clock (default Date.now). */
  now?: () => number;
  /** Most settles kept for a retry while Redis is down (default 100 000; beyond: dropped, warned). */
  maxPendingSettles?: number;
}

/** How decisions were taken, for tests and Health. */
export interface BudgetStats {
  redis: number;
  local: number;
  failedClosed: number;
  /** Settles that failed on Redis and wait for a retry. */
  pendingSettles: number;
  /** Settles dropped (retry queue full, or Redis answered with an error). */
  lostSettles: number;
}

interface PendingSettle {
  keyId: string;
  period: PeriodSpan;
  holdId: string;
  actual: Micros;
}

const holdPrefix = `${process.pid.toString(36)}.${randomBytes(4).toString("hex")}.`;
let holdCounter = 0;

/** Dollars as written in messages and metadata ("0.01", "100"). */
function usdText(usd: number): string {
  return String(Number(usd.toFixed(6)));
}

/**
 * RESOURCE_EXHAUSTED / BUDGET_EXCEEDED for a key over its budget: the message says the budget, the
 * period and when it resets; ErrorInfo metadata { period, budget_usd, reset_at (ISO-8601) }. No
 * RetryInfo: retrying before `reset_at` cannot help.
 */
export function budgetExceeded(spec: BudgetSpec, period: PeriodSpan, amount: Micros): GatewayError {
  const budget = usdText(spec.usd);
  const resetAt = period.resetAt.toISOString();
  const message =
    amount > usdToMicros(spec.usd)
      ? `this call may cost up to $${usdText(amount / 1e6)}, more than the key's whole budget of $${budget} per ${spec.period}; lower max_tokens`
      : `the key's budget of $${budget} per ${spec.period} is used up; it resets at ${resetAt}`;
  return new GatewayError("RESOURCE_EXHAUSTED", "BUDGET_EXCEEDED", message, {
    metadata: { period: spec.period, budget_usd: budget, reset_at: resetAt },
  });
}

/**
 * Budgets on Redis when a link is given, else in memory. Semantics (both stores): a reserve succeeds
 * iff spent + reserved + amount <= limit (limit = usd x 1e6); settle(actual) frees the hold and adds
 * `actual` to spent, in the reservation's period. `actual` may exceed the hold: spent then passes the
 * limit by at most that call's difference, and the key's next reserve is refused. A hold not settled
 * within its lease (its process died) is released by the key's next reserve or status, so a crashed
 * replica does not leak budget; a late settle of such a hold still adds its spend. Settles never
 * throw; one Redis missed is kept (bounded) and retried when Redis answers, applied exactly once.
 */
export class Budgets implements BudgetLedger {
  private readonly memory: MemoryBudgetStore;
  private readonly redis: RedisBudgetStore | undefined;
  private readonly now: () => number;
  private readonly maxPending: number;
  private pending: PendingSettle[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly counts = { redis: 0, local: 0, failedClosed: 0, lostSettles: 0 };

  constructor(
    private readonly link: RedisLink | undefined,
    private readonly policy: OutagePolicy,
    private readonly log: Logger,
    opts: BudgetLedgerOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.maxPending = opts.maxPendingSettles ?? 100_000;
    this.memory = new MemoryBudgetStore(this.now);
    this.redis = link ? new RedisBudgetStore(link, opts.prefix ?? "llmgw:") : undefined;
  }

  get stats(): BudgetStats {
    return { ...this.counts, pendingSettles: this.pending.length };
  }

  /** Our best estimate of Redis time, so replicas agree on where a period ends. */
  private redisNow(): number {
    return this.now() + (this.link?.clockOffsetMs ?? 0);
  }

  private unavailable(): GatewayError {
    this.counts.failedClosed++;
    return new GatewayError(
      "UNAVAILABLE",
      "BUDGET_UNAVAILABLE",
      "the budget ledger is unavailable; retry shortly",
      {
        retryAfterMs: this.link?.opts.downMs ?? 1000,
      },
    );
  }

  /** Runs `op` on Redis; on an outage, follows the policy: undefined (use memory) or throw. */
  private async onRedis<T>(op: (r: RedisBudgetStore) => Promise<T>): Promise<T | undefined> {
    if (!this.redis) return undefined;
    try {
      const out = await op(this.redis);
      this.counts.redis++;
      return out;
    } catch (e: unknown) {
      if (!(e instanceof RedisDownError || e instanceof LateReserve)) throw e;
      if (this.policy === "fail_closed") throw this.unavailable();
      return undefined;
    }
  }

  async reserve(keyId: string, spec: BudgetSpec, amountMicros: Micros, leaseMs: number): Promise<BudgetHold> {
    const amount = wholeMicros(amountMicros);
    const limit = usdToMicros(spec.usd);
    const holdId = holdPrefix + (++holdCounter).toString(36);
    let period = periodOf(spec.period, this.redisNow());
    let store: BudgetStore | undefined = this.redis;
    let r = await this.onRedis((s) => s.reserve(keyId, period, limit, amount, holdId, leaseMs));
    if (!r || !store) {
      store = this.memory;
      period = periodOf(spec.period, this.now());
      r = await this.memory.reserve(keyId, period, limit, amount, holdId, leaseMs);
      this.counts.local++;
    }
    if (!r.ok) throw budgetExceeded(spec, period, amount);
    return this.hold(store, keyId, period, holdId, amount);
  }

  private hold(
    store: BudgetStore,
    keyId: string,
    period: PeriodSpan,
    holdId: string,
    amount: Micros,
  ): BudgetHold {
    let settled = false;
    return {
      reservedMicros: amount,
      settle: (actualMicros: Micros) => {
        if (settled) return;
        settled = true;
        void this.settleOn(store, { keyId, period, holdId, actual: wholeMicros(actualMicros) });
      },
    };
  }

  /** Settles on `store`; never rejects. Resolves true when the store took it. */
  private settleOn(store: BudgetStore, s: PendingSettle): Promise<boolean> {
    return store.settle(s.keyId, s.period, s.holdId, s.actual).then(
      () => true,
      (e: unknown) => {
        this.log.debug({ err: e instanceof Error ? e.message : String(e) }, "budget settle failed");
        if (e instanceof RedisDownError) this.queue(s);
        else this.counts.lostSettles++;
        return false;
      },
    );
  }

  /** Keeps a settle Redis missed for a retry (settles are idempotent, so a retry never counts twice). */
  private queue(s: PendingSettle): void {
    if (this.pending.length >= this.maxPending) {
      if (this.counts.lostSettles++ % 10_000 === 0) {
        this.log.warn({ lost: this.counts.lostSettles }, "budget settles dropped: Redis is down too long");
      }
      return;
    }
    this.pending.push(s);
    this.schedule();
  }

  private schedule(): void {
    if (this.retryTimer || this.closed || this.pending.length === 0) return;
    this.retryTimer = setTimeout(() => void this.retry(), this.link?.opts.downMs ?? 1000);
    this.retryTimer.unref();
  }

  /** One settle probes Redis; when it is taken, the rest go at once. */
  private async retry(): Promise<void> {
    this.retryTimer = undefined;
    const [first, ...rest] = this.pending;
    this.pending = [];
    const redis = this.redis;
    if (!first || !redis) return;
    if (!(await this.settleOn(redis, first))) {
      this.pending.push(...rest);
      this.schedule();
      return;
    }
    await Promise.all(rest.map((s) => this.settleOn(redis, s)));
  }

  async status(keyId: string, spec: BudgetSpec): Promise<BudgetStatus> {
    let period = periodOf(spec.period, this.redisNow());
    let c: BudgetCounts | undefined = await this.onRedis((s) => s.status(keyId, period));
    if (!c) {
      period = periodOf(spec.period, this.now());
      c = await this.memory.status(keyId, period);
    }
    return {
      limitMicros: usdToMicros(spec.usd),
      spentMicros: c.spentMicros,
      reservedMicros: c.reservedMicros,
      periodStart: period.start,
      resetAt: period.resetAt,
    };
  }

  /** Stops the timers; settles still waiting for Redis are dropped. */
  close(): void {
    this.closed = true;
    this.memory.close();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }
}

/** The budget ledger for a gateway: on `link` when Redis is configured, else in memory. */
export function createBudgetLedger(
  link: RedisLink | undefined,
  policy: OutagePolicy,
  log: Logger,
  opts: BudgetLedgerOptions = {},
): Budgets {
  return new Budgets(link, policy, log, opts);
}
