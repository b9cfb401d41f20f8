// The pipeline every protocol calls: admit -> validate -> route -> call (attempts.ts: retries,
// fallbacks, breakers, hedging, deadlines) -> account (usage, one log line). Transports parse and render.
// The call paths live in unary.ts and chat-stream.ts; this class wires one generation's parts.

import type {
  ChatRequest,
  ChatResponse,
  ChatStreamResponse,
  EmbedRequest,
  EmbedResponse,
} from "../../gen/llmgateway/v1/llm_pb.js";
import { CallGuard } from "../auth/guard.js";
import type { BudgetLedger } from "../billing/index.js";
import { CachedCalls, ResponseCache } from "../cache/index.js";
import type { Catalog, CatalogEntry } from "../catalog/index.js";
import type { GatewayConfig } from "../config/index.js";
import type { Logger } from "../lib/logger.js";
import { Limiter } from "../limits/index.js";
import type { Provider } from "../providers/types.js";
import { DeploymentRegistry, type DeploymentSnapshot } from "../resilience/index.js";
import { type Deployment, Router } from "../routing/index.js";
import type { CallObserver } from "../telemetry/observer.js";
import { Capacity } from "./admission.js";
import { AttemptRunner } from "./attempts.js";
import { CallLog } from "./call-log.js";
import { chatStream } from "./chat-stream.js";
import type { CallContext } from "./context.js";
import { ContextFit } from "./context-window.js";
import { forDeployment } from "./foreign-state.js";
import type { Parts } from "./parts.js";
import { chatReserve, embedReserve, Pricing } from "./pricing.js";
import { unary } from "./unary.js";
import { validateChat, validateEmbed } from "./validate.js";

/** The gateway's public operations; one instance per process (and per config). */
export class Gateway {
  readonly router: Router;
  /** Live state per deployment (in-flight, latency, retry budget, breaker), shared with routing. */
  readonly deployments = new DeploymentRegistry();
  /** Gateway keys, model allow-lists and rate limits (src/auth, src/limits). */
  readonly guard: CallGuard;
  private readonly parts: Parts;

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
    const runner = new AttemptRunner(this.deployments);
    // Outbound per-deployment rpm / tpm share the limiter's store (Redis when configured).
    runner.useOutbound(limiter.outbound);
    this.parts = {
      capacity: new Capacity(config.server),
      guard: this.guard,
      pricing: new Pricing(catalog),
      log: new CallLog(log),
      budgets: undefined,
      router: this.router,
      runner,
      cached,
    };
  }

  /** Adds an observer of finished calls (metrics, traces, usage accounting). */
  observe(o: CallObserver): void {
    this.parts.log.observe(o);
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

  /** The catalog entry of a deployment: by its target, or by wire format for renamed providers. */
  entryFor(d: Deployment): CatalogEntry | undefined {
    return this.parts.pricing.entryFor(d);
  }

  /** Enforces `keys[].budget` on this ledger (Redis-backed when configured, shared across reloads). */
  useBudgets(ledger: BudgetLedger): void {
    this.parts.budgets = ledger;
  }

  /** Calls in flight (unary and streams). */
  get inFlight(): number {
    return this.parts.capacity.inFlight;
  }

  /** ChatStream calls in flight (metrics). */
  get streamsInFlight(): number {
    return this.parts.capacity.streamsInFlight;
  }

  get isDraining(): boolean {
    return this.parts.capacity.isDraining;
  }

  /** Stops admitting calls; resolves when the last in-flight call has finished. */
  drain(): Promise<void> {
    return this.parts.capacity.drain();
  }

  /** Chat: one whole answer. */
  chat(req: ChatRequest, ctx: CallContext): Promise<ChatResponse> {
    const fit = new ContextFit(req, (d) => this.entryFor(d), this.guard.defaultOutputReserve);
    return unary(this.parts, {
      ctx,
      model: req.model,
      fallbacks: req.fallbackModels,
      validate: () => validateChat(req),
      chat: req,
      preflight: (d, plan, call) => fit.preflight(d, plan.policy, call),
      reserve: chatReserve(req, this.guard.defaultOutputReserve),
      body: req,
      send: (d, a) =>
        fit.send(d, (r) =>
          d.provider.chat(forDeployment(r, d, this.log, ctx.requestId), {
            signal: a.signal,
            model: d.model,
            requestId: ctx.requestId,
          }),
        ),
      viaCache: (k, p, s, c) => this.cached.chat(k, p, s, c),
    });
  }

  /** Embed: vectors for each input. */
  embed(req: EmbedRequest, ctx: CallContext): Promise<EmbedResponse> {
    return unary(this.parts, {
      ctx,
      model: req.model,
      fallbacks: [],
      validate: () => validateEmbed(req),
      chat: undefined,
      reserve: embedReserve(req),
      body: req,
      send: (d, a) => d.provider.embed(req, { signal: a.signal, model: d.model, requestId: ctx.requestId }),
      viaCache: (k, p, s, c) => this.cached.embed(k, p, s, c),
    });
  }

  /** ChatStream (chat-stream.ts): `start` with the first content, then the rest, or an error. */
  chatStream(req: ChatRequest, ctx: CallContext): AsyncGenerator<ChatStreamResponse> {
    return chatStream(this.parts, req, ctx);
  }
}
