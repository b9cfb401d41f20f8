// Outbound limits: a provider's RPM / TPM per deployment (config models.*.deployments[].rpm / tpm),
// on the same token buckets as the inbound limits — in memory, or on Redis through the same Lua script
// (subject `out:<target>`, keys hash-tagged `{rl:out:<target>}:r` / `:t`) so every replica sharing
// the Redis shares the deployment's budget, with the same redis.on_outage policy. A decision never
// throws for being over the limit: the attempt runner chooses to skip, wait or fail.
import { MemoryStore } from "./memory.js";
import type { Decision, LimitStore, Subject } from "./types.js";

/** A deployment's outbound limits (unset = unlimited). */
export interface OutboundSpec {
  rpm?: number | undefined;
  tpm?: number | undefined;
}

/** A granted outbound reservation; `settle` (once) with the tokens the attempt really used. */
export interface OutboundGrant {
  reserved: number;
  settle(actualTokens: number): void;
}

/** The answer for one attempt: a grant, or how long until the bucket could take it. */
export type OutboundTry =
  | { ok: true; grant: OutboundGrant }
  | { ok: false; why: "requests" | "tokens" | "too_large"; waitMs: number };

/** What the outbound limiter needs of the inbound one (src/limits/index.ts `Limiter`). */
export interface DecisionSource {
  decide(
    subject: Subject,
    tokens: number,
    leaseId: string,
    leaseTtlMs: number,
  ): Promise<{ d: Decision; store: LimitStore }>;
  refund(store: LimitStore, subject: Subject, refund: number, leaseId: string): void;
}

/** In memory only: for a runner built without a Limiter (tests, a gateway without Redis). */
class MemorySource implements DecisionSource {
  private store: MemoryStore | undefined;
  async decide(
    s: Subject,
    tokens: number,
    leaseId: string,
    ttl: number,
  ): Promise<{ d: Decision; store: LimitStore }> {
    this.store ??= new MemoryStore();
    return { d: await this.store.acquire(s, tokens, leaseId, ttl), store: this.store };
  }
  refund(store: LimitStore, s: Subject, refund: number, leaseId: string): void {
    void store.settle(s, refund, leaseId).catch(() => undefined);
  }
  close(): void {
    this.store?.close();
  }
}

export class OutboundLimiter {
  private readonly source: DecisionSource;
  private readonly own: MemorySource | undefined;

  constructor(source?: DecisionSource) {
    if (source) this.source = source;
    else this.source = this.own = new MemorySource();
  }

  /** True when `spec` limits anything. */
  static limits(spec: OutboundSpec | undefined): spec is OutboundSpec {
    return !!spec && ((spec.rpm ?? 0) > 0 || (spec.tpm ?? 0) > 0);
  }

  /**
   * Takes 1 request and `tokens` tokens from `target`'s buckets, or nothing (with the wait). Throws
   * only what the outage policy throws (LIMITER_UNAVAILABLE when failing closed).
   */
  async take(target: string, spec: OutboundSpec, tokens: number): Promise<OutboundTry> {
    const subject: Subject = { id: `out:${target}`, spec: { rpm: spec.rpm, tpm: spec.tpm } };
    const need = Math.max(0, Math.ceil(tokens));
    const { d, store } = await this.source.decide(subject, need, "", 0);
    if (!d.ok) {
      const why = d.why === "concurrency" ? "requests" : d.why;
      return { ok: false, why, waitMs: Math.max(1, d.waitMs) };
    }
    let settled = false;
    return {
      ok: true,
      grant: {
        reserved: need,
        settle: (actual: number) => {
          if (settled) return;
          settled = true;
          const refund = need - Math.max(0, Math.ceil(actual));
          if (refund !== 0 && (spec.tpm ?? 0) > 0) this.source.refund(store, subject, refund, "");
        },
      },
    };
  }

  close(): void {
    this.own?.close();
  }
}
