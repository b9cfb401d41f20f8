// Live state of every deployment the gateway has called: in-flight count, EWMA latency, retry budget
// and its breaker. A bounded set: clients choose model strings, so idle entries are evicted and the set
// never grows past MAX_ENTRIES (a breaker holds no timer: dropping the entry is all it takes).
import { Breaker, type BreakerPolicy, type BreakerState } from "./breaker.js";
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
  /** Every attempt on the deployment is a trial of it (`breaker.begin`): successes count too. */
  readonly breaker: Breaker;

  constructor(
    readonly target: string,
    readonly provider: string,
    policy: StatePolicy,
  ) {
    this.budget = new RetryBudget(policy.retries.budgetPct, policy.breaker.windowMs);
    this.breaker = new Breaker(policy.breaker);
  }

  observe(ms: number): void {
    this.ewmaMs = this.ewmaMs < 0 ? ms : this.ewmaMs + EWMA_ALPHA * (ms - this.ewmaMs);
  }

  snapshot(): DeploymentSnapshot {
    return {
      target: this.target,
      provider: this.provider,
      breaker: this.breaker.state,
      inflight: this.inflight,
      ewmaMs: this.ewmaMs < 0 ? 0 : Math.round(this.ewmaMs * 10) / 10,
      msUntilHalfOpen: this.breaker.msUntilHalfOpen(),
    };
  }

  /** Idle: nothing in flight and unused for a while (an open breaker has long since half-opened). */
  idle(now: number): boolean {
    return this.inflight === 0 && now - this.lastUsed > IDLE_MS;
  }
}

/** The bounded set of deployment states (swept lazily on use: no timer). */
export class DeploymentRegistry {
  private readonly states = new Map<string, DeploymentState>();
  private nextSweep = performance.now() + SWEEP_EVERY_MS;

  /** The state of a deployment, created on first use (the policy applies from then on). */
  get(target: string, provider: string, policy: StatePolicy): DeploymentState {
    const now = performance.now();
    if (now >= this.nextSweep) this.sweep(now);
    let s = this.states.get(target);
    if (!s) {
      if (this.states.size >= MAX_ENTRIES) this.evictOne();
      s = new DeploymentState(target, provider, policy);
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
      if (s.idle(now)) this.states.delete(k);
    }
  }

  /** Makes room: the least recently used entry with nothing in flight goes (its breaker with it). */
  private evictOne(): void {
    let victim: DeploymentState | undefined;
    for (const s of this.states.values()) {
      if (s.inflight === 0 && (!victim || s.lastUsed < victim.lastUsed)) victim = s;
    }
    if (victim) this.states.delete(victim.target);
  }

  /** Forgets every deployment (a closed gateway's breakers hold nothing to stop). */
  close(): void {
    this.states.clear();
  }
}
