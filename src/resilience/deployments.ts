// Live state of every deployment the gateway has called: in-flight count, EWMA latency, retry budget
// and (once it has failed) its breaker. A bounded set: clients choose model strings, so idle entries
// are evicted (their breakers shut down) and the set never grows past MAX_ENTRIES.
import { EventEmitter } from "node:events";
import { type Admission, Breaker, type BreakerPolicy, type BreakerState } from "./breaker.js";
import { RetryBudget } from "./budget.js";

const MAX_ENTRIES = 1024;
const IDLE_MS = 10 * 60_000;
const SWEEP_EVERY_MS = 60_000;
/** Weight of the newest sample in the latency average. */
const EWMA_ALPHA = 0.3;

/** The policy a deployment's state is created with (the requested model's). */
export interface StatePolicy {
  retries: { budgetPct: number };
  breaker: BreakerPolicy;
}

/** One deployment's numbers, as Health and logs show them. */
export interface DeploymentSnapshot {
  target: string;
  provider: string;
  breaker: BreakerState;
  inflight: number;
  ewmaMs: number;
  msUntilHalfOpen: number;
}

/** Live state of one deployment (by target, "provider/model"). */
export class DeploymentState {
  inflight = 0;
  /** Exponentially weighted latency in ms; -1 until the first sample. */
  ewmaMs = -1;
  lastUsed = performance.now();
  readonly budget: RetryBudget;
  /** Created on the first ill-health failure: a deployment that never failed pays nothing for it. */
  breaker: Breaker | undefined;

  constructor(
    readonly target: string,
    readonly provider: string,
    private readonly policy: StatePolicy,
    private readonly rotate: (windowMs: number) => EventEmitter,
  ) {
    this.budget = new RetryBudget(policy.retries.budgetPct, policy.breaker.windowMs);
  }

  admit(): Admission {
    return this.breaker ? this.breaker.admit() : "pass";
  }

  observe(ms: number): void {
    this.ewmaMs = this.ewmaMs < 0 ? ms : this.ewmaMs + EWMA_ALPHA * (ms - this.ewmaMs);
  }

  /** A counted outcome: success, or an ill-health failure (which creates the breaker). */
  report(ok: boolean, probe: boolean): void {
    if (!ok && !this.breaker) {
      this.breaker = new Breaker(this.target, this.policy.breaker, this.rotate(this.policy.breaker.windowMs));
    }
    this.breaker?.report(ok, probe);
  }

  /** A neutral outcome (client error, cancel, deadline, hedge loser): counts neither way. */
  neutral(probe: boolean): void {
    this.breaker?.release(probe);
  }

  snapshot(): DeploymentSnapshot {
    return {
      target: this.target,
      provider: this.provider,
      breaker: this.breaker?.state ?? "closed",
      inflight: this.inflight,
      ewmaMs: this.ewmaMs < 0 ? 0 : Math.round(this.ewmaMs * 10) / 10,
      msUntilHalfOpen: this.breaker?.msUntilHalfOpen() ?? 0,
    };
  }

  /** Idle: nothing in flight and unused for a while (an open breaker has long since half-opened). */
  idle(now: number): boolean {
    return this.inflight === 0 && now - this.lastUsed > IDLE_MS;
  }

  shutdown(): void {
    this.breaker?.shutdown();
    this.breaker = undefined;
  }
}

/** The bounded set of deployment states, and the shared bucket-rotation timers of their breakers. */
export class DeploymentRegistry {
  private readonly states = new Map<string, DeploymentState>();
  private readonly rotators = new Map<number, { emitter: EventEmitter; timer: NodeJS.Timeout }>();
  private nextSweep = performance.now() + SWEEP_EVERY_MS;

  private readonly rotate = (windowMs: number): EventEmitter => {
    let r = this.rotators.get(windowMs);
    if (!r) {
      const emitter = new EventEmitter();
      emitter.setMaxListeners(0);
      const timer = setInterval(() => emitter.emit("rotate"), Math.max(1, Math.floor(windowMs / 10)));
      timer.unref();
      r = { emitter, timer };
      this.rotators.set(windowMs, r);
    }
    return r.emitter;
  };

  /** The state of a deployment, created on first use (the policy applies from then on). */
  get(target: string, provider: string, policy: StatePolicy): DeploymentState {
    const now = performance.now();
    if (now >= this.nextSweep) this.sweep(now);
    let s = this.states.get(target);
    if (!s) {
      if (this.states.size >= MAX_ENTRIES) this.evictOne();
      s = new DeploymentState(target, provider, policy, this.rotate);
      this.states.set(target, s);
    }
    s.lastUsed = now;
    return s;
  }

  /** The state if the deployment has been called (routing reads it; never creates). */
  peek(target: string): DeploymentState | undefined {
    return this.states.get(target);
  }

  /** Every known deployment, for Health. */
  snapshot(): DeploymentSnapshot[] {
    return [...this.states.values()].map((s) => s.snapshot());
  }

  get size(): number {
    return this.states.size;
  }

  private sweep(now: number): void {
    this.nextSweep = now + SWEEP_EVERY_MS;
    for (const [k, s] of this.states) {
      if (s.idle(now)) {
        s.shutdown();
        this.states.delete(k);
      }
    }
  }

  /** Makes room: the least recently used entry with nothing in flight goes (its breaker shut down). */
  private evictOne(): void {
    let victim: DeploymentState | undefined;
    for (const s of this.states.values()) {
      if (s.inflight === 0 && (!victim || s.lastUsed < victim.lastUsed)) victim = s;
    }
    if (!victim) return;
    victim.shutdown();
    this.states.delete(victim.target);
  }

  /** Shuts every breaker down and stops the rotation timers. */
  close(): void {
    for (const s of this.states.values()) s.shutdown();
    this.states.clear();
    for (const r of this.rotators.values()) clearInterval(r.timer);
    this.rotators.clear();
  }
}
