// Validation of the content parts and tool fields beyond text and images (validate.ts calls these):
// documents, reasoning, prompt-cache hints and provider built-in tools. Violations are collected.
import type { CacheHint, ContentPart, Tool } from "../../gen/llmgateway/v1/llm_pb.js";
import { Role } from "../../gen/llmgateway/v1/llm_pb.js";
import type { FieldViolation } from "../errors.js";

/** A cache hint at `field`: type "" or "ephemeral", ttl_s > 0 when set. */
export function checkCacheHint(h: CacheHint | undefined, field: string, out: FieldViolation[]): void {
  if (h === undefined) return;
  if (h.type !== "" && h.type !== "ephemeral")
    out.push({ field: `${field}.type`, description: 'must be "ephemeral" (or empty)' });
  if (h.ttlS !== undefined && h.ttlS <= 0) out.push({ field: `${field}.ttl_s`, description: "must be > 0" });
}

/**
 * A document or reasoning part (and any part's cache hint) of a message with role `role`; `f` is
 * the part's path (`messages[0].content[1]`). Text and image parts are validate.ts's.
 */
export function checkPart(c: ContentPart, role: Role, f: string, out: FieldViolation[]): void {
  checkCacheHint(c.cacheHint, `${f}.cache_hint`, out);
  const part = c.part;
  if (part.case === "document") {
    const doc = part.value;
    if (doc.source.case === undefined)
      out.push({ field: `${f}.document`, description: "must set url, data or text" });
    else if (doc.source.case === "data" && !doc.mediaType)
      out.push({ field: `${f}.document.media_type`, description: "is required with data" });
  } else if (part.case === "reasoning" && role !== Role.ASSISTANT) {
    out.push({ field: `${f}.reasoning`, description: "only in assistant messages" });
  }
}

function isJsonObject(text: string): boolean {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === "object" && !Array.isArray(v);
  } catch {
    return false;
  }
}

/**
 * A provider built-in tool (`builtin_type` set): needs `builtin_json`, a JSON object; it has no
 * name or parameters to check. Returns false for a function tool (validate.ts checks those).
 */
export function checkBuiltinTool(t: Tool, i: number, out: FieldViolation[]): boolean {
  checkCacheHint(t.cacheHint, `tools[${i}].cache_hint`, out);
  if (t.builtinType === "") {
    if (t.builtinJson !== "")
      out.push({ field: `tools[${i}].builtin_type`, description: "is required with builtin_json" });
    return false;
  }
  if (t.builtinJson === "")
    out.push({ field: `tools[${i}].builtin_json`, description: "is required for a built-in tool" });
  else if (!isJsonObject(t.builtinJson))
    out.push({ field: `tools[${i}].builtin_json`, description: "must be a JSON object" });
  return true;
}
