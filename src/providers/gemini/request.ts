// Pure translation of the contract's ChatRequest / EmbedRequest into Gemini request JSON; a
// parameter Gemini cannot honour is refused (or dropped with a warning), never silently lost.
import {
  type ChatRequest,
  type EmbedRequest,
  type Message,
  ReasoningOptions_Effort,
  ResponseFormat_Type,
  Role,
  ToolChoice_Mode,
} from "../../../gen/llmgateway/v1/llm_pb.js";
import { invalid } from "../../errors.js";
import { isObject } from "../../lib/object.js";
import { refuseBuiltinTools } from "../builtin.js";
import { providerOptionObjects } from "../options.js";
import { parseJson, refuse } from "../params.js";
import { assistantParts, parts, signCurrentTurn } from "./content.js";
import type {
  GBatchEmbedRequest,
  GContent,
  GEmbedRequest,
  GFunctionCallingMode,
  GGenerateRequest,
  GGenerationConfig,
  GPart,
  GThinkingConfig,
  GTool,
  GToolConfig,
} from "./wire.js";

/** What the translator needs besides the request; one object per provider, reused per call. */
export interface GeminiTranslateOptions {
  /** Provider config name: errors, and its key in provider_options_json. */
  provider: string;
  /** "reject" (default): UNSUPPORTED_PARAMETER; "warn": drop the parameter and call `warn`. */
  unsupportedParams?: "reject" | "warn";
  warn?: (msg: string) => void;
}

/** Always false after warning (the caller drops the parameter); throws under "reject". */
function unsupported(param: string, o: GeminiTranslateOptions, why = ""): false {
  return refuse(param, `parameter "${param}" is not supported by provider "${o.provider}"${why}`, o);
}

function textOf(m: Message): string {
  let s = "";
  for (const c of m.content) if (c.part.case === "text") s += c.part.value;
  return s;
}

/** A tool result: its JSON object when it is one, else `{result: text}` (Gemini wants an object). */
function toolResult(text: string): Record<string, unknown> {
  if (text.trimStart().startsWith("{")) {
    try {
      const v: unknown = JSON.parse(text);
      if (isObject(v)) return v;
    } catch {
      // not JSON after all: wrap it
    }
  }
  return { result: text };
}

/** Call name by id, searching the assistant turns before message `i` (nearest first). */
function callName(req: ChatRequest, i: number): string | undefined {
  const id = req.messages[i]!.toolCallId;
  for (let k = i - 1; k >= 0; k--) {
    const m = req.messages[k]!;
    if (m.role !== Role.ASSISTANT) continue;
    for (const c of m.toolCalls) if (c.id === id) return c.name;
  }
  return undefined;
}

function conversation(
  req: ChatRequest,
  o: GeminiTranslateOptions,
): Pick<GGenerateRequest, "contents" | "systemInstruction"> {
  const contents: GContent[] = [];
  const system: GPart[] = [];
  let toolTurn: GContent | undefined; // consecutive tool results go back in one user turn
  req.messages.forEach((m, i) => {
    if (m.name !== "" && m.role !== Role.TOOL) unsupported(`messages[${i}].name`, o);
    if (m.role !== Role.TOOL) toolTurn = undefined;
    switch (m.role) {
      case Role.SYSTEM:
        system.push(...parts(m, i, o, false));
        return;
      case Role.USER:
        contents.push({ role: "user", parts: parts(m, i, o, true) });
        return;
      case Role.ASSISTANT: {
        const p = assistantParts(m, i, o);
        if (p.length > 0) contents.push({ role: "model", parts: p }); // Gemini refuses empty turns
        return;
      }
      case Role.TOOL: {
        if (m.toolCallId === "") throw invalid(`messages[${i}].tool_call_id`, "required for tool messages");
        const name = callName(req, i) ?? (m.name || undefined);
        if (name === undefined) throw invalid(`messages[${i}].tool_call_id`, "matches no earlier tool call");
        const part: GPart = { functionResponse: { name, response: toolResult(textOf(m)) } };
        if (toolTurn === undefined) {
          toolTurn = { role: "user", parts: [part] };
          contents.push(toolTurn);
        } else toolTurn.parts.push(part);
        return;
      }
      default:
        throw invalid(`messages[${i}].role`, "must be system, user, assistant or tool");
    }
  });
  signCurrentTurn(contents);
  return system.length === 0 ? { contents } : { contents, systemInstruction: { parts: system } };
}

function tools(req: ChatRequest): GTool[] {
  const functionDeclarations = req.tools.map((t, i) => {
    const fn: GTool["functionDeclarations"][number] = { name: t.name };
    if (t.description !== "") fn.description = t.description;
    if (t.parametersJson !== "") fn.parameters = parseJson(t.parametersJson, `tools[${i}].parameters_json`);
    return fn;
  });
  return [{ functionDeclarations }];
}

const MODES: Readonly<Record<ToolChoice_Mode, GFunctionCallingMode | undefined>> = {
  [ToolChoice_Mode.UNSPECIFIED]: undefined,
  [ToolChoice_Mode.AUTO]: "AUTO",
  [ToolChoice_Mode.NONE]: "NONE",
  [ToolChoice_Mode.REQUIRED]: "ANY",
};

function toolConfig(req: ChatRequest): GToolConfig | undefined {
  const c = req.toolChoice?.choice;
  if (c?.case === "toolName")
    return { functionCallingConfig: { mode: "ANY", allowedFunctionNames: [c.value] } };
  const mode = c?.case === "mode" ? MODES[c.value] : undefined;
  return mode === undefined ? undefined : { functionCallingConfig: { mode } };
}

/** Thinking budgets derived from an effort when budget_tokens is unset (Gemini 2.5 ranges). */
export const EFFORT_BUDGET: Readonly<Record<ReasoningOptions_Effort, number | undefined>> = {
  [ReasoningOptions_Effort.UNSPECIFIED]: undefined,
  [ReasoningOptions_Effort.MINIMAL]: 0,
  [ReasoningOptions_Effort.LOW]: 1024,
  [ReasoningOptions_Effort.MEDIUM]: 8192,
  [ReasoningOptions_Effort.HIGH]: 24576,
};

function thinking(req: ChatRequest): GThinkingConfig | undefined {
  const r = req.reasoning;
  if (r === undefined) return undefined;
  const out: GThinkingConfig = {};
  const budget = r.budgetTokens ?? EFFORT_BUDGET[r.effort];
  if (budget !== undefined) out.thinkingBudget = budget;
  if (r.includeReasoning) out.includeThoughts = true;
  return Object.keys(out).length === 0 ? undefined : out;
}

function generationConfig(req: ChatRequest): GGenerationConfig | undefined {
  const g: GGenerationConfig = {};
  if (req.temperature !== undefined) g.temperature = req.temperature;
  if (req.topP !== undefined) g.topP = req.topP;
  if (req.topK !== undefined) g.topK = req.topK;
  if (req.maxTokens !== undefined) g.maxOutputTokens = req.maxTokens;
  if (req.stop.length > 0) g.stopSequences = req.stop;
  if (req.seed !== undefined) g.seed = Number(req.seed);
  if (req.presencePenalty !== undefined) g.presencePenalty = req.presencePenalty;
  if (req.frequencyPenalty !== undefined) g.frequencyPenalty = req.frequencyPenalty;
  const f = req.responseFormat;
  if (f?.type === ResponseFormat_Type.JSON_OBJECT) g.responseMimeType = "application/json";
  else if (f?.type === ResponseFormat_Type.JSON_SCHEMA) {
    if (f.jsonSchema === "") throw invalid("response_format.json_schema", "required for TYPE_JSON_SCHEMA");
    g.responseMimeType = "application/json";
    g.responseJsonSchema = parseJson(f.jsonSchema, "response_format.json_schema");
  }
  const t = thinking(req);
  if (t !== undefined) g.thinkingConfig = t;
  return Object.keys(g).length === 0 ? undefined : g;
}

/** Deep merge for provider options: objects merge key by key, anything else replaces. */
function merge(into: Record<string, unknown>, from: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(from)) {
    const cur = into[k];
    if (isObject(cur) && isObject(v)) {
      const copy = { ...cur };
      merge(copy, v);
      into[k] = copy;
    } else into[k] = v;
  }
}

function providerOptions(req: ChatRequest, body: GGenerateRequest, o: GeminiTranslateOptions): void {
  for (const v of providerOptionObjects(req, "gemini", o.provider)) merge(body, v.value);
}

/** Builds the generateContent body (the same for streamGenerateContent; the model is in the URL). */
export function toGeminiRequest(req: ChatRequest, o: GeminiTranslateOptions): GGenerateRequest {
  const body: GGenerateRequest = conversation(req, o);
  refuseBuiltinTools(req, o.provider);
  if (req.tools.length > 0) body.tools = tools(req);
  const tc = toolConfig(req);
  if (tc !== undefined) body.toolConfig = tc;
  const g = generationConfig(req);
  if (g !== undefined) body.generationConfig = g;
  if (req.user !== "") unsupported("user", o);
  providerOptions(req, body, o);
  return body;
}

/** "gemini-2.5-flash" -> "models/gemini-2.5-flash"; names already qualified stay as they are. */
export function qualifiedModel(model: string): string {
  return model.startsWith("models/") || model.startsWith("tunedModels/") ? model : `models/${model}`;
}

/** One embedContent body per input; several go out as one batchEmbedContents call. */
export function toGeminiEmbedRequests(
  req: EmbedRequest,
  model: string,
  o: GeminiTranslateOptions,
): GBatchEmbedRequest {
  if (req.user !== "") unsupported("user", o);
  const name = qualifiedModel(model);
  const requests = req.inputs.map((text): GEmbedRequest => {
    const r: GEmbedRequest = { model: name, content: { parts: [{ text }] } };
    if (req.dimensions !== undefined) r.outputDimensionality = req.dimensions;
    return r;
  });
  return { requests };
}
