// Admission, the same for Chat, Embed and ChatStream: a slot in the server's capacity (admit), the
// caller's rate-limit tokens and budget money (hold), given back with what was used (settle), then the
// slot released and the call recorded (finish) — exactly once on every path.

import type { ChatRequest } from "../../gen/llmgateway/v1/llm_pb.js";
import type { Caller, CallGuard } from "../auth/guard.js";
import type { BudgetHold, BudgetLedger } from "../billing/index.js";
import type { CacheOutcome } from "../cache/index.js";
import { GatewayError } from "../errors.js";
import type { Grant } from "../limits/index.js";
import type { Plan } from "../routing/index.js";
import type { Call } from "./call.js";
import type { CallLog } from "./call-log.js";
import type { Pricing, Reserve } from "./pricing.js";

/** The server's own limits: calls and streams in flight (server.max_inflight / max_streams), and drain. */
export class Capacity {
  private inflight = 0;
  private streams = 0;
  private draining = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly limits: { maxInflight: number; maxStreams: number }) {}

  /** Calls in flight (unary and streams). */
  get inFlight(): number {
    return this.inflight;
  }

  /** ChatStream calls in flight. */
  get streamsInFlight(): number {
    return this.streams;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Stops admitting calls; resolves when the last in-flight call has finished. */
  drain(): Promise<void> {
    this.draining = true;
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Takes a slot, or throws SHUTTING_DOWN / OVERLOADED having taken nothing. */
  take(stream: boolean): void {
    if (this.draining) throw new GatewayError("UNAVAILABLE", "SHUTTING_DOWN", "the gateway is shutting down");
    const { maxInflight, maxStreams } = this.limits;
    if (this.inflight >= maxInflight || (stream && this.streams >= maxStreams)) {
      throw new GatewayError(
        "RESOURCE_EXHAUSTED",
        "OVERLOADED",
        "the gateway is at capacity; retry shortly",
        {
          retryAfterMs: 1000,
        },
      );
    }
    this.inflight++;
    if (stream) this.streams++;
  }

  /** Gives a slot back; the last one wakes whoever waits on `drain`. */
  give(stream: boolean): void {
    this.inflight--;
    if (stream) this.streams--;
    if (this.inflight === 0 && this.idleWaiters.length) {
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }
}

/** What admission uses of the gateway. `budgets`: none = budgets are not enforced (set by the app). */
export interface AdmissionParts {
  readonly capacity: Capacity;
  readonly guard: CallGuard;
  readonly pricing: Pricing;
  readonly log: CallLog;
  budgets: BudgetLedger | undefined;
}

/** One call's admission, from its slot to its log line. */
export class Admission {
  /** The caller's label, once identified (for the record and the cache key). */
  caller: string | undefined;
  /** How the response cache answered, when it was consulted. */
  cache: CacheOutcome | undefined;
  private grant: Grant | undefined;
  private budget: BudgetHold | undefined;
  private finished = false;

  private constructor(
    private readonly parts: AdmissionParts,
    readonly call: Call,
    readonly stream: boolean,
    readonly request: ChatRequest | undefined,
  ) {}

  /** Takes a slot for the call (throws, having taken nothing, when the server is full or draining). */
  static admit(parts: AdmissionParts, call: Call, stream: boolean, request?: ChatRequest): Admission {
    parts.capacity.take(stream);
    return new Admission(parts, call, stream, request);
  }

  /**
   * Holds against the caller's limits (one request, `reserve.total` tokens, a concurrency slot) and
   * budget (the plan's largest plausible cost), for a call whose deadline is `ms`. A refused budget
   * gives the rate-limit reservation back at once.
   */
  async hold(who: Caller, plan: Plan, reserve: Reserve, ms: number): Promise<void> {
    const grant = await this.parts.guard.reserve(who, this.call.ctx, reserve.total, ms + 5000);
    try {
      const pending = this.holdBudget(who, plan, reserve, ms + 30_000);
      this.budget = pending ? await pending : undefined;
    } catch (e: unknown) {
      grant?.settle(0);
      throw e;
    }
    this.grant = grant;
  }

  /** Holds the plan's largest plausible cost, or throws BUDGET_EXCEEDED; undefined without a budget. */
  private holdBudget(
    who: Caller,
    plan: Plan,
    reserve: Reserve,
    leaseMs: number,
  ): Promise<BudgetHold> | undefined {
    const budgets = this.parts.budgets;
    if (!budgets || !who.budget || !who.keyId) return undefined;
    const amount = this.parts.pricing.maxCostMicros(plan, reserve.prompt, reserve.total - reserve.prompt);
    return budgets.reserve(who.keyId, who.budget, amount, leaseMs);
  }

  /**
   * Ends the call, once whatever path it took: settles the holds (`tokens` against the rate limits, the
   * call's cost against the budget), gives the slot back, and records the call. Later calls do nothing.
   */
  finish(error: GatewayError | undefined, tokens: number): void {
    if (this.finished) return;
    this.finished = true;
    this.settle(tokens);
    this.parts.capacity.give(this.stream);
    const { caller, cache, stream, request } = this;
    this.parts.log.record(this.call, { error, caller, cache, stream, request });
  }

  private settle(tokens: number): void {
    this.grant?.settle(tokens);
    this.budget?.settle(this.call.costMicros);
  }
}
