// Turns each finished call (CallRecord) into metric updates: cached children, no label objects, no
// allocation beyond the joined child keys; retries, fallbacks and hedges derived from the attempt trail.
import { CacheStatus } from "../../gen/llmgateway/v1/llm_pb.js";
import { isCacheHit } from "../cache/status.js";
import { type ModelLabels, NONE } from "./labels.js";
import type { GatewayMetrics } from "./metrics.js";
import {
  type AttemptRecord,
  type CallObserver,
  type CallRecord,
  HEDGE_LOST_OUTCOME,
  OUTBOUND_LIMITED,
} from "./observer.js";

/** Reasons of calls refused by limits before going upstream (llmgw_limiter_rejections_total). */
const LIMIT_REASONS = new Set([
  "RATE_LIMITED",
  "CONCURRENCY_LIMITED",
  "BUDGET_EXCEEDED",
  "BUDGET_UNAVAILABLE",
  "LIMITER_UNAVAILABLE",
  "OVERLOADED",
]);

/** Attempt outcomes where nothing was sent upstream. */

/** What the attempt trail of one call shows. */
export interface TrailCounts {
  /** Attempts on a deployment that already had one (sent) in this call. */
  retries: number;
  /** Attempts on another deployment after an earlier attempt had ended (failed). */
  fallbacks: number;
  /** A second deployment was called while another attempt was still in flight. */
  hedged: boolean;
}

/**
 * Classifies a trail into `out` (reused: no allocation). Order-independent: attempts are compared by
 * start time, as a hedge's lanes finish (and enter the trail) in any order. OUTBOUND_LIMITED entries
 * sent nothing and count as neither.
 */
export function classifyTrail(trail: readonly AttemptRecord[], out: TrailCounts): TrailCounts {
  out.retries = 0;
  out.fallbacks = 0;
  out.hedged = false;
  for (let i = 0; i < trail.length; i++) {
    const a = trail[i] as AttemptRecord;
    if (a.outcome === HEDGE_LOST_OUTCOME) out.hedged = true;
    if (a.outcome === OUTBOUND_LIMITED) continue;
    let same = false;
    let concurrent = false;
    let before = false;
    for (let j = 0; j < trail.length; j++) {
      const b = trail[j] as AttemptRecord;
      if (j === i || b.outcome === OUTBOUND_LIMITED) continue;
      if (b.startedAt > a.startedAt || (b.startedAt === a.startedAt && j > i)) continue; // not earlier
      if (b.deployment === a.deployment) same = true;
      else if (a.startedAt < b.startedAt + b.ms) concurrent = true;
      else before = true;
    }
    if (concurrent) out.hedged = true;
    if (same) out.retries++;
    else if (before && !concurrent) out.fallbacks++;
  }
  return out;
}

/** The label of a limiter rejection, or undefined when the call was not one. */
function rejection(r: CallRecord): string | undefined {
  const reason = r.reason;
  if (reason === undefined) return undefined;
  if (LIMIT_REASONS.has(reason)) return reason;
  // Every deployment at its outbound (provider) limit: refused without sending anything.
  if (reason === "UPSTREAM_RATE_LIMITED" && r.attempts.length > 0) {
    for (const a of r.attempts) if (a.outcome !== OUTBOUND_LIMITED) return undefined;
    return OUTBOUND_LIMITED;
  }
  return undefined;
}

/** Records every finished call of one gateway into the shared metrics. */
export class CallMetrics implements CallObserver {
  private readonly trail: TrailCounts = { retries: 0, fallbacks: 0, hedged: false };

  constructor(
    private readonly m: GatewayMetrics,
    private readonly models: ModelLabels,
  ) {}

  onChunkGap(ms: number): void {
    this.m.chunkGap.observe(ms / 1000);
  }

  onCall(r: CallRecord): void {
    const m = this.m;
    const rpc = r.method;
    const model = this.models.of(r.requested);
    const provider = r.provider || NONE;
    const key = m.keys ? m.keys.of(r.caller) : "";
    m.calls.of(rpc, model, provider, r.code, key).inc();
    const total = r.totalMs / 1000;
    m.duration.of(rpc, model, provider).observe(total);
    if (r.attempts.length > 0) m.upstream.of(rpc, model, provider).observe(r.upstreamMs / 1000);
    if (!r.coalesced) m.overhead.of(rpc).observe(Math.max(0, r.totalMs - r.upstreamMs) / 1000);
    if (r.stream && r.firstTokenMs !== undefined) m.ttft.of(model, provider).observe(r.firstTokenMs / 1000);

    const hit = isCacheHit(r.cache);
    if (r.cache === CacheStatus.MISS) {
      m.cacheMisses.of(rpc).inc();
      if (r.coalesced) m.cacheCoalesced.of(rpc).inc();
    } else if (hit) m.cacheHits.of(rpc, r.cache === CacheStatus.HIT_MEMORY ? "memory" : "redis").inc();

    const u = r.usage;
    if (u && !hit && !r.coalesced) {
      if (u.inputTokens > 0) m.tokens.of(model, provider, "input", key).inc(u.inputTokens);
      if (u.outputTokens > 0) m.tokens.of(model, provider, "output", key).inc(u.outputTokens);
      if (u.cachedInputTokens > 0) m.tokens.of(model, provider, "cached", key).inc(u.cachedInputTokens);
      if (u.reasoningTokens > 0) m.tokens.of(model, provider, "reasoning", key).inc(u.reasoningTokens);
    }
    if (r.costMicros > 0) m.cost.of(model, provider, key).inc(r.costMicros / 1e6);

    const n = r.attempts.length;
    if (n > 0) {
      for (let i = 0; i < n; i++) {
        const a = r.attempts[i] as AttemptRecord;
        m.attempts.of(this.models.of(a.deployment), a.outcome).inc();
      }
      if (n > 1) {
        const t = classifyTrail(r.attempts, this.trail);
        if (t.retries > 0) m.retries.of(rpc, model).inc(t.retries);
        if (t.fallbacks > 0) m.fallbacks.of(rpc, model).inc(t.fallbacks);
        if (t.hedged) m.hedges.of(rpc, model).inc();
      }
    }
    if (r.code !== "OK") {
      const why = rejection(r);
      if (why) m.rejections.of(why).inc();
    }
  }
}
