// Turns an Anthropic Messages event stream (parsed SSE events) into the contract's stream: one
// `start` (message_start), non-empty `delta`s (text, tool-call fragments, reasoning text and state
// by reasoning part), one `end`.

import {
  type ChatStreamResponse,
  ChatStreamResponseSchema,
  DeltaSchema,
  type FinishReason,
  ReasoningSchema,
  type ToolCallDelta,
  ToolCallDeltaSchema,
} from "../../../gen/llmgateway/v1/llm_pb.js";
import { UpstreamError } from "../../errors.js";
import { create } from "../../lib/create.js";
import type { SSEEvent } from "../stream-parse.js";
import { estimateUsage } from "../usage.js";
import { ANTHROPIC_WIRE } from "./content.js";
import { fromAnthropicStreamError } from "./errors.js";
import { type AnthropicResponseContext, mapStopReason, mapUsage, protocolError } from "./response.js";
import type { AntStreamEvent, AntUsage } from "./wire.js";

function parseEvent(ev: SSEEvent, ctx: AnthropicResponseContext): AntStreamEvent {
  let v: unknown;
  try {
    v = JSON.parse(ev.data);
  } catch (e: unknown) {
    throw new UpstreamError("protocol", `stream event "${ev.event}" is not JSON`, ctx.provider, {
      model: ctx.model,
      cause: e,
    });
  }
  if (typeof v !== "object" || v === null) throw protocolError(ctx, "stream event is not an object");
  const out = v as AntStreamEvent;
  if (typeof out.type !== "string") out.type = ev.event;
  return out;
}

/** Later usage reports overwrite earlier ones field by field (message_delta carries totals). */
function mergeUsage(into: AntUsage | undefined, u: AntUsage | null | undefined): AntUsage | undefined {
  if (typeof u !== "object" || u === null) return into;
  const out: AntUsage = { ...into };
  for (const [k, v] of Object.entries(u)) {
    if (v !== null && v !== undefined) (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

function delta(text: string, reasoning: string, calls: ToolCallDelta[]): ChatStreamResponse {
  return create(ChatStreamResponseSchema, {
    event: { case: "delta", value: { text, reasoning, toolCalls: calls } },
  });
}

/** Reasoning text or state of reasoning part `index`. */
function reasoningDelta(
  index: number,
  text: string,
  state?: { signature?: string; redactedData?: string },
): ChatStreamResponse {
  const value = create(DeltaSchema, { reasoning: text, reasoningIndex: index });
  if (state !== undefined)
    value.reasoningState = create(ReasoningSchema, { ...state, provider: ANTHROPIC_WIRE });
  return create(ChatStreamResponseSchema, { event: { case: "delta", value } });
}

/** A tool_use block being streamed: its 0-based position among the turn's tool calls. */
interface ToolBlock {
  index: number;
  sawArgs: boolean;
}

/**
 * A thinking / redacted_thinking block being streamed: its 0-based position among the turn's
 * reasoning parts, and its state, sent once at content_block_stop (signature_delta may come in
 * pieces; redacted data comes whole with content_block_start).
 */
interface ReasoningBlock {
  index: number;
  signature: string;
  redactedData: string;
}

/**
 * Translates one upstream stream. Ends at message_stop (a stream that ends before it is
 * "stream_interrupted"); an `error` event is classified like an HTTP error body. A tool call whose
 * input streamed no JSON gets `{}` at its content_block_stop, as the unary answer would have.
 */
export async function* translateAnthropicStream(
  events: AsyncIterable<SSEEvent>,
  ctx: AnthropicResponseContext,
): AsyncGenerator<ChatStreamResponse> {
  let started = false;
  let finish: FinishReason | undefined;
  let usage: AntUsage | undefined;
  let outChars = 0;
  let stopSequence = "";
  const tools = new Map<number, ToolBlock>(); // content block index -> tool call
  const thoughts = new Map<number, ReasoningBlock>(); // content block index -> reasoning part
  const start = (id: string, model: string) => {
    started = true;
    return create(ChatStreamResponseSchema, {
      event: { case: "start", value: { id, model: model || ctx.model, provider: ctx.provider } },
    });
  };
  for await (const ev of events) {
    const e = parseEvent(ev, ctx);
    switch (e.type) {
      case "ping":
        break;
      case "error":
        throw fromAnthropicStreamError(e.error, ctx.provider, ctx.model);
      case "message_start": {
        const m = e.message ?? {};
        usage = mergeUsage(usage, m.usage);
        if (!started) yield start(typeof m.id === "string" ? m.id : "", m.model ?? "");
        break;
      }
      case "content_block_start": {
        if (!started) yield start("", "");
        const b = e.content_block;
        if (b?.type === "tool_use") {
          if (typeof e.index !== "number") throw protocolError(ctx, "content_block_start without index");
          const tool: ToolBlock = { index: tools.size, sawArgs: false };
          tools.set(e.index, tool);
          const frag = create(ToolCallDeltaSchema, { index: tool.index, id: b.id ?? "", name: b.name ?? "" });
          yield delta("", "", [frag]);
        } else if (b?.type === "text" && typeof b.text === "string" && b.text !== "") {
          outChars += b.text.length;
          yield delta(b.text, "", []);
        } else if (b?.type === "thinking" || b?.type === "redacted_thinking") {
          if (typeof e.index !== "number") throw protocolError(ctx, "content_block_start without index");
          const r: ReasoningBlock = {
            index: thoughts.size,
            signature: typeof b.signature === "string" ? b.signature : "",
            redactedData: b.type === "redacted_thinking" && typeof b.data === "string" ? b.data : "",
          };
          thoughts.set(e.index, r);
          if (typeof b.thinking === "string" && b.thinking !== "") yield reasoningDelta(r.index, b.thinking);
        }
        break;
      }
      case "content_block_delta": {
        if (!started) yield start("", "");
        const d = e.delta ?? {};
        if (d.type === "text_delta" && typeof d.text === "string" && d.text !== "") {
          outChars += d.text.length;
          yield delta(d.text, "", []);
        } else if (d.type === "input_json_delta" && typeof d.partial_json === "string") {
          const tool = tools.get(e.index ?? -1);
          if (tool === undefined) throw protocolError(ctx, "input_json_delta outside a tool_use block");
          if (d.partial_json === "") break;
          tool.sawArgs = true;
          outChars += d.partial_json.length;
          const frag = create(ToolCallDeltaSchema, { index: tool.index, argumentsDelta: d.partial_json });
          yield delta("", "", [frag]);
        } else if (d.type === "thinking_delta" && typeof d.thinking === "string") {
          const r = thoughts.get(e.index ?? -1);
          if (r === undefined) throw protocolError(ctx, "thinking_delta outside a thinking block");
          if (d.thinking !== "") yield reasoningDelta(r.index, d.thinking);
        } else if (d.type === "signature_delta" && typeof d.signature === "string") {
          const r = thoughts.get(e.index ?? -1);
          if (r === undefined) throw protocolError(ctx, "signature_delta outside a thinking block");
          r.signature += d.signature;
        }
        // citations_delta and future delta types carry nothing the contract models.
        break;
      }
      case "content_block_stop": {
        const r = thoughts.get(e.index ?? -1);
        if (r !== undefined && (r.signature !== "" || r.redactedData !== "")) {
          const state = r.redactedData !== "" ? { redactedData: r.redactedData } : { signature: r.signature };
          r.signature = "";
          r.redactedData = "";
          yield reasoningDelta(r.index, "", state);
        }
        const tool = tools.get(e.index ?? -1);
        if (tool !== undefined && !tool.sawArgs) {
          tool.sawArgs = true;
          yield delta("", "", [create(ToolCallDeltaSchema, { index: tool.index, argumentsDelta: "{}" })]);
        }
        break;
      }
      case "message_delta":
        usage = mergeUsage(usage, e.usage);
        if (typeof e.delta?.stop_reason === "string") finish = mapStopReason(e.delta.stop_reason, ctx);
        if (typeof e.delta?.stop_sequence === "string") stopSequence = e.delta.stop_sequence;
        break;
      case "message_stop": {
        if (finish === undefined) throw protocolError(ctx, "stream ended without a stop_reason");
        if (!started) yield start("", "");
        yield create(ChatStreamResponseSchema, {
          event: {
            case: "end",
            value: {
              finishReason: finish,
              stopSequence,
              usage: usage === undefined ? estimateUsage(ctx.promptChars ?? 0, outChars) : mapUsage(usage),
            },
          },
        });
        return;
      }
      default:
        break; // Anthropic may add event types; unknown ones are skipped, as its docs ask.
    }
  }
  throw new UpstreamError("stream_interrupted", "stream ended before message_stop", ctx.provider, {
    model: ctx.model,
  });
}
