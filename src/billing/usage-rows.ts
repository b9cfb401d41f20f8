// What both usage ledgers share: a row's counters, an event's increments, the days a query reads
// (default: the last 30, never beyond retention) and the order of the rows.
import { DAY_MS, dayName, dayStart } from "./period.js";
import type { UsageEvent, UsageFilter, UsageRow } from "./types.js";

/** The counters of a usage row, in a fixed order (also the Redis field suffixes). */
export const USAGE_COUNTERS = [
  "calls",
  "errors",
  "cacheHits",
  "inputTokens",
  "outputTokens",
  "cachedInputTokens",
  "cacheWriteTokens",
  "reasoningTokens",
  "costMicros",
] as const;

/** One counter's name. */
export type UsageCounter = (typeof USAGE_COUNTERS)[number];

/** The counters of one key, model and day. */
export type UsageTotals = Record<UsageCounter, number>;

/** Days a query reads when it names no range. */
export const DEFAULT_QUERY_DAYS = 30;

/** Usage a retention window keeps by default (config `usage.retention_days`). */
export const DEFAULT_RETENTION_DAYS = 90;

/** All counters at zero. */
export function zeroTotals(): UsageTotals {
  return {
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
}

/** Adds `row`'s counters to `t`. */
export function addTotals(t: UsageTotals, row: UsageTotals): void {
  for (const c of USAGE_COUNTERS) t[c] += row[c];
}

/** A count as a non-negative integer (NaN, negatives -> 0), so Redis HINCRBY takes it. */
const whole = (n: number): number => (n > 0 ? Math.round(n) : 0);

/** Adds one event to `t`. */
export function addEvent(t: UsageTotals, e: UsageEvent): void {
  t.calls += 1;
  if (e.error) t.errors += 1;
  if (e.cacheHit) t.cacheHits += 1;
  t.inputTokens += whole(e.inputTokens);
  t.outputTokens += whole(e.outputTokens);
  t.cachedInputTokens += whole(e.cachedInputTokens);
  t.cacheWriteTokens += whole(e.cacheWriteTokens);
  t.reasoningTokens += whole(e.reasoningTokens);
  t.costMicros += whole(e.costMicros);
}

/** UTC midnight (ms) of the oldest day a retention window of `retentionDays` still keeps at `nowMs`. */
export function oldestKept(nowMs: number, retentionDays: number): number {
  return dayStart(nowMs) - retentionDays * DAY_MS;
}

/** Epoch ms at which a day's usage expires: its end plus the retention window. */
export function expiryOf(day: number, retentionDays: number): number {
  return dayStart(day) + (retentionDays + 1) * DAY_MS;
}

/**
 * The UTC days (YYYY-MM-DD, oldest first) a query reads: [fromMs, toMs] by day, inclusive; without
 * `fromMs`, the 30 days up to `toMs` (default now); never before the retention window, never past
 * tomorrow (a skewed clock may have written there).
 */
export function queryDays(f: UsageFilter, nowMs: number, retentionDays: number): string[] {
  const to = Math.min(dayStart(f.toMs ?? nowMs), dayStart(nowMs) + DAY_MS);
  const from = Math.max(
    dayStart(f.fromMs ?? to - (DEFAULT_QUERY_DAYS - 1) * DAY_MS),
    oldestKept(nowMs, retentionDays),
  );
  const days: string[] = [];
  for (let d = from; d <= to; d += DAY_MS) days.push(dayName(d));
  return days;
}

/** A row from its totals. */
export function toRow(day: string, key: string, model: string, t: UsageTotals): UsageRow {
  return { key, model, day, ...t };
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Sorts rows by day, key, model (in place) and returns them. */
export function sortRows(rows: UsageRow[]): UsageRow[] {
  return rows.sort((a, b) => cmp(a.day, b.day) || cmp(a.key, b.key) || cmp(a.model, b.model));
}
