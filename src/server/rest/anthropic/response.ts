// The contract's answer -> Anthropic's Message JSON: content blocks in order (thinking /
// redacted_thinking with their state, text, tool_use), stop_reason, and usage in Anthropic's
// terms (its input_tokens excludes cache reads and writes; the contract's includes them).
import {
  type ChatResponse,
  FinishReason,
  type Reasoning,
  type Usage,
} from "../../../../gen/llmgateway/v1/llm_pb.js";
import { packState } from "../reasoning-state.js";
import { NATIVE } from "./content.js";

/** Anthropic's `stop_reason` for ours (a reported stop sequence makes STOP "stop_sequence"). */
export function stopReason(r: FinishReason, stopSequence: string): string {
  switch (r) {
    case FinishReason.LENGTH:
      return "max_tokens";
    case FinishReason.TOOL_CALLS:
      return "tool_use";
    case FinishReason.CONTENT_FILTER:
      return "refusal";
    case FinishReason.STOP:
    case FinishReason.UNSPECIFIED:
      return stopSequence === "" ? "end_turn" : "stop_sequence";
    default: {
      const unknown: never = r;
      void unknown;
      return "end_turn";
    }
  }
}

/** Anthropic's usage object: input_tokens without the cache reads and writes it reports apart. */
export function usageJson(u: Usage | undefined) {
  const read = u?.cachedInputTokens ?? 0;
  const write = u?.cacheWriteTokens ?? 0;
  return {
    input_tokens: Math.max(0, (u?.inputTokens ?? 0) - read - write),
    cache_creation_input_tokens: write,
    cache_read_input_tokens: read,
    output_tokens: u?.outputTokens ?? 0,
  };
}

/** Anthropic's message id: the provider's when it is one, else "msg_" + it (or the request id). */
export function messageId(id: string, rid: string): string {
  if (id.startsWith("msg_")) return id;
  return `msg_${(id || rid).replace(/[^A-Za-z0-9_-]/g, "_")}`;
}

/** A reasoning part as its block: Anthropic's redacted data stays redacted; else thinking + state. */
export function reasoningBlock(r: Reasoning): Record<string, string> {
  if (r.provider === NATIVE && r.redactedData !== "")
    return { type: "redacted_thinking", data: r.redactedData };
  return { type: "thinking", thinking: r.text, signature: signatureOf(r) };
}

/** The `signature` of a thinking block: Anthropic's own verbatim, another format's packed, "" when unsigned. */
export function signatureOf(r: Reasoning): string {
  if (r.provider === "" || (r.signature === "" && r.encryptedContent === "" && r.redactedData === ""))
    return "";
  return packState(r, NATIVE, r.signature);
}

/** A tool call's arguments as the `input` object (Anthropic's blocks carry parsed JSON). */
export function toolInput(json: string): unknown {
  if (json === "") return {};
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return {};
  }
}

/**
 * A tool_use block's id: the call's own, or, when the call carries another wire format's state
 * (a Gemini thought signature), the id and that state packed together; the client echoes the id
 * in tool_use and tool_result, and the door unpacks it (content.ts callOf).
 */
export function toolUseId(id: string, signature: string, provider: string): string {
  if (signature === "" || provider === NATIVE) return id;
  return packState({ provider, signature, id, encryptedContent: "", redactedData: "" }, NATIVE, id);
}

/** The fields of a Message outside content / stop / usage, fixed for this door. */
export const MESSAGE_FIXED = {
  type: "message",
  role: "assistant",
  container: null,
  stop_details: null,
} as const;

/** The whole Message JSON of a unary answer; `model` is the name the client asked for. */
export function messageJson(res: ChatResponse, model: string, rid: string): string {
  const content: object[] = [];
  let signed = false;
  let text: { type: "text"; text: string; citations: null } | undefined;
  for (const p of res.message?.content ?? []) {
    if (p.part.case === "reasoning") {
      content.push(reasoningBlock(p.part.value));
      signed = true;
      text = undefined;
    } else if (p.part.case === "text" && p.part.value !== "") {
      // Neighbouring text parts are one block, as a stream of text deltas is.
      if (text) text.text += p.part.value;
      else {
        text = { type: "text", text: p.part.value, citations: null };
        content.push(text);
      }
    }
  }
  // Unsigned reasoning (include_reasoning) has no part: one thinking block, first, with no signature.
  if (!signed && res.reasoning !== "")
    content.unshift({ type: "thinking", thinking: res.reasoning, signature: "" });
  for (const c of res.message?.toolCalls ?? []) {
    const id = toolUseId(c.id, c.signature, c.signatureProvider);
    content.push({ type: "tool_use", id, name: c.name, input: toolInput(c.argumentsJson) });
  }
  return JSON.stringify({
    id: messageId(res.id, rid),
    ...MESSAGE_FIXED,
    model,
    content,
    stop_reason: stopReason(res.finishReason, res.stopSequence),
    stop_sequence: res.stopSequence === "" ? null : res.stopSequence,
    usage: usageJson(res.usage),
  });
}
