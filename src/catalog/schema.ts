// The catalog's data shapes: the zod schemas for models.json and for config overrides (snake_case,
// as written in files), and the camelCase CatalogEntry the rest of the gateway reads.
import { z } from "zod";

/** What a model can do; `reasoning` has no Capability enum value in the contract (it is catalog-only). */
export const CAPABILITY_NAMES = [
  "chat",
  "stream",
  "tools",
  "vision",
  "json_schema",
  "embeddings",
  "reasoning",
] as const;

/** One capability name, as written in models.json and config. */
export type CapabilityName = (typeof CAPABILITY_NAMES)[number];

/** Tokenizers CountTokens can run exactly; anything else gets the documented estimate. */
export type ExactTokenizer = "o200k" | "cl100k";

/** How a model's prompt is counted: a bundled BPE, or the chars/4 estimate. */
export type Tokenizer = ExactTokenizer | "estimate";

/**
 * List prices in USD per million tokens (at most 6 decimals: whole pico-dollars per token); the cache
 * rates fall back to `input` when absent. Reasoning tokens are output tokens, billed at `output`.
 */
export interface Price {
  input: number;
  output: number;
  cachedInput?: number;
  cacheWrite?: number;
}

/** One model of one provider, as the router, the accountant and ListModels see it. */
export interface CatalogEntry {
  /** "provider/upstream": the name clients call it by. */
  readonly id: string;
  readonly provider: string;
  /** The provider's own model name (may itself contain "/"). */
  readonly upstream: string;
  readonly family: string;
  readonly tokenizer: Tokenizer;
  readonly capabilities: readonly CapabilityName[];
  /** Tokens; 0 = unknown. */
  readonly contextWindow: number;
  /** Tokens; 0 = unknown. */
  readonly maxOutputTokens: number;
  /** Absent when the cost is unknown (e.g. Hugging Face, billed by whichever host serves it). */
  readonly price?: Readonly<Price>;
  readonly aliases: readonly string[];
  /** Models sharing a group can stand in for each other across providers (fallbacks). */
  readonly equivalence?: string;
  readonly note?: string;
}

const INT32_MAX = 2_147_483_647;
const tokens = z.number().int().nonnegative().max(INT32_MAX);
/** USD per million tokens, at most 6 decimals (a pico-dollar per token), so costs are exact integers. */
const usd = z
  .number()
  .nonnegative()
  .refine((v) => Number(v.toFixed(6)) === v, "a price has at most 6 decimals (USD per million tokens)");
const name = z.string().min(1);

const priceShape = {
  input: usd,
  output: usd,
  cached_input: usd.optional(),
  cache_write: usd.optional(),
};

const capabilities = z
  .array(z.enum(CAPABILITY_NAMES))
  .min(1)
  .refine((a) => new Set(a).size === a.length, "capabilities must not repeat");

const aliases = z.array(name).refine((a) => new Set(a).size === a.length, "aliases must not repeat");

/** One entry of models.json, as written (snake_case). */
export const rawEntrySchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9._-]+\/\S+$/, 'id must be "provider/upstream"'),
  provider: name,
  upstream: name,
  family: name,
  tokenizer: z.enum(["o200k", "cl100k", "estimate"]),
  capabilities,
  context_window: tokens,
  max_output_tokens: tokens,
  price: z.strictObject(priceShape).optional(),
  aliases,
  equivalence: name.optional(),
  note: z.string().optional(),
});

/** A models.json entry before conversion. */
export type RawEntry = z.infer<typeof rawEntrySchema>;

/** models.json as a whole; entries are validated one by one so an error can name its id. */
export const catalogFileSchema = z.strictObject({
  prices_taken: z.iso.date(),
  source: name,
  notes: z.array(z.string()).optional(),
  models: z.array(z.unknown()).min(1),
});

/**
 * One config override (YAML `catalog: { "<id>": {...} }`): every field optional, merged per field
 * onto the built-in entry of that id (price per sub-field), or a new entry when the id is unknown.
 * The config loader can embed this schema to report a bad field by its path at start.
 */
export const catalogOverrideSchema = z.strictObject({
  provider: name.optional(),
  upstream: name.optional(),
  family: name.optional(),
  tokenizer: z.enum(["o200k", "cl100k", "estimate"]).optional(),
  capabilities: capabilities.optional(),
  context_window: tokens.optional(),
  max_output_tokens: tokens.optional(),
  price: z
    .strictObject({
      input: usd.optional(),
      output: usd.optional(),
      cached_input: usd.optional(),
      cache_write: usd.optional(),
    })
    .optional(),
  aliases: aliases.optional(),
  equivalence: name.optional(),
  note: z.string().optional(),
});

/** A config override of one catalog entry, as written in YAML (snake_case). */
export type CatalogOverride = z.input<typeof catalogOverrideSchema>;

/** Overrides keyed by entry id ("provider/upstream"). */
export type CatalogOverrides = Readonly<Record<string, CatalogOverride>>;

/** A bad catalog entry or override; the message names the id. */
export class CatalogError extends Error {
  override name = "CatalogError";
}

/** Converts a validated file entry to the shape the gateway reads. */
export function fromRaw(r: RawEntry): CatalogEntry {
  const entry: CatalogEntry = {
    id: r.id,
    provider: r.provider,
    upstream: r.upstream,
    family: r.family,
    tokenizer: r.tokenizer,
    capabilities: Object.freeze([...r.capabilities]),
    contextWindow: r.context_window,
    maxOutputTokens: r.max_output_tokens,
    aliases: Object.freeze([...r.aliases]),
    ...(r.price && {
      price: Object.freeze({
        input: r.price.input,
        output: r.price.output,
        ...(r.price.cached_input !== undefined && { cachedInput: r.price.cached_input }),
        ...(r.price.cache_write !== undefined && { cacheWrite: r.price.cache_write }),
      }),
    }),
    ...(r.equivalence !== undefined && { equivalence: r.equivalence }),
    ...(r.note !== undefined && { note: r.note }),
  };
  return Object.freeze(entry);
}

/** The file shape of an entry, so overrides can merge onto it and be validated as a whole. */
export function toRaw(e: CatalogEntry): RawEntry {
  return {
    id: e.id,
    provider: e.provider,
    upstream: e.upstream,
    family: e.family,
    tokenizer: e.tokenizer,
    capabilities: [...e.capabilities],
    context_window: e.contextWindow,
    max_output_tokens: e.maxOutputTokens,
    aliases: [...e.aliases],
    ...(e.price && {
      price: {
        input: e.price.input,
        output: e.price.output,
        ...(e.price.cachedInput !== undefined && { cached_input: e.price.cachedInput }),
        ...(e.price.cacheWrite !== undefined && { cache_write: e.price.cacheWrite }),
      },
    }),
    ...(e.equivalence !== undefined && { equivalence: e.equivalence }),
    ...(e.note !== undefined && { note: e.note }),
  };
}

/** Validates one file-shaped entry; throws a CatalogError naming `label` (the id, or its position). */
export function parseEntry(value: unknown, label: string): CatalogEntry {
  const r = rawEntrySchema.safeParse(value);
  if (!r.success) throw new CatalogError(`catalog entry ${label}: ${z.prettifyError(r.error)}`);
  const e = r.data;
  if (e.id !== `${e.provider}/${e.upstream}`) {
    throw new CatalogError(
      `catalog entry ${label}: id must be "${e.provider}/${e.upstream}" (provider/upstream)`,
    );
  }
  if (e.price?.cached_input !== undefined && e.price.cached_input > e.price.input) {
    throw new CatalogError(`catalog entry ${label}: price.cached_input is above price.input`);
  }
  return fromRaw(e);
}
