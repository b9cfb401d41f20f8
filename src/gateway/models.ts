// What the gateway knows about models: ListModels / GetModel (providers' lists + config aliases),
// CountTokens (a documented estimate until the catalog lands) and the Health summary.
import { create } from "@bufbuild/protobuf";
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
  type Message,
  type ModelInfo,
  ModelInfoSchema,
  ServingStatus,
} from "../../gen/llmgateway/v1/llm_pb.js";
import type { Logger } from "../telemetry/logger.js";
import { GatewayError } from "./errors.js";
import type { Gateway } from "./gateway.js";

const LIST_TTL_MS = 5 * 60_000;
const LIST_TIMEOUT_MS = 5_000;
const startedAt = Date.now();

/** Characters per token of the estimate (OpenAI's rule of thumb for English). */
export const CHARS_PER_TOKEN = 4;
/** Tokens each message costs beyond its text (role and separators). */
export const TOKENS_PER_MESSAGE = 4;

/** Fast prompt-token estimate: chars / 4 plus a per-message overhead. */
export function estimateTokens(messages: readonly Message[], extraChars = 0): number {
  let chars = extraChars;
  for (const m of messages) {
    for (const p of m.content) if (p.part.case === "text") chars += p.part.value.length;
    for (const t of m.toolCalls) chars += t.name.length + t.argumentsJson.length;
  }
  return Math.ceil(chars / CHARS_PER_TOKEN) + TOKENS_PER_MESSAGE * messages.length;
}

/** Model listings, token counts and health, backed by the gateway's providers and config. */
export class ModelDirectory {
  private cache = new Map<string, { at: number; models: Promise<ModelInfo[]> }>();

  constructor(
    private readonly gateway: Gateway,
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
      out.push(
        create(ModelInfoSchema, { id: m.name, provider: first.slice(0, first.indexOf("/")), aliasOf: first }),
      );
    }
    return out;
  }

  /** ListModels: every enabled provider's list plus the config's aliases, filtered. */
  async list(req: ListModelsRequest): Promise<ListModelsResponse> {
    const names = [...this.gateway.providers.keys()].filter((n) => !req.provider || n === req.provider);
    if (req.provider && names.length === 0) {
      throw new GatewayError("NOT_FOUND", "MODEL_NOT_FOUND", `unknown provider "${req.provider}"`);
    }
    const lists = await Promise.all(names.map((n) => this.providerModels(n)));
    let models = lists.flat();
    if (!req.provider) models = models.concat(this.aliases());
    if (req.capability) models = models.filter((m) => m.capabilities.includes(req.capability));
    return create(ListModelsResponseSchema, { models });
  }

  /** GetModel: an alias, or "provider/model" known to that provider's list. */
  async get(id: string): Promise<GetModelResponse> {
    const alias = this.aliases().find((m) => m.id === id);
    if (alias) return create(GetModelResponseSchema, { model: alias });
    const slash = id.indexOf("/");
    const provider = slash > 0 ? id.slice(0, slash) : "";
    if (this.gateway.providers.has(provider)) {
      const list = await this.providerModels(provider);
      const found = list.find((m) => m.id === id);
      if (found) return create(GetModelResponseSchema, { model: found });
    }
    throw new GatewayError("NOT_FOUND", "MODEL_NOT_FOUND", `unknown model "${id}"`, {
      metadata: { model: id },
    });
  }

  /** CountTokens: the gateway's estimate (exact tokenizers come with the model catalog). */
  countTokens(req: CountTokensRequest): CountTokensResponse {
    let toolChars = 0;
    for (const t of req.tools) toolChars += t.name.length + t.description.length + t.parametersJson.length;
    return create(CountTokensResponseSchema, {
      inputTokens: estimateTokens(req.messages, toolChars),
      exact: false,
      method: "estimate:chars/4+4/message",
    });
  }

  /** Health: the gateway's state and each provider's. */
  health(): HealthResponse {
    const serving = this.gateway.isDraining ? ServingStatus.NOT_SERVING : ServingStatus.SERVING;
    return create(HealthResponseSchema, {
      status: serving,
      version: VERSION,
      uptimeS: Math.floor((Date.now() - startedAt) / 1000),
      providers: [...this.gateway.providers.values()].map((p) => ({
        name: p.name,
        type: p.type,
        status: serving,
      })),
    });
  }
}

/** The gateway's version, reported by Health. */
export const VERSION = "0.1.0";
