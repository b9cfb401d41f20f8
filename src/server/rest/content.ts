// OpenAI message content (a string, or text / image_url parts) -> the contract's ContentParts.
// Images: a `data:` URL becomes Image bytes + media_type, an http(s) URL stays a URL.
import type { MessageInitShape } from "@bufbuild/protobuf";
import { type ContentPartSchema, Role } from "../../../gen/llmgateway/v1/llm_pb.js";
import { invalid } from "../../errors.js";
import { arr, obj, oneOf, type ParamPolicy, refuse, str } from "./parse.js";

type PartInit = MessageInitShape<typeof ContentPartSchema>;

const DETAILS = ["auto", "low", "high"] as const;
const BASE64 = ";base64";

/** An image_url part's image: inline bytes for a base64 data: URL, else the http(s) URL. */
function image(v: unknown, field: string): PartInit {
  const iu = obj(v, `${field}.image_url`);
  const url = str(iu["url"], `${field}.image_url.url`);
  const detail = iu["detail"] == null ? "" : oneOf(iu["detail"], `${field}.image_url.detail`, DETAILS);
  if (url.startsWith("data:")) {
    const comma = url.indexOf(",");
    const meta = comma < 0 ? "" : url.slice(5, comma);
    if (comma < 0 || !meta.endsWith(BASE64) || meta.length === BASE64.length) {
      throw invalid(`${field}.image_url.url`, "a data: URL must be data:<media type>;base64,<data>");
    }
    const data = Buffer.from(url.slice(comma + 1), "base64");
    const mediaType = meta.slice(0, -BASE64.length);
    return { part: { case: "image", value: { source: { case: "data", value: data }, mediaType, detail } } };
  }
  if (!url.startsWith("https://") && !url.startsWith("http://")) {
    throw invalid(`${field}.image_url.url`, "must be an http(s) or data: URL");
  }
  return { part: { case: "image", value: { source: { case: "url", value: url }, detail } } };
}

/** The content of one message; null / absent is no content (an assistant turn with tool calls). */
export function parseContent(v: unknown, field: string, role: Role, policy: ParamPolicy): PartInit[] {
  if (v == null) return [];
  if (typeof v === "string") return [{ part: { case: "text", value: v } }];
  const parts = arr(v, field);
  const out: PartInit[] = [];
  for (let j = 0; j < parts.length; j++) {
    const f = `${field}[${j}]`;
    const p = obj(parts[j], f);
    const type = str(p["type"], `${f}.type`);
    if (type === "text") out.push({ part: { case: "text", value: str(p["text"], `${f}.text`) } });
    else if (type === "refusal" && role === Role.ASSISTANT) {
      out.push({ part: { case: "text", value: str(p["refusal"], `${f}.refusal`) } });
    } else if (type === "image_url") {
      if (role !== Role.USER) throw invalid(`${f}.type`, "images are allowed in user messages only");
      out.push(image(p["image_url"], f));
    } else if (type === "input_audio" || type === "file")
      refuse(`${f}.type`, policy, `"${type}" is not supported`);
    else throw invalid(`${f}.type`, `unknown content part type "${type}"`);
  }
  return out;
}
