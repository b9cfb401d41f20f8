// One ChatStream call: admission and the steps before the upstream (as for unary calls), then the
// upstream stream (stream-commit.ts) directly or through the response cache, reconciled at the end.

import {
  CacheStatus,
  type ChatRequest,
  type ChatStreamResponse,
  UsageSchema,
} from "../../gen/llmgateway/v1/llm_pb.js";
import { type CacheOutcome, cacheKey, resolveCachePolicy } from "../cache/index.js";
import type { GatewayError } from "../errors.js";
import { create } from "../lib/create.js";
import { Admission } from "./admission.js";
import { Call } from "./call.js";
import type { CallContext } from "./context.js";
import { ContextFit } from "./context-window.js";
import { type Parts, prepare } from "./parts.js";
import { chatReserve } from "./pricing.js";
import { toGatewayError } from "./run.js";
import { AttemptScope, CallScope, effectiveDeadlineMs } from "./scope.js";
import { StreamCommit } from "./stream-commit.js";
import { validateChat } from "./validate.js";

/**
 * ChatStream: `start` goes out together with the first content (the commit point). Before it a
 * failed attempt may fall back; after it any failure ends the stream with an error, never `end`.
 * With the cache on: a hit replays the stored events; concurrent identical misses share one upstream
 * stream (each caller reads its own copy); `end` carries this caller's gateway info.
 */
export async function* chatStream(
  parts: Parts,
  req: ChatRequest,
  ctx: CallContext,
): AsyncGenerator<ChatStreamResponse> {
  const reserve = chatReserve(req, parts.guard.defaultOutputReserve);
  const fit = new ContextFit(req, (d) => parts.pricing.entryFor(d), parts.guard.defaultOutputReserve);
  const call = new Call(ctx, req.model);
  const adm = Admission.admit(parts, call, true, req);
  let error: GatewayError | undefined;
  let waiter: CallScope | undefined;
  let mine: AttemptScope | undefined;
  let commit: StreamCommit | undefined;
  try {
    const { who, plan, ms } = await prepare(
      parts,
      adm,
      {
        model: req.model,
        fallbacks: req.fallbackModels,
        validate: () => validateChat(req),
        chat: req,
        preflight: (d, plan, c) => fit.preflight(d, plan.policy, c),
        reserve,
      },
      (p) => p.policy.timeouts.maxStreamMs,
    );
    const up = new StreamCommit(parts, req, call, plan, fit);
    commit = up;
    const policy = resolveCachePolicy(plan.policy.cache, req.cache);
    if (!policy) {
      yield* up.run(ctx.signal, ms);
      return;
    }
    const maxStreamMs = plan.policy.timeouts.maxStreamMs;
    waiter = new CallScope(ctx.signal, effectiveDeadlineMs(ctx.timeoutMs, maxStreamMs));
    mine = new AttemptScope(waiter, "");
    const key = cacheKey(req, who.label, "stream");
    // The flight may feed callers with longer deadlines: it runs up to the server's limit.
    const out = await parts.cached.chatStream(key, policy, mine.signal, (s) => up.run(s, maxStreamMs));
    adm.cache = out;
    ctx.cacheStatus = out.status;
    for await (const ev of out.events) {
      if (ev.event.case === "end") stampEnd(call, ev, out);
      call.firstTokenMs ??= performance.now() - call.t0;
      yield ev;
    }
  } catch (e: unknown) {
    error = toGatewayError(e, req.model);
    throw error;
  } finally {
    mine?.dispose();
    waiter?.dispose();
    // Reconcile with the usage the stream reported, or its estimate (StreamCommit.reconcile).
    adm.finish(error, commit ? commit.reconcile(reserve.prompt) : 0);
  }
}

/**
 * The `end` this caller reads from the cache: its own gateway info and usage; a hit, or a stream
 * another caller's upstream call fed, costs it nothing.
 */
function stampEnd(call: Call, ev: ChatStreamResponse, out: CacheOutcome): void {
  if (ev.event.case !== "end") return;
  const free = out.status !== CacheStatus.MISS || out.shared;
  const end = ev.event.value;
  end.usage ??= create(UsageSchema, { estimated: true });
  call.inputTokens = end.usage.inputTokens;
  call.outputTokens = end.usage.outputTokens;
  const info = free ? call.info() : (end.gateway ?? call.info());
  call.usage = end.usage;
  if (free) {
    info.costUsd = 0;
    call.costMicros = 0;
  }
  info.cache = out.status;
  info.cacheAgeS = out.ageS;
  end.gateway = info;
}
