// Request validation: everything a request must satisfy before any routing or upstream call.
// Violations are collected (not thrown one by one) so the client can fix them all at once.
import type { ChatRequest, EmbedRequest, Message } from "../../gen/llmgateway/v1/llm_pb.js";
import { ContextOverflow, ResponseFormat_Type, Role } from "../../gen/llmgateway/v1/llm_pb.js";
import { type FieldViolation, GatewayError } from "../errors.js";
import { checkBuiltinTool, checkPart } from "./validate-parts.js";

const ROLES = new Set<number>([Role.SYSTEM, Role.USER, Role.ASSISTANT, Role.TOOL]);
const OVERFLOWS = new Set<number>([
  ContextOverflow.UNSPECIFIED,
  ContextOverflow.REJECT,
  ContextOverflow.TRIM,
]);

function fail(violations: FieldViolation[]): never {
  const first = violations[0];
  const summary =
    violations.length === 1 && first
      ? `${first.field}: ${first.description}`
      : `${violations.length} invalid fields`;
  throw new GatewayError("INVALID_ARGUMENT", "INVALID_REQUEST", `invalid request: ${summary}`, {
    violations,
  });
}

function checkJson(text: string, field: string, out: FieldViolation[]): void {
  try {
    const v: unknown = JSON.parse(text);
    if (v === null || typeof v !== "object" || Array.isArray(v))
      out.push({ field, description: "must be a JSON object" });
  } catch {
    out.push({ field, description: "is not valid JSON" });
  }
}

function checkMessage(m: Message, i: number, out: FieldViolation[]): void {
  const f = `messages[${i}]`;
  if (!ROLES.has(m.role)) {
    out.push({
      field: `${f}.role`,
      description: m.role === Role.UNSPECIFIED ? "is required" : `unknown role ${m.role}`,
    });
  }
  if (m.content.length === 0 && m.toolCalls.length === 0 && m.role !== Role.ASSISTANT) {
    out.push({ field: `${f}.content`, description: "must not be empty" });
  }
  for (let j = 0; j < m.content.length; j++) {
    const c = m.content[j];
    const part = c?.part;
    if (c) checkPart(c, m.role, `${f}.content[${j}]`, out);
    if (part?.case === undefined)
      out.push({ field: `${f}.content[${j}]`, description: "must set text, image, reasoning or document" });
    else if (part.case === "image") {
      const img = part.value;
      if (img.source.case === undefined) {
        out.push({ field: `${f}.content[${j}].image`, description: "must set url or data" });
      } else if (img.source.case === "data" && !img.mediaType) {
        out.push({ field: `${f}.content[${j}].image.media_type`, description: "is required with data" });
      }
    }
  }
  if (m.role === Role.TOOL && !m.toolCallId) {
    out.push({ field: `${f}.tool_call_id`, description: "is required for a tool message" });
  }
  for (let j = 0; j < m.toolCalls.length; j++) {
    const tc = m.toolCalls[j];
    if (!tc?.name) out.push({ field: `${f}.tool_calls[${j}].name`, description: "is required" });
  }
}

/** Validates a chat request; throws INVALID_ARGUMENT / INVALID_REQUEST with every violation. */
export function validateChat(req: ChatRequest): void {
  const out: FieldViolation[] = [];
  if (!req.model) out.push({ field: "model", description: "is required" });
  if (req.messages.length === 0)
    out.push({ field: "messages", description: "at least one message is required" });
  for (let i = 0; i < req.messages.length; i++) {
    const m = req.messages[i];
    if (m) checkMessage(m, i, out);
  }
  const t = req.temperature;
  if (t !== undefined && !(t >= 0 && t <= 2))
    out.push({ field: "temperature", description: "must be between 0 and 2" });
  const p = req.topP;
  if (p !== undefined && !(p >= 0 && p <= 1))
    out.push({ field: "top_p", description: "must be between 0 and 1" });
  if (req.topK !== undefined && req.topK <= 0) out.push({ field: "top_k", description: "must be > 0" });
  if (req.maxTokens !== undefined && req.maxTokens <= 0)
    out.push({ field: "max_tokens", description: "must be > 0" });
  for (const [name, v] of [
    ["presence_penalty", req.presencePenalty],
    ["frequency_penalty", req.frequencyPenalty],
  ] as const) {
    if (v !== undefined && !(v >= -2 && v <= 2))
      out.push({ field: name, description: "must be between -2 and 2" });
  }
  if (req.stop.length > 4) out.push({ field: "stop", description: "at most 4 stop sequences" });
  for (let i = 0; i < req.tools.length; i++) {
    const tool = req.tools[i];
    if (!tool || checkBuiltinTool(tool, i, out)) continue;
    if (!/^[a-zA-Z0-9_-]{1,64}$/.test(tool.name)) {
      out.push({ field: `tools[${i}].name`, description: "must be 1-64 letters, digits, _ or -" });
    }
    if (tool.parametersJson) checkJson(tool.parametersJson, `tools[${i}].parameters_json`, out);
  }
  const choice = req.toolChoice?.choice;
  if (choice?.case === "toolName" && !req.tools.some((x) => x.name === choice.value)) {
    out.push({ field: "tool_choice.tool_name", description: `no tool named "${choice.value}" in tools` });
  }
  const rf = req.responseFormat;
  if (rf?.type === ResponseFormat_Type.JSON_SCHEMA) {
    if (!rf.jsonSchema)
      out.push({ field: "response_format.json_schema", description: "is required for TYPE_JSON_SCHEMA" });
    else checkJson(rf.jsonSchema, "response_format.json_schema", out);
  }
  for (let i = 0; i < req.fallbackModels.length; i++) {
    if (!req.fallbackModels[i])
      out.push({ field: `fallback_models[${i}]`, description: "must not be empty" });
  }
  if (req.hedgeAfterMs !== undefined && req.hedgeAfterMs < 0) {
    out.push({ field: "hedge_after_ms", description: "must be >= 0" });
  }
  const ttl = req.cache?.ttlS;
  if (ttl !== undefined && ttl <= 0) out.push({ field: "cache.ttl_s", description: "must be > 0" });
  if (!OVERFLOWS.has(req.contextOverflow))
    out.push({ field: "context_overflow", description: `unknown value ${req.contextOverflow}` });
  if (out.length) fail(out);
}

/** Validates an embeddings request. */
export function validateEmbed(req: EmbedRequest): void {
  const out: FieldViolation[] = [];
  if (!req.model) out.push({ field: "model", description: "is required" });
  if (req.inputs.length === 0) out.push({ field: "inputs", description: "at least one input is required" });
  if (req.dimensions !== undefined && req.dimensions <= 0)
    out.push({ field: "dimensions", description: "must be > 0" });
  if (out.length) fail(out);
}
