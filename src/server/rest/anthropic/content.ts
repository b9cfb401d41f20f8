// Anthropic content blocks -> the contract's parts: text, image, document, thinking and
// redacted_thinking (Reasoning parts; packed foreign state unpacked), tool_use (ToolCall), and
// cache_control breakpoints (CacheHint). tool_result blocks become ROLE_TOOL messages (request.ts).
import type { MessageInitShape } from "@bufbuild/protobuf";
import type {
  CacheHint,
  CacheHintSchema,
  ContentPart,
  ContentPartSchema,
  Reasoning,
  ReasoningSchema,
  ToolCall,
  ToolCallSchema,
} from "../../../../gen/llmgateway/v1/llm_pb.js";
import { invalid } from "../../../errors.js";
import { type Obj, obj, oneOf, onlyKeys, type ParamPolicy, refuse, str } from "../parse.js";
import { unpackState } from "../reasoning-state.js";

/** Init shapes only (not whole messages), so that parts can be spread and extended. */
export type PartInit = Exclude<MessageInitShape<typeof ContentPartSchema>, ContentPart>;
export type CallInit = Exclude<MessageInitShape<typeof ToolCallSchema>, ToolCall>;
type HintInit = Exclude<MessageInitShape<typeof CacheHintSchema>, CacheHint>;
type ReasoningInit = Exclude<MessageInitShape<typeof ReasoningSchema>, Reasoning>;

/** The wire format of state this door carries natively. */
export const NATIVE = "anthropic";

const TTLS: Readonly<Record<string, number>> = { "5m": 300, "1h": 3600 };

/** `cache_control` -> CacheHint; null / absent -> none. */
export function cacheHint(v: unknown, field: string): HintInit | undefined {
  if (v == null) return undefined;
  const c = obj(v, field);
  onlyKeys(c, CC_KEYS, field);
  const type = oneOf(c["type"], `${field}.type`, ["ephemeral"]);
  if (c["ttl"] == null) return { type };
  return { type, ttlS: TTLS[oneOf(c["ttl"], `${field}.ttl`, ["5m", "1h"])] as number };
}
const CC_KEYS = new Set(["type", "ttl"]);

function withHint(part: PartInit, b: Obj, f: string): PartInit {
  const hint = cacheHint(b["cache_control"], `${f}.cache_control`);
  return hint === undefined ? part : { ...part, cacheHint: hint };
}

/** A base64 payload as bytes (Anthropic refuses anything else, and so does the door). */
function base64(v: unknown, field: string): Uint8Array {
  const s = str(v, field);
  if (!/^[A-Za-z0-9+/=\s]*$/.test(s)) throw invalid(field, "must be base64");
  return Buffer.from(s, "base64");
}

function image(b: Obj, f: string, policy: ParamPolicy): PartInit | undefined {
  onlyKeys(b, IMAGE_KEYS, f);
  const src = obj(b["source"], `${f}.source`);
  const type = str(src["type"], `${f}.source.type`);
  if (type === "base64") {
    const mediaType = str(src["media_type"], `${f}.source.media_type`);
    const data = base64(src["data"], `${f}.source.data`);
    return withHint(
      { part: { case: "image", value: { source: { case: "data", value: data }, mediaType } } },
      b,
      f,
    );
  }
  if (type === "url") {
    const url = str(src["url"], `${f}.source.url`);
    return withHint({ part: { case: "image", value: { source: { case: "url", value: url } } } }, b, f);
  }
  if (type === "file")
    return void refuse(`${f}.source.type`, policy, `"file" (Files API ids) is not supported`);
  throw invalid(`${f}.source.type`, `must be "base64" or "url", got "${type}"`);
}
const IMAGE_KEYS = new Set(["type", "source", "cache_control"]);

function document(b: Obj, f: string, policy: ParamPolicy): PartInit | undefined {
  onlyKeys(b, DOC_KEYS, f);
  if (b["context"] != null) refuse(`${f}.context`, policy);
  const cit = b["citations"];
  if (cit != null && obj(cit, `${f}.citations`)["enabled"] === true) refuse(`${f}.citations`, policy);
  const src = obj(b["source"], `${f}.source`);
  const type = str(src["type"], `${f}.source.type`);
  const meta = { title: b["title"] == null ? "" : str(b["title"], `${f}.title`) };
  let value: NonNullable<Extract<PartInit["part"], { case: "document" }>>["value"];
  if (type === "base64") {
    const mediaType = str(src["media_type"], `${f}.source.media_type`);
    value = { ...meta, source: { case: "data", value: base64(src["data"], `${f}.source.data`) }, mediaType };
  } else if (type === "text") {
    value = { ...meta, source: { case: "text", value: str(src["data"], `${f}.source.data`) } };
  } else if (type === "url") {
    value = { ...meta, source: { case: "url", value: str(src["url"], `${f}.source.url`) } };
  } else if (type === "content" || type === "file") {
    return void refuse(`${f}.source.type`, policy, `"${type}" is not supported`);
  } else throw invalid(`${f}.source.type`, `must be "base64", "text" or "url", got "${type}"`);
  return withHint({ part: { case: "document", value } }, b, f);
}
const DOC_KEYS = new Set(["type", "source", "cache_control", "title", "context", "citations"]);

function text(b: Obj, f: string, policy: ParamPolicy): PartInit {
  onlyKeys(b, TEXT_KEYS, f);
  const cit = b["citations"];
  if (cit != null && !(Array.isArray(cit) && cit.length === 0)) refuse(`${f}.citations`, policy);
  return withHint({ part: { case: "text", value: str(b["text"], `${f}.text`) } }, b, f);
}
const TEXT_KEYS = new Set(["type", "text", "cache_control", "citations"]);

/**
 * A thinking block's state: a packed value is another wire format's state (sent back only to it);
 * a plain signature is Anthropic's own; an empty one is unsigned text no provider needs back
 * (provider "": the pipeline drops it before dispatch rather than send Anthropic a bad signature).
 */
export function reasoningOf(thinking: string, signature: string): ReasoningInit {
  const packed = unpackState(signature);
  if (packed) return { ...packed, text: thinking };
  return signature === ""
    ? { text: thinking, provider: "" }
    : { text: thinking, signature, provider: NATIVE };
}

function thinking(b: Obj, f: string): PartInit {
  onlyKeys(b, THINKING_KEYS, f);
  const sig = b["signature"] == null ? "" : str(b["signature"], `${f}.signature`);
  return { part: { case: "reasoning", value: reasoningOf(str(b["thinking"], `${f}.thinking`), sig) } };
}
const THINKING_KEYS = new Set(["type", "thinking", "signature"]);

function redacted(b: Obj, f: string): PartInit {
  onlyKeys(b, REDACTED_KEYS, f);
  const data = str(b["data"], `${f}.data`);
  const packed = unpackState(data);
  const value: ReasoningInit = packed ?? { redactedData: data, provider: NATIVE };
  return { part: { case: "reasoning", value } };
}
const REDACTED_KEYS = new Set(["type", "data"]);

/** A tool_use block of an assistant turn as the contract's ToolCall. */
export function toolUse(b: Obj, f: string, policy: ParamPolicy): CallInit {
  onlyKeys(b, TOOL_USE_KEYS, f);
  const caller = b["caller"];
  if (caller != null && obj(caller, `${f}.caller`)["type"] !== "direct") refuse(`${f}.caller`, policy);
  if (b["toolset_name"] != null) refuse(`${f}.toolset_name`, policy);
  // cache_control on a tool_use block has no slot in the contract (breakpoints sit on parts and
  // tools): accepted and not forwarded, as documented.
  const input = b["input"] ?? {};
  return {
    ...callOf(str(b["id"], `${f}.id`)),
    name: str(b["name"], `${f}.name`),
    argumentsJson: JSON.stringify(obj(input, `${f}.input`)),
  };
}

/** A tool_use / tool_result id: the call id, plus the state packed into it on the way out (response.ts toolUseId). */
export function callOf(id: string): { id: string; signature?: string; signatureProvider?: string } {
  const st = unpackState(id);
  if (st === undefined || st.id === "") return { id };
  return { id: st.id, signature: st.signature, signatureProvider: st.provider };
}
const TOOL_USE_KEYS = new Set(["type", "id", "name", "input", "cache_control", "caller", "toolset_name"]);

/** Block types the Messages API has that the contract cannot carry: refused by the policy. */
const FOREIGN = new Set([
  "search_result",
  "server_tool_use",
  "web_search_tool_result",
  "web_fetch_tool_result",
  "code_execution_tool_result",
  "bash_code_execution_tool_result",
  "text_editor_code_execution_tool_result",
  "tool_search_tool_result",
  "container_upload",
  "mcp_tool_use",
  "mcp_tool_result",
  "tool_reference",
]);

/** Which blocks a place accepts. */
export interface Allowed {
  media: boolean;
  reasoning: boolean;
}

/** One non-tool block -> a part (undefined: refused by the policy and dropped). */
export function block(b: Obj, f: string, allowed: Allowed, policy: ParamPolicy): PartInit | undefined {
  const type = str(b["type"], `${f}.type`);
  switch (type) {
    case "text":
      return text(b, f, policy);
    case "image":
    case "document":
      if (!allowed.media) throw invalid(`${f}.type`, `"${type}" blocks are allowed in user turns only`);
      return type === "image" ? image(b, f, policy) : document(b, f, policy);
    case "thinking":
    case "redacted_thinking":
      if (!allowed.reasoning)
        throw invalid(`${f}.type`, `"${type}" blocks are allowed in assistant turns only`);
      return type === "thinking" ? thinking(b, f) : redacted(b, f);
    default:
      if (FOREIGN.has(type)) return void refuse(`${f}.type`, policy, `"${type}" blocks are not supported`);
      throw invalid(`${f}.type`, `unknown content block type "${type}"`);
  }
}
