// The OpenAI Responses fake's request check (openai-responses.ts serves, -answer.ts answers): it
// refuses what the real API refuses — unknown parameters, wrong item and content types, encrypted
// reasoning it did not issue, a reasoning item with nothing after it, orphan function outputs.

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** An OpenAI error answer. */
export interface Rejection {
  status: number;
  body: { error: { message: string; type: string; param: string | null; code: string | null } };
}

function reject(
  status: number,
  message: string,
  param: string | null,
  code: string | null = null,
): Rejection {
  return { status, body: { error: { message, type: "invalid_request_error", param, code } } };
}

const missing = (param: string) =>
  reject(400, `Missing required parameter: '${param}'.`, param, "missing_required_parameter");
const badValue = (param: string, value: unknown, supported: string) =>
  reject(
    400,
    `Invalid value: '${String(value)}'. Supported values are: ${supported}.`,
    param,
    "invalid_value",
  );

const TOP_LEVEL = new Set(
  "model input instructions tools tool_choice text reasoning max_output_tokens temperature top_p user store include stream metadata parallel_tool_calls previous_response_id truncation service_tier prompt_cache_key safety_identifier background top_logprobs max_tool_calls stream_options".split(
    " ",
  ),
);
const BUILTIN = new Set([
  "web_search_preview",
  "web_search_preview_2025_03_11",
  "web_search",
  "file_search",
  "code_interpreter",
  "image_generation",
]);
const INPUT_PARTS = new Set(["input_text", "input_image", "input_file"]);
const OUTPUT_PARTS = new Set(["output_text", "refusal"]);

/** OpenAI's reasoning models (the fake reasons for these). */
export function reasonsFor(model: string): boolean {
  return /^(o\d|gpt-5)/.test(model);
}

/** Encrypted reasoning the fake issued: token -> reasoning item id. Only these verify. */
export type Issued = Map<string, string>;

function checkContent(item: Obj, i: number): Rejection | undefined {
  const role = item["role"];
  if (role !== "user" && role !== "assistant" && role !== "system" && role !== "developer") {
    return badValue(`input[${i}].role`, role, "'assistant', 'system', 'developer', and 'user'");
  }
  const content = item["content"];
  if (typeof content === "string") return undefined;
  if (!Array.isArray(content)) return missing(`input[${i}].content`);
  const allowed = role === "assistant" ? OUTPUT_PARTS : INPUT_PARTS;
  for (let j = 0; j < content.length; j++) {
    const part: unknown = content[j];
    const type = isObj(part) ? part["type"] : undefined;
    if (!isObj(part) || typeof type !== "string" || !allowed.has(type)) {
      const names =
        role === "assistant" ? "'output_text' and 'refusal'" : "'input_text', 'input_image' and 'input_file'";
      return badValue(`input[${i}].content[${j}].type`, type, names);
    }
    if (type === "input_image" && typeof part["image_url"] !== "string") {
      return missing(`input[${i}].content[${j}].image_url`);
    }
    if (
      type === "input_file" &&
      typeof part["file_data"] === "string" &&
      typeof part["filename"] !== "string"
    ) {
      return missing(`input[${i}].content[${j}].filename`);
    }
  }
  return undefined;
}

function checkInput(input: unknown[], body: Obj, issued: Issued): Rejection | undefined {
  const calls = new Set<string>();
  for (let i = 0; i < input.length; i++) {
    const item = input[i];
    if (!isObj(item)) return badValue(`input[${i}]`, typeof item, "an object");
    const type = item["type"] ?? "message";
    if (type === "message") {
      const bad = checkContent(item, i);
      if (bad) return bad;
    } else if (type === "reasoning") {
      const id = String(item["id"] ?? "");
      const enc = item["encrypted_content"];
      if (typeof enc !== "string") {
        if (body["store"] === false) {
          return reject(
            404,
            `Item with id '${id}' not found. Items are not persisted when \`store\` is set to false. Try again with \`store\` set to true, or remove this item from your input.`,
            "input",
          );
        }
        return reject(404, `Item with id '${id}' not found.`, "input");
      }
      const owner = issued.get(enc);
      if (owner === undefined || (id !== "" && owner !== id)) {
        const shown = enc.length > 8 ? `${enc.slice(0, 4)}...${enc.slice(-4)}` : enc;
        return reject(
          400,
          `The encrypted content ${shown} could not be verified.`,
          null,
          "invalid_encrypted_content",
        );
      }
      if (i + 1 >= input.length) {
        return reject(
          400,
          `Item '${id}' of type 'reasoning' was provided without its required following item.`,
          "input",
        );
      }
    } else if (type === "function_call") {
      for (const f of ["call_id", "name", "arguments"]) {
        if (typeof item[f] !== "string") return missing(`input[${i}].${f}`);
      }
      calls.add(item["call_id"] as string);
    } else if (type === "function_call_output") {
      const id = item["call_id"];
      if (typeof id !== "string" || typeof item["output"] !== "string") return missing(`input[${i}].output`);
      if (!calls.has(id))
        return reject(400, `No tool call found for function call output with call_id ${id}.`, "input");
    } else {
      return badValue(
        `input[${i}].type`,
        type,
        "'message', 'reasoning', 'function_call' and 'function_call_output'",
      );
    }
  }
  return undefined;
}

function checkTools(tools: unknown): Rejection | undefined {
  if (tools === undefined) return undefined;
  if (!Array.isArray(tools)) return badValue("tools", typeof tools, "an array");
  for (let i = 0; i < tools.length; i++) {
    const t: unknown = tools[i];
    const type = isObj(t) ? t["type"] : undefined;
    if (type === "function") {
      if (typeof (t as Obj)["name"] !== "string") return missing(`tools[${i}].name`);
    } else if (typeof type !== "string" || !BUILTIN.has(type)) {
      return badValue(`tools[${i}].type`, type, "'function', 'file_search', 'web_search_preview', ...");
    }
  }
  return undefined;
}

/** The request checked as the real API would; undefined when it is acceptable. */
export function validate(body: Obj, model: string, issued: Issued): Rejection | undefined {
  for (const k of Object.keys(body)) {
    if (!TOP_LEVEL.has(k)) return reject(400, `Unknown parameter: '${k}'.`, k, "unknown_parameter");
  }
  const input = body["input"];
  if (typeof input !== "string" && !Array.isArray(input)) return missing("input");
  if (Array.isArray(input)) {
    const bad = checkInput(input, body, issued);
    if (bad) return bad;
  }
  const tools = checkTools(body["tools"]);
  if (tools) return tools;
  const reasons = reasonsFor(model);
  if (!reasons && isObj(body["reasoning"]) && body["reasoning"]["effort"] !== undefined) {
    return reject(
      400,
      "Unsupported parameter: 'reasoning.effort' is not supported with this model.",
      "reasoning.effort",
      "unsupported_parameter",
    );
  }
  if (reasons && body["temperature"] !== undefined) {
    return reject(
      400,
      "Unsupported parameter: 'temperature' is not supported with this model.",
      "temperature",
      "unsupported_parameter",
    );
  }
  return undefined;
}
