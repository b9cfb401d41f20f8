// Budget counters in this process (no Redis, or fail_open during an outage) with the Redis script's
// semantics, and the backend shape both stores share.

import type { Micros } from "../lib/money.js";
import type { PeriodSpan } from "./period.js";

/** Where one key stands in one period. */
export interface BudgetCounts {
  spentMicros: Micros;
  /** Held by reservations whose lease has not run out. */
  reservedMicros: Micros;
}

/** A budget backend: every operation is atomic for one key and period. */
export interface BudgetStore {
  /**
   * Releases the key's expired leases, then holds `amount` under `holdId` for `leaseMs` iff
   * spent + reserved + amount <= limit. Returns the counts after the decision.
   */
  reserve(
    keyId: string,
    period: PeriodSpan,
    limit: Micros,
    amount: Micros,
    holdId: string,
    leaseMs: number,
  ): Promise<BudgetCounts & { ok: boolean }>;
  /**
   * Frees the hold (if its lease has not released it already) and adds `actual` to spent.
   * Idempotent: a second settle of the same hold changes nothing.
   */
  settle(keyId: string, period: PeriodSpan, holdId: string, actual: Micros): Promise<void>;
  /** Releases expired leases and returns the counts. */
  status(keyId: string, period: PeriodSpan): Promise<BudgetCounts>;
}

interface Account {
  spent: number;
  reserved: number;
  /** Hold id -> amount and lease expiry (ms). */
  holds: Map<string, { amount: number; expiresAt: number }>;
  /** Holds a lease released before they were settled (their settle still adds the spend). */
  released: Set<string>;
  /** When the account can be forgotten: the period's end plus a grace for late settles. */
  dropAt: number;
}

/** How long after its period an account is kept for late settles (Redis keys expire the same). */
export const BUDGET_GRACE_MS = 3_600_000;

/** Budget accounts in this process; past periods are dropped by a periodic sweep. */
export class MemoryBudgetStore implements BudgetStore {
  private readonly accounts = new Map<string, Account>();
  private readonly sweep: NodeJS.Timeout;

  constructor(private readonly now: () => number = Date.now) {
    this.sweep = setInterval(() => this.gc(), 60_000);
    this.sweep.unref();
  }

  close(): void {
    clearInterval(this.sweep);
  }

  private gc(): void {
    const now = this.now();
    for (const [k, a] of this.accounts) if (a.dropAt <= now) this.accounts.delete(k);
  }

  private find(keyId: string, period: PeriodSpan): Account | undefined {
    return this.accounts.get(`${keyId}\n${period.id}`);
  }

  private open(keyId: string, period: PeriodSpan): Account {
    const found = this.find(keyId, period);
    if (found) return found;
    const dropAt = period.resetAt.getTime() + BUDGET_GRACE_MS;
    const a: Account = { spent: 0, reserved: 0, holds: new Map(), released: new Set(), dropAt };
    this.accounts.set(`${keyId}\n${period.id}`, a);
    return a;
  }

  private release(a: Account, now: number): void {
    for (const [id, h] of a.holds) {
      if (h.expiresAt > now) continue;
      a.holds.delete(id);
      a.reserved -= h.amount;
      a.released.add(id);
    }
  }

  async reserve(
    keyId: string,
    period: PeriodSpan,
    limit: Micros,
    amount: Micros,
    holdId: string,
    leaseMs: number,
  ): Promise<BudgetCounts & { ok: boolean }> {
    const now = this.now();
    const a = this.open(keyId, period);
    this.release(a, now);
    if (a.spent + a.reserved + amount > limit) {
      return { ok: false, spentMicros: a.spent, reservedMicros: a.reserved };
    }
    a.holds.set(holdId, { amount, expiresAt: now + leaseMs });
    a.reserved += amount;
    return { ok: true, spentMicros: a.spent, reservedMicros: a.reserved };
  }

  async settle(keyId: string, period: PeriodSpan, holdId: string, actual: Micros): Promise<void> {
    const a = this.find(keyId, period);
    if (!a) return;
    const h = a.holds.get(holdId);
    if (h) {
      a.holds.delete(holdId);
      a.reserved -= h.amount;
    } else if (!a.released.delete(holdId)) return;
    a.spent += actual;
  }

  async status(keyId: string, period: PeriodSpan): Promise<BudgetCounts> {
    const a = this.find(keyId, period);
    if (!a) return { spentMicros: 0, reservedMicros: 0 };
    this.release(a, this.now());
    return { spentMicros: a.spent, reservedMicros: a.reserved };
  }
}
