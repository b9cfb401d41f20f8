// The Anthropic fake's deterministic answers (echo, tool use, signed thinking, redacted thinking,
// stop sequences, usage), the request checks Anthropic makes on every body, and the event sequence
// of a streamed answer.
import type { AnthropicDirectives } from "./anthropic-faults.js";
import { applyStopSequences, type ThinkingSigner, thinkingEnabled } from "./anthropic-strict.js";
import { wordCount, words } from "./openai-faults.js";

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Text of a content value: a string, or the text (and tool_result text) of its blocks. */
export function blockText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((b) => {
      if (!isRecord(b)) return "";
      if (b["type"] === "text" && typeof b["text"] === "string") return b["text"];
      if (b["type"] === "tool_result") return blockText(b["content"]);
      return "";
    })
    .join("");
}

/** Field of a JSON object body. */
export function fieldOf(body: unknown, name: string): unknown {
  return isRecord(body) ? body[name] : undefined;
}

/** The block types the fake answers with, in Messages API shape. */
export type AnswerBlock =
  | { type: "text"; text: string }
  | { type: "thinking"; thinking: string; signature: string }
  | { type: "redacted_thinking"; data: string }
  | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> };

/** A whole answer: blocks, stop_reason (and the stop sequence that ended it) and usage. */
export interface AnthropicAnswer {
  blocks: AnswerBlock[];
  stopReason: string;
  stopSequence: string | null;
  usage: Record<string, unknown>;
}

export const TOOL_INPUT = { city: "Paris" };
export const TOOL_JSON_FRAGMENTS = ['{"', 'city": "', "Paris", '"}'];

/**
 * Deterministic answer for a request: echo of the last user text unless a directive says otherwise.
 * With thinking on (the body's `thinking`, or the `thinking` directive) it starts with a thinking
 * block signed by `signer`; `redacted` adds a redacted_thinking block after it.
 */
export function anthropicAnswer(
  d: AnthropicDirectives,
  body: unknown,
  seq: number,
  signer: ThinkingSigner,
): AnthropicAnswer {
  const messages = (fieldOf(body, "messages") as unknown[]).filter(isRecord);
  const lastUser = [...messages].reverse().find((m) => m["role"] === "user");
  const said = blockText(lastUser?.["content"]);
  let chars = blockText(fieldOf(body, "system"));
  for (const m of messages) chars += blockText(m["content"]);
  const blocks: AnswerBlock[] = [];
  const thinks = d.thinking || thinkingEnabled(body);
  if (thinks) {
    const thinking = `The user said "${said}". I echo it.`;
    blocks.push({ type: "thinking", thinking, signature: signer.sign(thinking) });
    if (d.redacted) blocks.push({ type: "redacted_thinking", data: signer.redacted() });
  }
  let stopReason = d.unknownStop ? "odd_reason" : d.length ? "max_tokens" : "end_turn";
  let stopSequence: string | null = null;
  if (d.refusal) {
    blocks.push({ type: "text", text: "I can't help with that." });
    stopReason = "refusal";
  } else if (d.tools) {
    const tools = fieldOf(body, "tools");
    const first: unknown = Array.isArray(tools) ? tools[0] : undefined;
    const name = isRecord(first) && typeof first["name"] === "string" ? first["name"] : "get_weather";
    blocks.push({ type: "text", text: "Let me check." });
    blocks.push({ type: "tool_use", id: `toolu_fake${seq}`, name, input: TOOL_INPUT });
    if (!d.length && !d.unknownStop) stopReason = "tool_use";
  } else if (d.length) {
    blocks.push({ type: "text", text: `echo: ${said}`.slice(0, 8) });
  } else {
    const cut = applyStopSequences(`echo: ${said}`, fieldOf(body, "stop_sequences"));
    if (cut.stop !== undefined && !d.unknownStop) {
      stopReason = "stop_sequence";
      stopSequence = cut.stop;
    }
    blocks.push({ type: "text", text: cut.text });
  }
  const text = blocks.map((b) => (b.type === "text" ? b.text : "")).join("");
  const usage: Record<string, unknown> = {
    input_tokens: Math.ceil(chars.length / 4),
    cache_creation_input_tokens: d.cache ? 20 : 0,
    cache_read_input_tokens: d.cache ? 100 : 0,
    output_tokens: wordCount(text) + (d.tools ? TOOL_JSON_FRAGMENTS.length : 0) + (thinks ? 8 : 0),
  };
  return { blocks, stopReason, stopSequence, usage };
}

/** Anthropic's own 400 for a Messages body it refuses, or undefined when the body is acceptable. */
export function validateMessages(body: unknown): string | undefined {
  const model = fieldOf(body, "model");
  if (typeof model !== "string" || model === "") return "model: Field required";
  const maxTokens = fieldOf(body, "max_tokens");
  if (typeof maxTokens !== "number" || !Number.isInteger(maxTokens) || maxTokens < 1) {
    return "max_tokens: Field required";
  }
  const messages = fieldOf(body, "messages");
  if (!Array.isArray(messages) || messages.length === 0) return "messages: Field required";
  for (const [i, m] of messages.entries()) {
    const role = fieldOf(m, "role");
    if (role !== "user" && role !== "assistant")
      return `messages.${i}.role: Input should be 'user' or 'assistant'`;
  }
  const temperature = fieldOf(body, "temperature");
  if (typeof temperature === "number" && (temperature < 0 || temperature > 1))
    return "temperature: range: 0..1";
  const budget = fieldOf(fieldOf(body, "thinking"), "budget_tokens");
  if (typeof budget === "number" && budget >= maxTokens) {
    return "`max_tokens` must be greater than `thinking.budget_tokens`";
  }
  return undefined;
}

/** The documented event sequence for an answer: [event name, payload] pairs. */
export function anthropicEvents(d: AnthropicDirectives, a: AnthropicAnswer, id: string): [string, unknown][] {
  const out: [string, unknown][] = [];
  const message = { id, type: "message", role: "assistant", content: [], model: d.base };
  const startUsage = { ...a.usage, output_tokens: 1 };
  out.push([
    "message_start",
    {
      type: "message_start",
      message: { ...message, stop_reason: null, stop_sequence: null, usage: startUsage },
    },
  ]);
  a.blocks.forEach((b, index) => {
    const delta = (x: Record<string, unknown>) =>
      ["content_block_delta", { type: "content_block_delta", index, delta: x }] as [string, unknown];
    if (b.type === "text") {
      out.push([
        "content_block_start",
        { type: "content_block_start", index, content_block: { type: "text", text: "" } },
      ]);
      if (index === 0) out.push(["ping", { type: "ping" }]);
      for (const w of words(b.text)) out.push(delta({ type: "text_delta", text: w }));
    } else if (b.type === "thinking") {
      const block = { type: "thinking", thinking: "", signature: "" };
      out.push(["content_block_start", { type: "content_block_start", index, content_block: block }]);
      for (const w of words(b.thinking)) out.push(delta({ type: "thinking_delta", thinking: w }));
      out.push(delta({ type: "signature_delta", signature: b.signature }));
    } else if (b.type === "redacted_thinking") {
      out.push(["content_block_start", { type: "content_block_start", index, content_block: b }]);
    } else {
      const block = { type: "tool_use", id: b.id, name: b.name, input: {} };
      out.push(["content_block_start", { type: "content_block_start", index, content_block: block }]);
      for (const f of ["", ...TOOL_JSON_FRAGMENTS])
        out.push(delta({ type: "input_json_delta", partial_json: f }));
    }
    out.push(["content_block_stop", { type: "content_block_stop", index }]);
  });
  out.push([
    "message_delta",
    {
      type: "message_delta",
      delta: { stop_reason: a.stopReason, stop_sequence: a.stopSequence },
      // As the API does now: cumulative input and cache counts beside the output total.
      usage: {
        input_tokens: a.usage["input_tokens"] ?? 0,
        cache_creation_input_tokens: a.usage["cache_creation_input_tokens"] ?? 0,
        cache_read_input_tokens: a.usage["cache_read_input_tokens"] ?? 0,
        output_tokens: a.usage["output_tokens"] ?? 0,
      },
    },
  ]);
  if (!d.noStop) out.push(["message_stop", { type: "message_stop" }]);
  return out;
}
