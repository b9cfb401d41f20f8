// The usage ledger a gateway runs on: Redis (shared, with a retention window) when configured, else
// this process's memory with the same window.

import type { Logger } from "../lib/logger.js";
import type { RedisLink } from "../redis/client.js";
import type { UsageLedger } from "./types.js";
import { MemoryUsageLedger } from "./usage-memory.js";
import { RedisUsageLedger } from "./usage-redis.js";
import { DEFAULT_RETENTION_DAYS } from "./usage-rows.js";

/** Options of a usage ledger (config `usage.retention_days`; the rest for tests). */
export interface UsageLedgerOptions {
  /** Days a day's usage is kept after it ends (default 90). */
  retentionDays?: number | undefined;
  /** Prefix of every Redis key (default "llmgw:"); tests isolate themselves with their own. */
  prefix?: string;
  /** How long events gather before a Redis write (default 100 ms). */
  flushMs?: number;
  /** Most (day, key, model) rows waiting for Redis during an outage (default 100 000). */
  maxPendingRows?: number;
  /** The clock for default query ranges and retention (default Date.now). */
  now?: () => number;
}

/**
 * The usage ledger for a gateway: on `link` when Redis is configured, else in memory. `record` only
 * adds to memory; Redis writes are batched, retried through outages and never counted twice.
 */
export function createUsageLedger(
  link: RedisLink | undefined,
  opts: UsageLedgerOptions,
  log: Logger,
): UsageLedger {
  const retentionDays = opts.retentionDays ?? DEFAULT_RETENTION_DAYS;
  if (!link) return new MemoryUsageLedger(retentionDays, opts.now);
  return new RedisUsageLedger(link, log, {
    retentionDays,
    ...(opts.prefix !== undefined && { prefix: opts.prefix }),
    ...(opts.flushMs !== undefined && { flushMs: opts.flushMs }),
    ...(opts.maxPendingRows !== undefined && { maxPendingRows: opts.maxPendingRows }),
    ...(opts.now !== undefined && { now: opts.now }),
  });
}
