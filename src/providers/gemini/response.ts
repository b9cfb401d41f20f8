// Pure translation of Gemini response JSON (generateContent, embeddings, model list) into the
// contract's messages. Upstream JSON is untrusted: shape errors become UpstreamError("protocol").

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
import { tokensOf } from "../../catalog/tokens.js";
import { UpstreamError } from "../../errors.js";
import { create } from "../../lib/create.js";
import { estimateUsage, tokenCount } from "../usage.js";
import { GEMINI_WIRE } from "./content.js";
import type { GEmbedResponse, GFinishReason, GGenerateResponse, GModelList, GPart, GUsage } from "./wire.js";

/** Who answered and what was asked, for errors, ids and estimates. */
export interface GeminiResponseContext {
  provider: string;
  /** The upstream model requested (used when the body names none). */
  model: string;
  /** Prompt characters, for the chars/4 estimate when Gemini reports no usage. */
  promptChars?: number;
  /** Return thought parts as `reasoning` (ReasoningOptions.include_reasoning). */
  includeReasoning?: boolean;
}

function protocol(ctx: GeminiResponseContext, message: string): UpstreamError {
  return new UpstreamError("protocol", message, ctx.provider, { model: ctx.model });
}

/**
 * The one finish-reason table. Decisions beyond the obvious: OTHER and LANGUAGE (Gemini stopped
 * for a reason it does not name / an unsupported language) are CONTENT_FILTER, the answer being
 * cut by the provider, never a silent STOP; CONTINUATION (per-request token limit, resumable) is
 * LENGTH; NO_IMAGE (no image where one was expected; the text is complete) is STOP;
 * MALFORMED_FUNCTION_CALL, UNEXPECTED_TOOL_CALL, TOO_MANY_TOOL_CALLS, FINISH_REASON_UNSPECIFIED
 * and anything unknown are protocol errors.
 */
export function mapGeminiFinishReason(
  reason: string | undefined,
  hasCalls: boolean,
  ctx: GeminiResponseContext,
): FinishReason {
  const r = reason as GFinishReason;
  switch (r) {
    case "STOP":
    case "NO_IMAGE":
      return hasCalls ? FinishReason.TOOL_CALLS : FinishReason.STOP;
    case "MAX_TOKENS":
    case "CONTINUATION":
      return FinishReason.LENGTH;
    case "SAFETY":
    case "RECITATION":
    case "BLOCKLIST":
    case "PROHIBITED_CONTENT":
    case "SPII":
    case "IMAGE_SAFETY":
    case "IMAGE_PROHIBITED_CONTENT":
    case "IMAGE_RECITATION":
    case "IMAGE_OTHER":
    case "OTHER":
    case "LANGUAGE":
      return FinishReason.CONTENT_FILTER;
    case "MALFORMED_FUNCTION_CALL":
    case "UNEXPECTED_TOOL_CALL":
    case "TOO_MANY_TOOL_CALLS":
      throw protocol(ctx, `model produced an invalid function call (${r})`);
    case "FINISH_REASON_UNSPECIFIED":
      throw protocol(ctx, "finishReason FINISH_REASON_UNSPECIFIED");
    default: {
      const unknown: never = r;
      throw protocol(ctx, `unknown finishReason ${JSON.stringify(unknown ?? null)}`);
    }
  }
}

const n = tokenCount;

/** usageMetadata -> Usage: thoughts count as output and as reasoning tokens. */
export function mapGeminiUsage(u: GUsage): Usage {
  const input = n(u.promptTokenCount) + n(u.toolUsePromptTokenCount);
  const reasoning = n(u.thoughtsTokenCount);
  const output = n(u.candidatesTokenCount) + reasoning;
  return create(UsageSchema, {
    inputTokens: input,
    outputTokens: output,
    totalTokens: n(u.totalTokenCount) || input + output,
    cachedInputTokens: n(u.cachedContentTokenCount),
    reasoningTokens: reasoning,
  });
}

/** A prompt Gemini refused to answer (HTTP 200, promptFeedback.blockReason, no candidates). */
export function blockedPrompt(
  body: GGenerateResponse,
  ctx: GeminiResponseContext,
): UpstreamError | undefined {
  const reason = body.promptFeedback?.blockReason;
  if (typeof reason !== "string" || reason === "") return undefined;
  if (Array.isArray(body.candidates) && body.candidates.length > 0) return undefined;
  const why = body.promptFeedback?.blockReasonMessage;
  return new UpstreamError(
    "content_filter",
    `prompt blocked (${reason})${typeof why === "string" && why !== "" ? `: ${why}` : ""}`,
    ctx.provider,
    { status: 200, model: ctx.model },
  );
}

/** The parts of the first candidate (we never ask for more than one). */
export function partsOf(body: GGenerateResponse): GPart[] {
  const parts = body.candidates?.[0]?.content?.parts;
  return Array.isArray(parts) ? parts.filter((p) => typeof p === "object" && p !== null) : [];
}

/** A part's thought signature, or "" when it has none. */
export function signatureOf(p: GPart): string {
  return typeof p.thoughtSignature === "string" ? p.thoughtSignature : "";
}

/**
 * A functionCall part as a ToolCall (with its thought signature, to send back on the next turn);
 * `n` numbers calls without an upstream id (`call_<n>`).
 */
export function toolCallOf(p: GPart, index: number): ToolCall | undefined {
  const f = p.functionCall;
  if (typeof f !== "object" || f === null) return undefined;
  const signature = signatureOf(p);
  return create(ToolCallSchema, {
    id: typeof f.id === "string" && f.id !== "" ? f.id : `call_${index}`,
    name: typeof f.name === "string" ? f.name : "",
    argumentsJson: JSON.stringify(f.args ?? {}),
    signature,
    signatureProvider: signature === "" ? "" : GEMINI_WIRE,
  });
}

/** A Reasoning content part carrying a Gemini thought signature. */
export function signedReasoning(text: string, signature: string): ContentPart {
  return create(ContentPartSchema, {
    part: { case: "reasoning", value: { text, signature, provider: GEMINI_WIRE } },
  });
}

/** generateContent JSON -> ChatResponse (first candidate). */
export function fromGeminiResponse(json: unknown, ctx: GeminiResponseContext): ChatResponse {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw protocol(ctx, "response is not a JSON object");
  }
  const body = json as GGenerateResponse;
  const blocked = blockedPrompt(body, ctx);
  if (blocked !== undefined) throw blocked;
  const candidate = Array.isArray(body.candidates) ? body.candidates[0] : undefined;
  if (candidate === undefined) throw protocol(ctx, "response has no candidates");
  let text = "";
  let reasoning = "";
  let run = ""; // the open thought run: thought text up to the part that signs it
  const signed: ContentPart[] = [];
  const calls: ToolCall[] = [];
  for (const p of partsOf(body)) {
    const call = toolCallOf(p, calls.length);
    const sig = signatureOf(p);
    if (call !== undefined) {
      calls.push(call);
      run = "";
    } else if (p.thought === true) {
      const t = typeof p.text === "string" ? p.text : "";
      reasoning += t;
      run += t;
      if (sig !== "") {
        signed.push(signedReasoning(run, sig));
        run = "";
      }
    } else {
      if (typeof p.text === "string") text += p.text;
      run = "";
      if (sig !== "") signed.push(signedReasoning("", sig)); // a text answer's signature
    }
  }
  const finishReason = mapGeminiFinishReason(candidate.finishReason, calls.length > 0, ctx);
  let usage: Usage;
  if (typeof body.usageMetadata === "object" && body.usageMetadata !== null) {
    usage = mapGeminiUsage(body.usageMetadata);
  } else {
    let out = text.length + reasoning.length;
    for (const c of calls) out += c.argumentsJson.length;
    usage = estimateUsage(ctx.promptChars ?? 0, out);
  }
  const content = signed;
  if (text !== "") content.push(create(ContentPartSchema, { part: { case: "text", value: text } }));
  return create(ChatResponseSchema, {
    id: typeof body.responseId === "string" ? body.responseId : "",
    model: typeof body.modelVersion === "string" && body.modelVersion !== "" ? body.modelVersion : ctx.model,
    provider: ctx.provider,
    message: create(MessageSchema, { role: Role.ASSISTANT, content, toolCalls: calls }),
    finishReason,
    usage,
    reasoning: ctx.includeReasoning ? reasoning : "",
  });
}

/**
 * embedContent / batchEmbedContents JSON -> EmbedResponse. Gemini reports no token counts for
 * embeddings: usage is the chars/4 estimate of `inputs`, flagged `estimated`.
 */
export function fromGeminiEmbeddings(
  json: unknown,
  ctx: GeminiResponseContext & { inputs: string[] },
): EmbedResponse {
  const body = (typeof json === "object" && json !== null ? json : {}) as GEmbedResponse;
  const list = Array.isArray(body.embeddings)
    ? body.embeddings
    : body.embedding
      ? [body.embedding]
      : undefined;
  if (list === undefined) throw protocol(ctx, "embeddings response has no embeddings");
  if (list.length !== ctx.inputs.length) {
    throw protocol(ctx, `expected ${ctx.inputs.length} embeddings, got ${list.length}`);
  }
  const embeddings = list.map((e, index) => {
    const values = e?.values;
    if (!Array.isArray(values)) throw protocol(ctx, `embedding ${index} has no values`);
    return create(EmbeddingSchema, { values, index });
  });
  const chars = ctx.inputs.reduce((s, t) => s + t.length, 0);
  const input = tokensOf(chars);
  return create(EmbedResponseSchema, {
    model: ctx.model,
    provider: ctx.provider,
    embeddings,
    usage: create(UsageSchema, { inputTokens: input, totalTokens: input, estimated: true }),
  });
}

/**
 * One page of GET models -> ModelInfo[]. generateContent means chat, stream and tools;
 * embedContent means embeddings; models offering neither (predict, generateAnswer, ...) are
 * left out because the gateway cannot call them.
 */
export function fromGeminiModels(json: unknown, provider: string): { models: ModelInfo[]; next?: string } {
  const body = (typeof json === "object" && json !== null ? json : {}) as GModelList;
  if (!Array.isArray(body.models)) {
    if (Object.keys(body).length === 0) return { models: [] }; // Google omits empty lists
    throw new UpstreamError("protocol", "model list has no models array", provider);
  }
  const models: ModelInfo[] = [];
  for (const m of body.models) {
    if (typeof m?.name !== "string" || m.name === "") continue;
    const id = m.name.startsWith("models/") ? m.name.slice("models/".length) : m.name;
    const methods = Array.isArray(m.supportedGenerationMethods) ? m.supportedGenerationMethods : [];
    const capabilities: Capability[] = [];
    if (methods.includes("generateContent")) {
      capabilities.push(Capability.CHAT, Capability.STREAM, Capability.TOOLS);
    }
    if (methods.includes("embedContent")) capabilities.push(Capability.EMBEDDINGS);
    if (capabilities.length === 0) continue;
    models.push(
      create(ModelInfoSchema, {
        id: `${provider}/${id}`,
        provider,
        upstreamModel: id,
        capabilities,
        contextWindow: n(m.inputTokenLimit),
        maxOutputTokens: n(m.outputTokenLimit),
      }),
    );
  }
  const next =
    typeof body.nextPageToken === "string" && body.nextPageToken !== "" ? body.nextPageToken : undefined;
  return next === undefined ? { models } : { models, next };
}
