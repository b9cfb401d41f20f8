// One deployment's circuit breaker: opossum 9 as the state machine (closed -> open -> half-open),
// fed only outcomes the pipeline has already classified. See ../shared/NOTES.md for why: opossum
// must not own timeouts or an AbortController, and a filtered error would count as a success.
import type { EventEmitter } from "node:events";
import CircuitBreaker from "opossum";

/** The breaker's settings (config `breaker:`). */
export interface BreakerPolicy {
  errorThresholdPct: number;
  minCalls: number;
  windowMs: number;
  resetMs: number;
}

/** What a breaker says to a new attempt. */
export type Admission = "pass" | "probe" | "open";

export type BreakerState = "closed" | "open" | "half_open";

const RESOLVED: Promise<void> = Promise.resolve();
const ILL = new Error("upstream ill health");
/** The action opossum runs when it is told an outcome: it only replays what already happened. */
const replay = (ok: boolean): Promise<void> => (ok ? RESOLVED : Promise.reject(ILL));
const ignore = () => {};

/**
 * Outcomes are reported after the attempt, through `fire(ok)` whose action settles at once: opossum
 * never sees a neutral outcome (client error, cancel, hedge loser, deadline), so it counts neither
 * way, and a half-open breaker lets exactly one probe through (`probing`), which a neutral outcome
 * hands back without closing the breaker.
 */
export class Breaker {
  private readonly cb: CircuitBreaker<[boolean], void>;
  private probing = false;
  private openedAt = 0;
  /** performance.now() of the last ill-health failure, for idle eviction. */
  lastFailureAt = 0;

  constructor(
    name: string,
    private readonly policy: BreakerPolicy,
    rotate: EventEmitter,
  ) {
    this.cb = new CircuitBreaker(replay, {
      name,
      timeout: false, // the deadline logic owns timeouts
      resetTimeout: policy.resetMs,
      errorThresholdPercentage: policy.errorThresholdPct,
      volumeThreshold: policy.minCalls,
      rollingCountTimeout: policy.windowMs,
      rollingCountBuckets: 10,
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
      rotateBucketController: rotate, // one shared timer per window length, not one per breaker
    });
    this.cb.on("open", () => {
      this.openedAt = performance.now();
      this.probing = false;
    });
    this.cb.on("halfOpen", () => {
      this.probing = false;
    });
    this.cb.on("close", () => {
      this.probing = false;
    });
  }

  get state(): BreakerState {
    if (this.cb.closed) return "closed";
    return this.cb.halfOpen ? "half_open" : "open";
  }

  /** pass: closed; probe: the one half-open trial; open: skip this deployment. */
  admit(): Admission {
    if (this.cb.closed) return "pass";
    if (this.cb.halfOpen && !this.probing) {
      this.probing = true;
      return "probe";
    }
    return "open";
  }

  /** Milliseconds until an open breaker lets a probe through (0 when it already would). */
  msUntilHalfOpen(): number {
    if (!this.cb.opened) return 0;
    return Math.max(0, Math.ceil(this.openedAt + this.policy.resetMs - performance.now()));
  }

  /** Reports a counted outcome. Late outcomes of attempts admitted before the breaker opened are dropped. */
  report(ok: boolean, probe: boolean): void {
    // A probe keeps its slot until opossum has closed or re-opened the breaker (a microtask later).
    if (!probe && !this.cb.closed) return;
    if (!ok) this.lastFailureAt = performance.now();
    this.cb.fire(ok).catch(ignore);
  }

  /** A neutral outcome: counts neither way; a probe's slot is handed back. */
  release(probe: boolean): void {
    if (probe) this.probing = false;
  }

  shutdown(): void {
    this.cb.shutdown();
  }
}
