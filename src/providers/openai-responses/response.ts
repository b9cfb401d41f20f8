// Pure translation of a Responses API answer into a ChatResponse: reasoning items become Reasoning
// parts (with their encrypted state), messages text, function calls ToolCalls; built-in tool items
// (web_search_call, ...) have no place in the contract and are left out, their answer text kept.
import {
  type ChatResponse,
  ChatResponseSchema,
  type ContentPart,
  ContentPartSchema,
  FinishReason,
  MessageSchema,
  ReasoningSchema,
  Role,
  type ToolCall,
  ToolCallSchema,
  type Usage,
} from "../../../gen/llmgateway/v1/llm_pb.js";
import { UpstreamError, type UpstreamErrorKind } from "../../errors.js";
import { create } from "../../lib/create.js";
import { classifyOpenAIError, redactSecrets } from "../openai/errors.js";
import { estimateUsage, reportedUsage } from "../usage.js";
import type { RError, ROutputItem, RResponse, RUsage } from "./wire.js";

/** Who answered and what was asked. */
export interface ResponsesContext {
  provider: string;
  /** The upstream model requested (used when the body names none). */
  model: string;
  /** Prompt characters, for the chars/4 estimate when the upstream reports no usage. */
  promptChars?: number;
  /** include_reasoning: reasoning without encrypted state is passed on too (text only). */
  includeReasoning: boolean;
}

/** The wire format name a Reasoning part carries; only this provider gets it back. */
export const REASONING_PROVIDER = "openai";

/** A protocol error (malformed upstream JSON). */
export function protocol(ctx: ResponsesContext, message: string): UpstreamError {
  return new UpstreamError("protocol", message, ctx.provider, { model: ctx.model });
}

const BAD_REQUEST = /^(invalid_|image_|unsupported_|empty_|failed_to_download|data_residency)/;

/** Kind of a Responses error object (a failed response, or an `error` stream event). */
export function responsesErrorKind(e: RError): UpstreamErrorKind {
  const code = typeof e.code === "string" ? e.code : "";
  switch (code) {
    case "rate_limit_exceeded":
      return "rate_limited";
    case "server_error":
    case "vector_store_timeout":
      return "unavailable";
    case "bio_policy":
    case "image_content_policy_violation":
      return "content_filter";
    default:
      break;
  }
  const kind = classifyOpenAIError({ type: e.type ?? code, code, message: e.message ?? "" });
  if (kind === "unavailable" && BAD_REQUEST.test(code)) return "bad_request";
  return kind;
}

/** A Responses error object -> UpstreamError (secrets redacted). */
export function responsesError(
  e: RError | null | undefined,
  ctx: ResponsesContext,
  status = 0,
): UpstreamError {
  const err = e ?? {};
  const message = redactSecrets(err.message || "the response failed");
  return new UpstreamError(responsesErrorKind(err), message, ctx.provider, { status, model: ctx.model });
}

/** Responses usage -> Usage (cached, cache-write and reasoning tokens from the details). */
export function mapResponsesUsage(u: RUsage): Usage {
  return reportedUsage({
    input: u.input_tokens,
    output: u.output_tokens,
    total: u.total_tokens,
    cached: u.input_tokens_details?.cached_tokens,
    cacheWrite: u.input_tokens_details?.cache_write_tokens,
    reasoning: u.output_tokens_details?.reasoning_tokens,
  });
}

/**
 * Why a finished response stopped: completed -> STOP (TOOL_CALLS when it called functions),
 * incomplete -> LENGTH (max_output_tokens) or CONTENT_FILTER; failed -> its error thrown; anything
 * else (in_progress, queued: a background response) is a protocol error.
 */
export function finishOf(r: RResponse, calledFunctions: boolean, ctx: ResponsesContext): FinishReason {
  const status = r.status;
  switch (status) {
    case "completed":
      return calledFunctions ? FinishReason.TOOL_CALLS : FinishReason.STOP;
    case "incomplete": {
      const reason = r.incomplete_details?.reason;
      if (reason === "max_output_tokens") return FinishReason.LENGTH;
      if (reason === "content_filter") return FinishReason.CONTENT_FILTER;
      throw protocol(ctx, `unknown incomplete reason ${JSON.stringify(reason ?? null)}`);
    }
    case "failed":
      throw responsesError(r.error, ctx);
    case "cancelled":
      throw new UpstreamError("unavailable", "the response was cancelled upstream", ctx.provider, {
        model: ctx.model,
      });
    case "in_progress":
    case "queued":
    case undefined:
      throw protocol(ctx, `response not finished (status ${JSON.stringify(status ?? null)})`);
    default: {
      const unknown: never = status;
      throw protocol(ctx, `unknown response status ${JSON.stringify(unknown)}`);
    }
  }
}

/** A reasoning item's summary parts joined as one text (blank line between parts). */
export function summaryText(item: ROutputItem): string {
  if (!Array.isArray(item.summary)) return "";
  const parts: string[] = [];
  for (const s of item.summary) if (typeof s?.text === "string" && s.text !== "") parts.push(s.text);
  return parts.join("\n\n");
}

/** Text of a message item: output_text, and a refusal as text (as the chat wire does). */
function messageText(item: ROutputItem): string {
  let text = "";
  if (!Array.isArray(item.content)) return text;
  for (const c of item.content) {
    if (c?.type === "output_text" && typeof c.text === "string") text += c.text;
    else if (c?.type === "refusal" && typeof c.refusal === "string") text += c.refusal;
  }
  return text;
}

const textPart = (value: string): ContentPart => create(ContentPartSchema, { part: { case: "text", value } });

/** Responses JSON -> ChatResponse. */
export function fromResponsesResponse(json: unknown, ctx: ResponsesContext): ChatResponse {
  const body = json as RResponse | null;
  if (typeof body !== "object" || body === null || !Array.isArray(body.output)) {
    throw protocol(ctx, "response has no output array");
  }
  const content: ContentPart[] = [];
  const calls: ToolCall[] = [];
  const reasoning: string[] = [];
  let text = "";
  let outChars = 0;
  const flush = () => {
    if (text !== "") content.push(textPart(text));
    text = "";
  };
  for (const item of body.output) {
    if (typeof item !== "object" || item === null) continue;
    if (item.type === "message") text += messageText(item);
    else if (item.type === "function_call") {
      const argumentsJson = typeof item.arguments === "string" ? item.arguments : "";
      outChars += argumentsJson.length;
      calls.push(create(ToolCallSchema, { id: item.call_id ?? "", name: item.name ?? "", argumentsJson }));
    } else if (item.type === "reasoning") {
      const summary = summaryText(item);
      const encrypted = typeof item.encrypted_content === "string" ? item.encrypted_content : "";
      if (encrypted !== "") {
        flush();
        const value = create(ReasoningSchema, {
          text: summary,
          encryptedContent: encrypted,
          id: item.id ?? "",
          provider: REASONING_PROVIDER,
        });
        content.push(create(ContentPartSchema, { part: { case: "reasoning", value } }));
      }
      if (summary !== "" && (encrypted !== "" || ctx.includeReasoning)) reasoning.push(summary);
    }
  }
  flush();
  for (const c of content) if (c.part.case === "text") outChars += c.part.value.length;
  const usage =
    typeof body.usage === "object" && body.usage !== null
      ? mapResponsesUsage(body.usage)
      : estimateUsage(ctx.promptChars ?? 0, outChars);
  return create(ChatResponseSchema, {
    id: typeof body.id === "string" ? body.id : "",
    model: typeof body.model === "string" && body.model !== "" ? body.model : ctx.model,
    provider: ctx.provider,
    message: create(MessageSchema, { role: Role.ASSISTANT, content, toolCalls: calls }),
    finishReason: finishOf(body, calls.length > 0, ctx),
    usage,
    reasoning: reasoning.join("\n\n"),
  });
}
