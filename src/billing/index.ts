// The billing surface: budgets per key and UTC calendar period (reserve before a call, settle after),
// usage per key / model / day, and the period helpers they share. Money is integer micro-USD (lib/money.ts).
export {
  type BudgetLedgerOptions,
  type BudgetStats,
  Budgets,
  budgetExceeded,
  createBudgetLedger,
  type OutagePolicy,
} from "./budget.js";
export { MemoryBudgetStore } from "./budget-memory.js";
export { budgetKeys, RedisBudgetStore } from "./budget-redis.js";
export { DAY_MS, dayName, dayStart, type PeriodSpan, periodOf } from "./period.js";
export type {
  BudgetHold,
  BudgetLedger,
  BudgetPeriod,
  BudgetSpec,
  BudgetStatus,
  UsageEvent,
  UsageFilter,
  UsageLedger,
  UsageRow,
} from "./types.js";
export { createUsageLedger, type UsageLedgerOptions } from "./usage.js";
export { MemoryUsageLedger } from "./usage-memory.js";
export { RedisUsageLedger, type UsageWriterStats } from "./usage-redis.js";
export {
  DEFAULT_QUERY_DAYS,
  DEFAULT_RETENTION_DAYS,
  USAGE_COUNTERS,
  type UsageCounter,
} from "./usage-rows.js";
