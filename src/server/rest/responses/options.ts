// The Responses API's tool, tool_choice, text.format and reasoning options -> the contract's.
// Built-in tools (web_search, file_search, mcp, ...) travel as Tool.builtin_type + builtin_json:
// only a provider that runs them accepts them (the providers' check), every other refuses the call.
import { ResponseFormat_Type, type ToolChoice_Mode } from "../../../../gen/llmgateway/v1/llm_pb.js";
import { invalid } from "../../../errors.js";
import { type ChatInit, OPENAI_EFFORTS, TOOL_MODES } from "../common-params.js";
import { arr, bool, type Obj, obj, oneOf, onlyKeys, type ParamPolicy, refuse, str } from "../parse.js";

const FUNCTION_KEYS = new Set(["type", "name", "description", "parameters", "strict"]);
const SUMMARIES = ["auto", "concise", "detailed"] as const;
const FORMATS = ["text", "json_object", "json_schema"] as const;
const SCHEMA_KEYS = new Set(["type", "name", "schema", "strict", "description"]);

/** `tools`: function tools, and built-in tools passed whole. */
export function tools(v: unknown): NonNullable<ChatInit["tools"]> {
  return arr(v, "tools").map((t, i) => {
    const f = `tools[${i}]`;
    const tool = obj(t, f);
    const type = str(tool["type"], `${f}.type`);
    if (type !== "function") return { name: "", builtinType: type, builtinJson: JSON.stringify(tool) };
    onlyKeys(tool, FUNCTION_KEYS, f);
    // `strict` is accepted: the schema goes upstream either way, and the contract has no flag for it.
    if (tool["strict"] != null) bool(tool["strict"], `${f}.strict`);
    const params = tool["parameters"];
    return {
      name: str(tool["name"], `${f}.name`),
      description: tool["description"] == null ? "" : str(tool["description"], `${f}.description`),
      parametersJson: params == null ? "" : JSON.stringify(obj(params, `${f}.parameters`)),
    };
  });
}

/** `tool_choice`: a mode, or one function by name. */
export function toolChoice(v: unknown, policy: ParamPolicy): ChatInit["toolChoice"] {
  if (typeof v === "string") {
    const mode = TOOL_MODES[oneOf(v, "tool_choice", Object.keys(TOOL_MODES))] as ToolChoice_Mode;
    return { choice: { case: "mode", value: mode } };
  }
  const c = obj(v, "tool_choice");
  const type = str(c["type"], "tool_choice.type");
  if (type !== "function") {
    refuse("tool_choice.type", policy, `"${type}" is not supported (only "function" or a mode)`);
    return undefined;
  }
  return { choice: { case: "toolName", value: str(c["name"], "tool_choice.name") } };
}

/** `text`: the output format (and verbosity, which only its default passes). */
export function textFormat(v: unknown, policy: ParamPolicy): ChatInit["responseFormat"] {
  const t = obj(v, "text");
  for (const k in t) {
    if (k === "verbosity") {
      if (t[k] != null && t[k] !== "medium") refuse("text.verbosity", policy);
    } else if (k !== "format") throw invalid(`text.${k}`, "unknown parameter");
  }
  if (t["format"] == null) return undefined;
  const fm = obj(t["format"], "text.format");
  const type = oneOf(fm["type"], "text.format.type", FORMATS);
  if (type === "text") return { type: ResponseFormat_Type.TEXT };
  if (type === "json_object") return { type: ResponseFormat_Type.JSON_OBJECT };
  onlyKeys(fm, SCHEMA_KEYS, "text.format");
  if (fm["description"] != null) refuse("text.format.description", policy);
  return {
    type: ResponseFormat_Type.JSON_SCHEMA,
    schemaName: str(fm["name"], "text.format.name"),
    // Re-serialised as given: JSON.parse keeps key order, which structured output depends on.
    jsonSchema: JSON.stringify(obj(fm["schema"], "text.format.schema")),
    strict: fm["strict"] == null ? false : bool(fm["strict"], "text.format.strict"),
  };
}

/** `reasoning`: effort, and a summary (which also asks for the reasoning text back). */
export function reasoning(v: unknown, policy: ParamPolicy): ChatInit["reasoning"] {
  const r: Obj = obj(v, "reasoning");
  const out: NonNullable<ChatInit["reasoning"]> = {};
  for (const k in r) {
    const val = r[k];
    if (val == null) continue;
    if (k === "effort") {
      const e = OPENAI_EFFORTS[str(val, "reasoning.effort")];
      if (e === undefined)
        refuse("reasoning.effort", policy, `"${String(val)}" is not supported (minimal, low, medium, high)`);
      else out.effort = e;
    } else if (k === "summary" || k === "generate_summary") {
      out.summary = oneOf(val, `reasoning.${k}`, SUMMARIES);
      out.includeReasoning = true;
    } else throw invalid(`reasoning.${k}`, "unknown parameter");
  }
  return out;
}
