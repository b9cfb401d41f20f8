// Turns an OpenAI chat-completions event stream (parsed SSE events) into the contract's stream:
// one `start`, non-empty `delta`s (text and tool-call fragments), exactly one `end`.

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
import { fromOpenAIStreamError } from "./errors.js";
import { mapFinishReason, mapUsage, type ResponseContext } from "./response.js";
import type { OAIChatChunk, OAIChunkChoice } from "./wire.js";

function parseChunk(data: string, ctx: ResponseContext): OAIChatChunk {
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch (e: unknown) {
    throw new UpstreamError("protocol", "stream event is not JSON", ctx.provider, {
      model: ctx.model,
      cause: e,
    });
  }
  if (typeof v !== "object" || v === null) {
    throw new UpstreamError("protocol", "stream event is not an object", ctx.provider, { model: ctx.model });
  }
  return v as OAIChatChunk;
}

/**
 * Translates one upstream stream. Ends at `data: [DONE]`, or at the body's end once a finish
 * reason was seen (else "stream_interrupted"); usage comes from the trailing include_usage chunk
 * or is estimated (chars / 4). Upstream tool-call ids and names are passed on the first fragment
 * of each call only, even from hosts that repeat them.
 */
export async function* translateOpenAIStream(
  events: AsyncIterable<SSEEvent>,
  ctx: ResponseContext,
): AsyncGenerator<ChatStreamResponse> {
  let started = false;
  let finish: FinishReason | undefined;
  let usage: Usage | undefined;
  let outChars = 0;
  let done = false;
  const seen: boolean[] = []; // seen[i]: tool call i already passed on its id and name
  for await (const ev of events) {
    if (ev.data === "[DONE]") {
      done = true;
      break;
    }
    const chunk = parseChunk(ev.data, ctx);
    if (typeof chunk.error === "object" && chunk.error !== null) {
      throw fromOpenAIStreamError(chunk.error, ctx.provider, ctx.model);
    }
    if (ev.event === "error") throw fromOpenAIStreamError({ message: ev.data }, ctx.provider, ctx.model);
    if (!started) {
      started = true;
      yield create(ChatStreamResponseSchema, {
        event: {
          case: "start",
          value: { id: chunk.id ?? "", model: chunk.model || ctx.model, provider: ctx.provider },
        },
      });
    }
    if (typeof chunk.usage === "object" && chunk.usage !== null) usage = mapUsage(chunk.usage);
    const choices = chunk.choices;
    if (!Array.isArray(choices)) continue;
    for (const choice of choices as OAIChunkChoice[]) {
      const d = choice.delta;
      let text = "";
      let calls: ToolCallDelta[] | undefined;
      if (d !== undefined && d !== null) {
        if (typeof d.content === "string") text = d.content;
        else if (typeof d.refusal === "string") text = d.refusal;
        if (Array.isArray(d.tool_calls)) {
          for (const tc of d.tool_calls) {
            const index = tc.index ?? 0;
            if (!Number.isInteger(index) || index < 0 || index > 1023) {
              throw new UpstreamError("protocol", `bad tool call index ${index}`, ctx.provider, {
                model: ctx.model,
              });
            }
            const first = seen[index] !== true;
            const args = tc.function?.arguments ?? "";
            const id = first ? (tc.id ?? "") : "";
            const name = first ? (tc.function?.name ?? "") : "";
            if (args === "" && id === "" && name === "") continue;
            if (first) seen[index] = true;
            outChars += args.length;
            const frag = create(ToolCallDeltaSchema, { index, id, name, argumentsDelta: args });
            if (calls === undefined) calls = [frag];
            else calls.push(frag);
          }
        }
      }
      if (text !== "" || calls !== undefined) {
        outChars += text.length;
        yield create(ChatStreamResponseSchema, {
          event: { case: "delta", value: { text, toolCalls: calls ?? [] } },
        });
      }
      if (typeof choice.finish_reason === "string") finish = mapFinishReason(choice.finish_reason, ctx);
    }
  }
  if (finish === undefined) {
    if (done) {
      throw new UpstreamError("protocol", "stream ended without a finish_reason", ctx.provider, {
        model: ctx.model,
      });
    }
    throw new UpstreamError("stream_interrupted", "stream ended before it finished", ctx.provider, {
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
