// The pre-flight context-window check: prompt + max_tokens against the catalog's window, before any
// upstream call. A fast estimate on every call; the exact BPE count (milliseconds on a long prompt)
// only when the estimate comes within a margin of the window.
import type { ChatRequest } from "../../gen/llmgateway/v1/llm_pb.js";
import { type CatalogEntry, countPromptTokens, estimateTokens } from "../catalog/index.js";
import { GatewayError } from "../errors.js";

/** Below this share of the window the estimate alone clears the call. */
const SAFE_SHARE = 0.85;
/** For models without an exact tokenizer, the estimate must exceed the window by this much to refuse. */
const ESTIMATE_SLACK = 1.25;

function toolChars(req: ChatRequest): number {
  let n = 0;
  for (const t of req.tools) n += t.name.length + t.description.length + t.parametersJson.length;
  return n;
}

function refuse(entry: CatalogEntry, tokens: number, exact: boolean, out: number): GatewayError {
  const how = exact ? "" : " (estimated)";
  return new GatewayError(
    "INVALID_ARGUMENT",
    "CONTEXT_LENGTH_EXCEEDED",
    `prompt of ${tokens} tokens${how} + max_tokens ${out} exceeds the context window of ${entry.id} (${entry.contextWindow} tokens)`,
    {
      metadata: {
        model: entry.id,
        prompt_tokens: String(tokens),
        max_tokens: String(out),
        context_window: String(entry.contextWindow),
      },
    },
  );
}

/**
 * Throws CONTEXT_LENGTH_EXCEEDED (with the numbers) when the request cannot fit the model's window.
 * Returns undefined when the estimate settles it, a promise only when an exact count is needed.
 */
export function checkContextWindow(
  entry: CatalogEntry | undefined,
  req: ChatRequest,
): Promise<void> | undefined {
  if (!entry?.contextWindow) return undefined;
  const window = entry.contextWindow;
  const out = req.maxTokens ?? 0;
  const estimate = estimateTokens(req.messages, toolChars(req));
  if (estimate + out <= window * SAFE_SHARE) return undefined;
  if (entry.tokenizer === "estimate") {
    if (estimate + out > window * ESTIMATE_SLACK) throw refuse(entry, estimate, false, out);
    return undefined;
  }
  return countPromptTokens(entry, req.messages, req.tools).then((r) => {
    if (r.tokens + out > window) throw refuse(entry, r.tokens, r.exact, out);
  });
}
