// A fake of OpenAI's POST /v1/responses, served by the OpenAI fake (openai.ts: chat completions,
// embeddings and models on the same port): unary answers and streams in the real event order,
// reasoning items with encrypted content for reasoning models (and a 400 for encrypted content it
// did not issue), web_search_preview answered with a web_search_call item, and the OpenAI fake's
// fault directives in the model string (`o3+status=429`, `+drop=2`, `+stall`, ...), plus
// `+failed` (status failed / response.failed), `+stream_error` (an `error` event), `+filtered`.
import type { Exchange } from "./fake-server.js";
import { type OpenAIFake, startOpenAIFake } from "./openai.js";
import {
  type Directives,
  faultError,
  field,
  kill,
  killAfterFlush,
  missingParamBody,
  parseDirectives,
  pause,
  retryHeaders,
  sendError,
  sendJson,
  TOOL_ARG_FRAGMENTS,
  withoutFailures,
  words,
} from "./openai-faults.js";
import { extraDirectives, type Plan, plan } from "./openai-responses-answer.js";
import { type Issued, reasonsFor, validate } from "./openai-responses-check.js";

export interface OpenAIResponsesFake extends OpenAIFake {
  /** Encrypted reasoning handed out (token -> reasoning item id); only these verify. */
  issued: Issued;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : {});

const FAILURE = {
  code: "server_error",
  message: "An error occurred while processing your request. You can retry your request.",
};

function responseObject(id: string, created: number, body: Obj, d: Directives, p: Plan, status: string): Obj {
  const r = obj(body["reasoning"]);
  const done = status === "completed" || status === "incomplete";
  return {
    id,
    object: "response",
    created_at: created,
    status,
    background: false,
    error: status === "failed" ? FAILURE : null,
    incomplete_details: status === "incomplete" && p.incomplete ? { reason: p.incomplete } : null,
    instructions: body["instructions"] ?? null,
    max_output_tokens: body["max_output_tokens"] ?? null,
    model: d.base,
    output: done ? p.output : [],
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: {
      effort: r["effort"] ?? (reasonsFor(d.base) ? "medium" : null),
      summary: r["summary"] ?? null,
    },
    service_tier: "default",
    store: body["store"] ?? true,
    temperature: body["temperature"] ?? 1,
    text: { format: obj(body["text"])["format"] ?? { type: "text" }, verbosity: "medium" },
    tool_choice: body["tool_choice"] ?? "auto",
    tools: body["tools"] ?? [],
    top_p: body["top_p"] ?? 1,
    truncation: "disabled",
    usage: done && !d.noUsage ? p.usage : null,
    user: body["user"] ?? null,
    metadata: body["metadata"] ?? {},
  };
}

/** The events of one output item, in the real API's order. */
function itemEvents(item: Obj, index: number): [string, Obj][] {
  const id = item["id"];
  const at = { item_id: id, output_index: index };
  const ev: [string, Obj][] = [];
  const type = item["type"];
  if (type === "reasoning") {
    const { encrypted_content: _later, ...shell } = item;
    ev.push(["response.output_item.added", { output_index: index, item: { ...shell, summary: [] } }]);
    (item["summary"] as Obj[]).forEach((s, summary_index) => {
      const text = String(s["text"]);
      ev.push([
        "response.reasoning_summary_part.added",
        { ...at, summary_index, part: { type: "summary_text", text: "" } },
      ]);
      for (const w of words(text))
        ev.push(["response.reasoning_summary_text.delta", { ...at, summary_index, delta: w }]);
      ev.push(["response.reasoning_summary_text.done", { ...at, summary_index, text }]);
      ev.push([
        "response.reasoning_summary_part.done",
        { ...at, summary_index, part: { type: "summary_text", text } },
      ]);
    });
  } else if (type === "web_search_call") {
    ev.push([
      "response.output_item.added",
      { output_index: index, item: { ...item, status: "in_progress" } },
    ]);
    for (const s of ["in_progress", "searching", "completed"]) ev.push([`response.web_search_call.${s}`, at]);
  } else if (type === "function_call") {
    ev.push([
      "response.output_item.added",
      { output_index: index, item: { ...item, arguments: "", status: "in_progress" } },
    ]);
    for (const f of TOOL_ARG_FRAGMENTS)
      ev.push(["response.function_call_arguments.delta", { ...at, delta: f }]);
    ev.push([
      "response.function_call_arguments.done",
      { ...at, arguments: item["arguments"], name: item["name"] },
    ]);
  } else {
    ev.push([
      "response.output_item.added",
      { output_index: index, item: { ...item, content: [], status: "in_progress" } },
    ]);
    for (const [content_index, raw] of (item["content"] as Obj[]).entries()) {
      const text = String(raw["text"]);
      const c = { ...at, content_index };
      ev.push([
        "response.content_part.added",
        { ...c, part: { type: "output_text", annotations: [], logprobs: [], text: "" } },
      ]);
      for (const w of words(text)) ev.push(["response.output_text.delta", { ...c, delta: w, logprobs: [] }]);
      (raw["annotations"] as Obj[]).forEach((annotation, annotation_index) => {
        ev.push(["response.output_text.annotation.added", { ...c, annotation_index, annotation }]);
      });
      ev.push(["response.output_text.done", { ...c, text, logprobs: [] }]);
      ev.push(["response.content_part.done", { ...c, part: raw }]);
    }
  }
  ev.push(["response.output_item.done", { output_index: index, item }]);
  return ev;
}

async function stream(
  ex: Exchange,
  d: Directives,
  body: Obj,
  p: Plan,
  id: string,
  created: number,
): Promise<void> {
  const extra = extraDirectives(String(body["model"]));
  ex.res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" });
  let n = 0;
  let deltas = 0;
  const send = async (type: string, payload: Obj): Promise<boolean> => {
    if (ex.closed) return false;
    ex.res.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: n++, ...payload })}\n\n`);
    return pause(ex, d.chunkDelayMs ?? 0);
  };
  const shell = (status: string) => responseObject(id, created, body, d, p, status);
  if (!(await send("response.created", { response: shell("in_progress") }))) return;
  if (!(await send("response.in_progress", { response: shell("in_progress") }))) return;
  if (d.stall) return;
  const events = p.output.flatMap((item, i) => itemEvents(item, i));
  for (const [type, payload] of events) {
    if (type.endsWith(".delta")) {
      if (d.drop !== undefined && deltas >= d.drop) return killAfterFlush(ex);
      deltas++;
    }
    if (!(await send(type, payload))) return;
    if (d.malformed && deltas === 1) ex.res.write(`data: {"type":"response.output_text.delta",\n\n`);
  }
  if (d.drop !== undefined) return killAfterFlush(ex);
  if (extra.streamError) {
    await send("error", { code: "server_error", message: FAILURE.message, param: null });
    ex.res.end();
    return;
  }
  const status = extra.failed ? "failed" : p.status;
  const type = status === "completed" ? "response.completed" : `response.${status}`;
  if (await send(type, { response: shell(status) })) ex.res.end();
}

/** Starts the OpenAI fake with POST /v1/responses added. */
export async function startOpenAIResponsesFake(opts: { apiKey?: string } = {}): Promise<OpenAIResponsesFake> {
  const calls = new Map<string, number>();
  const issued: Issued = new Map();
  let seq = 0;

  async function handle(ex: Exchange): Promise<void> {
    const body = obj(ex.rec.body);
    const model = field(body, "model");
    if (typeof model !== "string" || model === "") return sendError(ex, 400, missingParamBody("model"));
    const count = (calls.get(model) ?? 0) + 1;
    calls.set(model, count);
    let d = parseDirectives(model);
    if (d.failTimes !== undefined && count > d.failTimes) d = withoutFailures(d);
    if (d.delayMs !== undefined && !(await pause(ex, d.delayMs))) return;
    if (ex.closed) return;
    if (d.reset) return kill(ex, true);
    const fault = faultError(d);
    if (fault) return sendError(ex, fault.status, fault.body, retryHeaders(d));
    const bad = validate(body, d.base, issued);
    if (bad) return sendJson(ex, bad.status, bad.body);
    seq++;
    const id = `resp_fake${seq}`;
    const created = Math.floor(Date.now() / 1000);
    const extra = extraDirectives(model);
    const p = plan(body, d.base, seq, { tools: d.tools, length: d.length, filtered: extra.filtered }, issued);
    if (body["stream"] === true) return stream(ex, d, body, p, id, created);
    if (d.stall) return;
    const answer = responseObject(id, created, body, d, p, extra.failed ? "failed" : p.status);
    if (!d.malformed && d.drop === undefined) return sendJson(ex, 200, answer);
    const text = d.malformed ? `{"id":"${id}","object":"response","output":[` : JSON.stringify(answer);
    ex.res.writeHead(200, {
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(text)),
    });
    if (d.malformed) ex.res.end(text);
    else ex.res.write(text.slice(0, Math.floor(text.length / 2)), () => kill(ex, false));
  }

  const fake = await startOpenAIFake({
    ...opts,
    route: async (ex) => {
      if (ex.rec.method !== "POST" || ex.rec.path !== "/v1/responses") return false;
      await handle(ex);
      return true;
    },
  });
  return {
    ...fake,
    issued,
    reset() {
      fake.reset();
      calls.clear();
    },
  };
}
