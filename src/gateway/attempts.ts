// The attempt runner: walks a call's plan deployment by deployment — breaker admission, attempts
// with retries (full-jitter backoff, Retry-After, the retry budget), fallbacks, optional hedging —
// inside the call's deadline. Owns per-deployment in-flight counts, latency samples and outcome reports,
// and the outbound limits (a provider's RPM / TPM per deployment): a deployment whose bucket is empty is
// skipped while the plan has others (trail outcome OUTBOUND_LIMITED, not counted by breakers); when
// none is left, the call waits for the soonest bucket if that fits in its deadline, else it fails
// RESOURCE_EXHAUSTED / UPSTREAM_RATE_LIMITED with RetryInfo — never sending what the provider would 429.
import type { ModelPolicy } from "../config/index.js";
import { fromUpstream, GatewayError, reasonForKind, UpstreamError } from "../errors.js";
import { sleep } from "../lib/sleep.js";
import { type OutboundGrant, OutboundLimiter } from "../limits/outbound.js";
import {
  type DeploymentRegistry,
  type DeploymentState,
  decide,
  MIN_ATTEMPT_MS,
  OPEN,
  retryWaitMs,
} from "../resilience/index.js";
import type { Deployment, Plan } from "../routing/index.js";
import { HEDGE_LOST_OUTCOME, OUTBOUND_LIMITED } from "../telemetry/observer.js";
import type { Call } from "./call.js";
import { AttemptScope, type CallScope } from "./scope.js";

/** The abort reason of a hedge's losing attempt: never a failure, never shown to the client. */
export const HEDGE_LOST = new GatewayError("CANCELLED", "CANCELLED", "another deployment answered first");

/** The abort reason that releases a failed attempt's upstream request (preallocated: no stack per call). */
const ATTEMPT_OVER = new GatewayError("CANCELLED", "CANCELLED", "the attempt is over");

/** What an attempt does on a deployment. */
export type AttemptFn<T> = (d: Deployment, a: AttemptScope) => Promise<T>;

/** Returned by a deployment whose breaker was open: nothing was sent. */
const SKIPPED: unique symbol = Symbol("skipped");
/** Returned by a hedge race whose lanes all failed without a final error: go on down the plan. */
const NEXT: unique symbol = Symbol("next");

/** The trail outcome of a deployment skipped because its outbound bucket was empty (nothing sent). */

/** A deployment passed over for its outbound limit in this call, and when its bucket could take it. */
interface Limited {
  d: Deployment;
  why: "requests" | "tokens" | "too_large";
  /** performance.now() when the bucket could take the attempt (Infinity: never, the call is too large). */
  readyAt: number;
}

/** One `run`: the call, its scope and policy, what an attempt does, and the run's outbound state. */
interface Run<T> {
  call: Call;
  scope: CallScope;
  policy: ModelPolicy;
  attemptMs: number;
  fn: AttemptFn<T>;
  /** Streams: takes the winning attempt's scope, live. */
  keep: ((a: AttemptScope) => void) | undefined;
  /** Disposes of a hedge's late second success. */
  discard: ((v: T) => void) | undefined;
  rs: RunState;
}

/** What one run() shares with the attempts it makes: the plan's reservation and the limited deployments. */
interface RunState {
  reserve: { prompt: number; total: number };
  limited: Limited[];
}

/** Tokens an attempt really used, from a unary answer's usage; undefined when it reported none. */
function usageOf(out: unknown): number | undefined {
  if (typeof out !== "object" || out === null || !("usage" in out)) return undefined;
  const u = (out as { usage?: { inputTokens?: number; outputTokens?: number } }).usage;
  if (!u) return undefined;
  const n = (u.inputTokens ?? 0) + (u.outputTokens ?? 0);
  return n > 0 ? n : undefined;
}

export function outcomeName(e: unknown): string {
  if (e === HEDGE_LOST) return HEDGE_LOST_OUTCOME;
  if (e instanceof GatewayError) return e.reason;
  if (e instanceof UpstreamError) return reasonForKind(e.kind).reason;
  return "INTERNAL";
}

const noop = () => {};

/** A deployment skipped because its breaker is open (or its probe is out): nothing was sent. */
function skipOpen(call: Call, st: DeploymentState, last: UpstreamError | undefined): typeof SKIPPED {
  if (last) throw last; // a retry: the plan goes on with the last failure
  call.skipped++;
  const ms = st.breaker.msUntilHalfOpen();
  if (ms < call.soonestHalfOpenMs) call.soonestHalfOpenMs = ms;
  return SKIPPED;
}

/** Errors that end the call: anything not from upstream (cancel, deadline), and the table's "return". */
function isFinal(e: unknown): boolean {
  return !(e instanceof UpstreamError) || decide(e) === "return";
}

/** Turns anything thrown during a call into the GatewayError the client sees. */
export function toGatewayError(e: unknown, target: string): GatewayError {
  if (e instanceof GatewayError) return e;
  if (e instanceof UpstreamError) return fromUpstream(e, target);
  return new GatewayError("INTERNAL", "INTERNAL", "internal error", { cause: e });
}

/** One side of a hedge race. */
class Lane {
  lost = false;
  /** The attempt (or backoff wait) in progress, and when the attempt began (0 while waiting). */
  current: AttemptScope | undefined;
  startedAt = 0;
  constructor(
    readonly d: Deployment,
    readonly race: { won: boolean; lanes: Lane[] },
  ) {}

  /** Another lane won: abort what is in progress; the attempt goes in the trail as HEDGE_LOST. */
  lose(call: Call): void {
    if (this.lost) return;
    this.lost = true;
    if (this.startedAt > 0) {
      const ms = performance.now() - this.startedAt;
      call.upstreamMs += ms;
      call.attempt(this.d.target, HEDGE_LOST_OUTCOME, this.startedAt, ms);
    }
    this.current?.cancel.abort(HEDGE_LOST);
  }
}

/** Runs plans against deployments, sharing the live deployment state with routing. */
export class AttemptRunner {
  /** Kept (streamed) attempts: the outbound grant and the breaker's verdict, given when the stream ends. */
  private readonly kept = new WeakMap<
    Call,
    { grant: OutboundGrant | undefined; verdict: (why: unknown) => void }
  >();

  /**
   * `outbound`: the per-deployment buckets; in memory unless given one on the shared stores (the
   * gateway's `Limiter.outbound`, on Redis when configured) — see `useOutbound`.
   */
  constructor(
    readonly registry: DeploymentRegistry,
    private outbound: OutboundLimiter = new OutboundLimiter(),
  ) {}

  /** Puts the outbound buckets on these stores (e.g. `limiter.outbound`: Redis, shared by replicas). */
  useOutbound(outbound: OutboundLimiter): void {
    this.outbound = outbound;
  }

  /**
   * Runs `fn` along the plan until an attempt succeeds or a failure must be returned. With `keep`
   * (streams) the winning attempt's scope is handed over live and the caller reports its outcome
   * through `settle`; `discard` disposes of a hedge's late second success.
   */
  async run<T>(
    call: Call,
    scope: CallScope,
    plan: Plan,
    attemptMs: number,
    fn: AttemptFn<T>,
    keep?: (a: AttemptScope) => void,
    discard?: (v: T) => void,
  ): Promise<T> {
    const ds = plan.deployments;
    const hedge = plan.hedgeAfterMs;
    const rs: RunState = { reserve: plan.reserve ?? { prompt: 0, total: 0 }, limited: [] };
    const r: Run<T> = { call, scope, policy: plan.policy, attemptMs, fn, keep, discard, rs };
    for (let i = 0; i < ds.length; i++) {
      const d = ds[i] as Deployment;
      const next = ds[i + 1];
      let out: T | typeof SKIPPED | typeof NEXT;
      try {
        if (hedge !== undefined && i === 0 && next) {
          out = await this.race(r, d, next, hedge);
          i++;
        } else out = await this.onDeployment(r, d, undefined);
      } catch (e: unknown) {
        call.last = e;
        if (isFinal(e)) throw this.failure(call);
        continue;
      }
      if (out !== SKIPPED && out !== NEXT) return out;
    }
    if (rs.limited.length > 0) return this.waitForBucket(r);
    throw this.failure(call);
  }

  /**
   * Nothing else is left in the plan: wait for the deployment whose outbound bucket refills soonest
   * and try it, again while the wait fits in the deadline (bounded: every wait is > 0 and must end
   * MIN_ATTEMPT_MS before the deadline); when it does not fit, fail with the wait as RetryInfo.
   */
  private async waitForBucket<T>(r: Run<T>): Promise<T> {
    const { call, scope, rs } = r;
    const waiting = rs.limited.splice(0);
    for (;;) {
      waiting.sort((x, y) => x.readyAt - y.readyAt);
      const soonest = waiting[0];
      if (!soonest) throw this.failure(call);
      const wait = Math.max(1, Math.ceil(soonest.readyAt - performance.now()));
      if (!Number.isFinite(soonest.readyAt) || wait > scope.remaining() - MIN_ATTEMPT_MS) {
        if (call.last !== undefined) throw this.failure(call);
        throw this.outboundFailure(call, soonest, wait);
      }
      await this.pause(scope, soonest.d, wait, undefined);
      let out: T | typeof SKIPPED;
      try {
        out = await this.onDeployment(r, soonest.d, undefined);
      } catch (e: unknown) {
        call.last = e;
        if (isFinal(e)) throw this.failure(call);
        waiting.shift(); // it was tried and failed: no longer a candidate
        continue;
      }
      if (out !== SKIPPED) return out;
      waiting.shift();
      // Limited again (another caller or replica took the refill): back in line with its new wait.
      for (const l of rs.limited.splice(0)) waiting.push(l);
    }
  }

  /** Every remaining deployment is at its outbound limit and the wait does not fit the deadline. */
  private outboundFailure(call: Call, l: Limited, waitMs: number): GatewayError {
    const what = l.why === "requests" ? "requests" : "tokens";
    const limit = l.why === "requests" ? "outbound_rpm" : "outbound_tpm";
    const metadata = {
      model: call.requested,
      deployment: l.d.target,
      limit,
      attempts: String(call.trail.length),
    };
    if (l.why === "too_large") {
      return new GatewayError(
        "RESOURCE_EXHAUSTED",
        "UPSTREAM_RATE_LIMITED",
        `the call reserves more tokens than the tokens-per-minute limit of ${l.d.target} (${l.d.limits?.tpm}); lower max_tokens`,
        { metadata },
      );
    }
    return new GatewayError(
      "RESOURCE_EXHAUSTED",
      "UPSTREAM_RATE_LIMITED",
      `${l.d.target} is at its outbound ${what}-per-minute limit and the wait (${waitMs} ms) does not fit the deadline; retry after ${waitMs} ms`,
      { metadata, retryAfterMs: waitMs },
    );
  }

  /** The error when nothing answered: the last failure, or CIRCUIT_OPEN when every breaker was open. */
  private failure(call: Call): GatewayError {
    let err: GatewayError;
    if (call.last === undefined && call.skipped > 0) {
      const wait = Number.isFinite(call.soonestHalfOpenMs) ? call.soonestHalfOpenMs : 0;
      err = new GatewayError(
        "UNAVAILABLE",
        "CIRCUIT_OPEN",
        `every deployment of "${call.requested}" is failing; its circuit breakers are open`,
        { metadata: { model: call.requested }, retryAfterMs: Math.max(wait, 1000) },
      );
    } else err = toGatewayError(call.last, call.trail.at(-1)?.deployment ?? call.requested);
    // Clients (and the REST door's x-should-retry) learn how many upstream attempts were made.
    err.details.metadata = { ...err.details.metadata, attempts: String(call.trail.length) };
    return err;
  }

  /** Attempts on one deployment: the first try, then retries while the table, budget and clock allow. */
  private async onDeployment<T>(
    r: Run<T>,
    d: Deployment,
    lane: Lane | undefined,
  ): Promise<T | typeof SKIPPED> {
    const { call, scope, policy, rs } = r;
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
      let grant: OutboundGrant | undefined;
      if (OutboundLimiter.limits(d.limits)) {
        // Throws LIMITER_UNAVAILABLE (redis.on_outage: fail_closed): final.
        const got = await this.outbound.take(d.target, d.limits, rs.reserve.total);
        if (!got.ok) {
          // Counted neither way: nothing was sent, the breaker was not asked.
          if (last) throw last; // a retry that would exceed the limit: the plan goes on
          const now = performance.now();
          call.attempt(d.target, OUTBOUND_LIMITED, now, 0);
          const readyAt = got.why === "too_large" ? Number.POSITIVE_INFINITY : now + got.waitMs;
          rs.limited.push({ d, why: got.why, readyAt });
          return SKIPPED;
        }
        grant = got.grant;
      }
      let out: T | typeof OPEN;
      try {
        out = await this.attempt(r, d, lane, st, n === 1, grant);
      } catch (e: unknown) {
        if (!(e instanceof UpstreamError) || decide(e) !== "retry") throw e;
        last = e;
        continue;
      }
      if (out !== OPEN) return out;
      grant?.settle(0); // it opened, or its probe went out, while we took from the bucket: nothing sent
      return skipOpen(call, st, last);
    }
    throw last;
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
      if (lane) {
        if (lane.lost || lane.race.won) {
          discard?.(out);
          throw HEDGE_LOST;
        }
        lane.race.won = true;
        for (const other of lane.race.lanes) if (other !== lane) other.lose(call);
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
  private async pause(scope: CallScope, d: Deployment, ms: number, lane: Lane | undefined): Promise<void> {
    const w = new AttemptScope(scope, d.provider.name);
    if (lane) lane.current = w;
    try {
      await sleep(ms, w.signal);
    } finally {
      w.dispose();
    }
  }

  /**
   * Hedging: `a` now, `b` after `hedgeMs` (or as soon as `a` fails or is skipped); the first success
   * wins and the other lane is aborted (counted neither way). A final error from either ends the call.
   */
  private race<T>(r: Run<T>, a: Deployment, b: Deployment, hedgeMs: number): Promise<T | typeof NEXT> {
    const { call } = r;
    const race = { won: false, lanes: [] as Lane[] };
    const la = new Lane(a, race);
    const lb = new Lane(b, race);
    race.lanes.push(la, lb);
    return new Promise((resolve, reject) => {
      let done = false;
      let pending = 0;
      let startedB = false;
      let timer: NodeJS.Timeout | undefined;
      const end = () => {
        done = true;
        if (timer) clearTimeout(timer);
      };
      const start = (lane: Lane) => {
        pending++;
        this.onDeployment(r, lane.d, lane).then(
          (v) => {
            pending--;
            if (done) return;
            if (v !== SKIPPED) {
              end();
              resolve(v);
            } else if (!startedB) startB();
            else if (pending === 0) {
              end();
              resolve(NEXT);
            }
          },
          (e: unknown) => {
            pending--;
            if (done || e === HEDGE_LOST) return;
            call.last = e;
            if (isFinal(e)) {
              end();
              for (const l of race.lanes) l.lose(call);
              reject(e);
            } else if (!startedB) startB();
            else if (pending === 0) {
              end();
              resolve(NEXT);
            }
          },
        );
      };
      const startB = () => {
        if (startedB || done) return;
        startedB = true;
        if (timer) clearTimeout(timer);
        start(lb);
      };
      start(la);
      if (hedgeMs === 0) startB();
      else timer = setTimeout(startB, hedgeMs);
    });
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
