// Pure translation of the contract's ChatRequest into an Anthropic Messages body: system lifted to
// the top level, tool results as user turns, same-role neighbours merged, thinking (options and the
// signed blocks sent back), cache breakpoints, escape hatch. Content parts: content.ts.
import {
  type ChatRequest,
  type Message,
  ReasoningOptions_Effort,
  ResponseFormat_Type,
  Role,
  ToolChoice_Mode,
} from "../../../gen/llmgateway/v1/llm_pb.js";
import { invalid } from "../../errors.js";
import { providerOptionObjects } from "../options.js";
import { parseJson, refuse } from "../params.js";
import { cacheControl, translateParts } from "./content.js";
import type {
  AntMessage,
  AntMessagesRequest,
  AntRequestBlock,
  AntTextBlock,
  AntThinking,
  AntTool,
  AntToolChoice,
  AntToolResultBlock,
} from "./wire.js";

/** What the translator needs besides the request; one object per provider, reused per call. */
export interface AnthropicTranslateOptions {
  /** Provider config name: error messages, and the provider_options_json key that wins. */
  provider: string;
  /** "reject" (default): UNSUPPORTED_PARAMETER; "warn": drop the parameter and call `warn`. */
  unsupportedParams?: "reject" | "warn";
  warn?: (msg: string) => void;
  /** max_tokens when the request sets none (Anthropic requires it); default 4096. */
  defaultMaxTokens?: number;
}

/** Default max_tokens: Anthropic has no default of its own. */
export const DEFAULT_MAX_TOKENS = 4096;

/** Thinking budgets derived from ReasoningOptions.effort when budget_tokens is unset. */
export const EFFORT_BUDGETS: Readonly<Record<ReasoningOptions_Effort, number | undefined>> = {
  [ReasoningOptions_Effort.UNSPECIFIED]: undefined,
  [ReasoningOptions_Effort.MINIMAL]: 1024,
  [ReasoningOptions_Effort.LOW]: 2048,
  [ReasoningOptions_Effort.MEDIUM]: 8192,
  [ReasoningOptions_Effort.HIGH]: 24576,
};

const MIN_THINKING_BUDGET = 1024;

/** False (after a warning) when the caller allows dropping what Anthropic cannot honour; else throws. */
function drop(param: string, o: AnthropicTranslateOptions, why = "is not supported"): false {
  return refuse(param, `parameter "${param}" ${why} by provider "${o.provider}" (anthropic)`, o);
}

function turn(m: Message, i: number): AntMessage {
  switch (m.role) {
    case Role.USER:
      return { role: "user", content: translateParts(m.content, i, "user").blocks };
    case Role.ASSISTANT: {
      // Anthropic wants the turn's thinking first, then its text, then its tool calls.
      const parts = translateParts(m.content, i, "assistant");
      const content: AntRequestBlock[] = [...parts.thinking, ...parts.blocks];
      m.toolCalls.forEach((c, j) => {
        const field = `messages[${i}].tool_calls[${j}]`;
        if (c.id === "" || c.name === "") throw invalid(field, "id and name are required");
        const input = c.argumentsJson === "" ? {} : parseJson(c.argumentsJson, `${field}.arguments_json`);
        content.push({ type: "tool_use", id: c.id, name: c.name, input });
      });
      return { role: "assistant", content };
    }
    case Role.TOOL: {
      if (m.toolCallId === "") throw invalid(`messages[${i}].tool_call_id`, "required for tool messages");
      const { blocks, toolHint } = translateParts(m.content, i, "tool");
      const content = blocks.every((b) => b.type === "text") ? blocks.map((b) => b.text).join("") : blocks;
      const result: AntToolResultBlock = { type: "tool_result", tool_use_id: m.toolCallId, content };
      if (toolHint !== undefined) result.cache_control = toolHint;
      return { role: "user", content: [result] };
    }
    default:
      throw invalid(`messages[${i}].role`, "must be system, user, assistant or tool");
  }
}

/** Lifts system messages out and merges neighbouring turns of one role (Anthropic alternates). */
function conversation(req: ChatRequest, o: AnthropicTranslateOptions) {
  const system: AntTextBlock[] = [];
  const messages: AntMessage[] = [];
  req.messages.forEach((m, i) => {
    if (m.name !== "") drop("name", o);
    if (m.role === Role.SYSTEM) {
      for (const b of translateParts(m.content, i, "system").blocks) if (b.type === "text") system.push(b);
      return;
    }
    const t = turn(m, i);
    if (t.content.length === 0) throw invalid(`messages[${i}].content`, "must not be empty");
    const last = messages[messages.length - 1];
    if (last !== undefined && last.role === t.role) last.content.push(...t.content);
    else messages.push(t);
  });
  if (messages.length === 0) throw invalid("messages", "needs at least one user or assistant message");
  return { system, messages };
}

function tools(req: ChatRequest): AntTool[] {
  return req.tools.map((t, i) => {
    if (t.builtinType !== "") {
      throw invalid(
        `tools[${i}].builtin_type`,
        `built-in tool ${t.builtinType} runs only on OpenAI (wire: responses)`,
      );
    }
    if (t.name === "") throw invalid(`tools[${i}].name`, "required");
    const schema =
      t.parametersJson === ""
        ? { type: "object", properties: {} }
        : parseJson(t.parametersJson, `tools[${i}].parameters_json`);
    const tool: AntTool =
      t.description === ""
        ? { name: t.name, input_schema: schema }
        : { name: t.name, description: t.description, input_schema: schema };
    if (t.cacheHint !== undefined) tool.cache_control = cacheControl(t.cacheHint, `tools[${i}]`);
    return tool;
  });
}

/** Anthropic's limit on cache_control breakpoints per request. */
export const MAX_CACHE_BREAKPOINTS = 4;

/** Refuses more breakpoints than Anthropic takes, before Anthropic does it with a 400. */
function checkBreakpoints(out: AntMessagesRequest): void {
  let n = 0;
  for (const t of out.tools ?? []) if (t.cache_control !== undefined) n++;
  if (Array.isArray(out.system)) for (const b of out.system) if (b.cache_control !== undefined) n++;
  for (const m of out.messages) {
    for (const b of m.content) if ("cache_control" in b && b.cache_control !== undefined) n++;
  }
  if (n > MAX_CACHE_BREAKPOINTS) {
    throw invalid("cache_hint", `Anthropic takes at most ${MAX_CACHE_BREAKPOINTS} cache hints, got ${n}`);
  }
}

function toolChoice(req: ChatRequest): AntToolChoice | undefined {
  const c = req.toolChoice?.choice;
  if (c === undefined || c.case === undefined) return undefined;
  if (c.case === "toolName") return { type: "tool", name: c.value };
  switch (c.value) {
    case ToolChoice_Mode.AUTO:
      return { type: "auto" };
    case ToolChoice_Mode.NONE:
      return { type: "none" };
    case ToolChoice_Mode.REQUIRED:
      return { type: "any" };
    default:
      return undefined;
  }
}

function thinking(req: ChatRequest): AntThinking | undefined {
  const r = req.reasoning;
  if (r === undefined) return undefined;
  const budget = r.budgetTokens ?? EFFORT_BUDGETS[r.effort];
  if (budget === undefined) return undefined;
  if (budget < MIN_THINKING_BUDGET) {
    throw invalid("reasoning.budget_tokens", `Anthropic needs at least ${MIN_THINKING_BUDGET}`);
  }
  return { type: "enabled", budget_tokens: budget };
}

/**
 * Builds the Messages body; `model` is the upstream name. max_tokens is the request's, else the
 * default (plus the thinking budget, which Anthropic counts inside max_tokens). JSON_SCHEMA output
 * uses Anthropic's native structured outputs (`output_config.format`), not a forced tool.
 */
export function toAnthropicRequest(
  req: ChatRequest,
  model: string,
  stream: boolean,
  o: AnthropicTranslateOptions,
): AntMessagesRequest {
  const { system, messages } = conversation(req, o);
  const think = thinking(req);
  const fallback = o.defaultMaxTokens ?? DEFAULT_MAX_TOKENS;
  const maxTokens = req.maxTokens ?? (think === undefined ? fallback : think.budget_tokens + fallback);
  if (maxTokens <= 0) throw invalid("max_tokens", "must be > 0");
  if (think !== undefined && think.budget_tokens >= maxTokens) {
    throw invalid("reasoning.budget_tokens", `must be less than max_tokens (${maxTokens})`);
  }
  const out: AntMessagesRequest = { model, messages, max_tokens: maxTokens };
  // Block form when there are several parts or a cache breakpoint; a plain string otherwise.
  if (system.length === 1 && system[0]!.cache_control === undefined) out.system = system[0]!.text;
  else if (system.length > 0) out.system = system;
  if (req.temperature !== undefined) {
    if (req.temperature >= 0 && req.temperature <= 1) out.temperature = req.temperature;
    else drop("temperature", o, `= ${req.temperature} is outside 0..1 and not supported`);
  }
  if (req.topP !== undefined) out.top_p = req.topP;
  if (req.topK !== undefined) {
    if (req.topK <= 0) throw invalid("top_k", "must be > 0");
    out.top_k = req.topK;
  }
  if (req.stop.length > 0) out.stop_sequences = req.stop;
  if (req.seed !== undefined) drop("seed", o);
  if (req.presencePenalty !== undefined) drop("presence_penalty", o);
  if (req.frequencyPenalty !== undefined) drop("frequency_penalty", o);
  if (req.tools.length > 0) out.tools = tools(req);
  checkBreakpoints(out);
  const choice = toolChoice(req);
  if (choice !== undefined) out.tool_choice = choice;
  const f = req.responseFormat;
  if (f?.type === ResponseFormat_Type.JSON_OBJECT)
    drop("response_format", o, "= json_object is not supported");
  else if (f?.type === ResponseFormat_Type.JSON_SCHEMA) {
    if (f.jsonSchema === "") throw invalid("response_format.json_schema", "required for TYPE_JSON_SCHEMA");
    const schema = parseJson(f.jsonSchema, "response_format.json_schema");
    out.output_config = { format: { type: "json_schema", schema } };
  }
  if (think !== undefined) out.thinking = think;
  if (req.user !== "") out.metadata = { user_id: req.user };
  for (const extra of providerOptionObjects(req, "anthropic", o.provider)) Object.assign(out, extra.value);
  // The escape hatch may add or override any field but these two, which routing and the
  // response translators depend on.
  out.model = model;
  if (stream) out.stream = true;
  else delete out.stream;
  return out;
}
