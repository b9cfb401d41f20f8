// Shapes shared by the pipeline, the admin service and the billing stores: money in integer
// micro-dollars, budgets per gateway key and calendar period (UTC), usage per key / model / day.
import type { Micros } from "../lib/money.js";

export type BudgetPeriod = "day" | "week" | "month";

/** A key's budget as configured (`keys[].budget`) or set through AdminService. */
export interface BudgetSpec {
  usd: number;
  period: BudgetPeriod;
}

/** Money held for one call until it is reconciled. */
export interface BudgetHold {
  /** What was reserved. */
  readonly reservedMicros: Micros;
  /** Reconciles to the call's actual cost and frees the reservation; idempotent (first call wins). */
  settle(actualMicros: Micros): void;
}

/** Where a key stands in its current period. */
export interface BudgetStatus {
  limitMicros: Micros;
  spentMicros: Micros;
  /** Held by calls in flight. */
  reservedMicros: Micros;
  periodStart: Date;
  resetAt: Date;
}

/** Budget counters: Redis (atomic Lua, hash-tagged per key) when configured, else memory. */
export interface BudgetLedger {
  /**
   * Atomically reserves `amountMicros` against the key's budget for the current period, or throws a
   * GatewayError RESOURCE_EXHAUSTED / BUDGET_EXCEEDED (ErrorInfo metadata: period, budget_usd, reset_at
   * as ISO-8601; no RetryInfo) when spent + reserved + amount would exceed the limit. `leaseMs` bounds
   * how long a reservation may stay held if its process dies before settling.
   */
  reserve(keyId: string, spec: BudgetSpec, amountMicros: Micros, leaseMs: number): Promise<BudgetHold>;
  status(keyId: string, spec: BudgetSpec): Promise<BudgetStatus>;
  close(): void;
}

/** The tokens and cost of a call, or summed over calls. */
export interface UsageAmounts {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
  costMicros: Micros;
}

/** One finished call, as usage accounting sees it. */
export interface UsageEvent extends UsageAmounts {
  /** Key name ("anonymous" / "open" for keyless callers). */
  key: string;
  /** The model that answered, "provider/model" (the requested name when nothing answered). */
  model: string;
  /** Epoch ms of the call's end (its UTC day is the bucket). */
  atMs: number;
  cacheHit: boolean;
  error: boolean;
}

export interface UsageFilter {
  key?: string | undefined;
  model?: string | undefined;
  /** Inclusive, epoch ms (its UTC day). */
  fromMs?: number | undefined;
  /** Inclusive, epoch ms (its UTC day). */
  toMs?: number | undefined;
}

/** Totals of one key, model and UTC day. */
export interface UsageRow extends UsageAmounts {
  key: string;
  model: string;
  /** YYYY-MM-DD (UTC). */
  day: string;
  calls: number;
  errors: number;
  cacheHits: number;
}

/** Usage counters: Redis with a retention window when configured, else memory. */
export interface UsageLedger {
  /** Adds one call; never throws, never blocks the call (writes are queued and retried). */
  record(e: UsageEvent): void;
  /** Rows matching the filter, sorted by day, key, model. */
  query(f: UsageFilter): Promise<UsageRow[]>;
  /** Resolves when every recorded event is stored (tests, shutdown). */
  flush(): Promise<void>;
  close(): void;
}
