// The attempt runner: walks a call's plan deployment by deployment — breaker admission, attempts
// with retries (full-jitter backoff, Retry-After, the retry budget), fallbacks, optional hedging —
// inside the call's deadline. Owns per-deployment in-flight counts, latency samples and outcome reports.
import type { ModelPolicy } from "../config/index.js";
import {
  type DeploymentRegistry,
  type DeploymentState,
  decide,
  retryWaitMs,
  signalsIllHealth,
  sleep,
} from "../resilience/index.js";
import type { Deployment, Plan } from "../routing/index.js";
import type { Call } from "./call.js";
import { fromUpstream, GatewayError, reasonForKind, UpstreamError } from "./errors.js";
import { AttemptScope, type CallScope } from "./scope.js";

/** The abort reason of a hedge's losing attempt: never a failure, never shown to the client. */
export const HEDGE_LOST = new GatewayError("CANCELLED", "CANCELLED", "another deployment answered first");

/** What an attempt does on a deployment. */
export type AttemptFn<T> = (d: Deployment, a: AttemptScope) => Promise<T>;

/** Returned by a deployment whose breaker was open: nothing was sent. */
const SKIPPED: unique symbol = Symbol("skipped");
/** Returned by a hedge race whose lanes all failed without a final error: go on down the plan. */
const NEXT: unique symbol = Symbol("next");

export function outcomeName(e: unknown): string {
  if (e === HEDGE_LOST) return "HEDGE_LOST";
  if (e instanceof GatewayError) return e.reason;
  if (e instanceof UpstreamError) return reasonForKind(e.kind).reason;
  return "INTERNAL";
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
      call.trail.push({ deployment: this.d.target, outcome: "HEDGE_LOST", durationMs: Math.round(ms) });
    }
    this.current?.controller.abort(HEDGE_LOST);
  }
}

/** Runs plans against deployments, sharing the live deployment state with routing. */
export class AttemptRunner {
  constructor(readonly registry: DeploymentRegistry) {}

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
    for (let i = 0; i < ds.length; i++) {
      const d = ds[i] as Deployment;
      const next = ds[i + 1];
      let out: T | typeof SKIPPED | typeof NEXT;
      try {
        if (hedge !== undefined && i === 0 && next) {
          out = await this.race(call, scope, plan.policy, attemptMs, fn, keep, discard, d, next, hedge);
          i++;
        } else
          out = await this.onDeployment(call, scope, plan.policy, attemptMs, fn, keep, discard, d, undefined);
      } catch (e: unknown) {
        call.last = e;
        if (isFinal(e)) break;
        continue;
      }
      if (out !== SKIPPED && out !== NEXT) return out;
    }
    throw this.failure(call);
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
    call: Call,
    scope: CallScope,
    policy: ModelPolicy,
    attemptMs: number,
    fn: AttemptFn<T>,
    keep: ((a: AttemptScope) => void) | undefined,
    discard: ((v: T) => void) | undefined,
    d: Deployment,
    lane: Lane | undefined,
  ): Promise<T | typeof SKIPPED> {
    const st = this.registry.get(d.target, d.provider.name, policy);
    const retries = policy.retries;
    let last: UpstreamError | undefined;
    for (let n = 1; n <= retries.maxAttempts; n++) {
      if (last) {
        const wait = retryWaitMs(n - 1, retries, last.opts.retryAfterMs, scope.remaining());
        if (wait < 0 || !st.budget.tryRetry()) throw last;
        if (wait > 0) await this.pause(scope, d, wait, lane);
      }
      const admission = st.admit();
      if (admission === "open") {
        if (last) throw last;
        call.skipped++;
        const ms = st.breaker?.msUntilHalfOpen() ?? 0;
        if (ms < call.soonestHalfOpenMs) call.soonestHalfOpenMs = ms;
        return SKIPPED;
      }
      const probe = admission === "probe";
      if (n === 1) st.budget.first(st.lastUsed);
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
        const out = await fn(d, a);
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
        call.trail.push({ deployment: d.target, outcome: "ok", durationMs: Math.round(ms) });
        call.provider = d.provider.name;
        call.model = d.target;
        call.deployment = d;
        if (keep) {
          call.state = st; // the stream reports its outcome (and leaves in-flight) when it ends
          call.probe = probe;
          keep(a);
          kept = true;
        } else {
          st.inflight--;
          st.report(true, probe);
        }
        return out;
      } catch (e: unknown) {
        if (kept) throw e;
        const err = e === HEDGE_LOST ? e : a.explain(e);
        a.controller.abort(); // whatever failed, nothing of this attempt may linger upstream
        st.inflight--;
        const ms = performance.now() - ta;
        if (lane?.lost || err === HEDGE_LOST) {
          st.neutral(probe);
          throw HEDGE_LOST;
        }
        call.upstreamMs += ms;
        call.trail.push({ deployment: d.target, outcome: outcomeName(err), durationMs: Math.round(ms) });
        if (!(err instanceof UpstreamError)) {
          st.neutral(probe);
          throw err;
        }
        if (signalsIllHealth(err.kind)) st.report(false, probe);
        else st.neutral(probe);
        if (err.kind === "timeout") st.observe(ms);
        if (decide(err) !== "retry") throw err;
        last = err;
      } finally {
        if (lane) lane.startedAt = 0;
        if (!kept) a.dispose();
      }
    }
    throw last;
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
  private race<T>(
    call: Call,
    scope: CallScope,
    policy: ModelPolicy,
    attemptMs: number,
    fn: AttemptFn<T>,
    keep: ((a: AttemptScope) => void) | undefined,
    discard: ((v: T) => void) | undefined,
    a: Deployment,
    b: Deployment,
    hedgeMs: number,
  ): Promise<T | typeof NEXT> {
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
        this.onDeployment(call, scope, policy, attemptMs, fn, keep, discard, lane.d, lane).then(
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

  /** A kept (streamed) attempt ended: its outcome goes to the breaker, and it leaves the in-flight count. */
  settle(call: Call, error: unknown): void {
    const st: DeploymentState | undefined = call.state;
    if (!st) return;
    call.state = undefined;
    st.inflight--;
    if (error === undefined) st.report(true, call.probe);
    else if (error instanceof UpstreamError && signalsIllHealth(error.kind)) st.report(false, call.probe);
    else st.neutral(call.probe);
  }
}
