// Turns a Gemini streamGenerateContent?alt=sse body (parsed SSE events, each a whole
// GenerateContentResponse) into the contract's stream: one `start`, non-empty `delta`s, one `end`.

import {
  type ChatStreamResponse,
  ChatStreamResponseSchema,
  type FinishReason,
  type ToolCallDelta,
  ToolCallDeltaSchema,
  type Usage,
} from "../../../gen/llmgateway/v1/llm_pb.js";
import { UpstreamError } from "../../errors.js";
import { create } from "../../lib/create.js";
import type { SSEEvent } from "../stream-parse.js";
import { estimateUsage } from "../usage.js";
import { fromGeminiStreamError } from "./errors.js";
import {
  blockedPrompt,
  type GeminiResponseContext,
  mapGeminiFinishReason,
  mapGeminiUsage,
  partsOf,
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
    let text = "";
    let reasoning = "";
    let deltas: ToolCallDelta[] | undefined;
    for (const p of partsOf(chunk)) {
      const call = toolCallOf(p, calls);
      if (call !== undefined) {
        const d = create(ToolCallDeltaSchema, {
          index: calls++,
          id: call.id,
          name: call.name,
          argumentsDelta: call.argumentsJson,
        });
        outChars += call.argumentsJson.length;
        if (deltas === undefined) deltas = [d];
        else deltas.push(d);
      } else if (typeof p.text === "string") {
        if (p.thought === true) {
          if (ctx.includeReasoning) reasoning += p.text;
          outChars += p.text.length;
        } else text += p.text;
      }
    }
    if (text !== "" || reasoning !== "" || deltas !== undefined) {
      outChars += text.length;
      yield create(ChatStreamResponseSchema, {
        event: { case: "delta", value: { text, reasoning, toolCalls: deltas ?? [] } },
      });
    }
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
