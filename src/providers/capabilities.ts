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
};

const MOCK_ONLY = { supported: false, why: "mock provider: echo only" } as const;

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
    stop_sequences: MOCK_ONLY,
    max_tokens_length: MOCK_ONLY,
    reasoning: MOCK_ONLY,
    list_models: true,
    seed: MOCK_ONLY,
  },
  openai: ALL,
  anthropic: {
    ...ALL,
    embeddings: { supported: false, why: "Anthropic has no embeddings API" },
    seed: { supported: false, why: "the Messages API has no seed" },
  },
  gemini: ALL,
  ollama: ALL,
  huggingface: ALL,
} as const satisfies Record<ProviderType, CapabilitySet>;

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
