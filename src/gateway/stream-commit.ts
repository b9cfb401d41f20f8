// The upstream part of a ChatStream: attempts up to the commit point (the first content), then the
// committed stream — `start` out with the first content, usage and cost at `end`, the breaker's verdict
// when the stream ends, and an estimate of what a stream cut after the commit point consumed.

import {
  type ChatRequest,
  type ChatStreamResponse,
  ChatStreamResponseSchema,
  type StreamEnd,
  UsageSchema,
} from "../../gen/llmgateway/v1/llm_pb.js";
import { tokensOf } from "../catalog/tokens.js";
import { GatewayError, UpstreamError } from "../errors.js";
import type { Signal } from "../lib/cancel.js";
import { create } from "../lib/create.js";
import { nextOrAbort } from "../lib/next-or-abort.js";
import type { Plan } from "../routing/index.js";
import type { Call } from "./call.js";
import type { ContextFit } from "./context-window.js";
import { forDeployment } from "./foreign-state.js";
import type { Parts } from "./parts.js";
import { toGatewayError } from "./run.js";
import { type AttemptScope, CallScope } from "./scope.js";
import { closeStream, HANDLER_GONE, openStream, STREAM_OVER, type StreamHead } from "./stream.js";

/** One run's hold on its upstream stream, for the run's end. */
interface Upstream {
  /** The winning attempt (its scope stays linked to the call: a cancel or deadline aborts the upstream). */
  attempt: AttemptScope | undefined;
  iter: AsyncIterator<ChatStreamResponse> | undefined;
  /** Why the committed stream failed, as the breaker should judge it. */
  broke: unknown;
  /** The upstream stream gave its `end`: it is over, only its last bytes may be on their way. */
  ended: boolean;
}

/** A ChatStream's upstream, and what it streamed (for the limiter and the bill). */
export class StreamCommit {
  /** Tokens the stream reported at its end. */
  used: number | undefined;
  /** Characters of answer text streamed so far. */
  streamedChars = 0;

  constructor(
    private readonly parts: Parts,
    private readonly req: ChatRequest,
    private readonly call: Call,
    private readonly plan: Plan,
    /** The request each deployment gets (context_overflow TRIM fits it to the deployment's window). */
    private readonly fit: ContextFit,
  ) {}

  /** The stream, on `signal` (the client's, or a shared flight's) for up to `ms`. */
  async *run(signal: Signal, ms: number): AsyncGenerator<ChatStreamResponse> {
    const up: Upstream = { attempt: undefined, iter: undefined, broke: undefined, ended: false };
    const scope = new CallScope(signal, ms);
    let error: GatewayError | undefined;
    try {
      if (scope.reason) throw scope.reason; // the client left (or the flight ended) meanwhile
      // Before the commit point: open the stream and read up to the first content on each deployment.
      const head = await this.parts.runner.run<StreamHead>(
        this.call,
        scope,
        this.plan,
        this.plan.policy.timeouts.firstTokenMs,
        (d, a) =>
          this.fit.send(d, (r) =>
            openStream(forDeployment(r, d, this.parts.log.log, this.call.ctx.requestId), this.call.ctx, d, a),
          ),
        (a) => {
          up.attempt = a;
        },
        (late) => closeStream(late.iter),
      );
      up.iter = head.iter;
      const start = this.startEvent(head);
      this.call.firstTokenMs = performance.now() - this.call.t0;
      yield start;
      yield* this.committed(head, up.attempt as AttemptScope, up);
    } catch (e: unknown) {
      error = toGatewayError(e, this.req.model);
      throw error;
    } finally {
      this.close(up, error);
      scope.dispose();
    }
  }

  /** `start`, sent together with the first content: the commit point. */
  private startEvent(head: StreamHead): ChatStreamResponse {
    const call = this.call;
    return create(ChatStreamResponseSchema, {
      event: {
        case: "start",
        value: {
          id: head.start?.id || `llmgw-${call.ctx.requestId}`,
          model: `${call.provider}/${head.start?.model || head.deployment.model}`,
          provider: call.provider,
        },
      },
    });
  }

  /** After the commit point: every event up to `end`, under the idle timeout; any failure is final. */
  private async *committed(
    head: StreamHead,
    live: AttemptScope,
    up: Upstream,
  ): AsyncGenerator<ChatStreamResponse> {
    let ev = head.event;
    const t1 = performance.now();
    const gaps = this.parts.log.gapObservers;
    let lastChunk = t1;
    live.arm(this.plan.policy.timeouts.idleMs, "no data within the idle timeout");
    for (;;) {
      if (ev.event.case === "end") {
        this.onEnd(ev.event.value, t1);
        up.ended = true;
        yield ev;
        return;
      }
      if (ev.event.case === "delta") {
        this.streamedChars += ev.event.value.text.length;
        if (gaps.length > 0) {
          const now = performance.now();
          for (const o of gaps) o.onChunkGap?.(now - lastChunk);
          lastChunk = now;
        }
        yield ev;
      }
      live.refresh();
      ev = await this.next(head.iter, live, up);
    }
  }

  /** The stream's `end`: its usage and cost, the gateway's info, and the breaker's success. */
  private onEnd(end: StreamEnd, t1: number): void {
    const call = this.call;
    end.usage ??= create(UsageSchema, { estimated: true });
    call.inputTokens = end.usage.inputTokens;
    call.outputTokens = end.usage.outputTokens;
    this.used = end.usage.inputTokens + end.usage.outputTokens;
    call.upstreamMs += performance.now() - t1;
    end.gateway = call.info();
    call.usage = end.usage;
    call.costMicros = this.parts.pricing.costMicros(call.deployment, end.usage);
    end.gateway.costUsd = call.costMicros / 1e6;
    this.parts.runner.settle(call, undefined); // a stream counts as a success only when it ends well
  }

  /** The next committed event; a break (or an end without `end`) is UPSTREAM_STREAM_INTERRUPTED. */
  private async next(
    it: AsyncIterator<ChatStreamResponse>,
    live: AttemptScope,
    up: Upstream,
  ): Promise<ChatStreamResponse> {
    const metadata = { provider: this.call.provider, model: this.call.model };
    let r: IteratorResult<ChatStreamResponse>;
    try {
      r = await nextOrAbort(it, live.signal);
    } catch (e: unknown) {
      const why = live.explain(e);
      up.broke = why;
      if (why instanceof GatewayError) throw why;
      const msg = why instanceof Error ? why.message : "upstream failed";
      throw new GatewayError(
        "UNAVAILABLE",
        "UPSTREAM_STREAM_INTERRUPTED",
        `the stream broke after it started: ${msg}`,
        {
          metadata,
          cause: why,
        },
      );
    }
    if (r.done) {
      up.broke = new UpstreamError("stream_interrupted", "ended without finishing", this.call.provider);
      throw new GatewayError(
        "UNAVAILABLE",
        "UPSTREAM_STREAM_INTERRUPTED",
        "the upstream stream ended without finishing",
        { metadata },
      );
    }
    return r.value;
  }

  /** The run is over: the breaker's verdict, then the attempt released and the upstream stream closed. */
  private close(up: Upstream, error: GatewayError | undefined): void {
    // Neither an error nor `end`: the reader stopped (cancel) — counted neither way.
    this.parts.runner.settle(this.call, up.broke ?? error ?? HANDLER_GONE);
    const a = up.attempt;
    a?.dispose();
    const release = () => a?.cancel.abort(STREAM_OVER);
    if (up.iter && up.ended && error === undefined) {
      // Closed before the attempt is released: the provider throws its body away first, which
      // lets the body's last bytes in (the connection is kept) rather than cutting it.
      void closeStream(up.iter).then(release);
    } else {
      release();
      if (up.iter) void closeStream(up.iter);
    }
  }

  /**
   * After the call: a stream cut or cancelled after the commit point is billed for what it consumed,
   * as estimated (`prompt` + what was streamed). Returns the tokens the rate-limit grant settles with:
   * what the stream reported; else the prompt and what was streamed; nothing when no attempt was made
   * (a cache hit, or a stream another caller's upstream call fed).
   */
  reconcile(prompt: number): number {
    const call = this.call;
    const streamedTokens = tokensOf(this.streamedChars);
    if (this.used === undefined && call.deployment && !call.usage) {
      call.usage = create(UsageSchema, {
        inputTokens: prompt,
        outputTokens: streamedTokens,
        totalTokens: prompt + streamedTokens,
        estimated: true,
      });
      call.costMicros = this.parts.pricing.costMicros(call.deployment, call.usage);
      call.inputTokens = call.usage.inputTokens;
      call.outputTokens = call.usage.outputTokens;
    }
    return this.used ?? (call.trail.length === 0 ? 0 : prompt + streamedTokens);
  }
}
