// The pipeline every protocol calls: admit -> validate -> route -> call (attempts, fallbacks,
// deadlines) -> account (usage, one log line). Transports parse and render; everything else is here.
import { create } from "@bufbuild/protobuf";
import {
  type ChatRequest,
  type ChatResponse,
  type ChatStreamResponse,
  ChatStreamResponseSchema,
  type EmbedRequest,
  type EmbedResponse,
  type GatewayInfo,
  GatewayInfoSchema,
  type StreamStart,
  type Usage,
  UsageSchema,
} from "../../gen/llmgateway/v1/llm_pb.js";
import type { Catalog, CatalogEntry } from "../catalog/index.js";
import type { GatewayConfig } from "../config/index.js";
import type { Provider } from "../providers/types.js";
import { outcomeFor } from "../resilience/outcome.js";
import { type Deployment, Router } from "../routing/index.js";
import type { Logger } from "../telemetry/logger.js";
import type { CallContext } from "./context.js";
import { checkContextWindow } from "./context-window.js";
import { fromUpstream, GatewayError, reasonForKind, UpstreamError } from "./errors.js";
import { AttemptScope, CallScope } from "./scope.js";
import { validateChat, validateEmbed } from "./validate.js";

/** One attempt, for the trail and logs. */
interface AttemptRecord {
  deployment: string;
  outcome: string;
  durationMs: number;
}

/** Per-call bookkeeping shared by all methods. */
class Call {
  readonly t0 = performance.now();
  readonly trail: AttemptRecord[] = [];
  upstreamMs = 0;
  provider = "";
  model = "";
  /** The deployment that answered. */
  deployment: Deployment | undefined;
  inputTokens = 0;
  outputTokens = 0;
  constructor(
    readonly ctx: CallContext,
    readonly requested: string,
  ) {}

  info(): GatewayInfo {
    return create(GatewayInfoSchema, {
      attempts: this.trail.length,
      latencyMs: performance.now() - this.t0,
      upstreamLatencyMs: this.upstreamMs,
      requestId: this.ctx.requestId,
      attemptTrail: this.trail,
    });
  }
}

function outcomeName(e: unknown): string {
  if (e instanceof GatewayError) return e.reason;
  if (e instanceof UpstreamError) return reasonForKind(e.kind).reason;
  return "INTERNAL";
}

/** Turns anything thrown during a call into the GatewayError the client sees. */
function toGatewayError(e: unknown, target: string): GatewayError {
  if (e instanceof GatewayError) return e;
  if (e instanceof UpstreamError) return fromUpstream(e, target);
  return new GatewayError("INTERNAL", "INTERNAL", "internal error", { cause: e });
}

/** The gateway's public operations; one instance per process (and per config). */
export class Gateway {
  readonly router: Router;
  private inflight = 0;
  private streams = 0;
  private draining = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    readonly config: GatewayConfig,
    readonly providers: ReadonlyMap<string, Provider>,
    readonly log: Logger,
    readonly catalog: Catalog,
  ) {
    this.router = new Router(providers, config, catalog);
  }

  /** The catalog entry of a deployment: by its target, or by wire format for renamed providers. */
  entryFor(d: Deployment): CatalogEntry | undefined {
    return this.catalog.get(d.target) ?? this.catalog.get(`${d.provider.type}/${d.model}`);
  }

  /** Cost of a call in USD from the catalog's prices; 0 when the model has none. */
  private cost(d: Deployment | undefined, usage: Usage | undefined): number {
    if (!d || !usage) return 0;
    const entry = this.entryFor(d);
    return entry ? (this.catalog.costUsd(entry.id, usage) ?? 0) : 0;
  }

  /** Calls in flight (unary and streams). */
  get inFlight(): number {
    return this.inflight;
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

  private admit(stream: boolean): void {
    if (this.draining) throw new GatewayError("UNAVAILABLE", "SHUTTING_DOWN", "the gateway is shutting down");
    const { maxInflight, maxStreams } = this.config.server;
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

  private release(stream: boolean): void {
    this.inflight--;
    if (stream) this.streams--;
    if (this.inflight === 0 && this.idleWaiters.length) {
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private finish(call: Call, error: GatewayError | undefined): void {
    const line = {
      rid: call.ctx.requestId,
      method: call.ctx.method,
      model: call.requested,
      provider: call.provider || undefined,
      code: error ? error.code : "OK",
      reason: error?.reason,
      ms: Math.round((performance.now() - call.t0) * 100) / 100,
      upstream_ms: Math.round(call.upstreamMs * 100) / 100,
      attempts: call.trail.length,
      tokens_in: call.inputTokens,
      tokens_out: call.outputTokens,
    };
    if (error && (error.code === "INTERNAL" || error.code === "UNAVAILABLE")) {
      this.log.warn({ ...line, err: error.message }, "call failed");
    } else this.log.info(line, "call");
  }

  private scope(ctx: CallContext, defaultMs: number): CallScope {
    return new CallScope(ctx.signal, ctx.timeoutMs ?? defaultMs);
  }

  /** Runs `fn` against each deployment of the plan until one answers or a failure must be returned. */
  private async attempt<T>(
    call: Call,
    scope: CallScope,
    deployments: Deployment[],
    attemptMs: number,
    fn: (d: Deployment, a: AttemptScope) => Promise<T>,
    keep?: (a: AttemptScope) => void,
  ): Promise<T> {
    let last: unknown;
    let kept = false;
    for (let i = 0; i < deployments.length; i++) {
      const d = deployments[i] as Deployment;
      const a = new AttemptScope(scope, d.provider.name);
      a.arm(attemptMs, "no answer within the attempt timeout");
      const ta = performance.now();
      try {
        const out = await fn(d, a);
        const ms = performance.now() - ta;
        call.upstreamMs += ms;
        call.trail.push({ deployment: d.target, outcome: "ok", durationMs: Math.round(ms) });
        call.provider = d.provider.name;
        call.model = d.target;
        call.deployment = d;
        if (keep) {
          keep(a); // the caller now owns the scope (a stream goes on reading on it)
          kept = true;
        }
        return out;
      } catch (e: unknown) {
        const err = a.explain(e);
        a.controller.abort(); // whatever failed, nothing of this attempt may linger upstream
        const ms = performance.now() - ta;
        call.upstreamMs += ms;
        call.trail.push({ deployment: d.target, outcome: outcomeName(err), durationMs: Math.round(ms) });
        last = err;
        if (!(err instanceof UpstreamError) || outcomeFor(err.kind) === "return") break;
      } finally {
        if (!kept) a.dispose();
      }
    }
    const err = toGatewayError(last, call.trail.at(-1)?.deployment ?? call.requested);
    // Clients (and the REST door's x-should-retry) learn how many upstream attempts were made.
    err.details.metadata = { ...err.details.metadata, attempts: String(call.trail.length) };
    throw err;
  }

  /**
   * One unary call: admit, validate, plan, attempts with fallbacks, then the answer stamped with who
   * answered and what the gateway did. Chat and Embed differ only in the pieces passed in.
   */
  private async unary<R extends ChatResponse | EmbedResponse>(
    ctx: CallContext,
    model: string,
    fallbacks: readonly string[],
    validate: () => void,
    send: (d: Deployment, a: AttemptScope) => Promise<R>,
    preflight?: (first: Deployment) => Promise<void> | undefined,
  ): Promise<R> {
    const call = new Call(ctx, model);
    let error: GatewayError | undefined;
    this.admit(false);
    try {
      validate();
      const plan = this.router.plan(model, fallbacks);
      const first = plan.deployments[0];
      const pending = first && preflight?.(first);
      if (pending) await pending;
      const scope = this.scope(ctx, plan.policy.timeouts.requestMs);
      try {
        const res = await this.attempt(call, scope, plan.deployments, plan.policy.timeouts.attemptMs, send);
        res.model = `${call.provider}/${res.model || call.model.slice(call.provider.length + 1)}`;
        res.provider = call.provider;
        call.inputTokens = res.usage?.inputTokens ?? 0;
        call.outputTokens = res.usage?.outputTokens ?? 0;
        res.gateway = call.info();
        res.gateway.costUsd = this.cost(call.deployment, res.usage);
        return res;
      } finally {
        scope.dispose();
      }
    } catch (e: unknown) {
      error = toGatewayError(e, model);
      throw error;
    } finally {
      this.release(false);
      this.finish(call, error);
    }
  }

  /** Chat: one whole answer. */
  chat(req: ChatRequest, ctx: CallContext): Promise<ChatResponse> {
    return this.unary(
      ctx,
      req.model,
      req.fallbackModels,
      () => validateChat(req),
      (d, a) => d.provider.chat(req, { signal: a.signal, model: d.model, requestId: ctx.requestId }),
      (d) => checkContextWindow(this.entryFor(d), req),
    );
  }

  /** Embed: vectors for each input. */
  embed(req: EmbedRequest, ctx: CallContext): Promise<EmbedResponse> {
    return this.unary(
      ctx,
      req.model,
      [],
      () => validateEmbed(req),
      (d, a) => d.provider.embed(req, { signal: a.signal, model: d.model, requestId: ctx.requestId }),
    );
  }

  /**
   * ChatStream: `start` goes out together with the first content (the commit point). Before it a
   * failed attempt may fall back; after it any failure ends the stream with an error, never `end`.
   */
  async *chatStream(req: ChatRequest, ctx: CallContext): AsyncGenerator<ChatStreamResponse> {
    const call = new Call(ctx, req.model);
    let error: GatewayError | undefined;
    this.admit(true);
    let scope: CallScope | undefined;
    let attempt: AttemptScope | undefined;
    let it: AsyncIterator<ChatStreamResponse> | undefined;
    try {
      validateChat(req);
      const plan = this.router.plan(req.model, req.fallbackModels);
      const head = plan.deployments[0];
      const pending = head && checkContextWindow(this.entryFor(head), req);
      if (pending) await pending;
      const t = plan.policy.timeouts;
      scope = this.scope(ctx, t.maxStreamMs);
      const s = scope;
      // Before the commit point: open the stream and read up to the first content on each deployment.
      const first = await this.attempt(
        call,
        s,
        plan.deployments,
        t.firstTokenMs,
        async (d, a) => {
          const iter = d.provider
            .chatStream(req, { signal: a.signal, model: d.model, requestId: ctx.requestId })
            [Symbol.asyncIterator]();
          it = iter;
          let start: StreamStart | undefined;
          for (;;) {
            const r = await this.nextOrAbort(iter, a.signal);
            if (r.done) {
              throw new UpstreamError(
                "stream_interrupted",
                "the stream ended before any content",
                d.provider.name,
              );
            }
            const ev = r.value.event;
            if (ev.case === "start") start = ev.value;
            else return { start, event: r.value, deployment: d };
          }
        },
        (a) => {
          attempt = a;
        },
      );
      // The winning attempt's scope stays linked to the call: a cancel or deadline aborts the upstream.
      const live = attempt as unknown as AttemptScope;
      const stream = it as unknown as AsyncIterator<ChatStreamResponse>;
      const startMsg = create(ChatStreamResponseSchema, {
        event: {
          case: "start",
          value: {
            id: first.start?.id || `llmgw-${ctx.requestId}`,
            model: `${call.provider}/${first.start?.model || first.deployment.model}`,
            provider: call.provider,
          },
        },
      });
      yield startMsg;
      let ev: ChatStreamResponse = first.event;
      const t1 = performance.now();
      live.arm(t.idleMs, "no data within the idle timeout");
      for (;;) {
        if (ev.event.case === "end") {
          const end = ev.event.value;
          end.usage ??= create(UsageSchema, { estimated: true });
          call.inputTokens = end.usage.inputTokens;
          call.outputTokens = end.usage.outputTokens;
          call.upstreamMs += performance.now() - t1;
          end.gateway = call.info();
          end.gateway.costUsd = this.cost(call.deployment, end.usage);
          yield ev;
          return;
        }
        if (ev.event.case === "delta") yield ev;
        live.refresh();
        let r: IteratorResult<ChatStreamResponse>;
        try {
          r = await this.nextOrAbort(stream, live.signal);
        } catch (e: unknown) {
          const why = live.explain(e);
          if (why instanceof GatewayError) throw why;
          const msg = why instanceof Error ? why.message : "upstream failed";
          throw new GatewayError(
            "UNAVAILABLE",
            "UPSTREAM_STREAM_INTERRUPTED",
            `the stream broke after it started: ${msg}`,
            {
              metadata: { provider: call.provider, model: call.model },
              cause: why,
            },
          );
        }
        if (r.done) {
          throw new GatewayError(
            "UNAVAILABLE",
            "UPSTREAM_STREAM_INTERRUPTED",
            "the upstream stream ended without finishing",
            {
              metadata: { provider: call.provider, model: call.model },
            },
          );
        }
        ev = r.value;
      }
    } catch (e: unknown) {
      error = toGatewayError(e, req.model);
      throw error;
    } finally {
      attempt?.controller.abort();
      attempt?.dispose();
      if (it) void it.return?.()?.catch(() => {});
      scope?.dispose();
      this.release(true);
      this.finish(call, error);
    }
  }

  /** Awaits the next event, but gives up as soon as the signal aborts (a stalled upstream). */
  private nextOrAbort(
    it: AsyncIterator<ChatStreamResponse>,
    signal: AbortSignal,
  ): Promise<IteratorResult<ChatStreamResponse>> {
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      it.next().then(
        (r) => {
          signal.removeEventListener("abort", onAbort);
          resolve(r);
        },
        (e: unknown) => {
          signal.removeEventListener("abort", onAbort);
          reject(e);
        },
      );
    });
  }
}
