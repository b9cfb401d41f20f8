// What OpenAI's two wire formats (chat completions, the Responses API) send alike: the reasoning
// effort by name (a token budget has no field) and the tool_choice modes.
import {
  type ChatRequest,
  ReasoningOptions_Effort,
  ToolChoice_Mode,
} from "../../gen/llmgateway/v1/llm_pb.js";
import { type ParamPolicy, refuse } from "./params.js";

/** An effort OpenAI takes. */
export type OpenAIEffort = "minimal" | "low" | "medium" | "high";

const EFFORTS: Record<ReasoningOptions_Effort, OpenAIEffort | undefined> = {
  [ReasoningOptions_Effort.UNSPECIFIED]: undefined,
  [ReasoningOptions_Effort.MINIMAL]: "minimal",
  [ReasoningOptions_Effort.LOW]: "low",
  [ReasoningOptions_Effort.MEDIUM]: "medium",
  [ReasoningOptions_Effort.HIGH]: "high",
};

/**
 * The request's effort, if any. OpenAI takes no token budget: `budget_tokens` alone is unsupported
 * (reject or warn per the policy); with an effort too, the effort is what is sent.
 */
export function openAIEffort(req: ChatRequest, o: ParamPolicy): OpenAIEffort | undefined {
  const r = req.reasoning;
  if (r === undefined) return undefined;
  const effort = EFFORTS[r.effort];
  if (effort === undefined && r.budgetTokens !== undefined) {
    const msg = `reasoning.budget_tokens is not supported by provider "${o.provider}" (it takes reasoning.effort)`;
    refuse("reasoning.budget_tokens", msg, o);
  }
  return effort;
}

/** A tool_choice mode as OpenAI names it (undefined: unspecified, send none). */
export function openAIToolMode(mode: ToolChoice_Mode): "auto" | "none" | "required" | undefined {
  switch (mode) {
    case ToolChoice_Mode.AUTO:
      return "auto";
    case ToolChoice_Mode.NONE:
      return "none";
    case ToolChoice_Mode.REQUIRED:
      return "required";
    default:
      return undefined;
  }
}
