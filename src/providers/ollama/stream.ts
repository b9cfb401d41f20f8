// Turns an Ollama /api/chat NDJSON stream (parsed lines) into the contract's stream: one `start`,
// non-empty `delta`s (text, reasoning, whole tool calls), exactly one `end` from the `done` line.

import {
  type ChatStreamResponse,
  ChatStreamResponseSchema,
  type ToolCallDelta,
  ToolCallDeltaSchema,
} from "../../../gen/llmgateway/v1/llm_pb.js";
import { UpstreamError } from "../../errors.js";
import { create } from "../../lib/create.js";
import { fromOllamaBodyError } from "./errors.js";
import { mapDoneReason, mapToolCalls, mapUsage, type OllamaResponseContext } from "./response.js";
import type { OllamaChatResponse } from "./wire.js";

/**
 * Translates one upstream stream. Ends at the `done: true` line (finish reason and counts); a body
 * that ends before it is "stream_interrupted", an `{"error": ...}` line is classified. Ollama sends
 * each tool call whole, so each becomes one fragment with a generated id `call_<n>`.
 */
export async function* translateOllamaStream(
  lines: AsyncIterable<unknown>,
  ctx: OllamaResponseContext,
): AsyncGenerator<ChatStreamResponse> {
  let started = false;
  let calls = 0;
  let outChars = 0;
  for await (const value of lines) {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new UpstreamError("protocol", "stream line is not an object", ctx.provider, { model: ctx.model });
    }
    const line = value as OllamaChatResponse;
    if (typeof line.error === "string") throw fromOllamaBodyError(line.error, ctx.provider, ctx.model);
    if (!started) {
      started = true;
      const model = typeof line.model === "string" && line.model !== "" ? line.model : ctx.model;
      yield create(ChatStreamResponseSchema, {
        event: { case: "start", value: { id: ctx.id, model, provider: ctx.provider } },
      });
    }
    const m = line.message;
    if (typeof m === "object" && m !== null) {
      const text = typeof m.content === "string" ? m.content : "";
      const reasoning = ctx.includeReasoning === true && typeof m.thinking === "string" ? m.thinking : "";
      const toolCalls: ToolCallDelta[] = mapToolCalls(m.tool_calls, calls, ctx).map((c, j) =>
        create(ToolCallDeltaSchema, {
          index: calls + j,
          id: c.id,
          name: c.name,
          argumentsDelta: c.argumentsJson,
        }),
      );
      calls += toolCalls.length;
      if (text !== "" || reasoning !== "" || toolCalls.length > 0) {
        outChars += text.length;
        for (const c of toolCalls) outChars += c.argumentsDelta.length;
        yield create(ChatStreamResponseSchema, {
          event: { case: "delta", value: { text, reasoning, toolCalls } },
        });
      }
    }
    if (line.done === true) {
      const finishReason = mapDoneReason(line.done_reason, calls > 0, ctx);
      yield create(ChatStreamResponseSchema, {
        event: {
          case: "end",
          value: { finishReason, usage: mapUsage(line, ctx.promptChars ?? 0, outChars) },
        },
      });
      return;
    }
  }
  throw new UpstreamError("stream_interrupted", "stream ended before the done line", ctx.provider, {
    model: ctx.model,
  });
}
