// Anthropic Messages JSON -> the contract's ChatRequest (the opposite of providers/anthropic/
// request.ts). Every key is mapped, refused by the unsupported-parameter policy, or rejected as
// unknown (as Anthropic itself rejects extra inputs): nothing is dropped silently.
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  type ChatRequest,
  ChatRequestSchema,
  type CountTokensRequest,
  CountTokensRequestSchema,
  type Message,
  type MessageSchema,
  Role,
} from "../../../../gen/llmgateway/v1/llm_pb.js";
import { invalid } from "../../../errors.js";
import { create } from "../../../lib/create.js";
import { type ChatInit, commonParam } from "../common-params.js";
import { arr, bool, int, type Obj, obj, type ParamPolicy, refuse, str, strings } from "../parse.js";
import { block, type CallInit, cacheHint, callOf, type PartInit, toolUse } from "./content.js";
import { outputConfig, thinking, toolChoice, tools } from "./options.js";

type MessageInit = Exclude<MessageInitShape<typeof MessageSchema>, Message>;

/** A parsed Messages request: the contract's request, how to answer, and the model as asked. */
export interface ParsedMessages {
  req: ChatRequest;
  stream: boolean;
  /** The `model` the client sent: Anthropic answers echo it. */
  model: string;
}

/** Anthropic parameters the contract cannot carry: refused by the policy unless at their default. */
const UNSUPPORTED: ReadonlyMap<string, unknown> = new Map<string, unknown>([
  ["service_tier", "auto"],
  ["speed", "standard"],
  ["inference_geo", undefined],
  ["container", undefined],
  ["diagnostics", undefined],
  ["context_management", undefined],
  ["mcp_servers", undefined],
  ["user_profile_id", undefined],
  ["betas", undefined],
]);

const ROLES: Readonly<Record<string, Role>> = {
  user: Role.USER,
  assistant: Role.ASSISTANT,
  system: Role.SYSTEM,
};
const USER = { media: true, reasoning: false };
const ASSISTANT = { media: false, reasoning: true };
const SYSTEM = { media: false, reasoning: false };
const TOOL_RESULT_KEYS = new Set([
  "type",
  "tool_use_id",
  "content",
  "is_error",
  "cache_control",
  "toolset_name",
]);

function parts(v: unknown, f: string, allowed: typeof USER, policy: ParamPolicy): PartInit[] {
  if (typeof v === "string") return [{ part: { case: "text", value: v } }];
  const out: PartInit[] = [];
  arr(v, f).forEach((b, j) => {
    const p = block(obj(b, `${f}[${j}]`), `${f}[${j}]`, allowed, policy);
    if (p) out.push(p);
  });
  return out;
}

/**
 * A tool_result block -> a ROLE_TOOL message. The contract has no error flag on a tool result, so
 * `is_error: true` is kept as a leading "Error: " text the model reads (README: limits).
 */
function toolResult(b: Obj, f: string, policy: ParamPolicy): MessageInit {
  for (const k in b) if (!TOOL_RESULT_KEYS.has(k)) throw invalid(`${f}.${k}`, "unknown parameter");
  if (b["toolset_name"] != null) refuse(`${f}.toolset_name`, policy);
  const content = b["content"] == null ? [] : parts(b["content"], `${f}.content`, USER, policy);
  if (b["is_error"] != null && bool(b["is_error"], `${f}.is_error`)) {
    content.unshift({ part: { case: "text", value: "Error: " } });
  }
  const hint = cacheHint(b["cache_control"], `${f}.cache_control`);
  const last = content[content.length - 1];
  if (hint && last) content[content.length - 1] = { ...last, cacheHint: hint };
  return { role: Role.TOOL, toolCallId: callOf(str(b["tool_use_id"], `${f}.tool_use_id`)).id, content };
}

/** One Messages turn -> contract messages: a user turn's tool_result blocks each become a ROLE_TOOL message. */
function turn(v: unknown, i: number, policy: ParamPolicy): MessageInit[] {
  const f = `messages[${i}]`;
  const m = obj(v, f);
  for (const k in m) if (k !== "role" && k !== "content") throw invalid(`${f}.${k}`, "unknown parameter");
  const role = ROLES[str(m["role"], `${f}.role`)];
  if (role === undefined) throw invalid(`${f}.role`, `must be "user" or "assistant"`);
  const c = m["content"];
  if (typeof c === "string" || role === Role.SYSTEM) {
    return [{ role, content: parts(c, `${f}.content`, SYSTEM, policy) }];
  }
  const out: MessageInit[] = [];
  const content: PartInit[] = [];
  const calls: CallInit[] = [];
  arr(c, `${f}.content`).forEach((x, j) => {
    const bf = `${f}.content[${j}]`;
    const b = obj(x, bf);
    const type = b["type"];
    if (type === "tool_result" && role === Role.USER) out.push(toolResult(b, bf, policy));
    else if (type === "tool_use" && role === Role.ASSISTANT) calls.push(toolUse(b, bf, policy));
    else {
      const p = block(b, bf, role === Role.USER ? USER : ASSISTANT, policy);
      if (p) content.push(p);
    }
  });
  if (content.length > 0 || calls.length > 0 || out.length === 0)
    out.push({ role, content, toolCalls: calls });
  return out;
}

function system(v: unknown, policy: ParamPolicy): MessageInit {
  return { role: Role.SYSTEM, content: parts(v, "system", SYSTEM, policy) };
}

/** Top-level cache_control: a breakpoint on the last block of the conversation. */
function lastPartHint(messages: MessageInit[], v: unknown): void {
  const hint = cacheHint(v, "cache_control");
  const content = messages[messages.length - 1]?.content as PartInit[] | undefined;
  const last = content?.[content.length - 1];
  if (hint && content && last) content[content.length - 1] = { ...last, cacheHint: hint };
}

/** Translates a Messages body; `forCount`: count_tokens (max_tokens not required, no stream). */
export function toChatRequest(body: Obj, policy: ParamPolicy, forCount = false): ParsedMessages {
  const model = str(body["model"], "model");
  const init: ChatInit = { model };
  let stream = false;
  let messages: MessageInit[] | undefined;
  let head: MessageInit | undefined;
  for (const key in body) {
    const v = body[key];
    if (v === null || v === undefined || key === "model" || key === "cache_control") continue;
    switch (key) {
      case "messages":
        messages = arr(v, "messages").flatMap((m, i) => turn(m, i, policy));
        break;
      case "system":
        head = system(v, policy);
        break;
      case "max_tokens": {
        const n = int(v, key);
        if (n < 1) throw invalid(key, "must be at least 1");
        init.maxTokens = n;
        break;
      }
      case "stream":
        stream = bool(v, key);
        break;
      case "top_k":
        init.topK = int(v, key);
        break;
      case "stop_sequences":
        init.stop = strings(v, key);
        break;
      case "metadata": {
        const m = obj(v, key);
        for (const k in m) if (k !== "user_id") throw invalid(`metadata.${k}`, "unknown parameter");
        if (m["user_id"] != null) init.user = str(m["user_id"], "metadata.user_id");
        break;
      }
      case "tools":
        init.tools = tools(v, policy);
        break;
      case "tool_choice":
        init.toolChoice = toolChoice(v);
        break;
      case "thinking":
        thinking(v, init, policy);
        break;
      case "output_config":
        outputConfig(v, init, policy);
        break;
      default: // temperature, top_p and the gateway extensions, as on the OpenAI doors
        if (commonParam(init, key, v)) break;
        if (!UNSUPPORTED.has(key)) throw invalid(key, "unknown parameter");
        if (UNSUPPORTED.get(key) !== v) refuse(key, policy);
    }
  }
  if (messages === undefined) throw invalid("messages", "Field required");
  if (messages.length === 0) throw invalid("messages", "at least one message is required");
  if (init.maxTokens === undefined && !forCount) throw invalid("max_tokens", "Field required");
  if (body["cache_control"] != null) lastPartHint(messages, body["cache_control"]);
  init.messages = head ? [head, ...messages] : messages;
  return { req: create(ChatRequestSchema, init), stream: stream && !forCount, model };
}

/** A count_tokens body -> CountTokensRequest (the same translation; sampling fields play no part). */
export function toCountRequest(body: Obj, policy: ParamPolicy): CountTokensRequest {
  const { req } = toChatRequest(body, policy, true);
  return create(CountTokensRequestSchema, { model: req.model, messages: req.messages, tools: req.tools });
}
