// The OpenAI Responses fake's answers (openai-responses.ts is its HTTP side, -check.ts its request
// check): the echo text, reasoning items with encrypted content it remembers issuing, a
// web_search_call before the cited message, function calls, and the usage it reports.
import { randomBytes } from "node:crypto";
import { TOOL_ARGS, wordCount } from "./openai-faults.js";
import { type Issued, reasonsFor } from "./openai-responses-check.js";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function textOfContent(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((p) => (isObj(p) && typeof p["text"] === "string" ? p["text"] : "")).join("");
}

/** What the answer echoes: the last user text, or the last function output ("tool said: ..."). */
export function promptOf(body: Obj): { echo: string; chars: number } {
  const input = body["input"];
  const instructions = typeof body["instructions"] === "string" ? body["instructions"] : "";
  if (typeof input === "string") return { echo: `echo: ${input}`, chars: input.length + instructions.length };
  let echo = "echo: ";
  let chars = instructions.length;
  for (const item of Array.isArray(input) ? input : []) {
    if (!isObj(item)) continue;
    if ((item["type"] ?? "message") === "message") {
      const text = textOfContent(item["content"]);
      chars += text.length;
      if (item["role"] === "user") echo = `echo: ${text}`;
    } else if (item["type"] === "function_call_output") echo = `tool said: ${String(item["output"])}`;
  }
  return { echo, chars };
}

/** What the fake answers with: output items (final state), status and usage. */
export interface Plan {
  output: Obj[];
  status: "completed" | "incomplete";
  incomplete?: "max_output_tokens" | "content_filter";
  usage: Obj;
}

/** Behaviour directives beyond openai-faults.ts's (`+failed`, `+stream_error`, `+filtered`). */
export interface Extra {
  failed: boolean;
  streamError: boolean;
  filtered: boolean;
}

export function extraDirectives(model: string): Extra {
  const t = model.split("+");
  return {
    failed: t.includes("failed"),
    streamError: t.includes("stream_error"),
    filtered: t.includes("filtered"),
  };
}

/** Builds the answer; registers any encrypted reasoning it hands out in `issued`. */
export function plan(
  body: Obj,
  model: string,
  seq: number,
  o: { tools: boolean; length: boolean; filtered: boolean },
  issued: Issued,
): Plan {
  const output: Obj[] = [];
  const { echo, chars } = promptOf(body);
  const wantsJson =
    isObj(body["text"]) && isObj(body["text"]["format"]) && body["text"]["format"]["type"] !== "text";
  const reasoning = isObj(body["reasoning"]) ? body["reasoning"] : {};
  const include = Array.isArray(body["include"]) ? body["include"] : [];
  const tools = Array.isArray(body["tools"]) ? (body["tools"] as unknown[]).filter(isObj) : [];
  let reasoningTokens = 0;
  if (reasonsFor(model)) {
    const id = `rs_fake${seq}`;
    const summary =
      typeof reasoning["summary"] === "string"
        ? [
            { type: "summary_text", text: "**Reading the question**\n\nThe user wrote something." },
            { type: "summary_text", text: "**Answering**\n\nI will echo it." },
          ]
        : [];
    const item: Obj = { id, type: "reasoning", summary };
    if (include.includes("reasoning.encrypted_content")) {
      const enc = `gAAAAA${randomBytes(24).toString("base64")}`;
      issued.set(enc, id);
      item["encrypted_content"] = enc;
    }
    output.push(item);
    reasoningTokens = 64;
  }
  const search = tools.find((t) => String(t["type"]).startsWith("web_search"));
  if (search !== undefined) {
    output.push({
      id: `ws_fake${seq}`,
      type: "web_search_call",
      status: "completed",
      action: { type: "search", query: echo.replace(/^echo: /, "") },
    });
  }
  const fn = tools.find((t) => t["type"] === "function");
  if (o.tools) {
    const name = typeof fn?.["name"] === "string" ? fn["name"] : "get_weather";
    output.push({
      id: `fc_fake${seq}`,
      type: "function_call",
      status: "completed",
      arguments: TOOL_ARGS,
      call_id: `call_fake${seq}`,
      name,
    });
  } else {
    let text = wantsJson ? JSON.stringify({ echo }) : echo;
    if (o.length) text = text.slice(0, 8);
    const annotations =
      search === undefined
        ? []
        : [
            {
              type: "url_citation",
              start_index: 0,
              end_index: text.length,
              url: "https://example.com/",
              title: "Example",
            },
          ];
    const content = o.filtered ? [] : [{ type: "output_text", annotations, logprobs: [], text }];
    const status = o.length || o.filtered ? "incomplete" : "completed";
    output.push({ id: `msg_fake${seq}`, type: "message", status, content, role: "assistant" });
  }
  const input = Math.ceil(chars / 4);
  const out =
    reasoningTokens +
    output.reduce((n, i) => n + wordCount(JSON.stringify(i["content"] ?? i["arguments"] ?? "")), 0);
  const usage = {
    input_tokens: input,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: out,
    output_tokens_details: { reasoning_tokens: reasoningTokens },
    total_tokens: input + out,
  };
  if (o.length) return { output, status: "incomplete", incomplete: "max_output_tokens", usage };
  if (o.filtered) return { output, status: "incomplete", incomplete: "content_filter", usage };
  return { output, status: "completed", usage };
}
