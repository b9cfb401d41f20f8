// The attempt runner: walks a call's plan deployment by deployment — attempts with retries on each
// (deployment-attempts.ts), fallbacks, optional hedging (hedge.ts) — inside the call's deadline. The
// outbound limits (a provider's RPM / TPM per deployment): a deployment whose bucket is empty is
// skipped while the plan has others (trail outcome OUTBOUND_LIMITED, not counted by breakers); when
// none is left, the call waits for the soonest bucket if that fits in its deadline, else it fails
// RESOURCE_EXHAUSTED / UPSTREAM_RATE_LIMITED with RetryInfo — never sending what the provider would 429.
import { GatewayError } from "../errors.js";
import { OutboundLimiter } from "../limits/outbound.js";
import { type DeploymentRegistry, MIN_ATTEMPT_MS } from "../resilience/index.js";
import type { Deployment, Plan } from "../routing/index.js";
import type { Call } from "./call.js";
import { DeploymentAttempts } from "./deployment-attempts.js";
import { race } from "./hedge.js";
import {
  type AttemptFn,
  isFinal,
  type Limited,
  NEXT,
  type Run,
  type RunState,
  SKIPPED,
  toGatewayError,
} from "./run.js";
import type { AttemptScope, CallScope } from "./scope.js";

/** Runs plans against deployments, sharing the live deployment state with routing. */
export class AttemptRunner {
  private readonly attempts: DeploymentAttempts;

  /**
   * `outbound`: the per-deployment buckets; in memory unless given one on the shared stores (the
   * gateway's `Limiter.outbound`, on Redis when configured) — see `useOutbound`.
   */
  constructor(registry: DeploymentRegistry, outbound: OutboundLimiter = new OutboundLimiter()) {
    this.attempts = new DeploymentAttempts(registry, outbound);
  }

  /** Puts the outbound buckets on these stores (e.g. `limiter.outbound`: Redis, shared by replicas). */
  useOutbound(outbound: OutboundLimiter): void {
    this.attempts.outbound = outbound;
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
          out = await race(this.attempts, r, d, next, hedge);
          i++;
        } else out = await this.attempts.onDeployment(r, d, undefined);
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

  /** A kept (streamed) attempt ended: its verdict goes to the breaker, and it leaves the in-flight count. */
  settle(call: Call, error: unknown): void {
    this.attempts.settle(call, error);
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
        throw outboundFailure(call, soonest, wait);
      }
      await this.attempts.pause(scope, soonest.d, wait, undefined);
      let out: T | typeof SKIPPED;
      try {
        out = await this.attempts.onDeployment(r, soonest.d, undefined);
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
}

/** Every remaining deployment is at its outbound limit and the wait does not fit the deadline. */
function outboundFailure(call: Call, l: Limited, waitMs: number): GatewayError {
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
