// The pieces of one gateway generation that its call paths share (unary.ts, chat-stream.ts,
// stream-commit.ts), and the steps every call takes before going upstream (prepare).

import type { ChatRequest } from "../../gen/llmgateway/v1/llm_pb.js";
import type { Caller } from "../auth/guard.js";
import type { CachedCalls } from "../cache/index.js";
import type { Deployment, Plan, Router } from "../routing/index.js";
import type { Admission, AdmissionParts } from "./admission.js";
import type { AttemptRunner } from "./attempts.js";
import type { Call } from "./call.js";
import type { Reserve } from "./pricing.js";
import { assertPresent, effectiveDeadlineMs } from "./scope.js";

/** What a call path uses of the gateway. */
export interface Parts extends AdmissionParts {
  readonly router: Router;
  readonly runner: AttemptRunner;
  /** The response cache (src/cache). */
  readonly cached: CachedCalls;
}

/** What a call asks for, as the steps before the upstream need it. */
export interface Entry {
  model: string;
  fallbacks: readonly string[];
  /** Throws INVALID_ARGUMENT for a malformed request. */
  validate: () => void;
  /** A Chat's request: routing may read it, and the call's record carries it. */
  chat: ChatRequest | undefined;
  /**
   * A check on the plan's first deployment before anything is held (the context window: checked, or
   * fitted under context_overflow TRIM, which also tells the call what it trimmed).
   */
  preflight?: ((first: Deployment, plan: Plan, call: Call) => Promise<void> | undefined) | undefined;
  reserve: Reserve;
}

/** The outcome of `prepare`: who calls, the plan, and the call's deadline (ms). */
export interface Prepared {
  who: Caller;
  plan: Plan;
  ms: number;
}

/**
 * The steps before the upstream, the same for both call kinds: the client is still there, who calls,
 * validation, the plan and its authorization, the preflight, the client still there, then the holds for
 * the call's deadline (the client's, cut at `serverMs` of the plan's policy).
 */
export async function prepare(
  parts: Parts,
  adm: Admission,
  e: Entry,
  serverMs: (plan: Plan) => number,
): Promise<Prepared> {
  const ctx = adm.call.ctx;
  assertPresent(ctx.signal);
  const who = parts.guard.identify(ctx);
  adm.caller = who.label;
  e.validate();
  const plan = parts.router.plan(e.model, e.fallbacks, e.chat);
  parts.guard.authorize(who, e.model, e.fallbacks, plan);
  const first = plan.deployments[0];
  const pending = first && e.preflight?.(first, plan, adm.call);
  if (pending) await pending;
  assertPresent(ctx.signal);
  const ms = effectiveDeadlineMs(ctx.timeoutMs, serverMs(plan));
  await adm.hold(who, plan, e.reserve, ms);
  return { who, plan, ms };
}
