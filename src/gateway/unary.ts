// One unary call (Chat, Embed): admission, the steps before the upstream, the response cache when on
// for the call, attempts with fallbacks, then the answer stamped with who answered and what it cost.

import {
  CacheStatus,
  type ChatRequest,
  type ChatResponse,
  type EmbedRequest,
  type EmbedResponse,
} from "../../gen/llmgateway/v1/llm_pb.js";
import { type CacheOutcome, type CachePolicy, cacheKey, resolveCachePolicy } from "../cache/index.js";
import type { GatewayError } from "../errors.js";
import type { Signal } from "../lib/cancel.js";
import type { Plan } from "../routing/index.js";
import { Admission } from "./admission.js";
import { Call } from "./call.js";
import type { CallContext } from "./context.js";
import { type Entry, type Parts, prepare } from "./parts.js";
import { type AttemptFn, toGatewayError } from "./run.js";
import { AttemptScope, CallScope, effectiveDeadlineMs } from "./scope.js";

/** How a unary call goes through the response cache (CachedCalls.chat / .embed). */
export type CachedVia<R> = (
  key: string,
  policy: CachePolicy,
  signal: Signal,
  call: (signal: AbortSignal) => Promise<R>,
) => Promise<CacheOutcome & { response: R }>;

/** One unary call: what the steps before the upstream need, what an attempt sends, and the cache. */
export interface UnaryRequest<R> extends Entry {
  ctx: CallContext;
  /** The request the cache keys on (and whose CacheControl it honours). */
  body: ChatRequest | EmbedRequest;
  send: AttemptFn<R>;
  viaCache: CachedVia<R>;
}

/** Runs one unary call; Chat and Embed differ only in the request they pass. */
export async function unary<R extends ChatResponse | EmbedResponse>(
  parts: Parts,
  r: UnaryRequest<R>,
): Promise<R> {
  const call = new Call(r.ctx, r.model);
  const adm = Admission.admit(parts, call, false, r.chat);
  let error: GatewayError | undefined;
  let used: number | undefined;
  try {
    const { who, plan, ms } = await prepare(parts, adm, r, (p) => p.policy.timeouts.requestMs);
    const upstream = (signal: Signal, upMs: number) => upstreamUnary(parts, call, plan, r.send, signal, upMs);
    const policy = resolveCachePolicy(plan.policy.cache, r.body.cache);
    let res: R;
    if (!policy) res = await upstream(r.ctx.signal, ms);
    else {
      // This caller waits on its own cancel / deadline; the (possibly shared) upstream call runs on
      // the flight's signal, never on ctx.signal (Connect aborts it after every call).
      const requestMs = plan.policy.timeouts.requestMs;
      const waiter = new CallScope(r.ctx.signal, effectiveDeadlineMs(r.ctx.timeoutMs, requestMs));
      const mine = new AttemptScope(waiter, "");
      try {
        const key = cacheKey(r.body, who.label, "unary");
        // The flight may serve callers with longer deadlines: it runs up to the server's limit.
        const out = await r.viaCache(key, policy, mine.signal, (s) => upstream(s, requestMs));
        adm.cache = out;
        res = out.response;
      } finally {
        mine.dispose();
        waiter.dispose();
      }
    }
    used = stamp(parts, call, res, adm.cache);
    return res;
  } catch (e: unknown) {
    error = toGatewayError(e, r.model);
    throw error;
  } finally {
    // Reconcile: actual usage; no attempt made (a cache hit too) = nothing spent; else the prompt was sent.
    adm.finish(error, used ?? (call.trail.length === 0 ? 0 : r.reserve.prompt));
  }
}

/** The upstream path, on `signal` (the client's, or a shared flight's) for up to `ms`. */
async function upstreamUnary<R extends ChatResponse | EmbedResponse>(
  parts: Parts,
  call: Call,
  plan: Plan,
  send: AttemptFn<R>,
  signal: Signal,
  ms: number,
): Promise<R> {
  const scope = new CallScope(signal, ms);
  try {
    if (scope.reason) throw scope.reason; // the client left (or the flight ended) meanwhile
    const res = await parts.runner.run(call, scope, plan, plan.policy.timeouts.attemptMs, send);
    res.model = `${call.provider}/${res.model || call.model.slice(call.provider.length + 1)}`;
    res.provider = call.provider;
    return res;
  } finally {
    scope.dispose();
  }
}

/**
 * Stamps the answer with the gateway's info and this caller's cost, and returns the tokens the call
 * used (undefined when the answer reported none). A hit, or a miss another caller's upstream call
 * answered, costs this caller nothing upstream.
 */
function stamp(
  parts: Parts,
  call: Call,
  res: ChatResponse | EmbedResponse,
  cache: CacheOutcome | undefined,
): number | undefined {
  const free = cache !== undefined && (cache.status !== CacheStatus.MISS || cache.shared);
  call.inputTokens = res.usage?.inputTokens ?? 0;
  call.outputTokens = res.usage?.outputTokens ?? 0;
  res.gateway = call.info();
  call.usage = res.usage;
  call.costMicros = free ? 0 : parts.pricing.costMicros(call.deployment, res.usage);
  res.gateway.costUsd = call.costMicros / 1e6;
  if (cache) {
    res.gateway.cache = cache.status;
    res.gateway.cacheAgeS = cache.ageS;
  }
  if (free) return 0;
  return res.usage ? res.usage.inputTokens + res.usage.outputTokens : undefined;
}
