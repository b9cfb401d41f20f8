// Turns a Responses API event stream (parsed SSE events) into the contract's stream: one `start`,
// deltas (text, function-call fragments, reasoning summary text and, once per reasoning item, its
// encrypted state), exactly one `end` — or an error, never a short success.

import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  type ChatStreamResponse,
  ChatStreamResponseSchema,
  type DeltaSchema,
  ReasoningSchema,
  ToolCallDeltaSchema,
} from "../../../gen/llmgateway/v1/llm_pb.js";
import { UpstreamError } from "../../errors.js";
import { create } from "../../lib/create.js";
import { isObject } from "../../lib/object.js";
import type { SSEEvent } from "../stream-parse.js";
import { estimateUsage } from "../usage.js";
import {
  finishOf,
  mapResponsesUsage,
  protocol,
  REASONING_PROVIDER,
  type ResponsesContext,
  responsesError,
  summaryText,
} from "./response.js";
import type { ROutputItem, RStreamEvent } from "./wire.js";

/** The stream's context: the request asked for encrypted reasoning (then its text is always passed on). */
export interface ResponsesStreamContext extends ResponsesContext {
  encryptedReasoning: boolean;
}

interface Call {
  index: number;
  args: number;
}
interface Thought {
  index: number;
  /** Characters of reasoning text passed on. */
  sent: number;
  summary: number;
}

function parseEvent(ev: SSEEvent, ctx: ResponsesContext): RStreamEvent {
  let v: unknown;
  try {
    v = JSON.parse(ev.data);
  } catch (e: unknown) {
    throw new UpstreamError("protocol", "stream event is not JSON", ctx.provider, {
      model: ctx.model,
      cause: e,
    });
  }
  if (!isObject(v)) throw protocol(ctx, "stream event is not an object");
  return v as RStreamEvent;
}

const keyOf = (e: RStreamEvent): string =>
  typeof e.output_index === "number" ? `#${e.output_index}` : `id:${e.item_id ?? e.item?.id ?? ""}`;

const delta = (value: MessageInitShape<typeof DeltaSchema>): ChatStreamResponse =>
  create(ChatStreamResponseSchema, { event: { case: "delta", value } });

/**
 * Translates one upstream stream. It ends at response.completed / response.incomplete (usage from
 * the final response, or estimated); response.failed and `error` events are thrown as classified
 * UpstreamErrors; a body that ends before is "stream_interrupted".
 */
export async function* translateResponsesStream(
  events: AsyncIterable<SSEEvent>,
  ctx: ResponsesStreamContext,
): AsyncGenerator<ChatStreamResponse> {
  const expose = ctx.includeReasoning || ctx.encryptedReasoning;
  const calls = new Map<string, Call>();
  const thoughts = new Map<string, Thought>();
  let started = false;
  let outChars = 0;
  const thought = (key: string): Thought => {
    let t = thoughts.get(key);
    if (t === undefined) {
      t = { index: thoughts.size, sent: 0, summary: 0 };
      thoughts.set(key, t);
    }
    return t;
  };
  const call = (key: string, item: ROutputItem | undefined): ChatStreamResponse => {
    const c: Call = { index: calls.size, args: 0 };
    calls.set(key, c);
    const args = typeof item?.arguments === "string" ? item.arguments : "";
    c.args += args.length;
    outChars += args.length;
    const frag = { index: c.index, id: item?.call_id ?? "", name: item?.name ?? "", argumentsDelta: args };
    return delta({ toolCalls: [create(ToolCallDeltaSchema, frag)] });
  };

  for await (const ev of events) {
    const e = parseEvent(ev, ctx);
    const type = typeof e.type === "string" ? e.type : ev.event;
    if (type === "error") {
      const err = isObject(e.error) ? e.error : { code: e.code ?? null, message: e.message ?? "" };
      throw responsesError(err, ctx);
    }
    if (!started) {
      started = true;
      const r = e.response;
      const id = typeof r?.id === "string" ? r.id : "";
      const model = typeof r?.model === "string" && r.model !== "" ? r.model : ctx.model;
      yield create(ChatStreamResponseSchema, {
        event: { case: "start", value: { id, model, provider: ctx.provider } },
      });
    }
    switch (type) {
      case "response.output_text.delta":
      case "response.refusal.delta":
        if (typeof e.delta === "string" && e.delta !== "") {
          outChars += e.delta.length;
          yield delta({ text: e.delta });
        }
        break;
      case "response.output_item.added":
        if (e.item?.type === "function_call") yield call(keyOf(e), e.item);
        else if (e.item?.type === "reasoning") thought(keyOf(e));
        break;
      case "response.function_call_arguments.delta": {
        const c = calls.get(keyOf(e));
        if (c === undefined) throw protocol(ctx, "function call arguments before the call was announced");
        if (typeof e.delta === "string" && e.delta !== "") {
          c.args += e.delta.length;
          outChars += e.delta.length;
          yield delta({
            toolCalls: [create(ToolCallDeltaSchema, { index: c.index, argumentsDelta: e.delta })],
          });
        }
        break;
      }
      case "response.reasoning_summary_text.delta": {
        const t = thought(keyOf(e));
        if (!expose || typeof e.delta !== "string" || e.delta === "") break;
        const part = typeof e.summary_index === "number" ? e.summary_index : 0;
        const sep = t.sent > 0 && part !== t.summary ? "\n\n" : "";
        t.summary = part;
        t.sent += sep.length + e.delta.length;
        yield delta({ reasoning: sep + e.delta, reasoningIndex: t.index });
        break;
      }
      case "response.output_item.done":
        yield* itemDone(e, ctx);
        break;
      case "response.completed":
      case "response.incomplete": {
        const r = e.response ?? {};
        const finishReason = finishOf(r, calls.size > 0, ctx);
        const usage =
          typeof r.usage === "object" && r.usage !== null
            ? mapResponsesUsage(r.usage)
            : estimateUsage(ctx.promptChars ?? 0, outChars);
        yield create(ChatStreamResponseSchema, { event: { case: "end", value: { finishReason, usage } } });
        return;
      }
      case "response.failed":
        throw responsesError(e.response?.error, ctx);
      default:
        break; // created, in_progress, content parts, built-in tool progress, *.done texts
    }
  }
  throw new UpstreamError("stream_interrupted", "stream ended before the response completed", ctx.provider, {
    model: ctx.model,
  });

  /** A finished item: a reasoning item's state (and text never streamed), a call never streamed. */
  function* itemDone(e: RStreamEvent, c: ResponsesStreamContext): Generator<ChatStreamResponse> {
    const item = e.item;
    const key = keyOf(e);
    if (item?.type === "function_call") {
      const known = calls.get(key);
      if (known === undefined) yield call(key, item);
      else if (known.args === 0 && typeof item.arguments === "string" && item.arguments !== "") {
        known.args = item.arguments.length;
        outChars += item.arguments.length;
        const frag = { index: known.index, argumentsDelta: item.arguments };
        yield delta({ toolCalls: [create(ToolCallDeltaSchema, frag)] });
      }
      return;
    }
    if (item?.type !== "reasoning") return;
    const t = thought(key);
    const encrypted = typeof item.encrypted_content === "string" ? item.encrypted_content : "";
    const text = t.sent === 0 && (encrypted !== "" || c.includeReasoning) ? summaryText(item) : "";
    if (encrypted === "" && text === "") return;
    t.sent += text.length;
    const out: MessageInitShape<typeof DeltaSchema> = { reasoning: text, reasoningIndex: t.index };
    if (encrypted !== "") {
      out.reasoningState = create(ReasoningSchema, {
        encryptedContent: encrypted,
        id: item.id ?? "",
        provider: REASONING_PROVIDER,
      });
    }
    yield delta(out);
  }
}
