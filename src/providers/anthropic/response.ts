// Pure translation of Anthropic response JSON (a message, the model list) into the contract's
// messages. Upstream JSON is untrusted: shape errors become UpstreamError("protocol").

import {
  Capability,
  type ChatResponse,
  ChatResponseSchema,
  type ContentPart,
  ContentPartSchema,
  FinishReason,
  MessageSchema,
  type ModelInfo,
  ModelInfoSchema,
  ReasoningSchema,
  Role,
  type ToolCall,
  ToolCallSchema,
  type Usage,
  UsageSchema,
} from "../../../gen/llmgateway/v1/llm_pb.js";
import { UpstreamError } from "../../errors.js";
import { create } from "../../lib/create.js";
import { estimateUsage, tokenCount } from "../usage.js";
import { ANTHROPIC_WIRE } from "./content.js";
import type { AntMessagesResponse, AntModelsList, AntStopReason, AntUsage } from "./wire.js";

/** Who answered and what was asked, for errors, ids, estimates and reasoning. */
export interface AnthropicResponseContext {
  provider: string;
  /** The upstream model requested (used when the body names none). */
  model: string;
  /** Pass unsigned thinking text on too (signed thinking always goes: the next turn needs it). */
  includeReasoning?: boolean;
  /** Prompt characters, for the chars/4 estimate when the upstream reports no usage. */
  promptChars?: number;
}

/** A protocol error naming the provider and model. */
export function protocolError(ctx: AnthropicResponseContext, message: string): UpstreamError {
  return new UpstreamError("protocol", message, ctx.provider, { model: ctx.model });
}

/**
 * The one stop_reason table; an unknown reason is a protocol error, never a silent STOP.
 * pause_turn (a server tool paused a long turn) ends this call normally: the caller may continue.
 */
export function mapStopReason(
  reason: string | null | undefined,
  ctx: AnthropicResponseContext,
): FinishReason {
  const r = reason as AntStopReason;
  switch (r) {
    case "end_turn":
    case "stop_sequence":
    case "pause_turn":
      return FinishReason.STOP;
    case "max_tokens":
    case "model_context_window_exceeded":
      return FinishReason.LENGTH;
    case "tool_use":
      return FinishReason.TOOL_CALLS;
    case "refusal":
      return FinishReason.CONTENT_FILTER;
    default: {
      const unknown: never = r;
      throw protocolError(ctx, `unknown stop_reason ${JSON.stringify(unknown ?? null)}`);
    }
  }
}

const n = tokenCount;

/** Anthropic usage -> Usage: input_tokens counts cache reads and writes, as the contract wants. */
export function mapUsage(u: AntUsage): Usage {
  const cacheRead = n(u.cache_read_input_tokens);
  const cacheWrite = n(u.cache_creation_input_tokens);
  const input = n(u.input_tokens) + cacheRead + cacheWrite;
  const output = n(u.output_tokens);
  return create(UsageSchema, {
    inputTokens: input,
    outputTokens: output,
    totalTokens: input + output,
    cachedInputTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
    reasoningTokens: n(u.output_tokens_details?.thinking_tokens),
  });
}

/** A signed (or redacted) thinking block -> a Reasoning content part for the next turn. */
function reasoningPart(state: { text?: string; signature?: string; redactedData?: string }): ContentPart {
  return create(ContentPartSchema, {
    part: { case: "reasoning", value: create(ReasoningSchema, { ...state, provider: ANTHROPIC_WIRE }) },
  });
}

/**
 * Messages JSON -> ChatResponse: text blocks joined, tool_use as tool calls. Signed thinking and
 * redacted_thinking become Reasoning parts before the text (always: the next turn needs them), and
 * their text is `reasoning`; unsigned thinking (never from Anthropic itself) only on request.
 */
export function fromAnthropicResponse(json: unknown, ctx: AnthropicResponseContext): ChatResponse {
  const body = json as AntMessagesResponse | null;
  if (typeof body !== "object" || body === null || !Array.isArray(body.content)) {
    throw protocolError(ctx, "response has no content array");
  }
  let text = "";
  let reasoning = "";
  const content: ContentPart[] = [];
  const calls: ToolCall[] = [];
  for (const b of body.content) {
    if (typeof b !== "object" || b === null) continue;
    if (b.type === "text" && typeof b.text === "string") text += b.text;
    else if (b.type === "thinking" && typeof b.thinking === "string") {
      const signature = typeof b.signature === "string" ? b.signature : "";
      if (signature !== "") content.push(reasoningPart({ text: b.thinking, signature }));
      if (signature !== "" || ctx.includeReasoning) reasoning += b.thinking;
    } else if (b.type === "redacted_thinking" && typeof b.data === "string" && b.data !== "") {
      content.push(reasoningPart({ redactedData: b.data }));
    } else if (b.type === "tool_use") {
      if (typeof b.id !== "string" || typeof b.name !== "string") {
        throw protocolError(ctx, "tool_use block without id or name");
      }
      calls.push(
        create(ToolCallSchema, { id: b.id, name: b.name, argumentsJson: JSON.stringify(b.input ?? {}) }),
      );
    }
    // Server tool blocks and future types carry nothing the contract models.
  }
  if (text !== "") content.push(create(ContentPartSchema, { part: { case: "text", value: text } }));
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
    finishReason: mapStopReason(body.stop_reason, ctx),
    usage,
    reasoning,
    stopSequence: typeof body.stop_sequence === "string" ? body.stop_sequence : "",
  });
}

/** Every Claude model chats, streams, calls tools and reads images; the catalog knows the rest. */
const CLAUDE_CAPABILITIES = [Capability.CHAT, Capability.STREAM, Capability.TOOLS, Capability.VISION];

/** One page of GET /v1/models -> ModelInfo[] plus the cursor of the next page (undefined: last). */
export function fromAnthropicModels(json: unknown, provider: string): { models: ModelInfo[]; next?: string } {
  const body = json as AntModelsList | null;
  if (typeof body !== "object" || body === null || !Array.isArray(body.data)) {
    throw new UpstreamError("protocol", "model list has no data array", provider);
  }
  const models: ModelInfo[] = [];
  for (const m of body.data) {
    if (typeof m?.id !== "string" || m.id === "") continue;
    models.push(
      create(ModelInfoSchema, {
        id: `${provider}/${m.id}`,
        provider,
        upstreamModel: m.id,
        capabilities: [...CLAUDE_CAPABILITIES],
      }),
    );
  }
  const next = body.has_more === true && typeof body.last_id === "string" ? body.last_id : undefined;
  return next === undefined ? { models } : { models, next };
}
