// What a finished call leaves behind: the CallRecord every observer gets (metrics, traces, usage)
// and one log line (warn for INTERNAL / UNAVAILABLE, else info).

import type { ChatRequest } from "../../gen/llmgateway/v1/llm_pb.js";
import type { CacheOutcome } from "../cache/index.js";
import { cacheLabel } from "../cache/status.js";
import type { GatewayError } from "../errors.js";
import type { Logger } from "../lib/logger.js";
import { type CallObserver, type CallRecord, traceIdOf } from "../telemetry/observer.js";
import type { Call } from "./call.js";

/** How a call ended, as its record and log line tell it. */
export interface CallEnd {
  error: GatewayError | undefined;
  /** The caller's label (key id or name), once identified. */
  caller: string | undefined;
  cache: CacheOutcome | undefined;
  stream: boolean;
  /** A Chat's request, for observers that record it. */
  request: ChatRequest | undefined;
}

/** The gateway's observers of finished calls and its log. */
export class CallLog {
  private readonly observers: CallObserver[] = [];
  /** Observers that want the gap between stream chunks. */
  readonly gapObservers: CallObserver[] = [];

  /** `log` is the gateway's logger (also for lines about a call's request, e.g. foreign-state.ts). */
  constructor(readonly log: Logger) {}

  /** Adds an observer of finished calls. */
  observe(o: CallObserver): void {
    this.observers.push(o);
    if (o.onChunkGap) this.gapObservers.push(o);
  }

  /** Tells every observer about the finished call, then writes its log line. */
  record(call: Call, end: CallEnd): void {
    const { error, caller, cache } = end;
    const ctx = call.ctx;
    const totalMs = performance.now() - call.t0;
    let traceId: string | undefined; // a tracing observer's, else the client's traceparent (below)
    if (this.observers.length > 0) {
      const record: CallRecord = {
        method: ctx.method,
        requestId: ctx.requestId,
        requested: call.requested,
        target: call.deployment?.target ?? "",
        provider: call.provider,
        caller,
        code: error ? error.code : "OK",
        reason: error?.reason,
        startEpochMs: performance.timeOrigin + call.t0,
        totalMs,
        upstreamMs: call.upstreamMs,
        firstTokenMs: call.firstTokenMs,
        attempts: call.trail,
        usage: call.usage,
        costMicros: call.costMicros,
        cache: cache?.status,
        coalesced: cache?.shared ?? false,
        stream: end.stream,
        traceparent: ctx.traceparent,
        tracestate: ctx.tracestate,
        traceId: undefined,
        request: end.request,
      };
      for (const o of this.observers) {
        try {
          o.onCall(record);
        } catch (e: unknown) {
          this.log.warn({ err: e instanceof Error ? e.message : String(e) }, "call observer failed");
        }
      }
      traceId = record.traceId;
    }
    const failed = error !== undefined && (error.code === "INTERNAL" || error.code === "UNAVAILABLE");
    if (!this.log.isLevelEnabled(failed ? "warn" : "info")) return; // nothing to build at this level
    const trim = call.contextTrim();
    const line = {
      rid: ctx.requestId,
      trace_id: traceId ?? traceIdOf(ctx.traceparent),
      method: ctx.method,
      caller,
      model: call.requested,
      provider: call.provider || undefined,
      code: error ? error.code : "OK",
      reason: error?.reason,
      ms: Math.round(totalMs * 100) / 100,
      upstream_ms: Math.round(call.upstreamMs * 100) / 100,
      attempts: call.trail.length,
      deployment: call.deployment?.target,
      skipped_open: call.skipped || undefined,
      tokens_in: call.inputTokens,
      tokens_out: call.outputTokens,
      usage_estimated: call.usage?.estimated || undefined,
      cost_usd: call.costMicros ? call.costMicros / 1e6 : undefined,
      cache: cache ? cacheLabel(cache.status) : undefined,
      coalesced: cache?.shared || undefined,
      // context_overflow TRIM: what the answering deployment's prompt lost to fit its window.
      context_trim: trim && {
        dropped_messages: trim.droppedMessages,
        cut_chars: trim.cutChars,
        tokens_before: trim.inputTokensBefore,
        tokens_after: trim.inputTokensAfter,
        context_window: trim.contextWindow,
      },
    };
    if (failed) this.log.warn({ ...line, err: error.message }, "call failed");
    else this.log.info(line, "call");
  }
}
