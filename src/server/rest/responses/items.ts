// Responses input items (messages, function calls and their outputs, reasoning) -> the contract's
// Messages. Consecutive assistant-side items (reasoning, assistant message, function_call) make one
// assistant turn, as they came from one answer; `item_reference`s are resolved before this runs.
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  type ContentPartSchema,
  type MessageSchema,
  Role,
  type ToolCallSchema,
} from "../../../../gen/llmgateway/v1/llm_pb.js";
import { invalid } from "../../../errors.js";
import { arr, type Obj, obj, oneOf, type ParamPolicy, refuse, str } from "../parse.js";
import { unpackState } from "../reasoning-state.js";
import { unpackCallId } from "./ids.js";

type MessageInit = MessageInitShape<typeof MessageSchema>;
type PartInit = MessageInitShape<typeof ContentPartSchema>;
type CallInit = MessageInitShape<typeof ToolCallSchema>;
/** An assistant turn being assembled (its arrays stay ours to push to). */
interface Turn {
  role: Role;
  content: PartInit[];
  toolCalls: CallInit[];
}

const ROLES: Readonly<Record<string, Role>> = {
  user: Role.USER,
  system: Role.SYSTEM,
  developer: Role.SYSTEM,
  assistant: Role.ASSISTANT,
};
const DETAILS = ["auto", "low", "high"] as const;

/** `data:<media type>;base64,<data>` -> bytes and media type. */
function dataUrl(url: string, field: string): { data: Buffer; mediaType: string } {
  const comma = url.indexOf(",");
  const meta = comma < 0 ? "" : url.slice(5, comma);
  if (comma < 0 || !meta.endsWith(";base64") || meta.length === 7) {
    throw invalid(field, "a data: URL must be data:<media type>;base64,<data>");
  }
  return { data: Buffer.from(url.slice(comma + 1), "base64"), mediaType: meta.slice(0, -7) };
}

function image(p: Obj, f: string): PartInit {
  if (p["file_id"] != null) throw invalid(`${f}.file_id`, "file ids are not supported: send image_url");
  const url = str(p["image_url"], `${f}.image_url`);
  const detail = p["detail"] == null ? "" : oneOf(p["detail"], `${f}.detail`, DETAILS);
  if (url.startsWith("data:")) {
    const d = dataUrl(url, `${f}.image_url`);
    return {
      part: {
        case: "image",
        value: { source: { case: "data", value: d.data }, mediaType: d.mediaType, detail },
      },
    };
  }
  if (!url.startsWith("https://") && !url.startsWith("http://")) {
    throw invalid(`${f}.image_url`, "must be an http(s) or data: URL");
  }
  return { part: { case: "image", value: { source: { case: "url", value: url }, detail } } };
}

function file(p: Obj, f: string): PartInit {
  if (p["file_id"] != null) throw invalid(`${f}.file_id`, "file ids are not supported: send file_data");
  const filename = p["filename"] == null ? "" : str(p["filename"], `${f}.filename`);
  if (p["file_url"] != null) {
    const url = str(p["file_url"], `${f}.file_url`);
    return { part: { case: "document", value: { source: { case: "url", value: url }, filename } } };
  }
  const raw = str(p["file_data"], `${f}.file_data`);
  // A data: URL (what the Responses API documents), or bare base64 (a PDF unless named otherwise).
  const d = raw.startsWith("data:")
    ? dataUrl(raw, `${f}.file_data`)
    : {
        data: Buffer.from(raw, "base64"),
        mediaType: filename.endsWith(".txt") ? "text/plain" : "application/pdf",
      };
  return {
    part: {
      case: "document",
      value: { source: { case: "data", value: d.data }, mediaType: d.mediaType, filename },
    },
  };
}

/** A message's (or a function output's) content: a string or typed parts. */
function content(v: unknown, f: string, role: Role, policy: ParamPolicy): PartInit[] {
  if (v == null) return [];
  if (typeof v === "string") return [{ part: { case: "text", value: v } }];
  const out: PartInit[] = [];
  const parts = arr(v, f);
  for (let j = 0; j < parts.length; j++) {
    const pf = `${f}[${j}]`;
    const p = obj(parts[j], pf);
    const type = str(p["type"], `${pf}.type`);
    if (type === "input_text" || type === "output_text" || type === "text") {
      out.push({ part: { case: "text", value: str(p["text"], `${pf}.text`) } });
    } else if (type === "refusal")
      out.push({ part: { case: "text", value: str(p["refusal"], `${pf}.refusal`) } });
    else if (type === "input_image") {
      if (role === Role.ASSISTANT || role === Role.SYSTEM)
        throw invalid(`${pf}.type`, "images are allowed in user input only");
      out.push(image(p, pf));
    } else if (type === "input_file") {
      if (role === Role.ASSISTANT || role === Role.SYSTEM)
        throw invalid(`${pf}.type`, "files are allowed in user input only");
      out.push(file(p, pf));
    } else if (type === "input_audio") refuse(`${pf}.type`, policy, `"${type}" is not supported`);
    else throw invalid(`${pf}.type`, `unknown content part type "${type}"`);
  }
  return out;
}

/** A reasoning item as a Reasoning part: packed state of another wire format, else OpenAI's own. */
function reasoning(it: Obj, f: string): PartInit {
  const texts: string[] = [];
  const fromContent = it["content"] == null ? [] : arr(it["content"], `${f}.content`);
  const source = fromContent.length > 0 ? fromContent : arr(it["summary"] ?? [], `${f}.summary`);
  for (let j = 0; j < source.length; j++)
    texts.push(str(obj(source[j], `${f}[${j}]`)["text"], `${f}[${j}].text`));
  const text = texts.join("\n\n");
  const id = it["id"] == null ? "" : str(it["id"], `${f}.id`);
  const enc = it["encrypted_content"] == null ? "" : str(it["encrypted_content"], `${f}.encrypted_content`);
  const state = enc === "" ? undefined : unpackState(enc);
  if (state) return { part: { case: "reasoning", value: { ...state, text } } };
  // Native (or none): OpenAI's encrypted reasoning, sent back only to an OpenAI Responses upstream.
  return { part: { case: "reasoning", value: { text, encryptedContent: enc, provider: "openai", id } } };
}

/** Translates expanded input items into messages (the `instructions` system message is the caller's). */
export function itemsToMessages(items: readonly unknown[], policy: ParamPolicy): MessageInit[] {
  const out: MessageInit[] = [];
  let turn: Turn | undefined;
  const assistant = (): Turn => {
    if (!turn) {
      turn = { role: Role.ASSISTANT, content: [], toolCalls: [] };
      out.push(turn);
    }
    return turn;
  };
  for (let i = 0; i < items.length; i++) {
    const f = `input[${i}]`;
    const it = obj(items[i], f);
    const type = it["type"] == null ? "message" : str(it["type"], `${f}.type`);
    if (type === "message") {
      const role = ROLES[str(it["role"], `${f}.role`)];
      if (role === undefined)
        throw invalid(`${f}.role`, `must be one of "user", "system", "developer", "assistant"`);
      const parts = content(it["content"], `${f}.content`, role, policy);
      if (role === Role.ASSISTANT) assistant().content.push(...parts);
      else {
        turn = undefined;
        out.push({ role, content: parts });
      }
    } else if (type === "function_call") {
      const call = unpackCallId(str(it["call_id"], `${f}.call_id`));
      assistant().toolCalls.push({
        id: call.id,
        name: str(it["name"], `${f}.name`),
        argumentsJson: str(it["arguments"], `${f}.arguments`),
        signature: call.signature,
        signatureProvider: call.provider,
      });
    } else if (type === "function_call_output") {
      turn = undefined;
      const o = it["output"];
      out.push({
        role: Role.TOOL,
        toolCallId: unpackCallId(str(it["call_id"], `${f}.call_id`)).id,
        content: content(o, `${f}.output`, Role.TOOL, policy),
      });
    } else if (type === "reasoning") {
      assistant().content.push(reasoning(it, f));
    } else if (type === "item_reference") {
      throw invalid(`${f}.id`, "item_reference could not be resolved");
    } else {
      throw invalid(`${f}.type`, `input items of type "${type}" are not supported by the gateway`);
    }
  }
  return out;
}
