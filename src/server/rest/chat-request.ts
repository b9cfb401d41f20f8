// OpenAI chat-completions JSON -> the contract's ChatRequest (the opposite of
// providers/openai/request.ts). Every key is mapped, refused by the unsupported-parameter policy,
// or rejected as unknown: nothing is dropped silently.
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  type ChatRequest,
  ChatRequestSchema,
  ContextOverflow,
  type MessageSchema,
  type ReasoningOptions_Effort,
  ResponseFormat_Type,
  Role,
  type ToolChoice_Mode,
} from "../../../gen/llmgateway/v1/llm_pb.js";
import { invalid } from "../../errors.js";
import { create } from "../../lib/create.js";
import { type ChatInit, commonParam, metadata, OPENAI_EFFORTS, TOOL_MODES } from "./common-params.js";
import { parseContent } from "./content.js";
import {
  arr,
  bool,
  int,
  num,
  type Obj,
  obj,
  oneOf,
  onlyKeys,
  type ParamPolicy,
  refuse,
  str,
  strings,
} from "./parse.js";

type MessageInit = MessageInitShape<typeof MessageSchema>;

/** A parsed chat-completions request: the contract's request plus how to answer it. */
export interface ParsedChat {
  req: ChatRequest;
  stream: boolean;
  includeUsage: boolean;
}

/** OpenAI parameters the contract cannot carry; refused unless given their default value. */
const UNSUPPORTED: ReadonlyMap<string, unknown> = new Map<string, unknown>([
  ["logprobs", false],
  ["top_logprobs", undefined],
  ["logit_bias", undefined],
  ["parallel_tool_calls", true],
  ["service_tier", "auto"],
  ["store", false],
  ["prediction", undefined],
  ["audio", undefined],
  ["modalities", undefined],
  ["web_search_options", undefined],
  ["functions", undefined],
  ["function_call", undefined],
  ["safety_identifier", undefined],
  ["prompt_cache_key", undefined],
  ["prompt_cache_retention", undefined],
  ["verbosity", undefined],
]);

const ROLES: Readonly<Record<string, Role>> = {
  system: Role.SYSTEM,
  developer: Role.SYSTEM,
  user: Role.USER,
  assistant: Role.ASSISTANT,
  tool: Role.TOOL,
};
const MESSAGE_KEYS = new Set(["role", "content", "name", "tool_calls", "tool_call_id", "refusal"]);
const EFFORT_NAMES = Object.keys(OPENAI_EFFORTS);
const TOOL_MODE_NAMES = Object.keys(TOOL_MODES);
const FORMAT_TYPES = ["text", "json_object", "json_schema"] as const;
const SCHEMA_KEYS = new Set(["name", "schema", "strict", "description"]);

function message(v: unknown, i: number, policy: ParamPolicy): MessageInit {
  const f = `messages[${i}]`;
  const m = obj(v, f);
  const role = ROLES[str(m["role"], `${f}.role`)];
  if (role === undefined) {
    throw invalid(`${f}.role`, `must be one of "system", "developer", "user", "assistant", "tool"`);
  }
  for (const k in m) {
    if (!MESSAGE_KEYS.has(k)) {
      if (k === "audio" || k === "function_call") refuse(`${f}.${k}`, policy);
      else throw invalid(`${f}.${k}`, "unknown parameter");
    }
  }
  const out: MessageInit = { role, content: parseContent(m["content"], `${f}.content`, role, policy) };
  if (m["name"] != null) out.name = str(m["name"], `${f}.name`);
  if (m["refusal"] != null)
    out.content?.push({ part: { case: "text", value: str(m["refusal"], `${f}.refusal`) } });
  if (m["tool_call_id"] != null) out.toolCallId = str(m["tool_call_id"], `${f}.tool_call_id`);
  if (m["tool_calls"] != null) {
    out.toolCalls = arr(m["tool_calls"], `${f}.tool_calls`).map((c, j) => {
      const tf = `${f}.tool_calls[${j}]`;
      const call = obj(c, tf);
      if (call["type"] != null) oneOf(call["type"], `${tf}.type`, ["function"]);
      const fn = obj(call["function"], `${tf}.function`);
      return {
        id: str(call["id"], `${tf}.id`),
        name: str(fn["name"], `${tf}.function.name`),
        argumentsJson: fn["arguments"] == null ? "" : str(fn["arguments"], `${tf}.function.arguments`),
      };
    });
  }
  return out;
}

function tools(v: unknown, policy: ParamPolicy): NonNullable<ChatInit["tools"]> {
  const list = arr(v, "tools");
  const out: NonNullable<ChatInit["tools"]> = [];
  for (let i = 0; i < list.length; i++) {
    const f = `tools[${i}]`;
    const tool = obj(list[i], f);
    if (str(tool["type"], `${f}.type`) !== "function") {
      refuse(`${f}.type`, policy, `"${String(tool["type"])}" is not supported (only "function" tools)`);
      continue;
    }
    const fn = obj(tool["function"], `${f}.function`);
    if (fn["strict"] != null && bool(fn["strict"], `${f}.function.strict`)) {
      refuse(`${f}.function.strict`, policy);
    }
    const params = fn["parameters"];
    out.push({
      name: str(fn["name"], `${f}.function.name`),
      description: fn["description"] == null ? "" : str(fn["description"], `${f}.function.description`),
      parametersJson: params == null ? "" : JSON.stringify(obj(params, `${f}.function.parameters`)),
    });
  }
  return out;
}

function toolChoice(v: unknown): ChatInit["toolChoice"] {
  if (typeof v === "string") {
    const mode = TOOL_MODES[oneOf(v, "tool_choice", TOOL_MODE_NAMES)] as ToolChoice_Mode;
    return { choice: { case: "mode", value: mode } };
  }
  const c = obj(v, "tool_choice");
  oneOf(c["type"], "tool_choice.type", ["function"]);
  const name = str(obj(c["function"], "tool_choice.function")["name"], "tool_choice.function.name");
  return { choice: { case: "toolName", value: name } };
}

function responseFormat(v: unknown, policy: ParamPolicy): ChatInit["responseFormat"] {
  const rf = obj(v, "response_format");
  const type = oneOf(rf["type"], "response_format.type", FORMAT_TYPES);
  if (type === "text") return { type: ResponseFormat_Type.TEXT };
  if (type === "json_object") return { type: ResponseFormat_Type.JSON_OBJECT };
  const js = obj(rf["json_schema"], "response_format.json_schema");
  onlyKeys(js, SCHEMA_KEYS, "response_format.json_schema");
  if (js["description"] != null) refuse("response_format.json_schema.description", policy);
  return {
    type: ResponseFormat_Type.JSON_SCHEMA,
    schemaName: str(js["name"], "response_format.json_schema.name"),
    // Re-serialised as given: JSON.parse keeps key order, which structured output depends on.
    jsonSchema:
      js["schema"] == null ? "" : JSON.stringify(obj(js["schema"], "response_format.json_schema.schema")),
    strict: js["strict"] == null ? false : bool(js["strict"], "response_format.json_schema.strict"),
  };
}

/** Translates a chat-completions body; throws INVALID_REQUEST / UNSUPPORTED_PARAMETER naming the key. */
export function toChatRequest(body: Obj, policy: ParamPolicy): ParsedChat {
  const init: ChatInit = { model: str(body["model"], "model") };
  let stream = false;
  let includeUsage = false;
  let streamOptions: Obj | undefined;
  let maxTokens: number | undefined;
  for (const key in body) {
    const v = body[key];
    if (v === null || v === undefined || key === "model") continue; // null = unset, as OpenAI reads it
    switch (key) {
      case "messages":
        init.messages = arr(v, "messages").map((m, i) => message(m, i, policy));
        break;
      case "stream":
        stream = bool(v, "stream");
        break;
      case "stream_options":
        streamOptions = obj(v, "stream_options");
        break;
      case "max_tokens":
      case "max_completion_tokens": {
        const n = int(v, key);
        if (maxTokens !== undefined && maxTokens !== n) {
          throw invalid(key, "max_tokens and max_completion_tokens disagree; send one of them");
        }
        maxTokens = n;
        init.maxTokens = n;
        break;
      }
      case "n":
        if (int(v, "n") !== 1) throw invalid("n", "only n = 1 is supported (one choice per call)");
        break;
      case "stop":
        init.stop = typeof v === "string" ? [v] : strings(v, "stop");
        break;
      case "seed":
        init.seed = BigInt(int(v, "seed"));
        break;
      case "presence_penalty":
        init.presencePenalty = num(v, key);
        break;
      case "frequency_penalty":
        init.frequencyPenalty = num(v, key);
        break;
      case "user":
        init.user = str(v, "user");
        break;
      case "tools":
        init.tools = tools(v, policy);
        break;
      case "tool_choice":
        init.toolChoice = toolChoice(v);
        break;
      case "response_format":
        init.responseFormat = responseFormat(v, policy);
        break;
      case "reasoning_effort":
        init.reasoning = {
          ...init.reasoning,
          effort: OPENAI_EFFORTS[oneOf(v, key, EFFORT_NAMES)] as ReasoningOptions_Effort,
        };
        break;
      case "include_reasoning":
        // Gateway extension (OpenRouter's name): return the reasoning text as `reasoning_content`.
        if (typeof v !== "boolean") throw invalid(key, "must be a boolean");
        init.reasoning = { ...init.reasoning, includeReasoning: v };
        break;
      case "metadata":
        init.metadata = metadata(v);
        break;
      case "context_overflow":
        // Gateway extension: a prompt over the window is refused ("reject") or trimmed to fit ("trim").
        init.contextOverflow =
          oneOf(v, key, ["reject", "trim"]) === "trim" ? ContextOverflow.TRIM : ContextOverflow.REJECT;
        break;
      default:
        if (commonParam(init, key, v)) break;
        if (!UNSUPPORTED.has(key)) throw invalid(key, "unknown parameter");
        if (UNSUPPORTED.get(key) !== v) refuse(key, policy);
    }
  }
  if (init.messages === undefined) throw invalid("messages", "is required");
  if (streamOptions) {
    if (!stream) throw invalid("stream_options", "is only allowed when stream is true");
    for (const k in streamOptions) {
      const v = streamOptions[k];
      if (k === "include_usage") includeUsage = v != null && bool(v, "stream_options.include_usage");
      else if (k === "include_obfuscation") {
        if (v != null && bool(v, "stream_options.include_obfuscation"))
          refuse("stream_options.include_obfuscation", policy);
      } else throw invalid(`stream_options.${k}`, "unknown parameter");
    }
  }
  return { req: create(ChatRequestSchema, init), stream, includeUsage };
}
