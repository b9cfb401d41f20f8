// Request fields every REST door reads the same way (OpenAI chat, Responses, Anthropic Messages):
// sampling and the gateway's own extensions, so each door's translator only maps what differs.
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  type ChatRequest,
  type ChatRequestSchema,
  ReasoningOptions_Effort,
  ToolChoice_Mode,
} from "../../../gen/llmgateway/v1/llm_pb.js";
import { cacheControl, int, num, obj, str, strings } from "./parse.js";

/** The init shape of a ChatRequest, filled by the translators. */
export type ChatInit = Exclude<MessageInitShape<typeof ChatRequestSchema>, ChatRequest>;

/** OpenAI's reasoning efforts by name (chat `reasoning_effort`, Responses `reasoning.effort`). */
export const OPENAI_EFFORTS: Readonly<Record<string, ReasoningOptions_Effort>> = {
  minimal: ReasoningOptions_Effort.MINIMAL,
  low: ReasoningOptions_Effort.LOW,
  medium: ReasoningOptions_Effort.MEDIUM,
  high: ReasoningOptions_Effort.HIGH,
};

/** OpenAI's `tool_choice` modes by name (both OpenAI doors). */
export const TOOL_MODES: Readonly<Record<string, ToolChoice_Mode>> = {
  auto: ToolChoice_Mode.AUTO,
  none: ToolChoice_Mode.NONE,
  required: ToolChoice_Mode.REQUIRED,
};

/** `metadata` as OpenAI takes it: an object of strings. */
export function metadata(v: unknown): Record<string, string> {
  const m = obj(v, "metadata");
  for (const k in m) str(m[k], `metadata.${k}`);
  return m as Record<string, string>;
}

/**
 * Maps `key` (its value `v` not null) if it is one of the fields every door shares: temperature,
 * top_p and the gateway extensions fallback_models, hedge_after_ms and cache. False: not one of them.
 */
export function commonParam(init: ChatInit, key: string, v: unknown): boolean {
  switch (key) {
    case "temperature":
      init.temperature = num(v, key);
      return true;
    case "top_p":
      init.topP = num(v, key);
      return true;
    case "fallback_models":
      init.fallbackModels = strings(v, key);
      return true;
    case "hedge_after_ms":
      init.hedgeAfterMs = int(v, key);
      return true;
    case "cache":
      init.cache = cacheControl(v);
      return true;
    default:
      return false;
  }
}
