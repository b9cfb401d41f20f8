// Pure translation for Hugging Face's feature-extraction pipeline: EmbedRequest -> `{inputs}`, and
// its JSON array (one pooled vector per input, or token-level rows to mean-pool) -> EmbedResponse.

import {
  EmbeddingSchema,
  type EmbedRequest,
  type EmbedResponse,
  EmbedResponseSchema,
  UsageSchema,
} from "../../../gen/llmgateway/v1/llm_pb.js";
import { tokensOf } from "../../catalog/tokens.js";
import { GatewayError, UpstreamError } from "../../errors.js";
import { create } from "../../lib/create.js";

/** POST {embedBaseUrl}/{model}/pipeline/feature-extraction body. */
export interface HFFeatureExtractionRequest {
  inputs: string[];
}

/** How parameters the pipeline cannot honour are handled (same policy as the chat side). */
export interface HFEmbedOptions {
  provider: string;
  unsupportedParams?: "reject" | "warn";
  warn?: (msg: string) => void;
}

function unsupported(param: string, o: HFEmbedOptions): void {
  const msg = `parameter "${param}" is not supported by provider "${o.provider}" for embeddings`;
  if (o.unsupportedParams === "warn") {
    o.warn?.(`${msg}; dropped`);
    return;
  }
  throw new GatewayError("INVALID_ARGUMENT", "UNSUPPORTED_PARAMETER", msg, {
    metadata: { parameter: param, provider: o.provider },
  });
}

/** The pipeline URL; each segment of an "org/model" id is encoded, the slash kept. */
export function featureExtractionUrl(base: string, model: string): string {
  const path = model.split("/").map(encodeURIComponent).join("/");
  return `${base.replace(/\/+$/, "")}/${path}/pipeline/feature-extraction`;
}

/** EmbedRequest -> body; `dimensions` (no server-side truncation) and `user` are unsupported. */
export function toHFFeatureExtractionRequest(
  req: EmbedRequest,
  o: HFEmbedOptions,
): HFFeatureExtractionRequest {
  if (req.dimensions !== undefined) unsupported("dimensions", o);
  if (req.user !== "") unsupported("user", o);
  return { inputs: req.inputs };
}

const isVector = (v: unknown): v is number[] =>
  Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "number" && Number.isFinite(x));

/** Averages token-level rows into one vector (what sentence-transformers' mean pooling does). */
export function meanPool(rows: number[][]): number[] {
  const dims = rows[0]?.length ?? 0;
  const out = new Array<number>(dims).fill(0);
  for (const row of rows) for (let i = 0; i < dims; i++) out[i]! += row[i]!;
  for (let i = 0; i < dims; i++) out[i]! /= rows.length;
  return out;
}

/** Who answered and what was asked. */
export interface HFEmbedContext {
  provider: string;
  model: string;
  /** Number of inputs sent. */
  count: number;
  /** Characters of all inputs, for the chars/4 usage estimate (HF reports no usage). */
  inputChars: number;
}

/** Feature-extraction JSON -> EmbedResponse; token-level (2D per input) answers are mean-pooled. */
export function fromHFFeatureExtraction(json: unknown, ctx: HFEmbedContext): EmbedResponse {
  const protocol = (msg: string) => new UpstreamError("protocol", msg, ctx.provider, { model: ctx.model });
  if (!Array.isArray(json)) throw protocol("feature-extraction answer is not an array");
  const items: unknown[] = ctx.count === 1 && isVector(json) ? [json] : json;
  if (items.length !== ctx.count) throw protocol(`expected ${ctx.count} embeddings, got ${items.length}`);
  const embeddings = items.map((item, index) => {
    if (isVector(item)) return create(EmbeddingSchema, { values: item, index });
    if (Array.isArray(item) && item.length > 0 && item.every(isVector)) {
      const rows = item as number[][];
      if (rows.some((r) => r.length !== rows[0]!.length)) throw protocol(`embedding ${index}: ragged rows`);
      return create(EmbeddingSchema, { values: meanPool(rows), index });
    }
    throw protocol(`embedding ${index} is not a vector`);
  });
  const input = tokensOf(ctx.inputChars);
  return create(EmbedResponseSchema, {
    model: ctx.model,
    provider: ctx.provider,
    embeddings,
    usage: create(UsageSchema, { inputTokens: input, totalTokens: input, estimated: true }),
  });
}
