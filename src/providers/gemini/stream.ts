// Turns a Gemini streamGenerateContent?alt=sse body (parsed SSE events, each a whole
// GenerateContentResponse) into the contract's stream: one `start`, non-empty `delta`s, one `end`.

import {
  type ChatStreamResponse,
  ChatStreamResponseSchema,
  type FinishReason,
  type Reasoning,
  ReasoningSchema,
  type ToolCallDelta,
  ToolCallDeltaSchema,
  type Usage,
} from "../../../gen/llmgateway/v1/llm_pb.js";
import { UpstreamError } from "../../errors.js";
import { create } from "../../lib/create.js";
import type { SSEEvent } from "../stream-parse.js";
import { estimateUsage } from "../usage.js";
import { GEMINI_WIRE } from "./content.js";
import { fromGeminiStreamError } from "./errors.js";
import {
  blockedPrompt,
  type GeminiResponseContext,
  mapGeminiFinishReason,
  mapGeminiUsage,
  partsOf,
  signatureOf,
  toolCallOf,
} from "./response.js";
import type { GGenerateResponse } from "./wire.js";

function parseChunk(data: string, ctx: GeminiResponseContext): GGenerateResponse {
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch (e: unknown) {
    throw new UpstreamError("protocol", "stream event is not JSON", ctx.provider, {
      model: ctx.model,
      cause: e,
    });
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new UpstreamError("protocol", "stream event is not an object", ctx.provider, { model: ctx.model });
  }
  return v as GGenerateResponse;
}

/**
 * One chunk's deltas, in order: text, reasoning text and tool calls merge into the last delta; a
 * reasoning part's state closes its delta, and reasoning of another part starts a new one.
 */
class Deltas {
  readonly list: DeltaInit[] = [];

  private last(): DeltaInit {
    let d = this.list.at(-1);
    if (d === undefined || d.reasoningState !== undefined) {
      d = { text: "", reasoning: "", reasoningIndex: 0, toolCalls: [] };
      this.list.push(d);
    }
    return d;
  }

  /** The delta that may carry reasoning of part `index`. */
  private forPart(index: number): DeltaInit {
    let d = this.last();
    if (d.reasoning !== "" && d.reasoningIndex !== index) {
      d = { text: "", reasoning: "", reasoningIndex: index, toolCalls: [] };
      this.list.push(d);
    }
    d.reasoningIndex = index;
    return d;
  }

  text(t: string): void {
    this.last().text += t;
  }

  reasoning(t: string, index: number): void {
    this.forPart(index).reasoning += t;
  }

  state(signature: string, index: number): void {
    this.forPart(index).reasoningState = create(ReasoningSchema, { signature, provider: GEMINI_WIRE });
  }

  call(c: ToolCallDelta): void {
    this.last().toolCalls.push(c);
  }
}

/** A delta as this translator builds it. */
interface DeltaInit {
  text: string;
  reasoning: string;
  reasoningIndex: number;
  reasoningState?: Reasoning;
  toolCalls: ToolCallDelta[];
}

/**
 * Translates one upstream stream. Gemini sends whole function calls, so each becomes one
 * complete ToolCallDelta (index, id, name, all arguments). usageMetadata is cumulative: the last
 * one wins, else usage is estimated (chars / 4). The stream ends when the body ends; without a
 * finishReason by then it was interrupted ("stream_interrupted").
 */
export async function* translateGeminiStream(
  events: AsyncIterable<SSEEvent>,
  ctx: GeminiResponseContext,
): AsyncGenerator<ChatStreamResponse> {
  let started = false;
  let finish: FinishReason | undefined;
  let usage: Usage | undefined;
  let outChars = 0;
  let calls = 0;
  let next = 0; // the next reasoning part's index
  let open: number | undefined; // the index of the thought run being streamed
  for await (const ev of events) {
    if (ev.data === "" || ev.data === "[DONE]") continue;
    const chunk = parseChunk(ev.data, ctx);
    if (typeof chunk.error === "object" && chunk.error !== null) {
      throw fromGeminiStreamError(chunk.error, ctx.provider, ctx.model);
    }
    const blocked = blockedPrompt(chunk, ctx);
    if (blocked !== undefined) throw blocked;
    if (!started) {
      started = true;
      yield create(ChatStreamResponseSchema, {
        event: {
          case: "start",
          value: {
            id: chunk.responseId ?? "",
            model: chunk.modelVersion || ctx.model,
            provider: ctx.provider,
          },
        },
      });
    }
    if (typeof chunk.usageMetadata === "object" && chunk.usageMetadata !== null) {
      usage = mapGeminiUsage(chunk.usageMetadata);
    }
    const out = new Deltas();
    for (const p of partsOf(chunk)) {
      const call = toolCallOf(p, calls);
      const sig = signatureOf(p);
      if (call !== undefined) {
        open = undefined;
        out.call(
          create(ToolCallDeltaSchema, {
            index: calls++,
            id: call.id,
            name: call.name,
            argumentsDelta: call.argumentsJson,
            signature: call.signature,
            signatureProvider: call.signatureProvider,
          }),
        );
        outChars += call.argumentsJson.length;
      } else if (p.thought === true) {
        const t = typeof p.text === "string" ? p.text : "";
        outChars += t.length;
        if (open === undefined) open = next++;
        if (ctx.includeReasoning && t !== "") out.reasoning(t, open);
        if (sig !== "") {
          out.state(sig, open);
          open = undefined;
        }
      } else {
        open = undefined;
        if (typeof p.text === "string" && p.text !== "") {
          outChars += p.text.length;
          out.text(p.text);
        }
        if (sig !== "") out.state(sig, next++); // a text answer's signature: a part of its own
      }
    }
    for (const d of out.list) yield create(ChatStreamResponseSchema, { event: { case: "delta", value: d } });
    const reason = chunk.candidates?.[0]?.finishReason;
    if (typeof reason === "string" && reason !== "") finish = mapGeminiFinishReason(reason, calls > 0, ctx);
  }
  if (finish === undefined) {
    throw new UpstreamError("stream_interrupted", "stream ended before a finishReason", ctx.provider, {
      model: ctx.model,
    });
  }
  yield create(ChatStreamResponseSchema, {
    event: {
      case: "end",
      value: { finishReason: finish, usage: usage ?? estimateUsage(ctx.promptChars ?? 0, outChars) },
    },
  });
}
