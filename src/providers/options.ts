// The provider_options_json escape hatch, shared by every wire format: parse it once and pick the
// objects that apply to one provider — its wire format's, then its config name's (the name wins).
import type { ChatRequest } from "../../gen/llmgateway/v1/llm_pb.js";
import { GatewayError } from "../errors.js";
import { isObject } from "../lib/object.js";

function invalid(field: string, description: string): GatewayError {
  return new GatewayError(
    "INVALID_ARGUMENT",
    "INVALID_REQUEST",
    `invalid request: ${field}: ${description}`,
    {
      violations: [{ field, description }],
    },
  );
}

/**
 * The option objects for a provider, with their keys, in merge order: the wire format's, then the
 * provider name's (absent ones left out). Invalid JSON, or a non-object where an object belongs, is INVALID_REQUEST naming it.
 */
export function providerOptionObjects(
  req: ChatRequest,
  wireType: string,
  providerName: string,
): { key: string; value: Record<string, unknown> }[] {
  if (req.providerOptionsJson === "") return [];
  let all: unknown;
  try {
    all = JSON.parse(req.providerOptionsJson);
  } catch {
    throw invalid("provider_options_json", "is not valid JSON");
  }
  if (!isObject(all)) throw invalid("provider_options_json", "must be a JSON object");
  const out: { key: string; value: Record<string, unknown> }[] = [];
  for (const key of providerName === wireType ? [wireType] : [wireType, providerName]) {
    const v = all[key];
    if (v === undefined) continue;
    if (!isObject(v)) throw invalid(`provider_options_json.${key}`, "must be a JSON object");
    out.push({ key, value: v });
  }
  return out;
}
