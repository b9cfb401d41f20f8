// One deployment's circuit breaker: cockatiel 3.2.1's CircuitBreakerPolicy (closed -> open -> half-open)
// over a SamplingBreaker, run around each attempt with `execute` — the library counts and switches state.
import {
  type CircuitBreakerPolicy,
  CircuitState,
  circuitBreaker,
  handleWhen,
  isBrokenCircuitError,
  SamplingBreaker,
} from "cockatiel";
import { UpstreamError } from "../errors.js";
import { signalsIllHealth } from "./outcome.js";

/** The breaker's settings (config `breaker:`). */
export interface BreakerPolicy {
  errorThresholdPct: number;
  minCalls: number;
  windowMs: number;
  resetMs: number;
}

export type BreakerState = "closed" | "open" | "half_open";

/** What `run` returns when the breaker did not let the attempt through: nothing was sent. */
export const OPEN: unique symbol = Symbol("breaker open");

/** One attempt as its breaker sees it. */
export interface Trial {
  /** The attempt is the half-open probe: its outcome closes or re-opens the breaker. */
  readonly probe: boolean;
  /** The upstream gave an answer (a unary response, a stream's first content): set by the attempt. */
  answered: boolean;
}

/** A failure the breaker counts. The handle-filter accepts only these; `run` rethrows what it wraps. */
class Counted {
  constructor(readonly error: unknown) {}
}

const counted = handleWhen((e) => e instanceof Counted);

/**
 * Why cockatiel rather than opossum 9 (the previous breaker): opossum counts every `fire()` in its error
 * rate and records an error its `errorFilter` accepts as a *success* (a 400 or a cancel would dilute the
 * rate and close a half-open breaker), its `timeout` (10 s by default) rejects while the work goes on, an
 * optional `abortController` is shared by all calls, and it runs timers per breaker (reset, snapshots,
 * bucket rotation). Used as designed it could not leave neutral outcomes uncounted, so it was fed
 * replayed outcomes. cockatiel's policy has no timers (half-open is decided lazily on the next call),
 * no timeout of its own, and an error its handle-filter rejects is rethrown and counted neither way.
 *
 * Two choices on top of the library, both through its API:
 * - it lets concurrent callers of a half-open breaker *wait* for the running probe; we read `state` first
 *   and skip the deployment instead (the plan goes on to the next one), so exactly one probe is sent;
 * - a half-open probe that fails with an unhandled error *closes* the breaker ("task failed
 *   successfully"). For an upstream answer that is right (a 400 or a 429 proves the upstream is alive),
 *   so answered neutral outcomes are left unhandled; a probe that got no answer at all (cancelled,
 *   past the deadline, lost a hedge before answering, refused by the gateway itself) proves nothing, so
 *   it is counted as a failed probe: the breaker re-opens for another `reset_ms`.
 * A failure of an attempt admitted while the breaker was closed that ends after it opened is not counted
 * (it would re-open a half-open breaker, or count against the next closed period twice).
 *
 * Mapping of the config: `error_threshold_pct` -> `threshold` (the library wants (0, 1): 100 % means
 * "every counted call failed"), `min_calls` -> `minimumRps` = min_calls per `window_ms` (the library opens
 * only when at least that many calls were counted in its sampling duration), `reset_ms` -> `halfOpenAfter`.
 * The library's window is `window_ms` cut into max(5, window_ms / 1 s) slots, and it recycles at most one
 * slot per outcome (checked in 3.2.1's SamplingBreaker.push): on a quiet deployment old outcomes are not
 * aged out by time, so its last ~slot-count outcomes stay counted however long ago they were.
 */
export class Breaker {
  private readonly cb: CircuitBreakerPolicy;
  /** Date.now() when it last opened (noted in onBreak, at or after the library's own mark). */
  private openedAt = 0;

  constructor(private readonly policy: BreakerPolicy) {
    const threshold = Math.min(policy.errorThresholdPct / 100, 1 - 1e-9);
    this.cb = circuitBreaker(counted, {
      halfOpenAfter: policy.resetMs,
      breaker: new SamplingBreaker({
        threshold,
        duration: policy.windowMs,
        minimumRps: (policy.minCalls * 1000) / policy.windowMs,
      }),
    });
    this.cb.onBreak(() => {
      this.openedAt = Date.now();
    });
  }

  /** As Health shows it: an open breaker whose reset time has passed lets the next call probe. */
  get state(): BreakerState {
    switch (this.cb.state) {
      case CircuitState.Closed:
        return "closed";
      case CircuitState.HalfOpen:
        return "half_open";
      default:
        return this.msUntilHalfOpen() > 0 ? "open" : "half_open";
    }
  }

  /** Would a call now be let through (closed, or open past its reset time: the probe)? */
  admits(): boolean {
    const s = this.cb.state;
    return s === CircuitState.Closed || (s === CircuitState.Open && this.msUntilHalfOpen() === 0);
  }

  /** Milliseconds until an open breaker lets a probe through (0 when it already would). */
  msUntilHalfOpen(): number {
    const s = this.cb.state;
    if (s !== CircuitState.Open && s !== CircuitState.Isolated) return 0;
    return Math.max(0, this.openedAt + this.policy.resetMs - Date.now());
  }

  /**
   * Runs one attempt through the breaker, or returns OPEN (nothing ran) when it is open or its probe is
   * already out. The attempt's own error is rethrown as it was; what it does to the breaker is `counts`.
   */
  async run<T>(attempt: (t: Trial) => Promise<T>): Promise<T | typeof OPEN> {
    if (!this.admits()) return OPEN;
    // execute() moves an open breaker to half-open synchronously: a second run() in this tick skips.
    const trial: Trial = { probe: this.cb.state === CircuitState.Open, answered: false };
    try {
      return await this.cb.execute(() => this.guard(attempt, trial));
    } catch (e: unknown) {
      if (e instanceof Counted) throw e.error;
      if (isBrokenCircuitError(e)) return OPEN;
      throw e;
    }
  }

  private async guard<T>(attempt: (t: Trial) => Promise<T>, trial: Trial): Promise<T> {
    try {
      return await attempt(trial);
    } catch (e: unknown) {
      throw this.counts(e, trial) ? new Counted(e) : e;
    }
  }

  /** Whether a failed attempt counts against the deployment (see the class comment). */
  private counts(e: unknown, trial: Trial): boolean {
    const upstream = e instanceof UpstreamError;
    const ill = upstream && signalsIllHealth(e.kind);
    if (trial.probe) return ill || !(upstream || trial.answered);
    return ill && this.cb.state === CircuitState.Closed;
  }
}
