// Provider built-in tools (Tool.builtin_type: web search, file search, ...) run only on OpenAI's
// Responses API. Every other wire refuses them with this one error, whatever defaults.unsupported_params
// says: dropping a tool the caller relies on would change the answer silently.
import type { ChatRequest } from "../../gen/llmgateway/v1/llm_pb.js";
import { GatewayError } from "../errors.js";

/** Throws INVALID_ARGUMENT / UNSUPPORTED_PARAMETER when `req` has a built-in tool. */
export function refuseBuiltinTools(req: ChatRequest, provider: string): void {
  const i = req.tools.findIndex((t) => t.builtinType !== "");
  if (i < 0) return;
  const type = req.tools[i]?.builtinType ?? "";
  throw new GatewayError(
    "INVALID_ARGUMENT",
    "UNSUPPORTED_PARAMETER",
    `tools[${i}]: built-in tool "${type}" is not supported by provider "${provider}"; it runs only on OpenAI with wire: responses`,
    { metadata: { parameter: `tools[${i}].builtin_type`, provider } },
  );
}
