// The pipeline every protocol calls: admit -> validate -> route -> call (attempts.ts: retries,
// fallbacks, breakers, hedging, deadlines) -> account (usage, one log line). Transports parse and render.

import {
  CacheStatus,
  type ChatRequest,
  type ChatResponse,
  type ChatStreamResponse,
  ChatStreamResponseSchema,
  type EmbedRequest,
  type EmbedResponse,
  type Usage,
  UsageSchema,
} from "../../gen/llmgateway/v1/llm_pb.js";
import { type Caller, CallGuard } from "../auth/guard.js";
import type { BudgetHold, BudgetLedger } from "../billing/index.js";
import {
  CachedCalls,
  type CacheOutcome,
  type CachePolicy,
  cacheKey,
  ResponseCache,
  resolveCachePolicy,
} from "../cache/index.js";
import { cacheLabel } from "../cache/status.js";
import type { Catalog, CatalogEntry } from "../catalog/index.js";
import { estimateTokens, tokensOf } from "../catalog/tokens.js";
import type { GatewayConfig } from "../config/index.js";
import { GatewayError, UpstreamError } from "../errors.js";
import type { Signal } from "../lib/cancel.js";
import { create } from "../lib/create.js";
import type { Logger } from "../lib/logger.js";
import { nextOrAbort } from "../lib/next-or-abort.js";
import { type Grant, Limiter } from "../limits/index.js";
import type { Provider } from "../providers/types.js";
import { charsOf } from "../providers/usage.js";
import { DeploymentRegistry, type DeploymentSnapshot } from "../resilience/index.js";
import { type Deployment, type Plan, Router } from "../routing/index.js";
import { type CallObserver, type CallRecord, traceIdOf } from "../telemetry/observer.js";
import { AttemptRunner, toGatewayError } from "./attempts.js";
import { Call } from "./call.js";
import type { CallContext } from "./context.js";
import { checkContextWindow } from "./context-window.js";
import { AttemptScope, assertPresent, CallScope, effectiveDeadlineMs } from "./scope.js";
import { closeStream, HANDLER_GONE, openStream, STREAM_OVER, type StreamHead } from "./stream.js";
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
  /** Told about every finished call (metrics, traces, usage); see observe(). */
  private observers: CallObserver[] = [];
  /** Observers that want the gap between stream chunks. */
  private gapObservers: CallObserver[] = [];

  constructor(
    readonly config: GatewayConfig,
    readonly providers: ReadonlyMap<string, Provider>,
    readonly log: Logger,
    readonly catalog: Catalog,
    limiter: Limiter = new Limiter(undefined, "fail_open", log),
    /** The response cache (src/cache); memory only unless the app gives it Redis. */
    readonly cached: CachedCalls = new CachedCalls(new ResponseCache()),
  ) {
    this.router = new Router(providers, config, catalog, (t) => this.deployments.peek(t));
    this.guard = new CallGuard(config, this.router, limiter, log);
    // Outbound per-deployment rpm / tpm share the limiter's store (Redis when configured).
    this.runner.useOutbound(limiter.outbound);
  }

  /** Adds an observer of finished calls (metrics, traces, usage accounting). */
  observe(o: CallObserver): void {
    this.observers.push(o);
    if (o.onChunkGap) this.gapObservers.push(o);
  }

  /** Every deployment called so far: breaker state, in-flight count, EWMA latency (Health). */
  deploymentHealth(): DeploymentSnapshot[] {
    return this.deployments.snapshot();
  }

  /**
   * Shuts the breakers down (their timers); the gateway must not be used afterwards. The limiter and
   * cache are shared across config reloads: the app closes them.
   */
  close(): void {
    this.deployments.close();
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

  /** Cost of a call in micro-USD from the catalog's prices; 0 when the model has none. */
  private costMicros(d: Deployment | undefined, usage: Usage | undefined): number {
    if (!d || !usage) return 0;
    const entry = this.entryFor(d);
    return entry ? (this.catalog.costMicros(entry.id, usage) ?? 0) : 0;
  }

  /**
   * Admits a call against the caller's limits (one request, `reserve.total` tokens, a concurrency
   * slot) and budget (its largest plausible cost); both are settled once when the call ends. A refused
   * budget gives the rate-limit reservation back at once. `ms` is the call's deadline.
   */
  private async admitCall(
    who: Caller,
    ctx: CallContext,
    plan: Plan,
    reserve: { prompt: number; total: number },
    ms: number,
  ): Promise<Held> {
    const grant = await this.guard.reserve(who, ctx, reserve.total, ms + 5000);
    try {
      const pending = this.holdBudget(who, plan, reserve.prompt, reserve.total - reserve.prompt, ms + 30_000);
      return { grant, hold: pending ? await pending : undefined };
    } catch (e: unknown) {
      grant?.settle(0);
      throw e;
    }
  }

  /** Budget counters (src/billing); none = budgets are not enforced (set by the app). */
  private budgets: BudgetLedger | undefined;

  /** Enforces `keys[].budget` on this ledger (Redis-backed when configured, shared across reloads). */
  useBudgets(ledger: BudgetLedger): void {
    this.budgets = ledger;
  }

  /**
   * Holds the call's largest plausible cost (the prompt estimate at the input rate plus `maxOut`
   * tokens at the output rate, on the dearest deployment of the plan) against the caller's budget,
   * or throws BUDGET_EXCEEDED. At least 1 micro-USD, so a key whose budget is spent is refused even
   * for unpriced models. Undefined when the caller has no budget.
   */
  private holdBudget(
    who: Caller,
    plan: Plan,
    prompt: number,
    maxOut: number,
    leaseMs: number,
  ): Promise<BudgetHold> | undefined {
    if (!this.budgets || !who.budget || !who.keyId) return undefined;
    let amount = 1;
    for (const d of plan.deployments) {
      const entry = this.entryFor(d);
      const m = entry ? this.catalog.maxCostMicros(entry.id, prompt, maxOut) : undefined;
      if (m !== undefined && m > amount) amount = m;
    }
    return this.budgets.reserve(who.keyId, who.budget, amount, leaseMs);
  }

  /** Calls in flight (unary and streams). */
  get inFlight(): number {
    return this.inflight;
  }

  /** ChatStream calls in flight (metrics). */
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

  private finish(
    call: Call,
    error: GatewayError | undefined,
    caller: string | undefined,
    cache: CacheOutcome | undefined,
    stream: boolean,
    request?: ChatRequest,
  ): void {
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
        stream,
        traceparent: ctx.traceparent,
        tracestate: ctx.tracestate,
        traceId: undefined,
        request,
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
    const line = {
      rid: call.ctx.requestId,
      trace_id: traceId ?? traceIdOf(ctx.traceparent),
      method: call.ctx.method,
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
    };
    if (failed) this.log.warn({ ...line, err: error.message }, "call failed");
    else this.log.info(line, "call");
  }

  /** A caller's own scope: its cancel, and its deadline cut at the server's limit `serverMs`. */
  private scope(ctx: CallContext, serverMs: number): CallScope {
    return new CallScope(ctx.signal, effectiveDeadlineMs(ctx.timeoutMs, serverMs));
  }

  /**
   * One unary call: admit, validate, plan, the response cache (when on for the call), attempts with
   * fallbacks, then the answer stamped with who answered and what the gateway did. Chat and Embed
   * differ only in the pieces passed in.
   */
  private async unary<R extends ChatResponse | EmbedResponse>(
    ctx: CallContext,
    model: string,
    fallbacks: readonly string[],
    validate: () => void,
    send: (d: Deployment, a: AttemptScope) => Promise<R>,
    reserve: { prompt: number; total: number },
    cached: CachedUnary<R>,
    preflight?: (first: Deployment) => Promise<void> | undefined,
    req?: ChatRequest,
  ): Promise<R> {
    const call = new Call(ctx, model);
    let error: GatewayError | undefined;
    let held: Held | undefined;
    let used: number | undefined;
    let caller: string | undefined;
    let cache: CacheOutcome | undefined;
    this.admit(false);
    try {
      assertPresent(ctx.signal);
      const who = this.guard.identify(ctx);
      caller = who.label;
      validate();
      const plan = this.router.plan(model, fallbacks, req);
      this.guard.authorize(who, model, fallbacks, plan);
      const first = plan.deployments[0];
      const pending = first && preflight?.(first);
      if (pending) await pending;
      assertPresent(ctx.signal);
      const requestMs = effectiveDeadlineMs(ctx.timeoutMs, plan.policy.timeouts.requestMs);
      held = await this.admitCall(who, ctx, plan, reserve, requestMs);
      // The upstream path, on `signal` (the client's, or a shared flight's) for up to `ms`.
      const upstream = async (signal: Signal, ms: number): Promise<R> => {
        const scope = new CallScope(signal, ms);
        try {
          if (scope.reason) throw scope.reason; // the client left (or the flight ended) meanwhile
          const res = await this.runner.run(call, scope, plan, plan.policy.timeouts.attemptMs, send);
          res.model = `${call.provider}/${res.model || call.model.slice(call.provider.length + 1)}`;
          res.provider = call.provider;
          return res;
        } finally {
          scope.dispose();
        }
      };
      const policy = resolveCachePolicy(plan.policy.cache, cached.req.cache);
      let res: R;
      if (!policy) res = await upstream(ctx.signal, requestMs);
      else {
        // This caller waits on its own cancel / deadline; the (possibly shared) upstream call runs on
        // the flight's signal, never on ctx.signal (Connect aborts it after every call).
        const waiter = this.scope(ctx, plan.policy.timeouts.requestMs);
        const mine = new AttemptScope(waiter, "");
        try {
          const key = cacheKey(cached.req, who.label, "unary");
          // The flight may serve callers with longer deadlines: it runs up to the server's limit.
          const flightMs = plan.policy.timeouts.requestMs;
          const out = await cached.via(key, policy, mine.signal, (s) => upstream(s, flightMs));
          cache = out;
          res = out.response;
        } finally {
          mine.dispose();
          waiter.dispose();
        }
      }
      // A hit, or a miss another caller's upstream call answered, costs this caller nothing upstream.
      const free = cache !== undefined && (cache.status !== CacheStatus.MISS || cache.shared);
      call.inputTokens = res.usage?.inputTokens ?? 0;
      call.outputTokens = res.usage?.outputTokens ?? 0;
      if (free) used = 0;
      else if (res.usage) used = res.usage.inputTokens + res.usage.outputTokens;
      res.gateway = call.info();
      call.usage = res.usage;
      call.costMicros = free ? 0 : this.costMicros(call.deployment, res.usage);
      res.gateway.costUsd = call.costMicros / 1e6;
      if (cache) {
        res.gateway.cache = cache.status;
        res.gateway.cacheAgeS = cache.ageS;
      }
      return res;
    } catch (e: unknown) {
      error = toGatewayError(e, model);
      throw error;
    } finally {
      // Reconcile: actual usage; no attempt made (a cache hit too) = nothing spent; else the prompt was sent.
      held?.grant?.settle(used ?? (call.trail.length === 0 ? 0 : reserve.prompt));
      held?.hold?.settle(call.costMicros);
      this.release(false);
      this.finish(call, error, caller, cache, false, req);
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
      { req, via: (k, p, s, c) => this.cached.chat(k, p, s, c) },
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
      { req, via: (k, p, s, c) => this.cached.embed(k, p, s, c) },
    );
  }

  /**
   * ChatStream: `start` goes out together with the first content (the commit point). Before it a
   * failed attempt may fall back; after it any failure ends the stream with an error, never `end`.
   * With the cache on: a hit replays the stored events; concurrent identical misses share one upstream
   * stream (each caller reads its own copy); `end` carries this caller's gateway info.
   */
  async *chatStream(req: ChatRequest, ctx: CallContext): AsyncGenerator<ChatStreamResponse> {
    const call = new Call(ctx, req.model);
    let error: GatewayError | undefined;
    this.admit(true);
    let held: Held | undefined;
    let caller: string | undefined;
    let cache: CacheOutcome | undefined;
    let waiter: CallScope | undefined;
    let mine: AttemptScope | undefined;
    const run: StreamRun = { used: undefined, streamedChars: 0 };
    const reserve = this.chatReserve(req);
    try {
      assertPresent(ctx.signal);
      const who = this.guard.identify(ctx);
      caller = who.label;
      validateChat(req);
      const plan = this.router.plan(req.model, req.fallbackModels, req);
      this.guard.authorize(who, req.model, req.fallbackModels, plan);
      const head = plan.deployments[0];
      const pending = head && checkContextWindow(this.entryFor(head), req);
      if (pending) await pending;
      assertPresent(ctx.signal);
      const t = plan.policy.timeouts;
      const streamMs = effectiveDeadlineMs(ctx.timeoutMs, t.maxStreamMs);
      held = await this.admitCall(who, ctx, plan, reserve, streamMs);
      const policy = resolveCachePolicy(plan.policy.cache, req.cache);
      if (!policy) {
        yield* this.upstreamStream(req, ctx, call, plan, ctx.signal, streamMs, run);
        return;
      }
      waiter = this.scope(ctx, t.maxStreamMs);
      mine = new AttemptScope(waiter, "");
      const key = cacheKey(req, who.label, "stream");
      const flightMs = t.maxStreamMs; // may feed callers with longer deadlines: the server's limit
      const out = await this.cached.chatStream(key, policy, mine.signal, (s) =>
        this.upstreamStream(req, ctx, call, plan, s, flightMs, run),
      );
      cache = out;
      ctx.cacheStatus = out.status;
      const free = out.status !== CacheStatus.MISS || out.shared;
      for await (const ev of out.events) {
        if (ev.event.case === "end") {
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
        call.firstTokenMs ??= performance.now() - call.t0;
        yield ev;
      }
    } catch (e: unknown) {
      error = toGatewayError(e, req.model);
      throw error;
    } finally {
      mine?.dispose();
      waiter?.dispose();
      // Reconcile with the usage the stream reported; cut or cancelled: the prompt + what was streamed;
      // a cache hit or a stream another caller's upstream call fed: nothing (no attempt of its own).
      const streamedTokens = tokensOf(run.streamedChars);
      if (run.used === undefined && call.deployment && !call.usage) {
        // Cut or cancelled after the commit point: billed for what it consumed, as estimated.
        call.usage = create(UsageSchema, {
          inputTokens: reserve.prompt,
          outputTokens: streamedTokens,
          totalTokens: reserve.prompt + streamedTokens,
          estimated: true,
        });
        call.costMicros = this.costMicros(call.deployment, call.usage);
        call.inputTokens = call.usage.inputTokens;
        call.outputTokens = call.usage.outputTokens;
      }
      held?.grant?.settle(run.used ?? (call.trail.length === 0 ? 0 : reserve.prompt + streamedTokens));
      held?.hold?.settle(call.costMicros);
      this.release(true);
      this.finish(call, error, caller, cache, true, req);
    }
  }

  /**
   * The upstream part of a ChatStream, on `signal` (the client's, or a shared flight's) for up to `ms`:
   * attempts up to the commit point, then the committed stream; usage and streamed text go to `run`.
   */
  private async *upstreamStream(
    req: ChatRequest,
    ctx: CallContext,
    call: Call,
    plan: Plan,
    signal: Signal,
    ms: number,
    run: StreamRun,
  ): AsyncGenerator<ChatStreamResponse> {
    const t = plan.policy.timeouts;
    let error: GatewayError | undefined;
    /** Why the committed stream failed, as the breaker should judge it. */
    let broke: unknown;
    /** The upstream stream gave its `end`: it is over, only its last bytes may be on their way. */
    let ended = false;
    let attempt: AttemptScope | undefined;
    let it: AsyncIterator<ChatStreamResponse> | undefined;
    const scope = new CallScope(signal, ms);
    try {
      if (scope.reason) throw scope.reason; // the client left (or the flight ended) meanwhile
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
      call.firstTokenMs = performance.now() - call.t0;
      yield startMsg;
      let ev: ChatStreamResponse = first.event;
      const t1 = performance.now();
      const gaps = this.gapObservers;
      let lastChunk = t1;
      live.arm(t.idleMs, "no data within the idle timeout");
      for (;;) {
        if (ev.event.case === "end") {
          const end = ev.event.value;
          end.usage ??= create(UsageSchema, { estimated: true });
          call.inputTokens = end.usage.inputTokens;
          call.outputTokens = end.usage.outputTokens;
          run.used = end.usage.inputTokens + end.usage.outputTokens;
          call.upstreamMs += performance.now() - t1;
          end.gateway = call.info();
          call.usage = end.usage;
          call.costMicros = this.costMicros(call.deployment, end.usage);
          end.gateway.costUsd = call.costMicros / 1e6;
          this.runner.settle(call, undefined); // a stream counts as a success only when it ends well
          ended = true;
          yield ev;
          return;
        }
        if (ev.event.case === "delta") {
          run.streamedChars += ev.event.value.text.length;
          if (gaps.length > 0) {
            const now = performance.now();
            for (const o of gaps) o.onChunkGap?.(now - lastChunk);
            lastChunk = now;
          }
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
      // Neither an error nor `end`: the reader stopped (cancel) — counted neither way.
      this.runner.settle(call, broke ?? error ?? HANDLER_GONE);
      const a = attempt;
      a?.dispose();
      const release = () => a?.cancel.abort(STREAM_OVER);
      if (it && ended && error === undefined) {
        // Closed before the attempt is released: the provider throws its body away first, which
        // lets the body's last bytes in (the connection is kept) rather than cutting it.
        void closeStream(it).then(release);
      } else {
        release();
        if (it) void closeStream(it);
      }
      scope.dispose();
    }
  }
}

/** How a unary call goes through the cache: its request (for the key and CacheControl) and method. */
interface CachedUnary<R> {
  req: ChatRequest | EmbedRequest;
  via: (
    key: string,
    policy: CachePolicy,
    signal: Signal,
    call: (signal: AbortSignal) => Promise<R>,
  ) => Promise<CacheOutcome & { response: R }>;
}

/** What an admitted call holds until it ends: rate-limit tokens and budget money. */
interface Held {
  grant: Grant | undefined;
  hold: BudgetHold | undefined;
}

/** What the upstream part of a stream reports to the call that owns it (for the limiter). */
interface StreamRun {
  /** Tokens the stream reported at its end. */
  used: number | undefined;
  /** Characters of answer text streamed so far. */
  streamedChars: number;
}

/** Tokens an Embed call reserves: its inputs' estimate (no output). */
function embedReserve(req: EmbedRequest): { prompt: number; total: number } {
  const n = tokensOf(charsOf(req.inputs));
  return { prompt: n, total: n };
}
