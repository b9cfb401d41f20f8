// Pure translation of OpenAI response JSON (chat, embeddings, model list) into the contract's
// messages. Upstream JSON is untrusted: shape errors become UpstreamError("protocol").

import {
  Capability,
  type ChatResponse,
  ChatResponseSchema,
  type ContentPart,
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
import { UpstreamError } from "../../errors.js";
import { create } from "../../lib/create.js";
import { estimateUsage, reportedUsage, tokenCount } from "../usage.js";
import type {
  OAIChatResponse,
  OAIEmbeddingsResponse,
  OAIFinishReason,
  OAIModelsList,
  OAIResponseMessage,
  OAIUsage,
} from "./wire.js";

/** Who answered and what was asked, for errors, ids and estimates. */
export interface ResponseContext {
  provider: string;
  /** The upstream model requested (used when the body names none). */
  model: string;
  /** Prompt characters, for the chars/4 estimate when the upstream reports no usage. */
  promptChars?: number;
}

function protocol(ctx: ResponseContext, message: string): UpstreamError {
  return new UpstreamError("protocol", message, ctx.provider, { model: ctx.model });
}

/** The one finish-reason table; an unknown reason is a protocol error, never a silent STOP. */
export function mapFinishReason(reason: string | null | undefined, ctx: ResponseContext): FinishReason {
  const r = reason as OAIFinishReason;
  switch (r) {
    case "stop":
    case "eos":
      return FinishReason.STOP;
    case "length":
    case "model_length":
      return FinishReason.LENGTH;
    case "tool_calls":
    case "function_call":
      return FinishReason.TOOL_CALLS;
    case "content_filter":
      return FinishReason.CONTENT_FILTER;
    default: {
      const unknown: never = r;
      throw protocol(ctx, `unknown finish_reason ${JSON.stringify(unknown ?? null)}`);
    }
  }
}

const n = tokenCount;

/** OpenAI usage -> Usage; cached and reasoning tokens come from the *_details objects. */
export function mapUsage(u: OAIUsage): Usage {
  return reportedUsage({
    input: u.prompt_tokens,
    output: u.completion_tokens,
    total: u.total_tokens,
    cached: u.prompt_tokens_details?.cached_tokens,
    reasoning: u.completion_tokens_details?.reasoning_tokens,
  });
}

function toolCalls(m: OAIResponseMessage): ToolCall[] {
  const calls = m.tool_calls;
  if (Array.isArray(calls)) {
    return calls.map((c) =>
      create(ToolCallSchema, {
        id: c.id ?? "",
        name: c.function?.name ?? "",
        argumentsJson: c.function?.arguments ?? "",
      }),
    );
  }
  const f = m.function_call;
  return f ? [create(ToolCallSchema, { name: f.name ?? "", argumentsJson: f.arguments ?? "" })] : [];
}

/** Chat-completions JSON -> ChatResponse (first choice; `n` > 1 is never requested). */
export function fromOpenAIChatResponse(json: unknown, ctx: ResponseContext): ChatResponse {
  const body = json as OAIChatResponse | null;
  if (typeof body !== "object" || body === null || !Array.isArray(body.choices)) {
    throw protocol(ctx, "response has no choices array");
  }
  const choice = body.choices[0];
  if (choice === undefined) throw protocol(ctx, "response has no choices");
  const m: OAIResponseMessage =
    typeof choice.message === "object" && choice.message !== null ? choice.message : {};
  const text = typeof m.content === "string" && m.content !== "" ? m.content : m.refusal || "";
  const content: ContentPart[] =
    text === "" ? [] : [create(ContentPartSchema, { part: { case: "text", value: text } })];
  const calls = toolCalls(m);
  let usage: Usage;
  if (typeof body.usage === "object" && body.usage !== null) usage = mapUsage(body.usage);
  else {
    let out = text.length;
    for (const c of calls) out += c.argumentsJson.length;
    usage = estimateUsage(ctx.promptChars ?? 0, out);
  }
  return create(ChatResponseSchema, {
    id: typeof body.id === "string" ? body.id : "",
    model: typeof body.model === "string" && body.model !== "" ? body.model : ctx.model,
    provider: ctx.provider,
    message: create(MessageSchema, { role: Role.ASSISTANT, content, toolCalls: calls }),
    finishReason: mapFinishReason(choice.finish_reason, ctx),
    usage,
  });
}

function decodeBase64Floats(b64: string): number[] {
  // float32 little-endian, as OpenAI sends it (and as every host we run on stores floats).
  const bytes = Buffer.from(b64, "base64");
  const len = bytes.length >>> 2;
  const floats =
    bytes.byteOffset % 4 === 0
      ? new Float32Array(bytes.buffer, bytes.byteOffset, len)
      : new Float32Array(Uint8Array.prototype.slice.call(bytes, 0, len * 4).buffer);
  return Array.from(floats);
}

/** Embeddings JSON -> EmbedResponse, vectors in input order; `count` is the number of inputs. */
export function fromOpenAIEmbeddings(json: unknown, ctx: ResponseContext & { count: number }): EmbedResponse {
  const body = json as OAIEmbeddingsResponse | null;
  if (typeof body !== "object" || body === null || !Array.isArray(body.data)) {
    throw protocol(ctx, "embeddings response has no data array");
  }
  if (body.data.length !== ctx.count) {
    throw protocol(ctx, `expected ${ctx.count} embeddings, got ${body.data.length}`);
  }
  const embeddings = body.data.map((d, i) => {
    const e = d.embedding;
    const values = typeof e === "string" ? decodeBase64Floats(e) : Array.isArray(e) ? e : undefined;
    if (values === undefined) throw protocol(ctx, `embedding ${i} has no vector`);
    return create(EmbeddingSchema, { values, index: typeof d.index === "number" ? d.index : i });
  });
  embeddings.sort((a, b) => a.index - b.index);
  const input = n(body.usage?.prompt_tokens);
  return create(EmbedResponseSchema, {
    model: typeof body.model === "string" && body.model !== "" ? body.model : ctx.model,
    provider: ctx.provider,
    embeddings,
    usage: create(UsageSchema, { inputTokens: input, totalTokens: n(body.usage?.total_tokens) || input }),
  });
}

const EMBEDDING_MODEL = /embed|\bbge-|\bgte-|\be5-/i;

/** GET /models JSON -> ModelInfo[]; capabilities are guessed from the name (the catalog knows better). */
export function fromOpenAIModels(json: unknown, provider: string): ModelInfo[] {
  const body = json as OAIModelsList | null;
  if (typeof body !== "object" || body === null || !Array.isArray(body.data)) {
    throw new UpstreamError("protocol", "model list has no data array", provider);
  }
  const out: ModelInfo[] = [];
  for (const m of body.data) {
    if (typeof m?.id !== "string" || m.id === "") continue;
    const capabilities = EMBEDDING_MODEL.test(m.id)
      ? [Capability.EMBEDDINGS]
      : [Capability.CHAT, Capability.STREAM, Capability.TOOLS];
    out.push(
      create(ModelInfoSchema, { id: `${provider}/${m.id}`, provider, upstreamModel: m.id, capabilities }),
    );
  }
  return out;
}
