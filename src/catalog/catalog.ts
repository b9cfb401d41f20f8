// The Catalog: the built-in models.json plus config overrides, validated once at load, then
// lookups by id or alias, cross-provider equivalents, ModelInfo for ListModels, and call cost.
import { create } from "@bufbuild/protobuf";
import { z } from "zod";
import { Capability, type ModelInfo, ModelInfoSchema, type Usage } from "../../gen/llmgateway/v1/llm_pb.js";
import data from "./models.json" with { type: "json" };
import {
  type CapabilityName,
  type CatalogEntry,
  CatalogError,
  type CatalogOverrides,
  catalogFileSchema,
  catalogOverrideSchema,
  type Price,
  parseEntry,
  type RawEntry,
  toRaw,
} from "./schema.js";

/** The usage counters a cost needs; a full `Usage` message fits. */
export type UsageCounts = Pick<
  Usage,
  "inputTokens" | "outputTokens" | "cachedInputTokens" | "cacheWriteTokens"
>;

/** When the built-in prices were taken (models.json `prices_taken`), for the README and /models. */
export const PRICES_TAKEN: string = data.prices_taken;

/**
 * Dollars for one call at `price`, to the nano-dollar. `inputTokens` is the whole prompt: the
 * cache reads (`cachedInputTokens`) and cache writes (`cacheWriteTokens`) are parts of it, billed
 * at their own rates (the input rate when the catalog has none); reasoning is part of output.
 */
export function priceUsd(price: Readonly<Price>, usage: UsageCounts): number {
  const input = Math.max(0, usage.inputTokens);
  const cached = Math.min(Math.max(0, usage.cachedInputTokens), input);
  const written = Math.min(Math.max(0, usage.cacheWriteTokens), input - cached);
  const output = Math.max(0, usage.outputTokens);
  // tokens x USD-per-million: the sum is in micro-dollars, x1000 = nano-dollars, rounded.
  const micro =
    (input - cached - written) * price.input +
    cached * (price.cachedInput ?? price.input) +
    written * (price.cacheWrite ?? price.input) +
    output * price.output;
  return Math.round(micro * 1000) / 1e9;
}

function toCapability(c: CapabilityName): Capability | undefined {
  switch (c) {
    case "chat":
      return Capability.CHAT;
    case "stream":
      return Capability.STREAM;
    case "tools":
      return Capability.TOOLS;
    case "vision":
      return Capability.VISION;
    case "json_schema":
      return Capability.JSON_SCHEMA;
    case "embeddings":
      return Capability.EMBEDDINGS;
    case "reasoning":
      return undefined;
    default: {
      const _exhaustive: never = c;
      return _exhaustive;
    }
  }
}

function defined(o: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

function mergeOverride(id: string, base: RawEntry | undefined, value: unknown): Record<string, unknown> {
  const r = catalogOverrideSchema.safeParse(value);
  if (!r.success) throw new CatalogError(`catalog override "${id}": ${z.prettifyError(r.error)}`);
  const o = defined(r.data);
  if (r.data.price) o.price = { ...base?.price, ...defined(r.data.price) };
  if (base) return { ...base, ...o };
  // A new model: provider and upstream come from the id; the rest has lenient defaults.
  const slash = id.indexOf("/");
  const upstream = slash > 0 ? id.slice(slash + 1) : id;
  return {
    id,
    provider: slash > 0 ? id.slice(0, slash) : "",
    upstream,
    family: upstream,
    tokenizer: "estimate",
    context_window: 0,
    max_output_tokens: 0,
    aliases: [],
    ...o,
  };
}

/** The model catalog: immutable after construction, so lookups on the hot path are map reads. */
export class Catalog {
  private readonly entries: readonly CatalogEntry[];
  private readonly byName = new Map<string, CatalogEntry>();

  /**
   * Validates `entries` with `overrides` merged on (see catalogOverrideSchema); throws a
   * CatalogError naming the id of a bad entry, or an alias that two models claim.
   */
  constructor(entries: readonly CatalogEntry[], overrides: CatalogOverrides = {}) {
    const base = new Map<string, RawEntry>();
    for (const e of entries) {
      if (base.has(e.id)) throw new CatalogError(`catalog entry "${e.id}" appears twice`);
      base.set(e.id, toRaw(e));
    }
    const merged = new Map<string, unknown>(base);
    for (const [id, o] of Object.entries(overrides)) merged.set(id, mergeOverride(id, base.get(id), o));
    const out = [...merged].map(([id, r]) => parseEntry(r, `"${id}"`));
    out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (const e of out) this.byName.set(e.id, e);
    for (const e of out) {
      for (const a of e.aliases) {
        const other = this.byName.get(a);
        if (other) {
          throw new CatalogError(
            other.id === a
              ? `catalog entry "${e.id}": alias "${a}" is the id of another model`
              : `alias "${a}" is claimed by both "${other.id}" and "${e.id}"`,
          );
        }
        this.byName.set(a, e);
      }
    }
    this.entries = Object.freeze(out);
  }

  /** The entry for an id ("openai/gpt-4o") or an alias ("gpt-4o"); undefined when unknown. */
  get(idOrAlias: string): CatalogEntry | undefined {
    return this.byName.get(idOrAlias);
  }

  /** Every entry, sorted by id. */
  list(): readonly CatalogEntry[] {
    return this.entries;
  }

  /**
   * Models of other providers in the same equivalence group, in id order: fallback candidates.
   * With `needs`, only those that have every listed capability (e.g. the request uses tools).
   */
  equivalents(idOrAlias: string, needs: readonly CapabilityName[] = []): CatalogEntry[] {
    const me = this.get(idOrAlias);
    if (!me?.equivalence) return [];
    return this.entries.filter(
      (e) =>
        e.equivalence === me.equivalence &&
        e.provider !== me.provider &&
        needs.every((n) => e.capabilities.includes(n)),
    );
  }

  /** The contract's view of an entry (ListModels / GetModel); `reasoning` has no enum value. */
  toModelInfo(entry: CatalogEntry): ModelInfo {
    const capabilities: Capability[] = [];
    for (const c of entry.capabilities) {
      const mapped = toCapability(c);
      if (mapped !== undefined) capabilities.push(mapped);
    }
    return create(ModelInfoSchema, {
      id: entry.id,
      provider: entry.provider,
      upstreamModel: entry.upstream,
      capabilities,
      contextWindow: entry.contextWindow,
      maxOutputTokens: entry.maxOutputTokens,
      aliases: [...entry.aliases],
    });
  }

  /** USD for one call (see priceUsd); undefined when the model or its price is unknown. */
  costUsd(idOrAlias: string, usage: UsageCounts): number | undefined {
    const price = this.get(idOrAlias)?.price;
    return price ? priceUsd(price, usage) : undefined;
  }
}

/** The built-in entries from models.json; throws a CatalogError naming a bad entry's id. */
export function builtinEntries(): CatalogEntry[] {
  const file = catalogFileSchema.safeParse(data);
  if (!file.success) throw new CatalogError(`models.json: ${z.prettifyError(file.error)}`);
  return file.data.models.map((m, i) => {
    const id = typeof m === "object" && m !== null && "id" in m ? m.id : undefined;
    return parseEntry(m, typeof id === "string" ? `"${id}"` : `#${i}`);
  });
}

/**
 * The catalog the gateway runs on: models.json with config's `catalog:` overrides merged per field
 * onto an existing id (price per sub-field) or added as new models. Call at start and on reload.
 */
export function loadCatalog(overrides?: CatalogOverrides): Catalog {
  return new Catalog(builtinEntries(), overrides);
}
