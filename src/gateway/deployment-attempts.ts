// Attempts on one deployment: breaker admission, the outbound bucket, the first try and retries
// (full-jitter backoff, Retry-After, the retry budget), each attempt run through the deployment's
// breaker; and the verdict a kept (streamed) attempt owes its breaker until the stream ends.

import { GatewayError, UpstreamError } from "../errors.js";
import { sleep } from "../lib/sleep.js";
import { type OutboundGrant, OutboundLimiter } from "../limits/outbound.js";
import {
  type DeploymentRegistry,
  type DeploymentState,
  decide,
  OPEN,
  retryWaitMs,
} from "../resilience/index.js";
import type { Deployment } from "../routing/index.js";
import { OUTBOUND_LIMITED } from "../telemetry/observer.js";
import type { Call } from "./call.js";
import { HEDGE_LOST, type Lane, outcomeName, type Run, SKIPPED } from "./run.js";
import { AttemptScope, type CallScope } from "./scope.js";

/** The abort reason that releases a failed attempt's upstream request (preallocated: no stack per call). */
const ATTEMPT_OVER = new GatewayError("CANCELLED", "CANCELLED", "the attempt is over");

const noop = () => {};

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
  private readonly kept = new WeakMap<
    Call,
    { grant: OutboundGrant | undefined; verdict: (why: unknown) => void }
  >();

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
      const taken = await this.take(r, d, last);
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
   * Takes the attempt's tokens from the deployment's outbound bucket (when it has limits). An empty
   * bucket: SKIPPED, the deployment noted as limited — counted neither way, nothing was sent — or, on a
   * retry, the last failure (the plan goes on). Throws LIMITER_UNAVAILABLE (redis.on_outage: fail_closed).
   */
  private async take<T>(
    r: Run<T>,
    d: Deployment,
    last: UpstreamError | undefined,
  ): Promise<{ grant: OutboundGrant | undefined } | typeof SKIPPED> {
    if (!OutboundLimiter.limits(d.limits)) return { grant: undefined };
    const got = await this.outbound.take(d.target, d.limits, r.rs.reserve.total);
    if (got.ok) return { grant: got.grant };
    if (last) throw last; // a retry that would exceed the limit: the plan goes on
    const now = performance.now();
    r.call.attempt(d.target, OUTBOUND_LIMITED, now, 0);
    const readyAt = got.why === "too_large" ? Number.POSITIVE_INFINITY : now + got.waitMs;
    r.rs.limited.push({ d, why: got.why, readyAt });
    return SKIPPED;
  }

  /**
   * One attempt, run through the deployment's breaker (`breaker.run`): `fn` up to the upstream's answer,
   * then the verdict the breaker judges — given at once for a unary call, when the stream ends for a kept
   * one (`settle`), HEDGE_LOST for an answer that lost its race. Throws the attempt's failure (already
   * explained: attempt timeout, deadline, cancel); OPEN when the breaker let nothing through.
   */
  private async attempt<T>(
    r: Run<T>,
    d: Deployment,
    lane: Lane | undefined,
    st: DeploymentState,
    first: boolean,
    grant: OutboundGrant | undefined,
  ): Promise<T | typeof OPEN> {
    const { call, scope, attemptMs, fn, keep, discard, rs } = r;
    let a: AttemptScope | undefined;
    let ta = 0;
    let verdict: (why: unknown) => void = noop;
    let answer: (out: T) => void = noop;
    const answered = new Promise<T>((resolve) => {
      answer = resolve;
    });
    const ran = st.breaker.run(async (trial) => {
      if (first) st.budget.first(st.lastUsed);
      const at = new AttemptScope(scope, d.provider.name);
      a = at;
      at.arm(attemptMs, "no answer within the attempt timeout");
      ta = performance.now();
      if (lane) {
        lane.current = at;
        lane.startedAt = ta;
      }
      st.inflight++;
      let out: T;
      try {
        out = await fn(d, at);
      } catch (e: unknown) {
        throw lane?.lost || e === HEDGE_LOST ? HEDGE_LOST : at.explain(e);
      }
      trial.answered = true;
      const why = await new Promise<unknown>((resolve) => {
        verdict = resolve;
        answer(out);
      });
      if (why !== undefined) throw why;
      return out;
    });
    ran.catch(noop); // after the answer its outcome is the breaker's alone
    let kept = false;
    try {
      const out = await Promise.race([answered, ran]);
      if (out === OPEN) return OPEN; // nothing ran
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
      if (keep && a) {
        call.state = st; // the stream gives its verdict (and leaves in-flight) when it ends: `settle`
        this.kept.set(call, { grant, verdict });
        keep(a);
        kept = true;
      } else {
        st.inflight--;
        verdict(undefined);
        grant?.settle(usageOf(out) ?? grant.reserved);
      }
      return out;
    } catch (e: unknown) {
      if (kept || !a) throw e;
      verdict(e); // an answer that lost its hedge: neutral for the breaker (a probe's answer closes it)
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
      if (!kept) a?.dispose();
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
    k.verdict(error);
  }
}
