// What each wire format really honours, feature by feature, read from its request translators: the
// one declaration the README's capability table (npm run docs) and the conformance suite both use.
// A feature a provider lacks is declared with the reason, never left out: the conformance suite
// then checks that asking for it is refused (UNSUPPORTED_PARAMETER / UNIMPLEMENTED), not dropped.
import type { ProviderType } from "./index.js";

/** The features the conformance suite exercises, in the README's row order. */
export const FEATURES = [
  "chat",
  "stream",
  "system_prompt",
  "multi_turn",
  "tools",
  "tool_stream",
  "tool_result",
  "vision",
  "json_schema",
  "embeddings",
  "stop_sequences",
  "max_tokens_length",
  "reasoning",
  "list_models",
  "seed",
  "top_k",
  "documents",
  "cache_hints",
  "builtin_tools",
  "reasoning_state",
] as const;

/** One feature of the contract a provider may or may not honour. */
export type Feature = (typeof FEATURES)[number];

/** Honoured, or not, with the reason a caller reads in the README. */
export type Support = true | { supported: false; why: string };

/** A provider's declaration: every feature, so adding one to FEATURES forces a decision everywhere. */
export type CapabilitySet = Readonly<Record<Feature, Support>>;

/** README row labels: what a caller would look for. */
export const FEATURE_LABELS: Readonly<Record<Feature, string>> = {
  chat: "chat (unary)",
  stream: "streaming",
  system_prompt: "system prompt",
  multi_turn: "multi-turn",
  tools: "tool calls",
  tool_stream: "tool calls streamed (argument deltas)",
  tool_result: "tool results (round trip)",
  vision: "image input",
  json_schema: "JSON-schema output",
  embeddings: "embeddings",
  stop_sequences: "stop sequences",
  max_tokens_length: "max_tokens -> FINISH_REASON_LENGTH",
  reasoning: "reasoning (effort / budget)",
  list_models: "model list",
  seed: "seed",
  top_k: "top_k",
  documents: "documents (PDF / text)",
  cache_hints: "prompt-cache hints (cache_hint)",
  builtin_tools: "built-in tools (builtin_type)",
  reasoning_state: "reasoning state round trip (signatures)",
};

const MOCK_ONLY = { supported: false, why: "mock provider: echo only" } as const;

/** Built-in tools run only on OpenAI's Responses API; every other wire refuses them (never dropped). */
const NO_BUILTIN = {
  supported: false,
  why: "built-in tools run only on OpenAI with `wire: responses` (INVALID_ARGUMENT elsewhere)",
} as const;

/** Everything honoured: the starting point of the real wire formats. */
const ALL = {
  chat: true,
  stream: true,
  system_prompt: true,
  multi_turn: true,
  tools: true,
  tool_stream: true,
  tool_result: true,
  vision: true,
  json_schema: true,
  embeddings: true,
  stop_sequences: true,
  max_tokens_length: true,
  reasoning: true,
  list_models: true,
  seed: true,
  top_k: true,
  documents: true,
  cache_hints: true,
  builtin_tools: NO_BUILTIN,
  reasoning_state: true,
} as const;

/**
 * The declarations, by wire format (an OpenAI-compatible preset may refuse more: see its quirks).
 * `satisfies` makes a new ProviderType without a declaration a type error.
 */
export const capabilities = {
  mock: {
    chat: true,
    stream: true,
    system_prompt: true,
    multi_turn: true,
    tools: MOCK_ONLY,
    tool_stream: MOCK_ONLY,
    tool_result: MOCK_ONLY,
    vision: MOCK_ONLY,
    json_schema: MOCK_ONLY,
    embeddings: true,
    stop_sequences: true,
    max_tokens_length: true,
    reasoning: MOCK_ONLY,
    list_models: true,
    seed: true,
    top_k: true,
    documents: { supported: false, why: "mock provider: text documents only (echoed)" },
    cache_hints: true, // accepted and ignored, as by every wire that caches on its own
    builtin_tools: NO_BUILTIN,
    reasoning_state: MOCK_ONLY,
  },
  openai: {
    ...ALL,
    top_k: {
      supported: false,
      why: "OpenAI has no top_k (refused, or dropped with a warning under `unsupported_params: warn`)",
    },
    documents: { supported: false, why: "chat completions: PDF and text documents, no document URLs" },
    reasoning_state: {
      supported: false,
      why: "chat completions return no reasoning state (encrypted reasoning needs `wire: responses`)",
    },
  },
  anthropic: {
    ...ALL,
    embeddings: { supported: false, why: "Anthropic has no embeddings API" },
    seed: { supported: false, why: "the Messages API has no seed" },
  },
  gemini: ALL,
  ollama: {
    ...ALL,
    documents: { supported: false, why: "Ollama reads text documents only (as text)" },
    reasoning_state: { supported: false, why: "Ollama returns no reasoning state" },
  },
  huggingface: {
    ...ALL,
    top_k: { supported: false, why: "the OpenAI-compatible router has no top_k" },
    documents: { supported: false, why: "the OpenAI-compatible router takes no documents" },
    reasoning_state: { supported: false, why: "the OpenAI-compatible router returns no reasoning state" },
  },
} as const satisfies Record<ProviderType, CapabilitySet>;

/**
 * Wire variants a provider of one type may speak, keyed `type/wire` (OpenAI over the Responses API:
 * `openai` with `wire: responses`). They differ from their type's column only where listed.
 */
export const wireVariants: Readonly<Record<string, CapabilitySet>> = {
  "openai/responses": {
    ...capabilities.openai,
    documents: true,
    builtin_tools: true,
    reasoning_state: true,
  },
};

/** What a configured provider advertises about its wire format. */
export interface Advertised {
  /** The wire format (Provider.type): "openai", "anthropic", ... */
  readonly type: string;
  /** The API variant of that wire format when it has several ("responses" for OpenAI). */
  readonly wire?: string | undefined;
}

/**
 * The declaration for what a provider advertises: its wire variant's when it names one we know
 * (`openai` + `wire: responses`, or a type spelled `openai-responses`), else its type's column;
 * undefined for a type this build does not know.
 */
export function capabilitiesOf(p: Advertised): CapabilitySet | undefined {
  if (p.wire !== undefined && p.wire !== "") {
    const v = wireVariants[`${p.type}/${p.wire}`];
    if (v !== undefined) return v;
  }
  const dash = p.type.indexOf("-");
  if (dash > 0) {
    const v = wireVariants[`${p.type.slice(0, dash)}/${p.type.slice(dash + 1)}`];
    if (v !== undefined) return v;
  }
  return Object.hasOwn(capabilities, p.type) ? capabilities[p.type as ProviderType] : undefined;
}

/** True when the provider (as it advertises itself) honours `feature`. */
export function providerSupports(p: Advertised, feature: Feature): boolean {
  return capabilitiesOf(p)?.[feature] === true;
}

/** The provider columns, in the README's order. */
export const PROVIDER_COLUMNS: readonly ProviderType[] = [
  "openai",
  "anthropic",
  "gemini",
  "ollama",
  "huggingface",
  "mock",
];

/** True when `provider` honours `feature`. */
export function supports(provider: ProviderType, feature: Feature): boolean {
  return capabilities[provider][feature] === true;
}

/** Why `provider` does not honour `feature`, or undefined when it does. */
export function whyNot(provider: ProviderType, feature: Feature): string | undefined {
  const s: Support = capabilities[provider][feature];
  return s === true ? undefined : s.why;
}

/** The README markers the generated table lives between. */
export const TABLE_MARKERS = {
  start: "<!-- providers-table:start -->",
  end: "<!-- providers-table:end -->",
} as const;

/** The capability table as markdown: features x providers, ✓ / — with numbered notes from `why`. */
export function renderCapabilityTable(): string {
  const notes: string[] = [];
  const note = (why: string): number => {
    const i = notes.indexOf(why);
    if (i >= 0) return i + 1;
    notes.push(why);
    return notes.length;
  };
  const lines = [
    `| feature | ${PROVIDER_COLUMNS.map((p) => `\`${p}\``).join(" | ")} |`,
    `|---|${PROVIDER_COLUMNS.map(() => "---").join("|")}|`,
  ];
  for (const f of FEATURES) {
    const cells = PROVIDER_COLUMNS.map((p) => {
      const why = whyNot(p, f);
      return why === undefined ? "✓" : `— (${note(why)})`;
    });
    lines.push(`| ${FEATURE_LABELS[f]} (\`${f}\`) | ${cells.join(" | ")} |`);
  }
  lines.push("");
  notes.forEach((why, i) => {
    lines.push(`${i + 1}. ${why}`);
  });
  return lines.join("\n");
}
