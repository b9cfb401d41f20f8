// Prompt token counting for CountTokens and admission: exact BPE counts (gpt-tokenizer, imported
// lazily on the first exact count, never at module load) for o200k/cl100k models, else the estimate.
import type { Message, Tool } from "../../gen/llmgateway/v1/llm_pb.js";
import type { CatalogEntry, ExactTokenizer } from "./schema.js";

/** Characters per token of the estimate (OpenAI's rule of thumb for English). */
export const CHARS_PER_TOKEN = 4;
/** The estimated tokens of `chars` characters of text. */
export function tokensOf(chars: number): number {
  return Math.ceil(chars / CHARS_PER_TOKEN);
}

/** Tokens each message costs beyond its text (role and separators). */
export const TOKENS_PER_MESSAGE = 4;

/** Tokens OpenAI adds to prime the reply (`<|start|>assistant<|message|>`), per its cookbook. */
export const REPLY_PRIMING_TOKENS = 3;
/** A floor for one image (OpenAI's low-detail cost); a count with images is never exact. */
export const IMAGE_TOKENS = 85;

type Counter = (text: string) => number;

// Special-token text in a prompt ("<|endoftext|>") is counted as text, as the providers bill it,
// instead of gpt-tokenizer's default of throwing.
const AS_TEXT = { disallowedSpecial: new Set<string>() };
const counters = new Map<ExactTokenizer, Promise<Counter>>();
let loaded = false;

async function importCounter(tokenizer: ExactTokenizer): Promise<Counter> {
  switch (tokenizer) {
    case "o200k": {
      const m = await import("gpt-tokenizer/encoding/o200k_base");
      return (text) => m.countTokens(text, AS_TEXT);
    }
    case "cl100k": {
      const m = await import("gpt-tokenizer/encoding/cl100k_base");
      return (text) => m.countTokens(text, AS_TEXT);
    }
    default: {
      const _exhaustive: never = tokenizer;
      return _exhaustive;
    }
  }
}

function counter(tokenizer: ExactTokenizer): Promise<Counter> {
  let p = counters.get(tokenizer);
  if (!p) {
    p = importCounter(tokenizer).then((c) => {
      loaded = true;
      return c;
    });
    // A failed import is not cached: the next call tries again.
    p.catch(() => counters.delete(tokenizer));
    counters.set(tokenizer, p);
  }
  return p;
}

/** True once a BPE table has been imported: lets tests prove the ~2 MB load waits for first use. */
export function tokenizerLoaded(): boolean {
  return loaded;
}

/** Exact token count of plain text with an OpenAI BPE (special-token text counts as text). */
export async function countTokensExact(tokenizer: ExactTokenizer, text: string): Promise<number> {
  const count = await counter(tokenizer);
  return text ? count(text) : 0;
}

/**
 * The gateway's fast estimate, same signature and result as src/gateway/models.ts today:
 * ceil(chars / CHARS_PER_TOKEN) + TOKENS_PER_MESSAGE per message; `extraChars` carries tools.
 */
export function estimateTokens(messages: readonly Message[], extraChars = 0): number {
  let chars = extraChars;
  for (const m of messages) {
    for (const p of m.content) if (p.part.case === "text") chars += p.part.value.length;
    for (const t of m.toolCalls) chars += t.name.length + t.argumentsJson.length;
  }
  return tokensOf(chars) + TOKENS_PER_MESSAGE * messages.length;
}

/** A prompt's token count and how it was obtained: the fields of CountTokensResponse. */
export interface PromptTokens {
  tokens: number;
  /** True only when counted with the model's own tokenizer and nothing was estimated. */
  exact: boolean;
  /** "o200k_base", "cl100k_base", "o200k_base+85/image", or "estimate:chars/4+4/message". */
  method: string;
}

/**
 * Counts a prompt for `entry` (undefined = a model the catalog does not know): with its BPE when
 * the catalog names o200k/cl100k (text, names, tool calls and tool definitions, plus OpenAI's
 * per-message and reply-priming overhead), else the estimate, which is what CountTokens returns
 * today.
 */
export async function countPromptTokens(
  entry: CatalogEntry | undefined,
  messages: readonly Message[],
  tools: readonly Tool[],
): Promise<PromptTokens> {
  const tokenizer = entry?.tokenizer;
  if (tokenizer !== "o200k" && tokenizer !== "cl100k") {
    let toolChars = 0;
    for (const t of tools) toolChars += t.name.length + t.description.length + t.parametersJson.length;
    return {
      tokens: estimateTokens(messages, toolChars),
      exact: false,
      method: `estimate:chars/${CHARS_PER_TOKEN}+${TOKENS_PER_MESSAGE}/message`,
    };
  }
  const raw = await counter(tokenizer);
  const count = (text: string): number => (text ? raw(text) : 0);
  let tokens = REPLY_PRIMING_TOKENS;
  let images = 0;
  for (const m of messages) {
    tokens += TOKENS_PER_MESSAGE + count(m.name);
    for (const p of m.content) {
      if (p.part.case === "text") tokens += count(p.part.value);
      else if (p.part.case === "image") images++;
    }
    for (const t of m.toolCalls) tokens += count(t.name) + count(t.argumentsJson);
  }
  for (const t of tools) tokens += count(t.name) + count(t.description) + count(t.parametersJson);
  const method = `${tokenizer}_base`;
  if (images === 0) return { tokens, exact: true, method };
  return { tokens: tokens + images * IMAGE_TOKENS, exact: false, method: `${method}+${IMAGE_TOKENS}/image` };
}
