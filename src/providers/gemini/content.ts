// Pure translation of a message's content parts into Gemini parts: text, images, documents
// (inlineData / fileData), the model's earlier reasoning and thought signatures (sent back where
// Gemini returned them), and the dummy signature Gemini documents for calls it did not make.
import type { ContentPart, Document, Message, ToolCall } from "../../../gen/llmgateway/v1/llm_pb.js";
import { invalid } from "../../errors.js";
import { isObject } from "../../lib/object.js";
import { parseJson, refuse } from "../params.js";
import type { GContent, GPart } from "./wire.js";

/** What part translation needs of the provider's options. */
export interface PartOptions {
  provider: string;
  unsupportedParams?: "reject" | "warn";
  warn?: (msg: string) => void;
}

/** The wire format a Reasoning part or ToolCall signature must name to be sent back here. */
export const GEMINI_WIRE = "gemini";

/**
 * Gemini's documented stand-in for a thought signature on a function call Gemini did not make
 * (history from another model, or a signature dropped as foreign): Gemini 3 models refuse the
 * current turn's first call of each step without one.
 */
export const SKIP_SIGNATURE = "skip_thought_signature_validator";

function unsupported(param: string, o: PartOptions, why = ""): false {
  return refuse(param, `parameter "${param}" is not supported by provider "${o.provider}"${why}`, o);
}

const DATA_URL = /^data:([^;,]*)((?:;[^;,]*)*),(.*)$/s;

function base64(d: Uint8Array): string {
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString("base64");
}

/** A URL as a Gemini part: a data: URL inline, an http(s) URL as typed fileData. */
function urlPart(url: string, mediaType: string, field: string, o: PartOptions): GPart | undefined {
  const m = DATA_URL.exec(url);
  if (m !== null) {
    const mimeType = mediaType || m[1] || "";
    if (mimeType === "") throw invalid(`${field}.url`, "data: URL names no media type");
    const b64 = (m[2] ?? "").split(";").includes("base64");
    const data = b64 ? m[3]! : Buffer.from(decodeURIComponent(m[3]!), "utf8").toString("base64");
    return { inlineData: { mimeType, data } };
  }
  if (!/^https?:\/\//i.test(url)) throw invalid(`${field}.url`, "must be an https:// or data: URL");
  if (mediaType === "") {
    unsupported(`${field}.url`, o, " without media_type (Gemini fetches URLs only as typed fileData)");
    return undefined;
  }
  return { fileData: { fileUri: url, mimeType: mediaType } };
}

function imagePart(part: ContentPart, field: string, o: PartOptions): GPart | undefined {
  if (part.part.case !== "image") return undefined;
  const img = part.part.value;
  if (img.detail !== "" && img.detail !== "auto") unsupported(`${field}.image.detail`, o);
  const src = img.source;
  if (src.case === "data") {
    if (img.mediaType === "") throw invalid(`${field}.image.media_type`, "required with data");
    return { inlineData: { mimeType: img.mediaType, data: base64(src.value) } };
  }
  if (src.case !== "url") throw invalid(`${field}.image`, "needs url or data");
  return urlPart(src.value, img.mediaType, `${field}.image`, o);
}

/** A document: bytes inline (PDF, plain text, ...), a URL as fileData, text as a text part. */
function documentPart(doc: Document, field: string, o: PartOptions): GPart | undefined {
  const src = doc.source;
  switch (src.case) {
    case "text":
      return { text: src.value };
    case "data":
      if (doc.mediaType === "") throw invalid(`${field}.document.media_type`, "required with data");
      return { inlineData: { mimeType: doc.mediaType, data: base64(src.value) } };
    case "url":
      return urlPart(src.value, doc.mediaType, `${field}.document`, o);
    default:
      throw invalid(`${field}.document`, "needs url, data or text");
  }
}

/**
 * The parts of a system, user or tool message. Cache hints are ignored: Gemini caches prompts
 * implicitly (explicit caching is its separate cachedContents API, reachable through
 * provider_options_json `cachedContent`).
 */
export function parts(m: Message, i: number, o: PartOptions, media: boolean): GPart[] {
  const out: GPart[] = [];
  for (let j = 0; j < m.content.length; j++) {
    const c = m.content[j]!;
    const field = `messages[${i}].content[${j}]`;
    const p = c.part;
    if (p.case === "text") out.push({ text: p.value });
    else if (p.case === "image" || p.case === "document") {
      if (!media) throw invalid(field, `${p.case}s only in user messages`);
      const g = p.case === "image" ? imagePart(c, field, o) : documentPart(p.value, field, o);
      if (g !== undefined) out.push(g);
    } else if (p.case === "reasoning") throw invalid(`${field}.reasoning`, "only in assistant messages");
  }
  return out;
}

function args(json: string, field: string): Record<string, unknown> {
  if (json === "") return {};
  const v = parseJson(json, field);
  if (!isObject(v)) throw invalid(field, "must be a JSON object");
  return v;
}

/** A ToolCall as a functionCall part, with its Gemini thought signature where it had one. */
function callPart(c: ToolCall, field: string): GPart {
  const part: GPart = {
    functionCall: { name: c.name, args: args(c.argumentsJson, `${field}.arguments_json`) },
  };
  if (c.signature !== "" && c.signatureProvider === GEMINI_WIRE) part.thoughtSignature = c.signature;
  return part;
}

/**
 * An assistant message as the model's parts, in the order Gemini returned them: reasoning, text,
 * function calls. A Reasoning part of Gemini's with text is a thought part (`thought: true`, its
 * signature); one with only a signature goes back on the text part that follows it (where Gemini
 * puts the signature of a text answer), or alone as an empty text part. Reasoning of another wire
 * format is skipped (the pipeline already dropped it, with a log line).
 */
export function assistantParts(m: Message, i: number, _o: PartOptions): GPart[] {
  const out: GPart[] = [];
  let pending: string | undefined; // a signature waiting for the next text part
  const flush = () => {
    if (pending !== undefined) out.push({ text: "", thoughtSignature: pending });
    pending = undefined;
  };
  for (let j = 0; j < m.content.length; j++) {
    const p = m.content[j]!.part;
    if (p.case === "text") {
      const part: GPart = { text: p.value };
      if (pending !== undefined) part.thoughtSignature = pending;
      pending = undefined;
      out.push(part);
    } else if (p.case === "reasoning") {
      const r = p.value;
      if (r.provider !== GEMINI_WIRE) continue;
      flush();
      if (r.text !== "") {
        const part: GPart = { text: r.text, thought: true };
        if (r.signature !== "") part.thoughtSignature = r.signature;
        out.push(part);
      } else if (r.signature !== "") pending = r.signature;
    } else if (p.case !== undefined) {
      throw invalid(`messages[${i}].content[${j}]`, `${p.case}s only in user messages`);
    }
  }
  flush();
  m.toolCalls.forEach((c, k) => {
    out.push(callPart(c, `messages[${i}].tool_calls[${k}]`));
  });
  return out;
}

/** True for a user turn with content of its own (not only function responses): a turn starts there. */
function startsTurn(c: GContent): boolean {
  return c.role === "user" && c.parts.some((p) => p.functionResponse === undefined);
}

/**
 * Gemini 3 validates the current turn (the model steps after the last user message with content of
 * its own): the first functionCall of each step must carry a signature. A step whose calls have none
 * (made by another model, or its signature dropped as foreign) gets Gemini's documented dummy.
 */
export function signCurrentTurn(contents: GContent[]): void {
  let k = contents.length - 1;
  while (k >= 0 && !startsTurn(contents[k]!)) k--;
  for (let s = k + 1; s < contents.length; s++) {
    const c = contents[s]!;
    if (c.role !== "model") continue;
    const first = c.parts.find((p) => p.functionCall !== undefined);
    if (first !== undefined && first.thoughtSignature === undefined) first.thoughtSignature = SKIP_SIGNATURE;
  }
}
