// The limiter the pipeline calls: one decision per call (Redis when configured, else memory),
// the redis.on_outage policy when Redis is sick, and the reconciliation of each granted call.
import { GatewayError } from "../errors.js";
import type { Logger } from "../lib/logger.js";
import { RedisDownError, type RedisLink } from "../redis/client.js";
import { MemoryStore } from "./memory.js";
import { OutboundLimiter } from "./outbound.js";
import { ExpiredDecision, RedisStore } from "./redis.js";
import type { Decision, Levels, LimitStore, Subject } from "./types.js";

export { type OutboundGrant, OutboundLimiter, type OutboundSpec, type OutboundTry } from "./outbound.js";
export type { LimitSpec, Subject } from "./types.js";

/** A granted call: its headers, and `settle` (once) with the tokens it really used. */
export interface Grant {
  headers: Record<string, string>;
  /** Reconciles the reservation with `actualTokens` and frees the concurrency slot; idempotent. */
  settle(actualTokens: number): void;
  reserved: number;
}

function fmtReset(ms: number): string {
  return ms < 1000 ? `${Math.max(0, Math.ceil(ms))}ms` : `${(ms / 1000).toFixed(3).replace(/\.?0+$/, "")}s`;
}

/** The x-ratelimit-* headers for the levels of a decision (OpenAI's names). */
export function rateHeaders(levels: Levels): Record<string, string> {
  const h: Record<string, string> = {};
  if (levels.requests) {
    h["x-ratelimit-limit-requests"] = String(levels.requests.limit);
    h["x-ratelimit-remaining-requests"] = String(levels.requests.remaining);
    h["x-ratelimit-reset-requests"] = fmtReset(levels.requests.resetMs);
  }
  if (levels.tokens) {
    h["x-ratelimit-limit-tokens"] = String(levels.tokens.limit);
    h["x-ratelimit-remaining-tokens"] = String(levels.tokens.remaining);
    h["x-ratelimit-reset-tokens"] = fmtReset(levels.tokens.resetMs);
  }
  return h;
}

let leaseCounter = 0;
const leasePrefix = `${process.pid.toString(36)}.${Date.now().toString(36)}.`;

export type OutagePolicy = "fail_open" | "fail_closed";

/** Counters for tests and Health: how decisions were taken. */
export interface LimiterStats {
  redis: number;
  local: number;
  failedClosed: number;
}

export class Limiter {
  private readonly memory = new MemoryStore();
  private readonly redis: RedisStore | undefined;
  /** Per-deployment outbound buckets (a provider's RPM / TPM), on the same stores and outage policy. */
  readonly outbound: OutboundLimiter = new OutboundLimiter(this);
  readonly stats: LimiterStats = { redis: 0, local: 0, failedClosed: 0 };

  constructor(
    readonly link: RedisLink | undefined,
    private readonly policy: OutagePolicy,
    private readonly log: Logger,
  ) {
    this.redis = link ? new RedisStore(link) : undefined;
  }

  close(): void {
    this.memory.close();
  }

  /**
   * One decision for `subject`: on Redis when configured, else (or failing open during an outage) in
   * memory; failing closed throws LIMITER_UNAVAILABLE. Returns the store that decided, for `settle`.
   */
  async decide(
    subject: Subject,
    tokens: number,
    leaseId: string,
    leaseTtlMs: number,
  ): Promise<{ d: Decision; store: LimitStore }> {
    if (this.redis) {
      try {
        const d = await this.redis.acquire(subject, tokens, leaseId, leaseTtlMs);
        this.stats.redis++;
        return { d, store: this.redis };
      } catch (e: unknown) {
        if (!(e instanceof RedisDownError || e instanceof ExpiredDecision)) throw e;
        if (this.policy === "fail_closed") {
          this.stats.failedClosed++;
          throw new GatewayError(
            "UNAVAILABLE",
            "LIMITER_UNAVAILABLE",
            "the rate limiter is unavailable; retry shortly",
            {
              retryAfterMs: this.link?.opts.downMs ?? 1000,
            },
          );
        }
      }
    }
    const d = await this.memory.acquire(subject, tokens, leaseId, leaseTtlMs);
    this.stats.local++;
    return { d, store: this.memory };
  }

  /** Reconciles a granted decision on the store that took it; a lost refund is only logged. */
  refund(store: LimitStore, subject: Subject, refund: number, leaseId: string): void {
    store.settle(subject, refund, leaseId).catch((e: unknown) => {
      // A lost refund errs on the safe side; the lease expires on its own.
      this.log.debug({ err: e instanceof Error ? e.message : String(e) }, "limiter settle failed");
    });
  }

  /**
   * Reserves one request, `tokens` tokens and a concurrency slot for `subject`, or throws
   * RATE_LIMITED / CONCURRENCY_LIMITED (with the wait) or LIMITER_UNAVAILABLE. A rejection consumes nothing.
   */
  async acquire(subject: Subject, tokens: number, leaseTtlMs: number): Promise<Grant> {
    const leaseId = leasePrefix + (++leaseCounter).toString(36);
    const { d, store } = await this.decide(subject, tokens, leaseId, leaseTtlMs);
    const headers = rateHeaders(d.levels);
    if (!d.ok) {
      if (d.why === "concurrency") {
        throw new GatewayError(
          "RESOURCE_EXHAUSTED",
          "CONCURRENCY_LIMITED",
          `too many calls in flight for this caller (limit ${subject.spec.concurrent})`,
          { retryAfterMs: d.waitMs, headers },
        );
      }
      if (d.why === "too_large") {
        throw new GatewayError(
          "RESOURCE_EXHAUSTED",
          "RATE_LIMITED",
          `the call reserves ${tokens} tokens, more than the tokens-per-minute limit (${subject.spec.tpm}); lower max_tokens`,
          { headers },
        );
      }
      throw new GatewayError(
        "RESOURCE_EXHAUSTED",
        "RATE_LIMITED",
        `rate limit reached (${d.why === "requests" ? "requests" : "tokens"} per minute); retry after ${d.waitMs} ms`,
        { retryAfterMs: d.waitMs, headers, metadata: { limit: d.why === "requests" ? "rpm" : "tpm" } },
      );
    }
    let settled = false;
    return {
      headers,
      reserved: tokens,
      settle: (actual: number) => {
        if (settled) return;
        settled = true;
        this.refund(store, subject, tokens - actual, leaseId);
      },
    };
  }
}
