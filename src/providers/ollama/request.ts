// Pure translation of the contract's ChatRequest / EmbedRequest into Ollama's /api/chat and
// /api/embed JSON; what Ollama cannot honour is refused (UNSUPPORTED_PARAMETER) or dropped with a warning.
import {
  type ChatRequest,
  type ContentPart,
  type EmbedRequest,
  type Image,
  type Message,
  ResponseFormat_Type,
  Role,
  ToolChoice_Mode,
} from "../../../gen/llmgateway/v1/llm_pb.js";
import { invalid } from "../../errors.js";
import { isObject } from "../../lib/object.js";
import { refuseBuiltinTools } from "../builtin.js";
import { providerOptionObjects } from "../options.js";
import { parseJson, refuse } from "../params.js";
import type {
  OllamaChatRequest,
  OllamaEmbedRequest,
  OllamaMessage,
  OllamaOptions,
  OllamaTool,
  OllamaToolCall,
} from "./wire.js";

/** What the translator needs besides the request; one object per provider, reused per call. */
export interface OllamaTranslateOptions {
  /** Config name: for messages, and the provider_options_json key that wins over "ollama". */
  provider: string;
  /** "reject" (default): UNSUPPORTED_PARAMETER; "warn": drop the parameter and call `warn`. */
  unsupportedParams?: "reject" | "warn";
  warn?: (msg: string) => void;
}

/** Body keys the gateway owns; provider_options_json may not replace them. */
const RESERVED = new Set(["model", "messages", "stream"]);

/** Throws UNSUPPORTED_PARAMETER, or (unsupportedParams=warn) warns so the caller drops the value. */
function unsupported(param: string, o: OllamaTranslateOptions): void {
  refuse(param, `parameter "${param}" is not supported by provider "${o.provider}"`, o);
}

/** An image as the base64 Ollama wants: from bytes or a base64 data: URL; an http(s) URL is unsupported. */
function imageBase64(img: Image, field: string, o: OllamaTranslateOptions): string | undefined {
  const src = img.source;
  if (src.case === "data") {
    if (img.mediaType === "") throw invalid(`${field}.media_type`, "required with data");
    return Buffer.from(src.value.buffer, src.value.byteOffset, src.value.byteLength).toString("base64");
  }
  if (src.case !== "url") throw invalid(field, "needs url or data");
  const url = src.value;
  if (url.startsWith("data:")) {
    const comma = url.indexOf(",");
    if (comma < 0 || !url.slice(0, comma).endsWith(";base64")) {
      throw invalid(`${field}.url`, "a data: URL must be base64-encoded");
    }
    return url.slice(comma + 1);
  }
  unsupported("image_url", o); // Ollama fetches nothing: images must come inline
  return undefined;
}

/**
 * Text parts (and text documents) joined by newlines, and the images (user messages only). Reasoning
 * parts are skipped (Ollama takes no reasoning state); cache hints are ignored (Ollama keeps its own
 * KV cache of the prompt prefix).
 */
function content(parts: ContentPart[], i: number, images: string[] | undefined, o: OllamaTranslateOptions) {
  const texts: string[] = [];
  for (let j = 0; j < parts.length; j++) {
    const p = parts[j]!.part;
    if (p.case === "text") texts.push(p.value);
    else if (p.case === "document") {
      // Ollama reads text only: a text document is text; a PDF or a URL is refused (or dropped).
      if (p.value.source.case === "text") texts.push(p.value.source.value);
      else unsupported(`messages[${i}].content[${j}].document.${p.value.source.case ?? "source"}`, o);
    } else if (p.case === "image") {
      const field = `messages[${i}].content[${j}].image`;
      if (images === undefined) throw invalid(field, "images only in user messages");
      const b64 = imageBase64(p.value, field, o);
      if (b64 !== undefined) images.push(b64);
    }
  }
  return texts.join("\n");
}

function toolCall(c: Message["toolCalls"][number], field: string): OllamaToolCall {
  const args = c.argumentsJson === "" ? {} : parseJson(c.argumentsJson, field);
  if (!isObject(args)) throw invalid(field, "must be a JSON object");
  return { function: { name: c.name, arguments: args } };
}

function message(
  m: Message,
  i: number,
  names: Map<string, string>,
  o: OllamaTranslateOptions,
): OllamaMessage {
  if (m.name !== "" && m.role !== Role.TOOL) unsupported("message_name", o);
  switch (m.role) {
    case Role.SYSTEM:
      return { role: "system", content: content(m.content, i, undefined, o) };
    case Role.USER: {
      const images: string[] = [];
      const out: OllamaMessage = { role: "user", content: content(m.content, i, images, o) };
      if (images.length > 0) out.images = images;
      return out;
    }
    case Role.ASSISTANT: {
      const out: OllamaMessage = { role: "assistant", content: content(m.content, i, undefined, o) };
      if (m.toolCalls.length > 0) {
        out.tool_calls = m.toolCalls.map((c, j) => {
          if (c.id !== "") names.set(c.id, c.name);
          return toolCall(c, `messages[${i}].tool_calls[${j}].arguments_json`);
        });
      }
      return out;
    }
    case Role.TOOL: {
      const out: OllamaMessage = { role: "tool", content: content(m.content, i, undefined, o) };
      const name = names.get(m.toolCallId) ?? m.name;
      if (name !== "") out.tool_name = name;
      return out;
    }
    default:
      throw invalid(`messages[${i}].role`, "must be system, user, assistant or tool");
  }
}

function tools(req: ChatRequest): OllamaTool[] {
  return req.tools.map((t, i) => {
    const fn: OllamaTool["function"] = { name: t.name };
    if (t.description !== "") fn.description = t.description;
    if (t.parametersJson !== "") fn.parameters = parseJson(t.parametersJson, `tools[${i}].parameters_json`);
    return { type: "function", function: fn };
  });
}

/** Ollama has no tool_choice: only "auto" (its behaviour) passes. */
function checkToolChoice(req: ChatRequest, o: OllamaTranslateOptions): void {
  const c = req.toolChoice?.choice;
  if (c === undefined || c.case === undefined) return;
  if (c.case === "mode" && (c.value === ToolChoice_Mode.AUTO || c.value === ToolChoice_Mode.UNSPECIFIED)) {
    return;
  }
  unsupported("tool_choice", o);
}

function format(req: ChatRequest): unknown {
  const f = req.responseFormat;
  if (f === undefined) return undefined;
  switch (f.type) {
    case ResponseFormat_Type.JSON_OBJECT:
      return "json";
    case ResponseFormat_Type.JSON_SCHEMA:
      if (f.jsonSchema === "") throw invalid("response_format.json_schema", "required for TYPE_JSON_SCHEMA");
      return parseJson(f.jsonSchema, "response_format.json_schema");
    default:
      return undefined;
  }
}

/**
 * provider_options_json's objects for "ollama" then for the config name (which wins on conflicts),
 * merged into one; `options` merges one level deep so num_ctx does not erase temperature.
 */
export function providerOptions(req: ChatRequest, provider: string): Record<string, unknown> | undefined {
  let merged: Record<string, unknown> | undefined;
  for (const { key, value: v } of providerOptionObjects(req, "ollama", provider)) {
    for (const k of Object.keys(v)) {
      if (RESERVED.has(k)) throw invalid(`provider_options_json.${key}.${k}`, "is set by the gateway");
    }
    const options =
      isObject(merged?.["options"]) && isObject(v["options"])
        ? { ...merged["options"], ...v["options"] }
        : undefined;
    merged = { ...merged, ...v };
    if (options !== undefined) merged["options"] = options;
  }
  return merged;
}

/** Builds the /api/chat body; `model` is the upstream name. */
export function toOllamaChatRequest(
  req: ChatRequest,
  model: string,
  stream: boolean,
  o: OllamaTranslateOptions,
): OllamaChatRequest {
  const names = new Map<string, string>();
  const out: OllamaChatRequest = {
    model,
    messages: req.messages.map((m, i) => message(m, i, names, o)),
    stream,
  };
  refuseBuiltinTools(req, o.provider);
  if (req.tools.length > 0) out.tools = tools(req);
  checkToolChoice(req, o);
  const f = format(req);
  if (f !== undefined) out.format = f;
  const opts: OllamaOptions = {};
  if (req.temperature !== undefined) opts.temperature = req.temperature;
  if (req.topP !== undefined) opts.top_p = req.topP;
  if (req.topK !== undefined) opts.top_k = req.topK;
  if (req.maxTokens !== undefined) opts.num_predict = req.maxTokens;
  if (req.stop.length > 0) opts.stop = req.stop;
  if (req.seed !== undefined) opts.seed = Number(req.seed);
  if (req.presencePenalty !== undefined) opts.presence_penalty = req.presencePenalty;
  if (req.frequencyPenalty !== undefined) opts.frequency_penalty = req.frequencyPenalty;
  if (Object.keys(opts).length > 0) out.options = opts;
  if (req.reasoning !== undefined) {
    if (req.reasoning.budgetTokens !== undefined) unsupported("reasoning.budget_tokens", o);
    out.think = true;
  }
  if (req.user !== "") unsupported("user", o);
  const extra = providerOptions(req, o.provider);
  if (extra === undefined) return out;
  const options = isObject(extra["options"]) ? { ...out.options, ...extra["options"] } : undefined;
  Object.assign(out, extra);
  if (options !== undefined) out.options = options;
  return out;
}

/** Builds the /api/embed body. */
export function toOllamaEmbedRequest(
  req: EmbedRequest,
  model: string,
  o: OllamaTranslateOptions,
): OllamaEmbedRequest {
  const out: OllamaEmbedRequest = { model, input: req.inputs };
  if (req.dimensions !== undefined) out.dimensions = req.dimensions;
  if (req.user !== "") unsupported("user", o);
  return out;
}
