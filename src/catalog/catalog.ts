// The Catalog: the built-in models.json plus config overrides, validated once at load, then
// lookups by id or alias, cross-provider equivalents, ModelInfo for ListModels, and call cost.

import { z } from "zod";
import { Capability, type ModelInfo, ModelInfoSchema, type Usage } from "../../gen/llmgateway/v1/llm_pb.js";
import { create } from "../lib/create.js";
import type { Micros } from "../lib/money.js";
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

/** Pico-dollars (1e-12 USD) per token of a USD-per-million price: exact for prices of <= 6 decimals. */
function picosPerToken(usdPerMillion: number | undefined, fallback: number): number {
  return Math.round((usdPerMillion ?? fallback) * 1_000_000);
}

/** A token count as a non-negative integer (NaN, negatives -> 0). */
function count(n: number): number {
  return n > 0 ? Math.floor(n) : 0;
}

/** Exact non-negative pico-dollars to micro-dollars, rounded once, half up. */
function picosToMicros(picos: number): number {
  const rest = picos % 1_000_000;
  return (picos - rest) / 1_000_000 + (rest >= 500_000 ? 1 : 0);
}

/**
 * Integer micro-dollars for one call at `price`: the one pricing code path (priceUsd, costUsd and the
 * budget all derive from it). `inputTokens` is the whole prompt: the cache reads
 * (`cachedInputTokens`) and then the cache writes (`cacheWriteTokens`) are parts of it, billed at
 * their own rates (the input rate when the catalog has none), the rest at `input`; output includes
 * reasoning tokens, billed once at `output` (the catalog has no separate reasoning rate).
 * Exact: tokens x (USD per Mtok x 1e6) is an integer of pico-dollars (prices have at most 6
 * decimals, the schema checks it), summed exactly and rounded once, half up, to the micro-dollar.
 */
export function priceMicros(price: Readonly<Price>, usage: UsageCounts): Micros {
  const input = count(usage.inputTokens);
  const cached = Math.min(count(usage.cachedInputTokens), input);
  const written = Math.min(count(usage.cacheWriteTokens), input - cached);
  const output = count(usage.outputTokens);
  const rIn = picosPerToken(price.input, 0);
  const rCached = picosPerToken(price.cachedInput, price.input);
  const rWrite = picosPerToken(price.cacheWrite, price.input);
  const rOut = picosPerToken(price.output, 0);
  const plain = input - cached - written;
  // All terms are >= 0, so a sum past 2^53 is never a safe integer: then redo it in bigint.
  const picos = plain * rIn + cached * rCached + written * rWrite + output * rOut;
  if (Number.isSafeInteger(picos)) return picosToMicros(picos);
  const big = (n: number) => BigInt(n);
  const exact =
    big(plain) * big(rIn) + big(cached) * big(rCached) + big(written) * big(rWrite) + big(output) * big(rOut);
  return Number((exact + 500_000n) / 1_000_000n);
}

/**
 * The most a call can cost, for a budget reservation: every prompt token at the input rate (no
 * cache discount assumed) plus `maxOutputTokens` at the output rate, in micro-dollars. A call that
 * writes a prompt cache (priced above `input`) can end up costing slightly more; settling then
 * charges the difference.
 */
export function maxCostMicros(price: Readonly<Price>, promptTokens: number, maxOutputTokens: number): Micros {
  return priceMicros(price, {
    inputTokens: promptTokens,
    outputTokens: maxOutputTokens,
    cachedInputTokens: 0,
    cacheWriteTokens: 0,
  });
}

/** Dollars for one call at `price`: priceMicros / 1e6, so reported costs add up to the ledgers exactly. */
export function priceUsd(price: Readonly<Price>, usage: UsageCounts): number {
  return priceMicros(price, usage) / 1_000_000;
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

  /** USD for one call (costMicros / 1e6); undefined when the model or its price is unknown. */
  costUsd(idOrAlias: string, usage: UsageCounts): number | undefined {
    const micros = this.costMicros(idOrAlias, usage);
    return micros === undefined ? undefined : micros / 1_000_000;
  }

  /** Integer micro-dollars for one call (see priceMicros); undefined when the model or its price is unknown. */
  costMicros(idOrAlias: string, usage: UsageCounts): Micros | undefined {
    const price = this.get(idOrAlias)?.price;
    return price ? priceMicros(price, usage) : undefined;
  }

  /** A budget reservation for one call (see maxCostMicros); undefined when the model or its price is unknown. */
  maxCostMicros(idOrAlias: string, promptTokens: number, maxOutputTokens: number): Micros | undefined {
    const price = this.get(idOrAlias)?.price;
    return price ? maxCostMicros(price, promptTokens, maxOutputTokens) : undefined;
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
