// The REST door as a 4th conformance protocol: the official `openai` SDK (unmodified, no retries)
// behind the same four methods the scenarios call on a Connect client. Requests go out as
// OpenAI chat-completions / embeddings JSON; answers come back as the contract's messages (a
// stream becomes start / delta... / end), so the ONE scenario table runs unchanged. Errors stay
// the SDK's APIError; harness.seen() reads them into the protocol-neutral SeenError.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import type { CallOptions, Client } from "@connectrpc/connect";
import OpenAI from "openai";
import type {
  ChatCompletionContentPart,
  ChatCompletionCreateParamsBase,
  ChatCompletionMessageParam,
  ChatCompletionToolChoiceOption,
} from "openai/resources/chat/completions";
import {
  ChatRequestSchema,
  ChatResponseSchema,
  ChatStreamResponseSchema,
  type ContentPart,
  EmbedRequestSchema,
  EmbedResponseSchema,
  FinishReason,
  ListModelsRequestSchema,
  ListModelsResponseSchema,
  type LLMService,
  type Message,
  ReasoningOptions_Effort,
  ResponseFormat_Type,
  Role,
  ToolChoice_Mode,
  type Usage,
  UsageSchema,
} from "../../gen/llmgateway/v1/llm_pb.js";

/** The methods the scenarios call; a Connect client and the REST adapter both provide them. */
export type ScenarioClient = Pick<Client<typeof LLMService>, "chat" | "chatStream" | "embed" | "listModels">;

/** The chat-completions body, plus the gateway's extensions (README: `fallback_models`, `cache`). */
type ChatBody = ChatCompletionCreateParamsBase & {
  fallback_models?: string[];
  cache?: { enabled?: boolean; no_store?: boolean; ttl_s?: number };
  include_reasoning?: boolean;
};

const ROLES: Record<Role, "system" | "user" | "assistant" | "tool" | undefined> = {
  [Role.UNSPECIFIED]: undefined,
  [Role.SYSTEM]: "system",
  [Role.USER]: "user",
  [Role.ASSISTANT]: "assistant",
  [Role.TOOL]: "tool",
};

const EFFORTS: Record<ReasoningOptions_Effort, "minimal" | "low" | "medium" | "high" | undefined> = {
  [ReasoningOptions_Effort.UNSPECIFIED]: undefined,
  [ReasoningOptions_Effort.MINIMAL]: "minimal",
  [ReasoningOptions_Effort.LOW]: "low",
  [ReasoningOptions_Effort.MEDIUM]: "medium",
  [ReasoningOptions_Effort.HIGH]: "high",
};

const FINISH: Record<string, FinishReason> = {
  stop: FinishReason.STOP,
  length: FinishReason.LENGTH,
  tool_calls: FinishReason.TOOL_CALLS,
  content_filter: FinishReason.CONTENT_FILTER,
};

/** A request field OpenAI's JSON cannot carry: the adapter refuses rather than drop it silently. */
function inexpressible(what: string): never {
  throw new Error(`REST adapter: ${what} has no chat-completions equivalent`);
}

function textOnly(parts: readonly ContentPart[]): string | undefined {
  let s = "";
  for (const p of parts) {
    if (p.part.case !== "text") return undefined;
    s += p.part.value;
  }
  return s;
}

function partJson(p: ContentPart): ChatCompletionContentPart {
  const v = p.part;
  if (v.case === "text") return { type: "text", text: v.value };
  if (v.case === "image") {
    const src = v.value.source;
    let url: string;
    if (src.case === "data")
      url = `data:${v.value.mediaType};base64,${Buffer.from(src.value).toString("base64")}`;
    else if (src.case === "url") url = src.value;
    else return inexpressible("an image without a source");
    const detail = v.value.detail as "auto" | "low" | "high" | "";
    return { type: "image_url", image_url: detail === "" ? { url } : { url, detail } };
  }
  return inexpressible(`content part "${String(v.case)}"`);
}

function messageJson(m: Message): ChatCompletionMessageParam {
  const role = ROLES[m.role] ?? inexpressible(`role ${m.role}`);
  const text = textOnly(m.content);
  if (role === "tool")
    return { role, tool_call_id: m.toolCallId, content: text ?? inexpressible("tool images") };
  if (role === "system") return { role, content: text ?? inexpressible("system images") };
  if (role === "user") {
    return {
      role,
      content: text !== undefined && m.content.length === 1 ? text : m.content.map(partJson),
      ...(m.name ? { name: m.name } : {}),
    };
  }
  const out: ChatCompletionMessageParam = {
    role,
    content: m.content.length === 0 ? null : (text ?? inexpressible("assistant images")),
  };
  if (m.name) out.name = m.name;
  if (m.toolCalls.length > 0) {
    out.tool_calls = m.toolCalls.map((c) => ({
      id: c.id,
      type: "function" as const,
      function: { name: c.name, arguments: c.argumentsJson },
    }));
  }
  return out;
}

/** The contract's ChatRequest as a chat-completions body (what any OpenAI SDK user would send). */
export function chatBody(init: MessageInitShape<typeof ChatRequestSchema>): ChatBody {
  const r = create(ChatRequestSchema, init);
  const body: ChatBody = { model: r.model, messages: r.messages.map(messageJson) };
  if (r.temperature !== undefined) body.temperature = r.temperature;
  if (r.topP !== undefined) body.top_p = r.topP;
  if (r.maxTokens !== undefined) body.max_tokens = r.maxTokens;
  if (r.stop.length > 0) body.stop = r.stop;
  if (r.seed !== undefined) body.seed = Number(r.seed);
  if (r.presencePenalty !== undefined) body.presence_penalty = r.presencePenalty;
  if (r.frequencyPenalty !== undefined) body.frequency_penalty = r.frequencyPenalty;
  if (r.user !== "") body.user = r.user;
  if (Object.keys(r.metadata).length > 0) body.metadata = r.metadata;
  if (r.fallbackModels.length > 0) body.fallback_models = r.fallbackModels;
  if (r.tools.length > 0) {
    body.tools = r.tools.map((t) => ({
      type: "function" as const,
      function: {
        name: t.name,
        ...(t.description ? { description: t.description } : {}),
        ...(t.parametersJson ? { parameters: JSON.parse(t.parametersJson) as Record<string, unknown> } : {}),
      },
    }));
  }
  const tc = r.toolChoice?.choice;
  if (tc?.case === "mode") {
    const modes: Record<ToolChoice_Mode, ChatCompletionToolChoiceOption | undefined> = {
      [ToolChoice_Mode.UNSPECIFIED]: undefined,
      [ToolChoice_Mode.AUTO]: "auto",
      [ToolChoice_Mode.NONE]: "none",
      [ToolChoice_Mode.REQUIRED]: "required",
    };
    const mode = modes[tc.value];
    if (mode !== undefined) body.tool_choice = mode;
  } else if (tc?.case === "toolName") {
    body.tool_choice = { type: "function", function: { name: tc.value } };
  }
  const rf = r.responseFormat;
  if (rf !== undefined && rf.type !== ResponseFormat_Type.UNSPECIFIED) {
    if (rf.type === ResponseFormat_Type.TEXT) body.response_format = { type: "text" };
    else if (rf.type === ResponseFormat_Type.JSON_OBJECT) body.response_format = { type: "json_object" };
    else {
      body.response_format = {
        type: "json_schema",
        json_schema: {
          name: rf.schemaName,
          ...(rf.jsonSchema ? { schema: JSON.parse(rf.jsonSchema) as Record<string, unknown> } : {}),
          strict: rf.strict,
        },
      };
    }
  }
  if (r.reasoning !== undefined) {
    // The effort is OpenAI's `reasoning_effort`; the reasoning text is asked for with the gateway's
    // `include_reasoning` extension and comes back as `reasoning_content`. No token budget crosses.
    if (r.reasoning.budgetTokens !== undefined) inexpressible("reasoning.budget_tokens");
    const effort = EFFORTS[r.reasoning.effort];
    if (effort !== undefined) body.reasoning_effort = effort;
    if (r.reasoning.includeReasoning) body.include_reasoning = true;
  }
  if (r.cache !== undefined) {
    body.cache = { no_store: r.cache.noStore };
    if (r.cache.enabled !== undefined) body.cache.enabled = r.cache.enabled;
    if (r.cache.ttlS !== undefined) body.cache.ttl_s = r.cache.ttlS;
  }
  if (r.providerOptionsJson !== "") inexpressible("provider_options_json");
  return body;
}

function usageOf(u: OpenAI.CompletionUsage | null | undefined): Usage | undefined {
  if (u == null) return undefined;
  return create(UsageSchema, {
    inputTokens: u.prompt_tokens,
    outputTokens: u.completion_tokens,
    totalTokens: u.total_tokens,
    cachedInputTokens: u.prompt_tokens_details?.cached_tokens ?? 0,
    reasoningTokens: u.completion_tokens_details?.reasoning_tokens ?? 0,
  });
}

/** GatewayInfo from the x-request-id / x-llmgw-attempts headers. */
function gatewayOf(h: Headers) {
  return { requestId: h.get("x-request-id") ?? "", attempts: Number(h.get("x-llmgw-attempts") ?? 0) };
}

function finishOf(f: string | null | undefined): FinishReason {
  return f == null ? FinishReason.UNSPECIFIED : (FINISH[f] ?? FinishReason.UNSPECIFIED);
}

/** The SDK's per-request options for the scenario's call options. */
function requestOptions(opts: CallOptions | undefined): OpenAI.RequestOptions {
  const out: OpenAI.RequestOptions = {};
  if (opts?.headers !== undefined) out.headers = Object.fromEntries(new Headers(opts.headers).entries());
  if (opts?.timeoutMs !== undefined) out.timeout = opts.timeoutMs;
  if (opts?.signal !== undefined) out.signal = opts.signal;
  return out;
}

/** The scenario client over the REST door at `baseUrl` (the gateway's origin). */
export function restClient(baseUrl: string): ScenarioClient {
  const sdk = new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey: "x", maxRetries: 0 });
  return {
    async chat(req, opts) {
      const { data, response } = await sdk.chat.completions
        .create({ ...chatBody(req), stream: false }, requestOptions(opts))
        .withResponse();
      const choice = data.choices[0];
      const m = choice?.message;
      return create(ChatResponseSchema, {
        id: data.id,
        model: data.model,
        provider: response.headers.get("x-llmgw-provider") ?? "",
        message: {
          role: Role.ASSISTANT,
          content: m?.content ? [{ part: { case: "text", value: m.content } }] : [],
          toolCalls: (m?.tool_calls ?? []).map((c) =>
            c.type === "function"
              ? { id: c.id, name: c.function.name, argumentsJson: c.function.arguments }
              : { id: c.id },
          ),
        },
        finishReason: finishOf(choice?.finish_reason),
        reasoning: (m as { reasoning_content?: string } | undefined)?.reasoning_content ?? "",
        usage: usageOf(data.usage),
        gateway: gatewayOf(response.headers),
      });
    },

    async *chatStream(req, opts) {
      const { data: stream, response } = await sdk.chat.completions
        .create(
          { ...chatBody(req), stream: true, stream_options: { include_usage: true } },
          requestOptions(opts),
        )
        .withResponse();
      let started = false;
      let finish: FinishReason | undefined;
      let usage: Usage | undefined;
      let ended = false;
      try {
        for await (const chunk of stream) {
          usage = usageOf(chunk.usage) ?? usage;
          const choice = chunk.choices[0];
          if (choice === undefined) continue; // the usage chunk
          const d = choice.delta;
          if (!started) {
            started = true;
            yield create(ChatStreamResponseSchema, {
              event: {
                case: "start",
                value: {
                  id: chunk.id,
                  model: chunk.model,
                  provider: response.headers.get("x-llmgw-provider") ?? "",
                },
              },
            });
            // The door's first chunk is the role with empty content: the stream's start, not a delta.
            if (
              d.role === "assistant" &&
              !d.content &&
              !d.tool_calls?.length &&
              choice.finish_reason == null
            ) {
              continue;
            }
          }
          if (choice.finish_reason != null) finish = finishOf(choice.finish_reason);
          const calls = (d.tool_calls ?? []).map((t) => ({
            index: t.index,
            id: t.id ?? "",
            name: t.function?.name ?? "",
            argumentsDelta: t.function?.arguments ?? "",
          }));
          // An empty content chunk that is not the finish chunk is forwarded as an empty delta, so
          // the scenarios' "no empty deltas" check sees it.
          const reasoning = (d as { reasoning_content?: string }).reasoning_content ?? "";
          if (d.content || reasoning || calls.length > 0 || choice.finish_reason == null) {
            yield create(ChatStreamResponseSchema, {
              event: { case: "delta", value: { text: d.content ?? "", reasoning, toolCalls: calls } },
            });
          }
        }
        if (opts?.signal?.aborted) return;
        // The SDK ends quietly on a stream cut without [DONE]; the contract's stream needs its end.
        if (finish === undefined) throw new Error("REST stream ended without a finish_reason chunk");
        ended = true;
        yield create(ChatStreamResponseSchema, {
          event: {
            case: "end",
            value: { finishReason: finish, usage, gateway: gatewayOf(response.headers) },
          },
        });
      } finally {
        if (!ended) stream.controller.abort();
      }
    },

    async embed(req, opts) {
      const r = create(EmbedRequestSchema, req);
      const { data, response } = await sdk.embeddings
        .create(
          {
            model: r.model,
            input: r.inputs,
            ...(r.dimensions !== undefined ? { dimensions: r.dimensions } : {}),
            ...(r.user ? { user: r.user } : {}),
          },
          requestOptions(opts),
        )
        .withResponse();
      return create(EmbedResponseSchema, {
        model: data.model,
        provider: response.headers.get("x-llmgw-provider") ?? "",
        embeddings: data.data.map((e) => ({ index: e.index, values: e.embedding })),
        usage: { inputTokens: data.usage.prompt_tokens, totalTokens: data.usage.total_tokens },
        gateway: gatewayOf(response.headers),
      });
    },

    async listModels(req, opts) {
      const r = create(ListModelsRequestSchema, req);
      // GET /v1/models has no filters: the provider filter is applied here, on `owned_by`.
      const models: { id: string; provider: string }[] = [];
      for await (const m of sdk.models.list(requestOptions(opts))) {
        if (r.provider === "" || m.owned_by === r.provider) models.push({ id: m.id, provider: m.owned_by });
      }
      return create(ListModelsResponseSchema, { models });
    },
  };
}
