// Pure translation of the contract's content parts into Anthropic request blocks: text, images,
// documents, cache breakpoints (cache_control) and the signed thinking an assistant turn sends back.
import type {
  CacheHint,
  ContentPart,
  Document,
  Image,
  Reasoning,
} from "../../../gen/llmgateway/v1/llm_pb.js";
import { invalid } from "../../errors.js";
import type {
  AntCacheControl,
  AntDocumentBlock,
  AntImageBlock,
  AntRedactedThinkingBlock,
  AntThinkingBlock,
  AntUserContentBlock,
} from "./wire.js";

/** The wire format name a Reasoning part must carry to be sent back to Anthropic. */
export const ANTHROPIC_WIRE = "anthropic";

/** Anthropic's prompt-cache lifetimes, by CacheHint.ttl_s. */
const TTLS: Readonly<Record<number, AntCacheControl["ttl"]>> = { 300: "5m", 3600: "1h" };

/** CacheHint -> cache_control; `field` names the hinted part in errors. */
export function cacheControl(hint: CacheHint, field: string): AntCacheControl {
  if (hint.type !== "" && hint.type !== "ephemeral") {
    throw invalid(`${field}.cache_hint.type`, `"${hint.type}" is not supported (Anthropic: ephemeral)`);
  }
  if (hint.ttlS === undefined) return { type: "ephemeral" };
  const ttl = TTLS[hint.ttlS];
  if (ttl === undefined) {
    throw invalid(`${field}.cache_hint.ttl_s`, `Anthropic caches for 300 or 3600 seconds, not ${hint.ttlS}`);
  }
  return { type: "ephemeral", ttl };
}

const DATA_URL = /^data:([^;,]*)((?:;[^;,]*)*),(.*)$/s;

/** A data: URL as media type and base64 payload, or undefined when malformed. */
function dataUrl(url: string, fallbackType: string): { mediaType: string; base64: string } | undefined {
  const m = DATA_URL.exec(url);
  const mediaType = m?.[1] || fallbackType;
  if (m === null || mediaType === "") return undefined;
  const payload = m[3] ?? "";
  const base64 = m[2]?.split(";").includes("base64")
    ? payload
    : Buffer.from(decodeURIComponent(payload), "utf8").toString("base64");
  return { mediaType, base64 };
}

function bytesBase64(d: Uint8Array): string {
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString("base64");
}

/** Image -> image block (inline bytes, a data: URL, or a URL Anthropic fetches). */
export function image(img: Image, field: string): AntImageBlock {
  const src = img.source;
  if (src.case === "data") {
    if (img.mediaType === "") throw invalid(`${field}.media_type`, "required with data");
    return {
      type: "image",
      source: { type: "base64", media_type: img.mediaType, data: bytesBase64(src.value) },
    };
  }
  if (src.case !== "url" || src.value === "") throw invalid(field, "needs url or data");
  if (!src.value.startsWith("data:")) return { type: "image", source: { type: "url", url: src.value } };
  const d = dataUrl(src.value, img.mediaType);
  if (d === undefined) throw invalid(`${field}.url`, "malformed data: URL");
  return { type: "image", source: { type: "base64", media_type: d.mediaType, data: d.base64 } };
}

/** Inline bytes of a document -> its source; Anthropic reads PDFs and plain text. */
function inlineDocument(mediaType: string, base64: string, field: string): AntDocumentBlock["source"] {
  const type = mediaType.split(";")[0]?.trim().toLowerCase();
  if (type === "application/pdf") return { type: "base64", media_type: "application/pdf", data: base64 };
  if (type === "text/plain") {
    return { type: "text", media_type: "text/plain", data: Buffer.from(base64, "base64").toString("utf8") };
  }
  throw invalid(
    `${field}.media_type`,
    `"${mediaType}" is not supported (Anthropic: application/pdf, text/plain)`,
  );
}

/** Document -> document block; the filename stands in for a missing title. */
export function document(doc: Document, field: string): AntDocumentBlock {
  const src = doc.source;
  let source: AntDocumentBlock["source"];
  if (src.case === "text") source = { type: "text", media_type: "text/plain", data: src.value };
  else if (src.case === "data") {
    if (doc.mediaType === "") throw invalid(`${field}.media_type`, "required with data");
    source = inlineDocument(doc.mediaType, bytesBase64(src.value), field);
  } else if (src.case === "url" && src.value !== "") {
    if (src.value.startsWith("data:")) {
      const d = dataUrl(src.value, doc.mediaType);
      if (d === undefined) throw invalid(`${field}.url`, "malformed data: URL");
      source = inlineDocument(d.mediaType, d.base64, field);
    } else source = { type: "url", url: src.value };
  } else throw invalid(field, "needs url, data or text");
  const title = doc.title || doc.filename;
  return title === "" ? { type: "document", source } : { type: "document", source, title };
}

/**
 * A Reasoning part of an assistant turn -> thinking / redacted_thinking, or undefined when another
 * wire format made it (the pipeline drops those first; skipping here is the safety net).
 */
export function thinkingBlock(
  r: Reasoning,
  field: string,
): AntThinkingBlock | AntRedactedThinkingBlock | undefined {
  if (r.provider !== ANTHROPIC_WIRE) return undefined;
  if (r.redactedData !== "") return { type: "redacted_thinking", data: r.redactedData };
  if (r.signature === "") {
    throw invalid(`${field}.signature`, "Anthropic needs the signature of a thinking block sent back");
  }
  return { type: "thinking", thinking: r.text, signature: r.signature };
}

/** Where a message's parts go: which part types its role allows. */
export type PartsRole = "system" | "user" | "assistant" | "tool";

/** The blocks of one message; `thinking` only for assistant turns (Anthropic wants them first). */
export interface TranslatedParts {
  blocks: AntUserContentBlock[];
  thinking: (AntThinkingBlock | AntRedactedThinkingBlock)[];
  /** The last cache hint of a tool message (it goes on the tool_result block). */
  toolHint?: AntCacheControl;
}

/** Translates the parts of message `i` for a role; a part its role cannot carry is INVALID_ARGUMENT. */
export function translateParts(parts: ContentPart[], i: number, role: PartsRole): TranslatedParts {
  const out: TranslatedParts = { blocks: [], thinking: [] };
  for (let j = 0; j < parts.length; j++) {
    const cp = parts[j]!;
    const p = cp.part;
    const field = `messages[${i}].content[${j}]`;
    let block: AntUserContentBlock | undefined;
    if (p.case === "text") {
      if (p.value !== "") block = { type: "text", text: p.value }; // Anthropic refuses empty text blocks
    } else if (p.case === "image") {
      if (role === "system" || role === "assistant") {
        throw invalid(field, "images only in user and tool messages");
      }
      block = image(p.value, `${field}.image`);
    } else if (p.case === "document") {
      if (role === "system" || role === "assistant") {
        throw invalid(field, "documents only in user and tool messages");
      }
      block = document(p.value, `${field}.document`);
    } else if (p.case === "reasoning") {
      if (role !== "assistant") throw invalid(field, "reasoning only in assistant messages");
      if (cp.cacheHint !== undefined) throw invalid(`${field}.cache_hint`, "Anthropic cannot cache thinking");
      const t = thinkingBlock(p.value, `${field}.reasoning`);
      if (t !== undefined) out.thinking.push(t);
      continue;
    }
    if (cp.cacheHint !== undefined) {
      const cc = cacheControl(cp.cacheHint, field);
      if (role === "tool") out.toolHint = cc;
      else if (block === undefined) throw invalid(`${field}.cache_hint`, "not allowed on an empty part");
      else block.cache_control = cc;
    }
    if (block !== undefined) out.blocks.push(block);
  }
  return out;
}
