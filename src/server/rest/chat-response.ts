// The contract's chat answers -> OpenAI's JSON: a whole `chat.completion`, and the SSE frames of a
// `chat.completion.chunk` stream (each frame's fixed part is built once per stream, not per chunk).
import {
  type CacheStatus,
  type ChatResponse,
  type Delta,
  FinishReason,
  type GatewayInfo,
  type Usage,
} from "../../../gen/llmgateway/v1/llm_pb.js";
import { cacheLabel } from "../../cache/status.js";

const FINISH: Readonly<Record<FinishReason, string>> = {
  [FinishReason.UNSPECIFIED]: "stop",
  [FinishReason.STOP]: "stop",
  [FinishReason.LENGTH]: "length",
  [FinishReason.TOOL_CALLS]: "tool_calls",
  [FinishReason.CONTENT_FILTER]: "content_filter",
};

/** OpenAI's `finish_reason` for ours. */
export function finishReason(r: FinishReason): string {
  return FINISH[r] ?? "stop";
}

/** OpenAI's usage object (with the cached / reasoning details OpenAI always sends). */
export function usageJson(u: Usage | undefined): object {
  const prompt = u?.inputTokens ?? 0;
  const completion = u?.outputTokens ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: u?.totalTokens || prompt + completion,
    prompt_tokens_details: { cached_tokens: u?.cachedInputTokens ?? 0 },
    completion_tokens_details: { reasoning_tokens: u?.reasoningTokens ?? 0 },
  };
}

/** The x-llmgw-cache value of a cache status ("none" when the cache was not consulted). */
export function cacheHeader(status: CacheStatus | undefined): string {
  return (status === undefined ? undefined : cacheLabel(status)) ?? "none";
}

/** The x-llmgw-* headers of a successful unary answer (x-llmgw-cost-usd: what the call cost, USD). */
export function gatewayHeaders(
  rid: string,
  provider: string,
  info: GatewayInfo | undefined,
): Record<string, string> {
  return {
    "x-request-id": rid,
    "x-llmgw-provider": provider,
    "x-llmgw-attempts": String(info?.attempts ?? 0),
    "x-llmgw-cache": cacheHeader(info?.cache),
    "x-llmgw-cost-usd": String(info?.costUsd ?? 0),
    ...(info?.contextTrim && {
      "x-llmgw-context-trimmed": `dropped=${info.contextTrim.droppedMessages};cut=${info.contextTrim.cutChars}`,
    }),
  };
}

/** A whole `chat.completion`, serialised once. */
export function chatCompletionJson(res: ChatResponse, created: number, rid: string): string {
  let text = "";
  let hasText = false;
  const m = res.message;
  for (const p of m?.content ?? []) {
    if (p.part.case === "text") {
      text += p.part.value;
      hasText = true;
    }
  }
  const calls = m?.toolCalls ?? [];
  const message: Record<string, unknown> = {
    role: "assistant",
    content: hasText || calls.length === 0 ? text : null,
    refusal: null,
  };
  if (res.reasoning !== "") message["reasoning_content"] = res.reasoning;
  if (calls.length > 0) {
    message["tool_calls"] = calls.map((c) => ({
      id: c.id,
      type: "function",
      function: { name: c.name, arguments: c.argumentsJson },
    }));
  }
  return JSON.stringify({
    id: res.id || `chatcmpl-${rid}`,
    object: "chat.completion",
    created,
    model: res.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(res.finishReason) }],
    usage: usageJson(res.usage),
    system_fingerprint: null,
  });
}

/** Builds the SSE frames of one streamed answer; the id / model part is serialised once. */
export class ChunkFrames {
  private readonly head: string;
  private readonly started = new Set<number>();

  constructor(
    private readonly id: string,
    private readonly model: string,
    private readonly created: number,
  ) {
    this.head = `data: {"id":${JSON.stringify(id)},"object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)},"system_fingerprint":null,"choices":[{"index":0,"delta":`;
  }

  private frame(delta: string, finish: string | null): string {
    return `${this.head}${delta},"logprobs":null,"finish_reason":${finish === null ? "null" : `"${finish}"`}}]}\n\n`;
  }

  /** The first frame: the assistant role with empty content. */
  role(): string {
    return this.frame('{"role":"assistant","content":"","refusal":null}', null);
  }

  /** Frames for one delta: its text, and its tool-call fragments (id, type and name on a call's first). */
  delta(d: Delta): string {
    let out =
      d.reasoning === "" ? "" : this.frame(`{"reasoning_content":${JSON.stringify(d.reasoning)}}`, null);
    if (d.text !== "") out += this.frame(`{"content":${JSON.stringify(d.text)}}`, null);
    if (d.toolCalls.length === 0) return out;
    const calls = d.toolCalls.map((t) => {
      if (!this.started.has(t.index) && (t.id !== "" || t.name !== "")) {
        this.started.add(t.index);
        return {
          index: t.index,
          id: t.id,
          type: "function",
          function: { name: t.name, arguments: t.argumentsDelta },
        };
      }
      return { index: t.index, function: { arguments: t.argumentsDelta } };
    });
    out += this.frame(JSON.stringify({ tool_calls: calls }), null);
    return out;
  }

  /** The last choice frame: an empty delta with the finish reason. */
  finish(r: FinishReason): string {
    return this.frame("{}", finishReason(r));
  }

  /** The usage frame (`choices: []`), sent when the client asked for include_usage. */
  usage(u: Usage | undefined): string {
    const body = JSON.stringify({
      id: this.id,
      object: "chat.completion.chunk",
      created: this.created,
      model: this.model,
      system_fingerprint: null,
      choices: [],
      usage: usageJson(u),
    });
    return `data: ${body}\n\n`;
  }
}
