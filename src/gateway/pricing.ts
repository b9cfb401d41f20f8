// What a call costs: the catalog entry of a deployment, a call's cost from its usage, the largest
// plausible cost of a plan (budget holds), and the tokens a call reserves against rate limits.

import type { ChatRequest, EmbedRequest, Usage } from "../../gen/llmgateway/v1/llm_pb.js";
import type { Catalog, CatalogEntry } from "../catalog/index.js";
import { estimateTokens, tokensOf } from "../catalog/tokens.js";
import { charsOf } from "../providers/usage.js";
import type { Deployment, Plan } from "../routing/index.js";

/** Tokens a call reserves against rate limits: its prompt's estimate and the total with the answer. */
export interface Reserve {
  prompt: number;
  total: number;
}

/** Prices from the catalog, by deployment. */
export class Pricing {
  constructor(private readonly catalog: Catalog) {}

  /** The catalog entry of a deployment: by its target, or by wire format for renamed providers. */
  entryFor(d: Deployment): CatalogEntry | undefined {
    return this.catalog.get(d.target) ?? this.catalog.get(`${d.provider.type}/${d.model}`);
  }

  /** Cost of a call in micro-USD from the catalog's prices; 0 when the model has none. */
  costMicros(d: Deployment | undefined, usage: Usage | undefined): number {
    if (!d || !usage) return 0;
    const entry = this.entryFor(d);
    return entry ? (this.catalog.costMicros(entry.id, usage) ?? 0) : 0;
  }

  /**
   * The largest plausible cost of a call (the prompt estimate at the input rate plus `maxOut` tokens at
   * the output rate, on the dearest deployment of the plan); at least 1 micro-USD, so a key whose budget
   * is spent is refused even for unpriced models.
   */
  maxCostMicros(plan: Plan, prompt: number, maxOut: number): number {
    let amount = 1;
    for (const d of plan.deployments) {
      const entry = this.entryFor(d);
      const m = entry ? this.catalog.maxCostMicros(entry.id, prompt, maxOut) : undefined;
      if (m !== undefined && m > amount) amount = m;
    }
    return amount;
  }
}

/** Tokens a chat call reserves: the prompt's estimate + max_tokens (or limits.default_output_reserve). */
export function chatReserve(req: ChatRequest, defaultOutputReserve: number): Reserve {
  const prompt = estimateTokens(req.messages);
  return { prompt, total: prompt + (req.maxTokens ?? defaultOutputReserve) };
}

/** Tokens an Embed call reserves: its inputs' estimate (no output). */
export function embedReserve(req: EmbedRequest): Reserve {
  const n = tokensOf(charsOf(req.inputs));
  return { prompt: n, total: n };
}
