// The provider registry: one factory per wire format, exhaustive by type, and the presets the
// config loader needs to know (key and base-URL env vars).
import type { ProviderConfig } from "../config/index.js";
import type { PresetInfo } from "../config/load.js";
import { createAnthropicProvider } from "./anthropic/index.js";
import { createGeminiProvider } from "./gemini/index.js";
import { createHuggingFaceProvider } from "./huggingface/index.js";
import { createMockProvider } from "./mock/index.js";
import { createOllamaProvider } from "./ollama/index.js";
import { createOpenAIProvider } from "./openai/index.js";
import { compatibleQuirks, isOpenAIPresetName, openaiPresets } from "./openai/presets.js";
import type { Provider } from "./types.js";
import { transportNotes } from "./upstream.js";

export { bufferStats as upstreamBufferStats, setBodyLimits as setUpstreamLimits } from "./body-budget.js";
export { closeAll as closeHttpPools } from "./http.js";
export type { CallOptions, Provider, ProviderStream } from "./types.js";

/** Wire formats this build speaks. */
export type ProviderType = "mock" | "openai" | "anthropic" | "gemini" | "ollama" | "huggingface";

/** Options every factory receives beside the provider's config. */
export interface FactoryOptions {
  unsupportedParams: "reject" | "warn";
  warn: (msg: string) => void;
  /** Start-up facts (which proxy each provider uses); `warn` when absent. */
  info?: (msg: string) => void;
}

type Factory = (cfg: ProviderConfig, opts: FactoryOptions) => Provider;

/** What every provider factory takes from the config and the options (its own fields aside). */
function common(cfg: ProviderConfig, opts: FactoryOptions) {
  return {
    name: cfg.name,
    baseUrl: cfg.baseUrl,
    apiKey: cfg.apiKey,
    extraHeaders: cfg.headers,
    unsupportedParams: opts.unsupportedParams,
    warn: opts.warn,
    ...(cfg.transport === undefined ? {} : { transport: cfg.transport }),
  };
}

/** One factory per wire format; `satisfies` keeps it exhaustive over ProviderType. */
export const factories = {
  mock: (_cfg, opts) => createMockProvider(opts),
  openai: (cfg, opts) =>
    createOpenAIProvider({
      ...common(cfg, opts),
      quirks: isOpenAIPresetName(cfg.name) ? openaiPresets[cfg.name].quirks : compatibleQuirks,
      ...(cfg.wire === undefined ? {} : { wire: cfg.wire }),
    }),
  anthropic: (cfg, opts) => createAnthropicProvider(common(cfg, opts)),
  gemini: (cfg, opts) => createGeminiProvider(common(cfg, opts)),
  // Keyless: Ollama takes no apiKey.
  ollama: (cfg, opts) => {
    const { apiKey: _keyless, ...rest } = common(cfg, opts);
    return createOllamaProvider(rest);
  },
  huggingface: (cfg, opts) =>
    createHuggingFaceProvider({
      ...common(cfg, opts),
      ...(cfg.embedBaseUrl ? { embedBaseUrl: cfg.embedBaseUrl } : {}),
    }),
} satisfies Record<ProviderType, Factory>;

/** Types the config loader may enable. */
export const implementedTypes: ReadonlySet<string> = new Set(Object.keys(factories));

/** The native wire formats' presets (the OpenAI-compatible hosts come from openai/presets.ts). */
const nativePresets: Record<string, PresetInfo> = {
  anthropic: {
    type: "anthropic",
    keyEnv: "ANTHROPIC_API_KEY",
    baseUrlEnv: "ANTHROPIC_BASE_URL",
    baseUrl: "https://api.anthropic.com",
  },
  gemini: {
    type: "gemini",
    keyEnv: "GEMINI_API_KEY",
    baseUrlEnv: "GEMINI_BASE_URL",
    baseUrl: "https://generativelanguage.googleapis.com",
  },
  ollama: { type: "ollama", baseUrlEnv: "OLLAMA_HOST", baseUrl: "http://127.0.0.1:11434" },
  huggingface: {
    type: "huggingface",
    keyEnv: "HF_TOKEN",
    baseUrlEnv: "HF_BASE_URL",
    baseUrl: "https://router.huggingface.co/v1",
  },
};

/** Preset names -> wire format, env vars and default endpoint, for zero-config and the loader. */
export const presetInfo: Readonly<Record<string, PresetInfo>> = {
  ...Object.fromEntries(Object.entries(openaiPresets).map(([name, p]) => [name, { ...p, type: "openai" }])),
  ...nativePresets,
};

/** Builds the enabled providers of a config, keyed by name. */
export function createProviders(
  configs: readonly ProviderConfig[],
  opts: FactoryOptions,
): Map<string, Provider> {
  const out = new Map<string, Provider>();
  for (const cfg of configs) {
    const factory = factories[cfg.type as ProviderType] as Factory | undefined;
    if (!factory) throw new Error(`no provider factory for type ${cfg.type}`);
    out.set(cfg.name, factory(cfg, opts));
    if (cfg.type === "mock") continue;
    // Where each provider's calls go (proxy, never its credentials) and what weakens its TLS.
    const urls = cfg.embedBaseUrl ? [cfg.baseUrl, cfg.embedBaseUrl] : [cfg.baseUrl];
    const notes = transportNotes(cfg.name, cfg.transport ?? {}, urls);
    for (const line of notes.info) (opts.info ?? opts.warn)(line);
    for (const line of notes.warn) opts.warn(line);
  }
  return out;
}
