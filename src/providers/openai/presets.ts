// The OpenAI-compatible hosts as data: endpoint, key variable and the quirks that make them
// differ from api.openai.com. Adding a host is adding an entry here.

/** Request parameters a host may not honour; named in UNSUPPORTED_PARAMETER errors. */
export type OpenAIParam =
  | "temperature"
  | "top_p"
  | "max_tokens"
  | "stop"
  | "seed"
  | "tools"
  | "tool_choice"
  | "response_format"
  | "json_schema"
  | "user"
  | "presence_penalty"
  | "frequency_penalty"
  | "images"
  | "message_name"
  | "reasoning_effort"
  | "reasoning_budget_tokens";

/** How a host departs from OpenAI's wire; read by the pure translators. */
export interface OpenAIQuirks {
  /** OpenAI deprecated `max_tokens` for `max_completion_tokens`; most hosts only know the former. */
  maxTokensField: "max_tokens" | "max_completion_tokens";
  /** Mistral calls the seed `random_seed`. */
  seedField: "seed" | "random_seed";
  /** Whether `stream_options: {include_usage: true}` is accepted (else usage comes unasked or not). */
  supportsStreamOptions: boolean;
  /** Whether the host serves POST /embeddings. */
  supportsEmbeddings: boolean;
  /** Ask for base64 vectors (much cheaper to decode than JSON floats) where the host supports it. */
  embeddingsBase64: boolean;
  /** Parameters the host rejects or ignores: refused (or dropped with a warning) before sending. */
  unsupportedParams: readonly OpenAIParam[];
}

/** One host: where it is, which env vars configure it, how it differs. */
export interface OpenAIPreset {
  baseUrl: string;
  keyEnv: string;
  baseUrlEnv: string;
  quirks: OpenAIQuirks;
}

/** The hosts we ship presets for; the provider registry is exhaustive over this union. */
export type OpenAIPresetName =
  | "openai"
  | "groq"
  | "together"
  | "openrouter"
  | "fireworks"
  | "deepinfra"
  | "xai"
  | "cerebras"
  | "mistral"
  | "nebius"
  | "novita"
  | "featherless";

/** Quirks of a generic OpenAI-compatible server (vLLM, LiteLLM, llama.cpp ...): the safe subset. */
export const compatibleQuirks: OpenAIQuirks = {
  maxTokensField: "max_tokens",
  seedField: "seed",
  supportsStreamOptions: true,
  supportsEmbeddings: true,
  embeddingsBase64: false,
  unsupportedParams: [],
};

function preset(name: string, baseUrl: string, quirks: Partial<OpenAIQuirks> = {}): OpenAIPreset {
  const env = name.toUpperCase();
  return {
    baseUrl,
    keyEnv: `${env}_API_KEY`,
    baseUrlEnv: `${env}_BASE_URL`,
    quirks: { ...compatibleQuirks, ...quirks },
  };
}

/** Every shipped host; `satisfies` makes a missing or misspelt one a type error. */
export const openaiPresets = {
  openai: preset("openai", "https://api.openai.com/v1", {
    maxTokensField: "max_completion_tokens",
    embeddingsBase64: true,
  }),
  groq: preset("groq", "https://api.groq.com/openai/v1", {
    supportsEmbeddings: false,
    unsupportedParams: ["message_name"],
  }),
  together: preset("together", "https://api.together.xyz/v1"),
  openrouter: preset("openrouter", "https://openrouter.ai/api/v1", { supportsEmbeddings: false }),
  fireworks: preset("fireworks", "https://api.fireworks.ai/inference/v1"),
  deepinfra: preset("deepinfra", "https://api.deepinfra.com/v1/openai"),
  xai: preset("xai", "https://api.x.ai/v1", { supportsEmbeddings: false }),
  cerebras: preset("cerebras", "https://api.cerebras.ai/v1", {
    maxTokensField: "max_completion_tokens",
    supportsEmbeddings: false,
    unsupportedParams: ["presence_penalty", "frequency_penalty"],
  }),
  mistral: preset("mistral", "https://api.mistral.ai/v1", {
    seedField: "random_seed",
    supportsStreamOptions: false,
    unsupportedParams: ["user", "message_name"],
  }),
  nebius: preset("nebius", "https://api.studio.nebius.com/v1"),
  novita: preset("novita", "https://api.novita.ai/v3/openai"),
  featherless: preset("featherless", "https://api.featherless.ai/v1", { supportsEmbeddings: false }),
} satisfies Record<OpenAIPresetName, OpenAIPreset>;

/** Narrows a config string to a preset name. */
export function isOpenAIPresetName(name: string): name is OpenAIPresetName {
  return Object.hasOwn(openaiPresets, name);
}
