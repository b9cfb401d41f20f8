// Attempts on one deployment: breaker admission, the outbound bucket, the first try and retries
// (full-jitter backoff, Retry-After, the retry budget), each attempt run through the deployment's
// breaker; and the verdict a kept (streamed) attempt owes its breaker until the stream ends.

import { GatewayError, UpstreamError } from "../errors.js";
import { sleep } from "../lib/sleep.js";
import { type OutboundGrant, OutboundLimiter, type OutboundSpec } from "../limits/outbound.js";
import {
  type DeploymentRegistry,
  type DeploymentState,
  decide,
  OPEN,
  retryWaitMs,
  type Trial,
} from "../resilience/index.js";
import type { Deployment } from "../routing/index.js";
import { OUTBOUND_LIMITED } from "../telemetry/observer.js";
import type { Call } from "./call.js";
import { HEDGE_LOST, type Lane, outcomeName, type Run, SKIPPED } from "./run.js";
import { AttemptScope, type CallScope } from "./scope.js";

/** The abort reason that releases a failed attempt's upstream request (preallocated: no stack per call). */
const ATTEMPT_OVER = new GatewayError("CANCELLED", "CANCELLED", "the attempt is over");

/** What a deployment without outbound limits takes from its bucket: nothing (shared, no object per call). */
const NO_GRANT: { readonly grant: undefined } = Object.freeze({ grant: undefined });

/** Tokens an attempt really used, from a unary answer's usage; undefined when it reported none. */
function usageOf(out: unknown): number | undefined {
  if (typeof out !== "object" || out === null || !("usage" in out)) return undefined;
  const u = (out as { usage?: { inputTokens?: number; outputTokens?: number } }).usage;
  if (!u) return undefined;
  const n = (u.inputTokens ?? 0) + (u.outputTokens ?? 0);
  return n > 0 ? n : undefined;
}

/** A deployment skipped because its breaker is open (or its probe is out): nothing was sent. */
function skipOpen(call: Call, st: DeploymentState, last: UpstreamError | undefined): typeof SKIPPED {
  if (last) throw last; // a retry: the plan goes on with the last failure
  call.skipped++;
  const ms = st.breaker.msUntilHalfOpen();
  if (ms < call.soonestHalfOpenMs) call.soonestHalfOpenMs = ms;
  return SKIPPED;
}

/** Attempts on deployments, with the live deployment state and the outbound buckets. */
export class DeploymentAttempts {
  /** Kept (streamed) attempts: the outbound grant and the breaker's verdict, given when the stream ends. */
  private readonly kept = new WeakMap<Call, { grant: OutboundGrant | undefined; trial: Trial }>();

  constructor(
    readonly registry: DeploymentRegistry,
    /** The per-deployment buckets (the gateway's `Limiter.outbound`, on Redis when configured). */
    public outbound: OutboundLimiter,
  ) {}

  /** Attempts on one deployment: the first try, then retries while the table, budget and clock allow. */
  async onDeployment<T>(r: Run<T>, d: Deployment, lane: Lane | undefined): Promise<T | typeof SKIPPED> {
    const { call, scope, policy } = r;
    const st = this.registry.get(d.target, d.provider.name, policy);
    const retries = policy.retries;
    let last: UpstreamError | undefined;
    for (let n = 1; n <= retries.maxAttempts; n++) {
      if (last) {
        const wait = retryWaitMs(n - 1, retries, last.opts.retryAfterMs, scope.remaining());
        if (wait < 0 || !st.budget.tryRetry()) throw last;
        if (wait > 0) await this.pause(scope, d, wait, lane);
      }
      if (!st.breaker.admits()) return skipOpen(call, st, last);
      // The outbound bucket, after the breaker (an open breaker takes nothing from it), before sending.
      const spec = d.limits;
      const taken = OutboundLimiter.limits(spec) ? await this.take(r, d, spec, last) : NO_GRANT;
      if (taken === SKIPPED) return SKIPPED;
      let out: T | typeof OPEN;
      try {
        out = await this.attempt(r, d, lane, st, n === 1, taken.grant);
      } catch (e: unknown) {
        if (!(e instanceof UpstreamError) || decide(e) !== "retry") throw e;
        last = e;
        continue;
      }
      if (out !== OPEN) return out;
      taken.grant?.settle(0); // it opened, or its probe went out, while we took from the bucket: nothing sent
      return skipOpen(call, st, last);
    }
    throw last;
  }

  /**
   * Takes the attempt's tokens from the deployment's outbound bucket (it has limits). An empty
   * bucket: SKIPPED, the deployment noted as limited — counted neither way, nothing was sent — or, on a
   * retry, the last failure (the plan goes on). Throws LIMITER_UNAVAILABLE (redis.on_outage: fail_closed).
   */
  private async take<T>(
    r: Run<T>,
    d: Deployment,
    spec: OutboundSpec,
    last: UpstreamError | undefined,
  ): Promise<{ grant: OutboundGrant | undefined } | typeof SKIPPED> {
    const got = await this.outbound.take(d.target, spec, r.rs.reserve.total);
    if (got.ok) return { grant: got.grant };
    if (last) throw last; // a retry that would exceed the limit: the plan goes on
    const now = performance.now();
    r.call.attempt(d.target, OUTBOUND_LIMITED, now, 0);
    const readyAt = got.why === "too_large" ? Number.POSITIVE_INFINITY : now + got.waitMs;
    r.rs.limited.push({ d, why: got.why, readyAt });
    return SKIPPED;
  }

  /**
   * One attempt, as a trial of the deployment's breaker (`breaker.begin`): `fn` up to the upstream's
   * answer, then the verdict the breaker judges (`trial.end`) — given at once for a unary call, when the
   * stream ends for a kept one (`settle`), HEDGE_LOST for an answer that lost its race. Throws the
   * attempt's failure (already explained: attempt timeout, deadline, cancel) once the breaker has taken
   * it; OPEN when the breaker let nothing through.
   */
  private async attempt<T>(
    r: Run<T>,
    d: Deployment,
    lane: Lane | undefined,
    st: DeploymentState,
    first: boolean,
    grant: OutboundGrant | undefined,
  ): Promise<T | typeof OPEN> {
    const trial = st.breaker.begin();
    if (trial === OPEN) return OPEN; // nothing ran
    const { call, scope, attemptMs, fn, keep, discard, rs } = r;
    if (first) st.budget.first(st.lastUsed);
    const a = new AttemptScope(scope, d.provider.name);
    a.arm(attemptMs, "no answer within the attempt timeout");
    const ta = performance.now();
    if (lane) {
      lane.current = a;
      lane.startedAt = ta;
    }
    st.inflight++;
    let kept = false;
    try {
      let out: T;
      try {
        out = await fn(d, a);
      } catch (e: unknown) {
        throw lane?.lost || e === HEDGE_LOST ? HEDGE_LOST : a.explain(e);
      }
      trial.answered = true;
      const ms = performance.now() - ta;
      st.observe(ms);
      if (lane && !lane.claim()) {
        discard?.(out);
        throw HEDGE_LOST;
      }
      call.upstreamMs += ms;
      call.attempt(d.target, "ok", ta, ms);
      call.provider = d.provider.name;
      call.model = d.target;
      call.deployment = d;
      if (keep) {
        call.state = st; // the stream gives its verdict (and leaves in-flight) when it ends: `settle`
        this.kept.set(call, { grant, trial });
        keep(a);
        kept = true;
      } else {
        st.inflight--;
        trial.end(undefined);
        grant?.settle(usageOf(out) ?? grant.reserved);
      }
      return out;
    } catch (e: unknown) {
      if (kept) throw e;
      // A failure before the answer: the breaker takes it first (a counted one may open it). After the
      // answer (it lost its hedge): neutral for the breaker, though a probe's answer closes it.
      const judged = trial.end(e);
      if (judged && !trial.answered) await judged;
      // Sent but not answered (failed, timed out, lost a hedge): the prompt at least was spent.
      grant?.settle(Math.min(rs.reserve.prompt, grant.reserved));
      a.cancel.abort(ATTEMPT_OVER); // whatever failed, nothing of this attempt may linger upstream
      st.inflight--;
      const ms = performance.now() - ta;
      if (lane?.lost || e === HEDGE_LOST) throw HEDGE_LOST;
      call.upstreamMs += ms;
      call.attempt(d.target, outcomeName(e), ta, ms);
      if (e instanceof UpstreamError && e.kind === "timeout") st.observe(ms);
      throw e;
    } finally {
      if (lane) lane.startedAt = 0;
      if (!kept) a.dispose();
    }
  }

  /** A backoff wait, ended early by the call's cancel or deadline, or by losing a hedge. */
  async pause(scope: CallScope, d: Deployment, ms: number, lane: Lane | undefined): Promise<void> {
    const w = new AttemptScope(scope, d.provider.name);
    if (lane) lane.current = w;
    try {
      await sleep(ms, w.signal);
    } finally {
      w.dispose();
    }
  }

  /** A kept (streamed) attempt ended: its verdict goes to the breaker, and it leaves the in-flight count. */
  settle(call: Call, error: unknown): void {
    const st: DeploymentState | undefined = call.state;
    if (!st) return;
    call.state = undefined;
    st.inflight--;
    const k = this.kept.get(call);
    if (!k) return;
    this.kept.delete(call);
    if (k.grant) {
      // Ended well: the usage it reported; broken or cancelled: the whole reservation stays spent.
      const used = call.inputTokens + call.outputTokens;
      k.grant.settle(error === undefined && used > 0 ? used : k.grant.reserved);
    }
    // Undefined (ended well) is a success; ill health counts against it; anything else is neutral.
    k.trial.end(error);
  }
}
