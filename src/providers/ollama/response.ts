// Pure translation of Ollama response JSON (/api/chat, /api/embed, /api/tags) into the contract's
// messages. Upstream JSON is untrusted: shape errors become UpstreamError("protocol").

import {
  Capability,
  type ChatResponse,
  ChatResponseSchema,
  ContentPartSchema,
  EmbeddingSchema,
  type EmbedResponse,
  EmbedResponseSchema,
  FinishReason,
  MessageSchema,
  type ModelInfo,
  ModelInfoSchema,
  Role,
  type ToolCall,
  ToolCallSchema,
  type Usage,
  UsageSchema,
} from "../../../gen/llmgateway/v1/llm_pb.js";
import { tokensOf } from "../../catalog/tokens.js";
import { UpstreamError } from "../../errors.js";
import { create } from "../../lib/create.js";
import { fromOllamaBodyError } from "./errors.js";
import type {
  OllamaChatResponse,
  OllamaDoneReason,
  OllamaEmbedResponse,
  OllamaTagsResponse,
  OllamaToolCall,
} from "./wire.js";

/** Who answered and what was asked, for errors, ids and estimates. */
export interface OllamaResponseContext {
  provider: string;
  /** The upstream model requested (used when the body names none). */
  model: string;
  /** Ollama has no completion ids: the provider makes one per call. */
  id: string;
  /** Prompt characters, for the chars/4 estimate when Ollama reports no counts. */
  promptChars?: number;
  /** Pass `message.thinking` on (ChatResponse.reasoning / Delta.reasoning). */
  includeReasoning?: boolean;
}

function protocol(ctx: { provider: string; model: string }, message: string): UpstreamError {
  return new UpstreamError("protocol", message, ctx.provider, { model: ctx.model });
}

/** The one done_reason table; "stop" with tool calls is TOOL_CALLS; anything unknown is a protocol error. */
export function mapDoneReason(
  reason: string | undefined,
  hasToolCalls: boolean,
  ctx: { provider: string; model: string },
): FinishReason {
  const r = reason as OllamaDoneReason;
  switch (r) {
    case "stop":
      return hasToolCalls ? FinishReason.TOOL_CALLS : FinishReason.STOP;
    case "length":
      return FinishReason.LENGTH;
    case "load":
    case "unload":
      throw protocol(ctx, `done_reason "${r}": the server (un)loaded the model instead of answering`);
    default: {
      const unknown: never = r;
      throw protocol(ctx, `unknown done_reason ${JSON.stringify(unknown ?? null)}`);
    }
  }
}

const count = (v: unknown): number | undefined =>
  typeof v === "number" && Number.isFinite(v) && v >= 0 ? Math.floor(v) : undefined;

/**
 * prompt_eval_count / eval_count -> Usage. Ollama leaves prompt_eval_count out when the whole
 * prompt came from its KV cache: a missing count is estimated (chars / 4) and flagged.
 */
export function mapUsage(b: OllamaChatResponse, promptChars: number, outChars: number): Usage {
  const inCount = count(b.prompt_eval_count);
  const outCount = count(b.eval_count);
  const input = inCount ?? tokensOf(promptChars);
  const output = outCount ?? tokensOf(outChars);
  return create(UsageSchema, {
    inputTokens: input,
    outputTokens: output,
    totalTokens: input + output,
    estimated: inCount === undefined || outCount === undefined,
  });
}

/** Arguments as the contract's JSON text (Ollama sends an object; a string passes verbatim). */
export function argumentsJson(call: OllamaToolCall): string {
  const args: unknown = call.function?.arguments;
  return typeof args === "string" ? args : JSON.stringify(args ?? {});
}

/** Ollama's tool calls with generated ids `call_<n>`, n counting from `first`. */
export function mapToolCalls(calls: unknown, first: number, ctx: OllamaResponseContext): ToolCall[] {
  if (calls === undefined || calls === null) return [];
  if (!Array.isArray(calls)) throw protocol(ctx, "tool_calls is not an array");
  return (calls as OllamaToolCall[]).map((c, j) => {
    const name = c?.function?.name;
    if (typeof name !== "string" || name === "") throw protocol(ctx, "tool call without a function name");
    return create(ToolCallSchema, { id: `call_${first + j}`, name, argumentsJson: argumentsJson(c) });
  });
}

/** /api/chat JSON (stream: false) -> ChatResponse. */
export function fromOllamaChatResponse(json: unknown, ctx: OllamaResponseContext): ChatResponse {
  if (typeof json !== "object" || json === null) throw protocol(ctx, "response is not an object");
  const body = json as OllamaChatResponse;
  if (typeof body.error === "string") throw fromOllamaBodyError(body.error, ctx.provider, ctx.model);
  if (body.done !== true) throw protocol(ctx, "response is not done");
  const m = typeof body.message === "object" && body.message !== null ? body.message : {};
  const text = typeof m.content === "string" ? m.content : "";
  const calls = mapToolCalls(m.tool_calls, 0, ctx);
  let outChars = text.length;
  for (const c of calls) outChars += c.argumentsJson.length;
  return create(ChatResponseSchema, {
    id: ctx.id,
    model: typeof body.model === "string" && body.model !== "" ? body.model : ctx.model,
    provider: ctx.provider,
    message: create(MessageSchema, {
      role: Role.ASSISTANT,
      content: text === "" ? [] : [create(ContentPartSchema, { part: { case: "text", value: text } })],
      toolCalls: calls,
    }),
    finishReason: mapDoneReason(body.done_reason, calls.length > 0, ctx),
    usage: mapUsage(body, ctx.promptChars ?? 0, outChars),
    reasoning: ctx.includeReasoning === true && typeof m.thinking === "string" ? m.thinking : "",
  });
}

/** /api/embed JSON -> EmbedResponse; `count` inputs expected, `inputChars` for the estimate. */
export function fromOllamaEmbeddings(
  json: unknown,
  ctx: { provider: string; model: string; count: number; inputChars: number },
): EmbedResponse {
  const body = json as OllamaEmbedResponse | null;
  if (typeof body !== "object" || body === null || !Array.isArray(body.embeddings)) {
    throw protocol(ctx, "embed response has no embeddings array");
  }
  if (body.embeddings.length !== ctx.count) {
    throw protocol(ctx, `expected ${ctx.count} embeddings, got ${body.embeddings.length}`);
  }
  const embeddings = body.embeddings.map((values, index) => {
    if (!Array.isArray(values) || values.some((x) => typeof x !== "number")) {
      throw protocol(ctx, `embedding ${index} is not a vector`);
    }
    return create(EmbeddingSchema, { values, index });
  });
  const reported = count(body.prompt_eval_count);
  const input = reported ?? tokensOf(ctx.inputChars);
  return create(EmbedResponseSchema, {
    model: typeof body.model === "string" && body.model !== "" ? body.model : ctx.model,
    provider: ctx.provider,
    embeddings,
    usage: create(UsageSchema, { inputTokens: input, totalTokens: input, estimated: reported === undefined }),
  });
}

/** GET /api/tags JSON -> ModelInfo[]; capabilities guessed from the name (the catalog knows better). */
export function fromOllamaTags(json: unknown, provider: string): ModelInfo[] {
  const body = json as OllamaTagsResponse | null;
  if (typeof body !== "object" || body === null || !Array.isArray(body.models)) {
    throw new UpstreamError("protocol", "model list has no models array", provider);
  }
  const out: ModelInfo[] = [];
  for (const m of body.models) {
    const name = typeof m?.name === "string" && m.name !== "" ? m.name : m?.model;
    if (typeof name !== "string" || name === "") continue;
    const capabilities = name.toLowerCase().includes("embed")
      ? [Capability.EMBEDDINGS]
      : [Capability.CHAT, Capability.STREAM, Capability.TOOLS];
    out.push(
      create(ModelInfoSchema, { id: `${provider}/${name}`, provider, upstreamModel: name, capabilities }),
    );
  }
  return out;
}
