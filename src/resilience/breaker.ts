// One deployment's circuit breaker: cockatiel 3.2.1's CircuitBreakerPolicy (closed -> open -> half-open)
// over a SamplingBreaker — the library counts and switches state; each attempt is a Trial begun and ended
// through it (`begin` / `end`).
import {
  type CircuitBreakerPolicy,
  CircuitState,
  circuitBreaker,
  handleWhen,
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

/** What `begin` / `run` return when the breaker did not let the attempt through: nothing was sent. */
export const OPEN: unique symbol = Symbol("breaker open");

/** One attempt as its breaker sees it: begun with `Breaker.begin`, judged once with `end`. */
export interface Trial {
  /** The attempt is the half-open probe: its outcome closes or re-opens the breaker. */
  readonly probe: boolean;
  /** The upstream gave an answer (a unary response, a stream's first content): set by the attempt. */
  answered: boolean;
  /**
   * The attempt's verdict, taken once (later calls do nothing): undefined = it succeeded; else its error,
   * counted against the deployment or neutral (see `counts`). Returns a promise, settled once the
   * breaker has moved, when the breaker takes the verdict through the policy (a probe's, a counted
   * failure's); undefined when it is already taken (a success, a neutral outcome).
   */
  end(why: unknown): Promise<void> | undefined;
}

/** A failure the breaker counts. The handle-filter accepts only these. */
class Counted {
  constructor(readonly error: unknown) {}
}

const counted = handleWhen((e) => e instanceof Counted);

const noop = () => {};

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
 * How an attempt goes through the library, and what it costs per call. A closed policy's `execute` does
 * nothing but run the attempt, then hand its outcome to the breaker (`IBreaker.success(Closed)`, or
 * `failure(Closed)` and `open()` when that says so) — yet it is two async functions deep, and an attempt
 * held inside it (until its answer, or a stream's end) needed a promise per step to bridge back out:
 * some 2 KB and a dozen promises per call, on every call. So a trial begun while closed holds nothing
 * in the library: its success goes straight to the SamplingBreaker as `success(Closed)` (exactly what
 * `execute` does with it), a neutral outcome goes nowhere (as an unhandled error in `execute`), and a
 * counted failure goes through `execute` (the policy counts it and opens). The probe runs inside
 * `execute` from its start: the policy moves open -> half-open as it admits it, and closes or re-opens
 * on its verdict. Every state change is still the library's.
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
  /** The policy's breaker (it counts outcomes in its window; the policy switches state on its word). */
  private readonly sampler: SamplingBreaker;
  /** Date.now() when it last opened (noted in onBreak, at or after the library's own mark). */
  private openedAt = 0;

  constructor(private readonly policy: BreakerPolicy) {
    const threshold = Math.min(policy.errorThresholdPct / 100, 1 - 1e-9);
    this.sampler = new SamplingBreaker({
      threshold,
      duration: policy.windowMs,
      minimumRps: (policy.minCalls * 1000) / policy.windowMs,
    });
    this.cb = circuitBreaker(counted, { halfOpenAfter: policy.resetMs, breaker: this.sampler });
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
   * Starts one attempt, or returns OPEN (nothing may be sent) when the breaker is open or its probe is
   * already out. Past the reset time the attempt is the probe: the policy is half-open from now on, so a
   * second `begin` in this tick returns OPEN. The trial's verdict must be given (`end`) exactly once.
   */
  begin(): Trial | typeof OPEN {
    const s = this.cb.state;
    if (s === CircuitState.Closed) return new Attempt(this.cb, this.sampler, false);
    if (s !== CircuitState.Open || this.msUntilHalfOpen() > 0) return OPEN;
    const probe = new Attempt(this.cb, this.sampler, true);
    return probe.startProbe() ? probe : OPEN;
  }

  /**
   * Runs one attempt through the breaker (`begin`, the attempt, `end`), or returns OPEN (nothing ran).
   * The attempt's own error is rethrown as it was, once the breaker has taken it.
   */
  async run<T>(attempt: (t: Trial) => Promise<T>): Promise<T | typeof OPEN> {
    const trial = this.begin();
    if (trial === OPEN) return OPEN;
    let out: T;
    try {
      out = await attempt(trial);
    } catch (e: unknown) {
      await trial.end(e);
      throw e;
    }
    await trial.end(undefined);
    return out;
  }
}

/** One attempt's trial (module-private: the breaker's policy and sampler are its to report to). */
class Attempt implements Trial {
  answered = false;
  #over = false;
  /** The probe's verdict, handed to the `execute` it runs in; and that run, settled (never rejects). */
  #settle: ((why: unknown) => void) | undefined;
  #done: Promise<void> | undefined;

  constructor(
    private readonly cb: CircuitBreakerPolicy,
    private readonly sampler: SamplingBreaker,
    readonly probe: boolean,
  ) {}

  /**
   * The probe runs inside the policy's `execute`, which moves the open breaker to half-open at once and
   * waits for the verdict. False when the policy refused it (still open: nothing runs).
   */
  startProbe(): boolean {
    const verdict = new Promise<void>((resolve, reject) => {
      this.#settle = (why) => {
        if (why === undefined) resolve();
        else reject(this.counts(why) ? new Counted(why) : why);
      };
    });
    this.#done = this.cb.execute(() => verdict).then(noop, noop);
    return this.cb.state === CircuitState.HalfOpen;
  }

  end(why: unknown): Promise<void> | undefined {
    if (this.#over) return undefined;
    this.#over = true;
    if (this.probe) {
      this.#settle?.(why);
      return this.#done;
    }
    if (why === undefined) {
      this.sampler.success(CircuitState.Closed); // what a closed policy's execute does with a success
      return undefined;
    }
    if (!this.counts(why)) return undefined; // neutral: counted neither way
    // Closed now (`counts`): the policy counts it and opens when the window says so.
    return this.cb
      .execute(() => {
        throw new Counted(why);
      })
      .then(noop, noop);
  }

  /** Whether a failed attempt counts against the deployment (see the Breaker's comment). */
  private counts(e: unknown): boolean {
    const upstream = e instanceof UpstreamError;
    const ill = upstream && signalsIllHealth(e.kind);
    if (this.probe) return ill || !(upstream || this.answered);
    return ill && this.cb.state === CircuitState.Closed;
  }
}
