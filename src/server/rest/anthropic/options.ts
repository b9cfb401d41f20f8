// The request options of a Messages body that are not conversation: tools (custom and server
// tools), tool_choice, thinking and output_config (effort, structured output), as the contract's.
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  ReasoningOptions_Effort,
  ResponseFormat_Type,
  type Tool,
  ToolChoice_Mode,
  type ToolSchema,
} from "../../../../gen/llmgateway/v1/llm_pb.js";
import { invalid } from "../../../errors.js";
import type { ChatInit } from "../common-params.js";
import { arr, bool, int, obj, oneOf, type ParamPolicy, refuse, str } from "../parse.js";
import { cacheHint } from "./content.js";

type ToolInit = Exclude<MessageInitShape<typeof ToolSchema>, Tool>;

const CUSTOM_TOOL_KEYS = new Set(["type", "name", "description", "input_schema", "cache_control"]);

/** `tools`: custom tools as functions, server tools as built-ins. */
export function tools(v: unknown, policy: ParamPolicy): ToolInit[] {
  return arr(v, "tools").map((x, i) => {
    const f = `tools[${i}]`;
    const t = obj(x, f);
    const type = t["type"] == null ? "custom" : str(t["type"], `${f}.type`);
    const cacheHintInit = cacheHint(t["cache_control"], `${f}.cache_control`);
    const name = str(t["name"], `${f}.name`);
    if (type !== "custom") {
      // A server tool (web search, code execution, ...): passed whole to a provider that runs it.
      return { name, builtinType: type, builtinJson: JSON.stringify(t), cacheHint: cacheHintInit };
    }
    for (const k in t) {
      if (CUSTOM_TOOL_KEYS.has(k) || t[k] == null) continue;
      if (k === "strict" && t[k] === false) continue;
      refuse(`${f}.${k}`, policy);
    }
    const schema = t["input_schema"];
    return {
      name,
      description: t["description"] == null ? "" : str(t["description"], `${f}.description`),
      parametersJson: schema == null ? "" : JSON.stringify(obj(schema, `${f}.input_schema`)),
      cacheHint: cacheHintInit,
    };
  });
}

/** `tool_choice` (auto / any / tool / none). */
export function toolChoice(v: unknown): ChatInit["toolChoice"] {
  const c = obj(v, "tool_choice");
  for (const k in c) {
    if (k !== "type" && k !== "name" && k !== "disable_parallel_tool_use") {
      throw invalid(`tool_choice.${k}`, "unknown parameter");
    }
  }
  // disable_parallel_tool_use is accepted: the contract has no switch for it (README).
  if (c["disable_parallel_tool_use"] != null)
    bool(c["disable_parallel_tool_use"], "tool_choice.disable_parallel_tool_use");
  const type = oneOf(c["type"], "tool_choice.type", ["auto", "any", "tool", "none"]);
  if (type === "tool") return { choice: { case: "toolName", value: str(c["name"], "tool_choice.name") } };
  const mode = { auto: ToolChoice_Mode.AUTO, any: ToolChoice_Mode.REQUIRED, none: ToolChoice_Mode.NONE }[
    type
  ];
  return { choice: { case: "mode", value: mode } };
}

const EFFORTS: Readonly<Record<string, ReasoningOptions_Effort>> = {
  low: ReasoningOptions_Effort.LOW,
  medium: ReasoningOptions_Effort.MEDIUM,
  high: ReasoningOptions_Effort.HIGH,
};

/** `thinking` -> ReasoningOptions (enabled: budget; adaptive: effort; disabled: none). */
export function thinking(v: unknown, init: ChatInit, policy: ParamPolicy): void {
  const t = obj(v, "thinking");
  const type = oneOf(t["type"], "thinking.type", ["enabled", "disabled", "adaptive", "between_tools"]);
  for (const k in t) {
    if (k !== "type" && k !== "budget_tokens" && k !== "display")
      throw invalid(`thinking.${k}`, "unknown parameter");
  }
  if (type === "disabled") return;
  if (type === "between_tools") {
    refuse("thinking.type", policy, `"between_tools" is not supported`);
    return;
  }
  const show =
    t["display"] == null || oneOf(t["display"], "thinking.display", ["summarized", "omitted"]) !== "omitted";
  if (type === "enabled") {
    init.reasoning = {
      ...init.reasoning,
      budgetTokens: int(t["budget_tokens"], "thinking.budget_tokens"),
      includeReasoning: show,
    };
  } else {
    // adaptive: the model decides how long to think; the contract's nearest is a medium effort.
    const effort = init.reasoning?.effort ?? ReasoningOptions_Effort.MEDIUM;
    init.reasoning = { ...init.reasoning, effort, includeReasoning: show };
  }
}

/** `output_config` -> reasoning effort and JSON-schema output. */
export function outputConfig(v: unknown, init: ChatInit, policy: ParamPolicy): void {
  const o = obj(v, "output_config");
  for (const k in o) {
    const x = o[k];
    if (x == null) continue;
    if (k === "effort") {
      const e = oneOf(x, "output_config.effort", ["low", "medium", "high", "xhigh", "max"]);
      const effort = EFFORTS[e];
      if (effort === undefined)
        refuse("output_config.effort", policy, `= "${e}" is not supported (low, medium, high)`);
      else init.reasoning = { ...init.reasoning, effort };
    } else if (k === "format") {
      const fmt = obj(x, "output_config.format");
      oneOf(fmt["type"], "output_config.format.type", ["json_schema"]);
      const schema = JSON.stringify(obj(fmt["schema"], "output_config.format.schema"));
      init.responseFormat = {
        type: ResponseFormat_Type.JSON_SCHEMA,
        jsonSchema: schema,
        schemaName: "response",
        strict: true,
      };
    } else throw invalid(`output_config.${k}`, "unknown parameter");
  }
}
