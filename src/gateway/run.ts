// What one run of the attempt runner shares with its attempts: the run's inputs and outbound state,
// the markers attempts return (skipped, next), the lanes of a hedge race, and how failures are named.

import type { ModelPolicy } from "../config/index.js";
import { fromUpstream, GatewayError, reasonForKind, UpstreamError } from "../errors.js";
import { decide } from "../resilience/index.js";
import type { Deployment } from "../routing/index.js";
import { HEDGE_LOST_OUTCOME } from "../telemetry/observer.js";
import type { Call } from "./call.js";
import type { AttemptScope, CallScope } from "./scope.js";

/** The abort reason of a hedge's losing attempt: never a failure, never shown to the client. */
export const HEDGE_LOST = new GatewayError("CANCELLED", "CANCELLED", "another deployment answered first");

/** What an attempt does on a deployment. */
export type AttemptFn<T> = (d: Deployment, a: AttemptScope) => Promise<T>;

/** Returned by a deployment whose breaker was open (or whose bucket was empty): nothing was sent. */
export const SKIPPED: unique symbol = Symbol("skipped");
/** Returned by a hedge race whose lanes all failed without a final error: go on down the plan. */
export const NEXT: unique symbol = Symbol("next");

/** A deployment passed over for its outbound limit in this call, and when its bucket could take it. */
export interface Limited {
  d: Deployment;
  why: "requests" | "tokens" | "too_large";
  /** performance.now() when the bucket could take the attempt (Infinity: never, the call is too large). */
  readyAt: number;
}

/** One `run`: the call, its scope and policy, what an attempt does, and the run's outbound state. */
export interface Run<T> {
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
export interface RunState {
  reserve: { prompt: number; total: number };
  limited: Limited[];
}

/** The name of an attempt's outcome in the trail and metrics. */
export function outcomeName(e: unknown): string {
  if (e === HEDGE_LOST) return HEDGE_LOST_OUTCOME;
  if (e instanceof GatewayError) return e.reason;
  if (e instanceof UpstreamError) return reasonForKind(e.kind).reason;
  return "INTERNAL";
}

/** Errors that end the call: anything not from upstream (cancel, deadline), and the table's "return". */
export function isFinal(e: unknown): boolean {
  return !(e instanceof UpstreamError) || decide(e) === "return";
}

/** Turns anything thrown during a call into the GatewayError the client sees. */
export function toGatewayError(e: unknown, target: string): GatewayError {
  if (e instanceof GatewayError) return e;
  if (e instanceof UpstreamError) return fromUpstream(e, target);
  return new GatewayError("INTERNAL", "INTERNAL", "internal error", { cause: e });
}

/** A hedge race: its lanes, whether one has answered, and whether the race is decided. */
export class Race {
  won = false;
  over = false;
  readonly lanes: Lane[] = [];

  constructor(readonly call: Call) {}

  /** A new lane on `d`. */
  add(d: Deployment): Lane {
    const lane = new Lane(d, this);
    this.lanes.push(lane);
    return lane;
  }

  /** Every lane but `winner` (all of them without one) loses: what it has in progress is aborted. */
  loseAll(winner?: Lane): void {
    for (const l of this.lanes) if (l !== winner) l.lose(this.call);
  }
}

/** One side of a hedge race. */
export class Lane {
  lost = false;
  /** The attempt (or backoff wait) in progress, and when the attempt began (0 while waiting). */
  current: AttemptScope | undefined;
  startedAt = 0;
  constructor(
    readonly d: Deployment,
    readonly race: Race,
  ) {}

  /** This lane answered: true when that wins the race (every other lane loses), false when too late. */
  claim(): boolean {
    if (this.lost || this.race.won) return false;
    this.race.won = true;
    this.race.loseAll(this);
    return true;
  }

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
