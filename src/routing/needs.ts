// The capabilities a chat request needs from any model that answers it (for catalog equivalents).
import { type ChatRequest, ResponseFormat_Type } from "../../gen/llmgateway/v1/llm_pb.js";
import type { CapabilityName } from "../catalog/index.js";

/** tools, vision (an image anywhere), json_schema (structured output). */
export function capabilityNeeds(req: ChatRequest): CapabilityName[] {
  const needs: CapabilityName[] = [];
  if (req.tools.length > 0) needs.push("tools");
  if (req.messages.some((m) => m.content.some((p) => p.part.case === "image"))) needs.push("vision");
  if (req.responseFormat?.type === ResponseFormat_Type.JSON_SCHEMA) needs.push("json_schema");
  return needs;
}
