// The usage estimate every provider falls back to when its upstream reports none: prompt and answer
// characters / 4 (the gateway's documented estimate, src/catalog/tokens.ts), flagged `estimated`.

import { type ChatRequest, type Usage, UsageSchema } from "../../gen/llmgateway/v1/llm_pb.js";
import { tokensOf } from "../catalog/tokens.js";
import { create } from "../lib/create.js";

/** Characters of the prompt (message text, tool calls, tool schemas), for the estimate. */
export function promptChars(req: ChatRequest): number {
  let n = 0;
  for (const m of req.messages) {
    for (const c of m.content) if (c.part.case === "text") n += c.part.value.length;
    for (const t of m.toolCalls) n += t.argumentsJson.length + t.name.length;
  }
  for (const t of req.tools) n += t.parametersJson.length + t.description.length + t.name.length;
  return n;
}

/** A token count from untrusted upstream JSON: a finite non-negative number, else 0. */
export function tokenCount(v: unknown): number {
  return typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : 0;
}

/** Token counts as an upstream reported them (untrusted JSON: a bad or missing count is 0). */
export interface ReportedTokens {
  input: unknown;
  output: unknown;
  /** Missing or 0: input + output. */
  total?: unknown;
  cached?: unknown;
  cacheWrite?: unknown;
  reasoning?: unknown;
}

/** An upstream's reported token counts -> Usage. */
export function reportedUsage(t: ReportedTokens): Usage {
  const input = tokenCount(t.input);
  const output = tokenCount(t.output);
  return create(UsageSchema, {
    inputTokens: input,
    outputTokens: output,
    totalTokens: tokenCount(t.total) || input + output,
    cachedInputTokens: tokenCount(t.cached),
    cacheWriteTokens: tokenCount(t.cacheWrite),
    reasoningTokens: tokenCount(t.reasoning),
  });
}

/** Characters of some texts (an Embed call's inputs), for estimates. */
export function charsOf(texts: readonly string[]): number {
  let n = 0;
  for (const t of texts) n += t.length;
  return n;
}

/** Usage estimated from characters, flagged so callers (and billing) know it is not the provider's. */
export function estimateUsage(promptChars: number, outputChars: number): Usage {
  const input = tokensOf(promptChars);
  const output = tokensOf(outputChars);
  return create(UsageSchema, {
    inputTokens: input,
    outputTokens: output,
    totalTokens: input + output,
    estimated: true,
  });
}
