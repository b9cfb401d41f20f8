// What the gateway knows about models: ListModels / GetModel (the catalog, the providers' own lists
// and the config's aliases), CountTokens (exact BPE where the catalog knows the tokenizer, else the
// documented estimate) and the Health summary.

import {
  type CountTokensRequest,
  type CountTokensResponse,
  CountTokensResponseSchema,
  type GetModelResponse,
  GetModelResponseSchema,
  type HealthResponse,
  HealthResponseSchema,
  type ListModelsRequest,
  type ListModelsResponse,
  ListModelsResponseSchema,
  type ModelInfo,
  ModelInfoSchema,
  ServingStatus,
} from "../../gen/llmgateway/v1/llm_pb.js";
import { type Catalog, type CatalogEntry, countPromptTokens } from "../catalog/index.js";
import { GatewayError } from "../errors.js";
import { create } from "../lib/create.js";
import type { Logger } from "../lib/logger.js";
import { VERSION } from "../version.js";
import type { CallContext } from "./context.js";
import type { Gateway } from "./gateway.js";

const LIST_TTL_MS = 5 * 60_000;
const LIST_TIMEOUT_MS = 5_000;
const startedAt = Date.now();

/** Model listings, token counts and health, backed by the catalog, the providers and the config. */
export class ModelDirectory {
  private cache = new Map<string, { at: number; models: Promise<ModelInfo[]> }>();

  constructor(
    private readonly gateway: Gateway,
    private readonly catalog: Catalog,
    private readonly log: Logger,
  ) {}

  private providerModels(name: string): Promise<ModelInfo[]> {
    const hit = this.cache.get(name);
    if (hit && Date.now() - hit.at < LIST_TTL_MS) return hit.models;
    const provider = this.gateway.providers.get(name);
    if (!provider) return Promise.resolve([]);
    const models = provider.listModels(AbortSignal.timeout(LIST_TIMEOUT_MS)).catch((e: unknown) => {
      this.log.warn({ provider: name, err: e instanceof Error ? e.message : String(e) }, "model list failed");
      this.cache.delete(name);
      return [] as ModelInfo[];
    });
    this.cache.set(name, { at: Date.now(), models });
    return models;
  }

  private aliases(): ModelInfo[] {
    const out: ModelInfo[] = [];
    for (const m of this.gateway.config.models.values()) {
      const first = m.deployments[0]?.target ?? "";
      const entry = this.catalog.get(first);
      const info = entry ? this.catalog.toModelInfo(entry) : create(ModelInfoSchema, {});
      info.id = m.name;
      info.provider = first.slice(0, first.indexOf("/"));
      info.aliasOf = first;
      info.aliases = [];
      out.push(info);
    }
    return out;
  }

  /** The catalog entry for "provider/model" on an enabled provider (by name, or by wire format). */
  entryFor(id: string): CatalogEntry | undefined {
    const direct = this.catalog.get(id);
    if (direct) return direct;
    const slash = id.indexOf("/");
    const provider = slash > 0 ? this.gateway.providers.get(id.slice(0, slash)) : undefined;
    return provider ? this.catalog.get(`${provider.type}/${id.slice(slash + 1)}`) : undefined;
  }

  /**
   * ListModels: the catalog's models of enabled providers, their own lists, and the config's
   * aliases — for a key restricted to some models (keys[].models), only those it may use.
   */
  async list(req: ListModelsRequest, ctx: CallContext): Promise<ListModelsResponse> {
    const who = this.gateway.guard.identify(ctx);
    const names = [...this.gateway.providers.keys()].filter((n) => !req.provider || n === req.provider);
    if (req.provider && names.length === 0) {
      throw new GatewayError("NOT_FOUND", "MODEL_NOT_FOUND", `unknown provider "${req.provider}"`);
    }
    const byId = new Map<string, ModelInfo>();
    for (const e of this.catalog.list()) {
      if (names.includes(e.provider)) byId.set(e.id, this.catalog.toModelInfo(e));
    }
    const lists = await Promise.all(names.map((n) => this.providerModels(n)));
    for (const m of lists.flat()) if (!byId.has(m.id)) byId.set(m.id, m);
    let models = [...byId.values()];
    if (!req.provider) models = models.concat(this.aliases());
    if (req.capability) models = models.filter((m) => m.capabilities.includes(req.capability));
    if (req.minContextWindow > 0) models = models.filter((m) => m.contextWindow >= req.minContextWindow);
    if (!who.allow.all) models = models.filter((m) => who.allow.allows(m.id));
    return create(ListModelsResponseSchema, { models });
  }

  /** GetModel: a config alias, a catalog id or alias, or "provider/model" from that provider's list. */
  async get(id: string, ctx: CallContext): Promise<GetModelResponse> {
    // Refused before the lookup: a restricted key learns nothing about names it may not use.
    const guard = this.gateway.guard;
    guard.authorizeName(guard.identify(ctx), id, "id");
    const alias = this.aliases().find((m) => m.id === id);
    if (alias) return create(GetModelResponseSchema, { model: alias });
    const entry = this.entryFor(id);
    if (entry) return create(GetModelResponseSchema, { model: this.catalog.toModelInfo(entry) });
    const slash = id.indexOf("/");
    const provider = slash > 0 ? id.slice(0, slash) : "";
    if (this.gateway.providers.has(provider)) {
      const found = (await this.providerModels(provider)).find((m) => m.id === id);
      if (found) return create(GetModelResponseSchema, { model: found });
    }
    throw new GatewayError("NOT_FOUND", "MODEL_NOT_FOUND", `unknown model "${id}"`, {
      metadata: { model: id },
    });
  }

  /** CountTokens: exact with the model's BPE where the catalog knows it, else the estimate. */
  async countTokens(req: CountTokensRequest, ctx: CallContext): Promise<CountTokensResponse> {
    const guard = this.gateway.guard;
    const who = guard.identify(ctx);
    let entry: CatalogEntry | undefined;
    if (req.model) {
      guard.authorizeName(who, req.model, "model");
      const first = this.gateway.router.plan(req.model).deployments[0];
      entry = first ? this.entryFor(first.target) : undefined;
    }
    const r = await countPromptTokens(entry, req.messages, req.tools);
    return create(CountTokensResponseSchema, { inputTokens: r.tokens, exact: r.exact, method: r.method });
  }

  /**
   * Health: the gateway's state (NOT_SERVING while draining) and each provider's: NOT_SERVING when
   * every deployment of it called so far has an open breaker. Liveness / readiness: routes.ts.
   * Without `detail` (a caller that is not the admin on a keyed gateway): the statuses only, no
   * deployment list (breakers, latency) and no detail texts.
   */
  health(detail = true): HealthResponse {
    const serving = this.gateway.isDraining ? ServingStatus.NOT_SERVING : ServingStatus.SERVING;
    const called = this.gateway.deploymentHealth();
    const open = new Map<string, number>();
    for (const d of called) {
      const n = open.get(d.provider) ?? 0;
      open.set(d.provider, d.breaker === "open" && n >= 0 ? n + 1 : -1);
    }
    return create(HealthResponseSchema, {
      status: serving,
      version: VERSION,
      uptimeS: Math.floor((Date.now() - startedAt) / 1000),
      providers: [...this.gateway.providers.values()].map((p) => {
        const n = open.get(p.name) ?? 0;
        return n > 0 && serving === ServingStatus.SERVING
          ? {
              name: p.name,
              type: p.type,
              status: ServingStatus.NOT_SERVING,
              detail: detail ? `circuit open on all ${n} deployments called` : "",
            }
          : { name: p.name, type: p.type, status: serving };
      }),
      deployments: (detail ? called : []).map((d) => ({
        target: d.target,
        provider: d.provider,
        breaker: d.breaker,
        inflight: d.inflight,
        ewmaLatencyMs: d.ewmaMs,
        msUntilHalfOpen: BigInt(d.msUntilHalfOpen),
      })),
    });
  }
}
