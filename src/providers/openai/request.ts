// Pure translation of the contract's ChatRequest / EmbedRequest into OpenAI request JSON, applying
// a host's quirks; a parameter the host cannot honour is refused (or dropped with a warning).
import {
  type ChatRequest,
  type ContentPart,
  type Document,
  type EmbedRequest,
  type Message,
  ResponseFormat_Type,
  Role,
} from "../../../gen/llmgateway/v1/llm_pb.js";
import { invalid } from "../../errors.js";
import { refuseBuiltinTools } from "../builtin.js";
import { openAIEffort, openAIToolMode } from "../openai-common.js";
import { providerOptionObjects } from "../options.js";
import { parseJson, refuse } from "../params.js";
import type { OpenAIParam, OpenAIQuirks } from "./presets.js";
import type {
  OAIChatRequest,
  OAIContentPart,
  OAIEmbeddingsRequest,
  OAIImageDetail,
  OAIMessage,
  OAIResponseFormat,
  OAITextPart,
  OAITool,
  OAIToolChoice,
} from "./wire.js";

/** What the translator needs besides the request; one object per provider, reused per call. */
export interface TranslateOptions {
  /** Provider name, for error messages. */
  provider: string;
  quirks: OpenAIQuirks;
  /** "reject" (default): UNSUPPORTED_PARAMETER; "warn": drop the parameter and call `warn`. */
  unsupportedParams?: "reject" | "warn";
  warn?: (msg: string) => void;
}

/** True when the parameter may be sent; throws or warns (per options) when the host lacks it. */
function allowed(param: OpenAIParam, o: TranslateOptions): boolean {
  if (!o.quirks.unsupportedParams.includes(param)) return true;
  return refuse(param, `parameter "${param}" is not supported by provider "${o.provider}"`, o);
}

/**
 * Text parts of a system, assistant or tool message. Reasoning parts are skipped: chat completions
 * take no reasoning state (the pipeline drops other wires' state; OpenAI's own encrypted reasoning
 * goes back only over `wire: responses`).
 */
function textOnly(parts: ContentPart[], i: number): string | OAITextPart[] {
  if (parts.length === 1 && parts[0]!.part.case === "text") return parts[0]!.part.value;
  const out: OAITextPart[] = [];
  for (let j = 0; j < parts.length; j++) {
    const p = parts[j]!.part;
    if (p.case === "text") out.push({ type: "text", text: p.value });
    else if (p.case === "image" || p.case === "document")
      throw invalid(`messages[${i}].content[${j}]`, `${p.case}s only in user messages`);
  }
  return out.length === 0 ? "" : out;
}

const EXTENSIONS: Readonly<Record<string, string>> = { "application/pdf": ".pdf", "text/plain": ".txt" };

/**
 * A document: bytes (or a data: URL) as a file part with its data: URL, text as a text part; a
 * document URL is refused (chat completions fetch no files).
 */
function documentPart(doc: Document, field: string, o: TranslateOptions): OAIContentPart | undefined {
  const src = doc.source;
  if (src.case === "text") return { type: "text", text: src.value };
  let url: string;
  if (src.case === "data") {
    if (doc.mediaType === "") throw invalid(`${field}.document.media_type`, "required with data");
    const d = src.value;
    url = `data:${doc.mediaType};base64,${Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString("base64")}`;
  } else if (src.case === "url" && src.value.startsWith("data:")) url = src.value;
  else if (src.case === "url") {
    refuse(
      `${field}.document.url`,
      `document URLs are not supported by provider "${o.provider}" (send the file as data)`,
      o,
    );
    return undefined;
  } else throw invalid(`${field}.document`, "needs url, data or text");
  const mt = doc.mediaType || (/^data:([^;,]*)/.exec(url)?.[1] ?? "");
  const filename = doc.filename || doc.title || `document${EXTENSIONS[mt] ?? ""}`;
  return { type: "file", file: { file_data: url, filename } };
}

const DETAILS: ReadonlySet<string> = new Set(["auto", "low", "high"]);

function userContent(parts: ContentPart[], i: number, o: TranslateOptions): string | OAIContentPart[] {
  if (parts.length === 1 && parts[0]!.part.case === "text") return parts[0]!.part.value;
  const out: OAIContentPart[] = [];
  for (let j = 0; j < parts.length; j++) {
    const p = parts[j]!.part;
    if (p.case === "text") {
      out.push({ type: "text", text: p.value });
    } else if (p.case === "document") {
      const doc = documentPart(p.value, `messages[${i}].content[${j}]`, o);
      if (doc !== undefined) out.push(doc);
    } else if (p.case === "image") {
      if (!allowed("images", o)) continue;
      const img = p.value;
      let url: string;
      if (img.source.case === "url") url = img.source.value;
      else if (img.source.case === "data") {
        if (img.mediaType === "")
          throw invalid(`messages[${i}].content[${j}].image.media_type`, "required with data");
        const d = img.source.value;
        url = `data:${img.mediaType};base64,${Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString("base64")}`;
      } else throw invalid(`messages[${i}].content[${j}].image`, "needs url or data");
      if (img.detail === "") out.push({ type: "image_url", image_url: { url } });
      else if (DETAILS.has(img.detail)) {
        out.push({ type: "image_url", image_url: { url, detail: img.detail as OAIImageDetail } });
      } else throw invalid(`messages[${i}].content[${j}].image.detail`, "must be auto, low or high");
    }
  }
  const only = out.length === 1 ? out[0] : undefined;
  return only?.type === "text" ? only.text : out;
}

function message(m: Message, i: number, o: TranslateOptions): OAIMessage {
  const name = m.name !== "" && allowed("message_name", o) ? m.name : undefined;
  switch (m.role) {
    case Role.SYSTEM:
      return name === undefined
        ? { role: "system", content: textOnly(m.content, i) }
        : { role: "system", content: textOnly(m.content, i), name };
    case Role.USER: {
      const content = userContent(m.content, i, o);
      return name === undefined ? { role: "user", content } : { role: "user", content, name };
    }
    case Role.ASSISTANT: {
      const t = m.content.length === 0 ? "" : textOnly(m.content, i);
      const text = t === "" ? null : t; // nothing but reasoning parts counts as no text
      const out: OAIMessage = { role: "assistant", content: text };
      if (m.toolCalls.length > 0) {
        out.tool_calls = m.toolCalls.map((c) => ({
          id: c.id,
          type: "function" as const,
          function: { name: c.name, arguments: c.argumentsJson === "" ? "{}" : c.argumentsJson },
        }));
      } else if (text === null) out.content = "";
      if (name !== undefined) out.name = name;
      return out;
    }
    case Role.TOOL:
      if (m.toolCallId === "") throw invalid(`messages[${i}].tool_call_id`, "required for tool messages");
      return { role: "tool", content: textOnly(m.content, i), tool_call_id: m.toolCallId };
    default:
      throw invalid(`messages[${i}].role`, "must be system, user, assistant or tool");
  }
}

function tools(req: ChatRequest): OAITool[] {
  return req.tools.map((t, i) => {
    const fn: OAITool["function"] = { name: t.name };
    if (t.description !== "") fn.description = t.description;
    if (t.parametersJson !== "") fn.parameters = parseJson(t.parametersJson, `tools[${i}].parameters_json`);
    return { type: "function", function: fn };
  });
}

function toolChoice(req: ChatRequest): OAIToolChoice | undefined {
  const c = req.toolChoice?.choice;
  if (c === undefined || c.case === undefined) return undefined;
  if (c.case === "toolName") return { type: "function", function: { name: c.value } };
  return openAIToolMode(c.value);
}

function responseFormat(req: ChatRequest, o: TranslateOptions): OAIResponseFormat | undefined {
  const f = req.responseFormat;
  if (f === undefined) return undefined;
  switch (f.type) {
    case ResponseFormat_Type.JSON_OBJECT:
      return allowed("response_format", o) ? { type: "json_object" } : undefined;
    case ResponseFormat_Type.JSON_SCHEMA: {
      if (!allowed("response_format", o) || !allowed("json_schema", o)) return undefined;
      if (f.jsonSchema === "") throw invalid("response_format.json_schema", "required for TYPE_JSON_SCHEMA");
      const schema = parseJson(f.jsonSchema, "response_format.json_schema");
      return {
        type: "json_schema",
        json_schema: { name: f.schemaName || "response", schema, strict: f.strict },
      };
    }
    default:
      return undefined; // text is every provider's default: sending it only risks a rejection
  }
}

/** Builds the chat-completions body; `model` is the upstream name, `stream` adds stream_options. */
export function toOpenAIChatRequest(
  req: ChatRequest,
  model: string,
  stream: boolean,
  o: TranslateOptions,
): OAIChatRequest {
  const out: OAIChatRequest = { model, messages: req.messages.map((m, i) => message(m, i, o)) };
  const q = o.quirks;
  if (req.temperature !== undefined && allowed("temperature", o)) out.temperature = req.temperature;
  if (req.topP !== undefined && allowed("top_p", o)) out.top_p = req.topP;
  // Cache hints are ignored: OpenAI caches long prompt prefixes on its own.
  if (req.topK !== undefined)
    refuse("top_k", `parameter "top_k" is not supported by provider "${o.provider}"`, o);
  if (req.maxTokens !== undefined && allowed("max_tokens", o)) out[q.maxTokensField] = req.maxTokens;
  if (req.stop.length > 0 && allowed("stop", o)) out.stop = req.stop;
  if (req.seed !== undefined && allowed("seed", o)) out[q.seedField] = Number(req.seed);
  refuseBuiltinTools(req, o.provider);
  if (req.tools.length > 0 && allowed("tools", o)) out.tools = tools(req);
  const choice = toolChoice(req);
  if (choice !== undefined && allowed("tool_choice", o)) out.tool_choice = choice;
  const format = responseFormat(req, o);
  if (format !== undefined) out.response_format = format;
  if (req.user !== "" && allowed("user", o)) out.user = req.user;
  if (req.presencePenalty !== undefined && allowed("presence_penalty", o)) {
    out.presence_penalty = req.presencePenalty;
  }
  if (req.frequencyPenalty !== undefined && allowed("frequency_penalty", o)) {
    out.frequency_penalty = req.frequencyPenalty;
  }
  const effort = reasoningEffort(req, o);
  if (effort !== undefined) out.reasoning_effort = effort;
  for (const extra of providerOptionObjects(req, "openai", o.provider)) Object.assign(out, extra.value);
  // The escape hatch may add or override any field but these, which routing and the response
  // translators depend on.
  out.model = model;
  if (stream) {
    out.stream = true;
    if (q.supportsStreamOptions) out.stream_options = { include_usage: true };
  } else delete out.stream;
  return out;
}

/**
 * ReasoningOptions -> `reasoning_effort`. OpenAI takes no token budget: `budget_tokens` alone is
 * unsupported here (reject or warn); with an effort too, the effort is what is sent.
 */
function reasoningEffort(req: ChatRequest, o: TranslateOptions): OAIChatRequest["reasoning_effort"] {
  const effort = openAIEffort(req, o);
  return effort !== undefined && allowed("reasoning_effort", o) ? effort : undefined;
}

/** Builds the embeddings body (base64 vectors where the host supports them). */
export function toOpenAIEmbeddingsRequest(
  req: EmbedRequest,
  model: string,
  o: TranslateOptions,
): OAIEmbeddingsRequest {
  const out: OAIEmbeddingsRequest = {
    model,
    input: req.inputs,
    encoding_format: o.quirks.embeddingsBase64 ? "base64" : "float",
  };
  if (req.dimensions !== undefined) out.dimensions = req.dimensions;
  if (req.user !== "" && allowed("user", o)) out.user = req.user;
  return out;
}
