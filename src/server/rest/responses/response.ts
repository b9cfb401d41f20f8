// The contract's answers -> the Responses API's JSON: output items (reasoning, message,
// function_call), usage, and the Response object with the request's echoed fields. One item model
// serves the unary answer and the stream (whose final `response.completed` is built here too).
import { type ChatResponse, FinishReason, type Usage } from "../../../../gen/llmgateway/v1/llm_pb.js";
import { packState, type ReasoningState } from "../reasoning-state.js";
import { itemId, packCallId } from "./ids.js";

/** One output item while it is built. */
export type OutputItem =
  | {
      kind: "reasoning";
      id: string;
      text: string;
      state: ReasoningState | undefined;
      /** Pack even OpenAI's own state (its item id differs from this item's: the id rides inside). */
      packAlways?: boolean;
    }
  | { kind: "message"; id: string; text: string }
  | { kind: "call"; id: string; callId: string; name: string; args: string };

/** The state of a Reasoning part worth sending back (else undefined: text only). */
export function stateOf(r: ReasoningState): ReasoningState | undefined {
  return r.signature === "" && r.encryptedContent === "" && r.redactedData === "" ? undefined : r;
}

/**
 * Whether OpenAI's own state must be packed anyway: the item's id is the gateway's (so that an
 * `item_reference` to it resolves, and a stream can announce it before the state arrives), and
 * OpenAI's item id then rides inside the packed value.
 */
export function mustPack(state: ReasoningState | undefined): boolean {
  return state?.provider === "openai" && state.id !== "";
}

/** An item's JSON: "in_progress" as announced, else finished ("incomplete" when the answer was cut). */
export function itemJson(it: OutputItem, status: "in_progress" | "completed" | "incomplete"): object {
  switch (it.kind) {
    case "reasoning": {
      const out: Record<string, unknown> = {
        type: "reasoning",
        id: it.id,
        summary: it.text === "" || status === "in_progress" ? [] : [{ type: "summary_text", text: it.text }],
      };
      if (it.state && status !== "in_progress")
        out["encrypted_content"] = packState(
          it.state,
          it.packAlways ? "" : "openai",
          it.state.encryptedContent,
        );
      return out;
    }
    case "message":
      return {
        type: "message",
        id: it.id,
        status,
        role: "assistant",
        content:
          status === "in_progress"
            ? []
            : [{ type: "output_text", text: it.text, annotations: [], logprobs: [] }],
      };
    case "call":
      return {
        type: "function_call",
        id: it.id,
        call_id: it.callId,
        name: it.name,
        arguments: status === "in_progress" ? "" : it.args,
        status: status === "incomplete" ? "incomplete" : status,
      };
    default: {
      const _never: never = it;
      return _never;
    }
  }
}

/** The output items of a whole answer, in order: reasoning, text, function calls. */
export function outputOf(res: ChatResponse, token: string): OutputItem[] {
  const items: OutputItem[] = [];
  let message: { kind: "message"; id: string; text: string } | undefined;
  let hasReasoningPart = false;
  for (const p of res.message?.content ?? []) {
    if (p.part.case === "reasoning") {
      hasReasoningPart = true;
      const state = stateOf(p.part.value);
      const id = itemId("rs", token, items.length);
      items.push({ kind: "reasoning", id, text: p.part.value.text, state, packAlways: mustPack(state) });
    } else if (p.part.case === "text") {
      if (!message) {
        message = { kind: "message", id: itemId("msg", token, items.length), text: "" };
        items.push(message);
      }
      message.text += p.part.value;
    }
  }
  // Unsigned reasoning text (asked for with reasoning.summary) has no part of its own.
  if (!hasReasoningPart && res.reasoning !== "") {
    items.unshift({
      kind: "reasoning",
      id: itemId("rs", token, items.length),
      text: res.reasoning,
      state: undefined,
    });
  }
  for (const c of res.message?.toolCalls ?? []) {
    items.push({
      kind: "call",
      id: itemId("fc", token, items.length),
      callId: packCallId(c.id, c.signature, c.signatureProvider),
      name: c.name,
      args: c.argumentsJson,
    });
  }
  if (items.length === 0) items.push({ kind: "message", id: itemId("msg", token, 0), text: "" });
  return items;
}

/** The Responses usage object. */
export function usageJson(u: Usage | undefined): object {
  const input = u?.inputTokens ?? 0;
  const output = u?.outputTokens ?? 0;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: u?.cachedInputTokens ?? 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: u?.reasoningTokens ?? 0 },
    total_tokens: u?.totalTokens || input + output,
  };
}

/** What a Response object says about the call besides its output. */
export interface ResponseHead {
  id: string;
  createdAt: number;
  model: string;
  /** The request's echoed fields (see ParsedResponses.echo). */
  echo: Record<string, unknown>;
  /** Whether this response is stored. */
  store: boolean;
}

export type ResponseStatus = "in_progress" | "completed" | "incomplete" | "failed";

/** `incomplete_details` for a finish reason that cut the answer; null otherwise. */
export function incompleteOf(r: FinishReason): { reason: string } | null {
  if (r === FinishReason.LENGTH) return { reason: "max_output_tokens" };
  if (r === FinishReason.CONTENT_FILTER) return { reason: "content_filter" };
  return null;
}

/** The Response object. */
export function responseJson(
  h: ResponseHead,
  status: ResponseStatus,
  items: readonly OutputItem[],
  extra: { usage?: Usage | undefined; incomplete?: { reason: string } | null; error?: object | null } = {},
): Record<string, unknown> {
  const e = h.echo;
  const itemStatus = status === "completed" ? "completed" : "incomplete";
  return {
    id: h.id,
    object: "response",
    created_at: h.createdAt,
    status,
    background: false,
    error: extra.error ?? null,
    incomplete_details: extra.incomplete ?? null,
    instructions: e["instructions"] ?? null,
    max_output_tokens: e["max_output_tokens"] ?? null,
    model: h.model,
    output: status === "in_progress" ? [] : items.map((it) => itemJson(it, itemStatus)),
    parallel_tool_calls: e["parallel_tool_calls"] ?? true,
    previous_response_id: e["previous_response_id"] ?? null,
    reasoning: e["reasoning"] ?? { effort: null, summary: null },
    store: h.store,
    temperature: e["temperature"] ?? null,
    text: e["text"] ?? { format: { type: "text" } },
    tool_choice: e["tool_choice"] ?? "auto",
    tools: e["tools"] ?? [],
    top_p: e["top_p"] ?? null,
    truncation: e["truncation"] ?? "disabled",
    usage: status === "in_progress" ? null : usageJson(extra.usage),
    user: e["user"] ?? null,
    metadata: e["metadata"] ?? {},
  };
}

/** The whole Response of a unary answer. */
export function unaryResponse(h: ResponseHead, res: ChatResponse, token: string): Record<string, unknown> {
  const incomplete = incompleteOf(res.finishReason);
  return responseJson(h, incomplete ? "incomplete" : "completed", outputOf(res, token), {
    usage: res.usage,
    incomplete,
  });
}
