// The catalog's public surface: model data (capabilities, context windows, prices, aliases,
// equivalence groups) from models.json plus config overrides, call cost and prompt token counts.
export {
  builtinEntries,
  Catalog,
  loadCatalog,
  maxCostMicros,
  PRICES_TAKEN,
  priceMicros,
  priceUsd,
  type UsageCounts,
} from "./catalog.js";
export {
  CAPABILITY_NAMES,
  type CapabilityName,
  type CatalogEntry,
  CatalogError,
  type CatalogOverride,
  type CatalogOverrides,
  catalogOverrideSchema,
  type ExactTokenizer,
  type Price,
  type Tokenizer,
} from "./schema.js";
export {
  countPromptTokens,
  countTokensExact,
  estimateTokens,
  IMAGE_TOKENS,
  type PromptTokens,
  REPLY_PRIMING_TOKENS,
  tokenizerLoaded,
} from "./tokens.js";
