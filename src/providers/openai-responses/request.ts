// Pure translation of the contract's ChatRequest into an OpenAI Responses API body: messages become
// input items (OpenAI reasoning items placed back where they were), tools flat or built-in verbatim,
// `store: false` with encrypted reasoning asked for, so no state is ever kept upstream.
import {
  type ChatRequest,
  type ContentPart,
  type Document,
  type Image,
  type Message,
  ResponseFormat_Type,
  Role,
  type Tool,
} from "../../../gen/llmgateway/v1/llm_pb.js";
import { invalid } from "../../errors.js";
import { isObject } from "../../lib/object.js";
import { openAIEffort, openAIToolMode } from "../openai-common.js";
import { providerOptionObjects } from "../options.js";
import { type ParamPolicy, parseJson, refuse } from "../params.js";
import type {
  RInputContent,
  RInputItem,
  ROutputTextPart,
  RRequest,
  RTextFormat,
  RTool,
  RToolChoice,
} from "./wire.js";

/** What the translator needs besides the request. */
export interface ResponsesTranslateOptions extends ParamPolicy {
  /** An OpenAI reasoning model (o-series, gpt-5): ask for its encrypted reasoning. */
  reasoningModel: boolean;
}

/** The `include` entry that makes reasoning items carry their encrypted state. */
export const ENCRYPTED_REASONING = "reasoning.encrypted_content";

const base64 = (d: Uint8Array): string =>
  Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString("base64");

function image(img: Image, field: string): RInputContent {
  let url: string;
  if (img.source.case === "url") url = img.source.value;
  else if (img.source.case === "data") {
    if (img.mediaType === "") throw invalid(`${field}.image.media_type`, "required with data");
    url = `data:${img.mediaType};base64,${base64(img.source.value)}`;
  } else throw invalid(`${field}.image`, "needs url or data");
  const detail = img.detail === "" ? "auto" : img.detail;
  if (detail !== "auto" && detail !== "low" && detail !== "high") {
    throw invalid(`${field}.image.detail`, "must be auto, low or high");
  }
  return { type: "input_image", image_url: url, detail };
}

function document(doc: Document, field: string): RInputContent {
  const s = doc.source;
  if (s.case === "text")
    return { type: "input_text", text: doc.title ? `${doc.title}\n\n${s.value}` : s.value };
  if (s.case === "url") return { type: "input_file", file_url: s.value };
  if (s.case !== "data") throw invalid(`${field}.document`, "needs url, data or text");
  if (doc.mediaType === "") throw invalid(`${field}.document.media_type`, "required with data");
  // The API wants a file name with inline data; the extension tells it the format.
  const ext = doc.mediaType === "application/pdf" ? ".pdf" : "";
  const filename = doc.filename || (doc.title ? `${doc.title}${ext}` : `document${ext}`);
  return { type: "input_file", file_data: `data:${doc.mediaType};base64,${base64(s.value)}`, filename };
}

function inputContent(parts: ContentPart[], i: number, rich: boolean): RInputContent[] {
  const out: RInputContent[] = [];
  parts.forEach((c, j) => {
    const p = c.part;
    const field = `messages[${i}].content[${j}]`;
    if (p.case === "text") out.push({ type: "input_text", text: p.value });
    else if (p.case === "image" || p.case === "document") {
      if (!rich) throw invalid(field, `${p.case}s only in user messages`);
      out.push(p.case === "image" ? image(p.value, field) : document(p.value, field));
    }
    // Reasoning in a user or system message means nothing upstream: left out.
  });
  return out;
}

/** Text only (tool results): images and documents refused, reasoning left out. */
function textOf(parts: ContentPart[], i: number): string {
  let text = "";
  parts.forEach((c, j) => {
    if (c.part.case === "text") text += c.part.value;
    else if (c.part.case === "image" || c.part.case === "document") {
      throw invalid(`messages[${i}].content[${j}]`, "tool results carry text only on this wire");
    }
  });
  return text;
}

/**
 * An assistant turn: text becomes message items, OpenAI reasoning becomes reasoning items at its
 * place, then the function calls. Foreign reasoning, and OpenAI reasoning without its encrypted
 * state (useless with `store: false`), are left out.
 */
function assistant(m: Message, out: RInputItem[]): void {
  let text: ROutputTextPart[] = [];
  const flush = () => {
    if (text.length > 0) out.push({ type: "message", role: "assistant", content: text });
    text = [];
  };
  for (const c of m.content) {
    const p = c.part;
    if (p.case === "text") {
      if (p.value !== "") text.push({ type: "output_text", text: p.value, annotations: [] });
    } else if (p.case === "reasoning") {
      const r = p.value;
      if (r.provider !== "openai" || r.encryptedContent === "") continue;
      flush();
      out.push({
        type: "reasoning",
        ...(r.id === "" ? {} : { id: r.id }),
        summary: r.text === "" ? [] : [{ type: "summary_text", text: r.text }],
        encrypted_content: r.encryptedContent,
      });
    }
  }
  flush();
  for (const call of m.toolCalls) {
    out.push({
      type: "function_call",
      call_id: call.id,
      name: call.name,
      arguments: call.argumentsJson === "" ? "{}" : call.argumentsJson,
    });
  }
}

/** Messages -> instructions (the leading system messages) and input items. */
function input(
  req: ChatRequest,
  o: ResponsesTranslateOptions,
): { instructions?: string; items: RInputItem[] } {
  const items: RInputItem[] = [];
  const leading: string[] = [];
  let head = true;
  req.messages.forEach((m, i) => {
    if (m.name !== "") refuse("message_name", `message names are not supported by the Responses API`, o);
    if (m.role === Role.SYSTEM && head) {
      leading.push(textOf(m.content, i));
      return;
    }
    head = false;
    switch (m.role) {
      case Role.SYSTEM:
        items.push({ type: "message", role: "system", content: inputContent(m.content, i, false) });
        return;
      case Role.USER:
        items.push({ type: "message", role: "user", content: inputContent(m.content, i, true) });
        return;
      case Role.ASSISTANT:
        assistant(m, items);
        return;
      case Role.TOOL:
        if (m.toolCallId === "") throw invalid(`messages[${i}].tool_call_id`, "required for tool messages");
        items.push({ type: "function_call_output", call_id: m.toolCallId, output: textOf(m.content, i) });
        return;
      default:
        throw invalid(`messages[${i}].role`, "must be system, user, assistant or tool");
    }
  });
  return leading.length === 0 ? { items } : { instructions: leading.join("\n\n"), items };
}

function tool(t: Tool, i: number): RTool {
  if (t.builtinType !== "") {
    if (t.builtinJson === "") return { type: t.builtinType };
    const obj = parseJson(t.builtinJson, `tools[${i}].builtin_json`);
    if (!isObject(obj)) throw invalid(`tools[${i}].builtin_json`, "must be a JSON object");
    if (obj["type"] !== undefined && obj["type"] !== t.builtinType) {
      throw invalid(`tools[${i}].builtin_json`, `its type must be "${t.builtinType}" (builtin_type)`);
    }
    return { ...obj, type: t.builtinType };
  }
  const parameters =
    t.parametersJson === ""
      ? { type: "object", properties: {} }
      : parseJson(t.parametersJson, `tools[${i}].parameters_json`);
  // strict defaults to true on this API (it then rewrites nothing and rejects loose schemas): the
  // contract's tools are the chat wire's, not strict.
  const fn: RTool = { type: "function", name: t.name, parameters, strict: false };
  if (t.description !== "") fn.description = t.description;
  return fn;
}

function toolChoice(req: ChatRequest): RToolChoice | undefined {
  const c = req.toolChoice?.choice;
  if (c === undefined || c.case === undefined) return undefined;
  if (c.case === "toolName") {
    // A built-in tool is chosen by its type.
    return req.tools.some((t) => t.builtinType === c.value)
      ? { type: c.value }
      : { type: "function", name: c.value };
  }
  return openAIToolMode(c.value);
}

function format(req: ChatRequest): RTextFormat | undefined {
  const f = req.responseFormat;
  if (f === undefined) return undefined;
  if (f.type === ResponseFormat_Type.JSON_OBJECT) return { type: "json_object" };
  if (f.type !== ResponseFormat_Type.JSON_SCHEMA) return undefined;
  if (f.jsonSchema === "") throw invalid("response_format.json_schema", "required for TYPE_JSON_SCHEMA");
  const schema = parseJson(f.jsonSchema, "response_format.json_schema");
  return { type: "json_schema", name: f.schemaName || "response", schema, strict: f.strict };
}

const SUMMARIES: ReadonlySet<string> = new Set(["auto", "concise", "detailed"]);

/** ReasoningOptions -> `reasoning` {effort, summary}; include_reasoning alone asks for summary "auto". */
function reasoning(req: ChatRequest, o: ResponsesTranslateOptions): RRequest["reasoning"] {
  const r = req.reasoning;
  if (r === undefined) return undefined;
  const effort = openAIEffort(req, o);
  if (r.summary !== "" && !SUMMARIES.has(r.summary)) {
    throw invalid("reasoning.summary", "must be auto, concise or detailed");
  }
  const summary = r.summary !== "" ? r.summary : r.includeReasoning ? "auto" : undefined;
  if (effort === undefined && summary === undefined) return undefined;
  return { ...(effort === undefined ? {} : { effort }), ...(summary === undefined ? {} : { summary }) };
}

/** Refuses what the Responses API has no field for (per the unsupported-parameter policy). */
function refuseMissing(req: ChatRequest, o: ResponsesTranslateOptions): void {
  const no = (param: string) =>
    refuse(param, `parameter "${param}" is not supported by the Responses API`, o);
  if (req.stop.length > 0) no("stop");
  if (req.seed !== undefined) no("seed");
  if (req.presencePenalty !== undefined) no("presence_penalty");
  if (req.frequencyPenalty !== undefined) no("frequency_penalty");
  if (req.topK !== undefined) no("top_k");
}

/** Builds the POST /responses body; `model` is the upstream name. Metadata is never sent. */
export function toResponsesRequest(
  req: ChatRequest,
  model: string,
  stream: boolean,
  o: ResponsesTranslateOptions,
): RRequest {
  refuseMissing(req, o);
  const { instructions, items } = input(req, o);
  const out: RRequest = { model, input: items, store: false };
  if (instructions !== undefined) out.instructions = instructions;
  if (req.tools.length > 0) out.tools = req.tools.map(tool);
  const choice = toolChoice(req);
  if (choice !== undefined) out.tool_choice = choice;
  const f = format(req);
  if (f !== undefined) out.text = { format: f };
  const r = reasoning(req, o);
  if (r !== undefined) out.reasoning = r;
  if (o.reasoningModel || r !== undefined) out.include = [ENCRYPTED_REASONING];
  if (req.maxTokens !== undefined) out.max_output_tokens = req.maxTokens;
  if (req.temperature !== undefined) out.temperature = req.temperature;
  if (req.topP !== undefined) out.top_p = req.topP;
  if (req.user !== "") out.user = req.user;
  for (const extra of providerOptionObjects(req, "openai", o.provider)) Object.assign(out, extra.value);
  // The escape hatch may override anything (store, include) but what the translators rely on.
  out.model = model;
  out.input = items;
  if (stream) out.stream = true;
  else delete out.stream;
  return out;
}
