// Which OpenAI wire a call takes: chat completions or the Responses API. `wire: auto` (the default)
// sends OpenAI's reasoning models — and calls with built-in tools — to OpenAI's own /responses, and
// everything else (every OpenAI-compatible host) to /chat/completions.
import type { ChatRequest } from "../../../gen/llmgateway/v1/llm_pb.js";

/** The two wires of the openai provider type. */
export type OpenAIWire = "chat" | "responses";
/** providers.<name>.wire: a wire, or "auto". */
export type OpenAIWireSetting = OpenAIWire | "auto";

const REASONING_MODEL = /^(?:o1|o3|o4)(?:$|[-_.+])|^gpt-5/;

/** OpenAI's reasoning models: o1, o3, o4-*, gpt-5* (dated and suffixed names included). */
export function isOpenAIReasoningModel(model: string): boolean {
  return REASONING_MODEL.test(model);
}

/**
 * The provider is OpenAI itself: its base URL is api.openai.com, or it is the `openai` preset (whose
 * base URL may be a proxy in front of OpenAI, OPENAI_BASE_URL). A differently named provider on
 * another host is an OpenAI-compatible server, which may not serve /responses.
 */
export function isOpenAIItself(name: string, baseUrl: string): boolean {
  if (name === "openai") return true;
  try {
    return new URL(baseUrl).hostname === "api.openai.com";
  } catch {
    return false;
  }
}

/** The wire one call takes. */
export function chooseWire(
  setting: OpenAIWireSetting,
  openaiItself: boolean,
  model: string,
  req?: ChatRequest,
): OpenAIWire {
  if (setting !== "auto") return setting;
  if (!openaiItself) return "chat";
  if (isOpenAIReasoningModel(model)) return "responses";
  return req?.tools.some((t) => t.builtinType !== "") ? "responses" : "chat";
}
