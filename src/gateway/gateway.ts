// The pipeline every protocol calls: admit -> validate -> route -> call (attempts.ts: retries,
// fallbacks, breakers, hedging, deadlines) -> account (usage, one log line). Transports parse and render.
import { create } from "@bufbuild/protobuf";
import {
  type ChatRequest,
  type ChatResponse,
  type ChatStreamResponse,
  ChatStreamResponseSchema,
  type EmbedRequest,
  type EmbedResponse,
  type Usage,
  UsageSchema,
} from "../../gen/llmgateway/v1/llm_pb.js";
import { CallGuard } from "../auth/guard.js";
import type { Catalog, CatalogEntry } from "../catalog/index.js";
import { estimateTokens } from "../catalog/tokens.js";
import type { GatewayConfig } from "../config/index.js";
import { type Grant, Limiter } from "../limits/index.js";
import type { Provider } from "../providers/types.js";
import { DeploymentRegistry, type DeploymentSnapshot } from "../resilience/index.js";
import { type Deployment, Router } from "../routing/index.js";
import type { Logger } from "../telemetry/logger.js";
import { AttemptRunner, toGatewayError } from "./attempts.js";
import { Call } from "./call.js";
import type { CallContext } from "./context.js";
import { checkContextWindow } from "./context-window.js";
import { GatewayError, UpstreamError } from "./errors.js";
import { type AttemptScope, CallScope } from "./scope.js";
import { closeStream, HANDLER_GONE, nextOrAbort, openStream, type StreamHead } from "./stream.js";
import { validateChat, validateEmbed } from "./validate.js";

/** The gateway's public operations; one instance per process (and per config). */
export class Gateway {
  readonly router: Router;
  /** Live state per deployment (in-flight, latency, retry budget, breaker), shared with routing. */
  readonly deployments = new DeploymentRegistry();
  private readonly runner = new AttemptRunner(this.deployments);
  private inflight = 0;
  private streams = 0;
  private draining = false;
  private idleWaiters: (() => void)[] = [];
  /** Gateway keys, model allow-lists and rate limits (src/auth, src/limits). */
  readonly guard: CallGuard;

  constructor(
    readonly config: GatewayConfig,
    readonly providers: ReadonlyMap<string, Provider>,
    readonly log: Logger,
    readonly catalog: Catalog,
    limiter: Limiter = new Limiter(undefined, "fail_open", log),
  ) {
    this.router = new Router(providers, config, catalog, (t) => this.deployments.peek(t));
    this.guard = new CallGuard(config, this.router, limiter, log);
  }

  /** Every deployment called so far: breaker state, in-flight count, EWMA latency (Health). */
  deploymentHealth(): DeploymentSnapshot[] {
    return this.deployments.snapshot();
  }

  /** Shuts the breakers down (their timers); the gateway must not be used afterwards. */
  close(): void {
    this.deployments.close();
    this.guard.limiter.close();
  }

  /** Tokens a chat call reserves: the prompt's estimate + max_tokens (or limits.default_output_reserve). */
  private chatReserve(req: ChatRequest): { prompt: number; total: number } {
    const prompt = estimateTokens(req.messages);
    return { prompt, total: prompt + (req.maxTokens ?? this.guard.defaultOutputReserve) };
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

  private finish(call: Call, error: GatewayError | undefined, caller?: string): void {
    const line = {
      rid: call.ctx.requestId,
      method: call.ctx.method,
      caller,
      model: call.requested,
      provider: call.provider || undefined,
      code: error ? error.code : "OK",
      reason: error?.reason,
      ms: Math.round((performance.now() - call.t0) * 100) / 100,
      upstream_ms: Math.round(call.upstreamMs * 100) / 100,
      attempts: call.trail.length,
      deployment: call.deployment?.target,
      skipped_open: call.skipped || undefined,
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
    reserve: { prompt: number; total: number },
    preflight?: (first: Deployment) => Promise<void> | undefined,
    req?: ChatRequest,
  ): Promise<R> {
    const call = new Call(ctx, model);
    let error: GatewayError | undefined;
    let grant: Grant | undefined;
    let used: number | undefined;
    let caller: string | undefined;
    this.admit(false);
    try {
      const who = this.guard.identify(ctx);
      caller = who.label;
      validate();
      const plan = this.router.plan(model, fallbacks, req);
      this.guard.authorize(who, model, fallbacks, plan);
      const first = plan.deployments[0];
      const pending = first && preflight?.(first);
      if (pending) await pending;
      const requestMs = ctx.timeoutMs ?? plan.policy.timeouts.requestMs;
      grant = await this.guard.reserve(who, ctx, reserve.total, requestMs + 5000);
      const scope = this.scope(ctx, plan.policy.timeouts.requestMs);
      try {
        const res = await this.runner.run(call, scope, plan, plan.policy.timeouts.attemptMs, send);
        if (res.usage) used = res.usage.inputTokens + res.usage.outputTokens;
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
      // Reconcile: actual usage; no attempt made = nothing spent; else the prompt was at least sent.
      grant?.settle(used ?? (call.trail.length === 0 ? 0 : reserve.prompt));
      this.release(false);
      this.finish(call, error, caller);
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
      this.chatReserve(req),
      (d) => checkContextWindow(this.entryFor(d), req),
      req,
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
      embedReserve(req),
    );
  }

  /**
   * ChatStream: `start` goes out together with the first content (the commit point). Before it a
   * failed attempt may fall back; after it any failure ends the stream with an error, never `end`.
   */
  async *chatStream(req: ChatRequest, ctx: CallContext): AsyncGenerator<ChatStreamResponse> {
    const call = new Call(ctx, req.model);
    let error: GatewayError | undefined;
    /** Why the committed stream failed, as the breaker should judge it. */
    let broke: unknown;
    this.admit(true);
    let scope: CallScope | undefined;
    let attempt: AttemptScope | undefined;
    let it: AsyncIterator<ChatStreamResponse> | undefined;
    let grant: Grant | undefined;
    let used: number | undefined;
    let caller: string | undefined;
    let streamedChars = 0;
    const reserve = this.chatReserve(req);
    try {
      const who = this.guard.identify(ctx);
      caller = who.label;
      validateChat(req);
      const plan = this.router.plan(req.model, req.fallbackModels, req);
      this.guard.authorize(who, req.model, req.fallbackModels, plan);
      const head = plan.deployments[0];
      const pending = head && checkContextWindow(this.entryFor(head), req);
      if (pending) await pending;
      const t = plan.policy.timeouts;
      grant = await this.guard.reserve(who, ctx, reserve.total, (ctx.timeoutMs ?? t.maxStreamMs) + 5000);
      scope = this.scope(ctx, t.maxStreamMs);
      // Before the commit point: open the stream and read up to the first content on each deployment.
      const first = await this.runner.run<StreamHead>(
        call,
        scope,
        plan,
        t.firstTokenMs,
        (d, a) => openStream(req, ctx, d, a),
        (a) => {
          attempt = a;
        },
        (late) => closeStream(late.iter),
      );
      it = first.iter;
      // The winning attempt's scope stays linked to the call: a cancel or deadline aborts the upstream.
      const live = attempt as unknown as AttemptScope;
      const stream = it;
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
          used = end.usage.inputTokens + end.usage.outputTokens;
          call.upstreamMs += performance.now() - t1;
          end.gateway = call.info();
          end.gateway.costUsd = this.cost(call.deployment, end.usage);
          this.runner.settle(call, undefined); // a stream counts as a success only when it ends well
          yield ev;
          return;
        }
        if (ev.event.case === "delta") {
          streamedChars += ev.event.value.text.length;
          yield ev;
        }
        live.refresh();
        let r: IteratorResult<ChatStreamResponse>;
        try {
          r = await nextOrAbort(stream, live.signal);
        } catch (e: unknown) {
          const why = live.explain(e);
          broke = why;
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
          broke = new UpstreamError("stream_interrupted", "ended without finishing", call.provider);
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
      // Neither an error nor `end`: the client stopped reading (cancel) — counted neither way.
      this.runner.settle(call, broke ?? error ?? HANDLER_GONE);
      attempt?.controller.abort();
      attempt?.dispose();
      if (it) closeStream(it);
      scope?.dispose();
      // Reconcile with the usage the stream reported; cut or cancelled: the prompt + what was streamed.
      grant?.settle(used ?? (call.trail.length === 0 ? 0 : reserve.prompt + Math.ceil(streamedChars / 4)));
      this.release(true);
      this.finish(call, error, caller);
    }
  }
}

/** Tokens an Embed call reserves: its inputs' estimate (no output). */
function embedReserve(req: EmbedRequest): { prompt: number; total: number } {
  let chars = 0;
  for (const t of req.inputs) chars += t.length;
  const n = Math.ceil(chars / 4);
  return { prompt: n, total: n };
}
