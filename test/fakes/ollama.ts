// A real HTTP/1.1 server on loopback speaking Ollama's native wire (/api/chat unary + NDJSON,
// /api/embed, /api/tags, /api/version, `{"error"}` bodies), with faults chosen by the model string
// (`llama3.2+status=500`, `+tools`, `+drop=2`; see parseOllamaDirectives for the list).
import {
  type BodyInfo,
  crashWith,
  type Exchange,
  type FakeWithCounters,
  startFakeServer,
} from "./fake-server.js";
import {
  embeddingInputs,
  embeddingVector,
  field,
  kill,
  killAfterFlush,
  lastUserText,
  messagesOf,
  pause,
  promptTokens,
  wordCount,
  words,
} from "./openai-faults.js";

export type { RecordedRequest } from "./fake-server.js";

/** The fake's handle: base URL (OLLAMA_HOST), recorded requests, abort observation. */
export interface OllamaFake extends FakeWithCounters {
  /** http://127.0.0.1:PORT (no /api). */
  url: string;
}

/** Behaviour requested through the model string: `base+key+key=value`. */
export interface OllamaDirectives {
  base: string;
  status?: number;
  retryAfter?: string;
  failTimes?: number;
  delayMs?: number;
  chunkDelayMs?: number;
  /** Destroy the connection with RST before answering. */
  reset: boolean;
  /** Headers (and one line when streaming) then silence. */
  stall: boolean;
  /** Close the connection after N content lines (unary: half the body). */
  drop?: number;
  tools: boolean;
  length: boolean;
  /** Emit `message.thinking` when the request says `think: true`. */
  thinking: boolean;
  malformed: boolean;
  notFound: boolean;
  /** done_reason to send instead of stop/length (`unknown_done` = "confused"). */
  doneReason?: string;
  /** An `{"error"}` line after the first content line. */
  streamError: boolean;
  /** Leave prompt_eval_count out, as Ollama does when the prompt came from its KV cache. */
  cachedPrompt: boolean;
}

/** Parses `llama3.2+status=500+retry_after=1`; unknown tokens are ignored. */
export function parseOllamaDirectives(model: string): OllamaDirectives {
  const [base = "", ...tokens] = model.split("+");
  const d: OllamaDirectives = {
    base,
    reset: false,
    stall: false,
    tools: false,
    length: false,
    thinking: false,
    malformed: false,
    notFound: false,
    streamError: false,
    cachedPrompt: false,
  };
  const int = (v: string | undefined) => {
    const n = Number.parseInt(v ?? "", 10);
    return Number.isFinite(n) && n >= 0 ? n : undefined;
  };
  for (const token of tokens) {
    const [key = "", value] = token.split("=", 2);
    if (key === "status") d.status = int(value);
    else if (key === "retry_after") d.retryAfter = value;
    else if (key === "fail_times") d.failTimes = int(value);
    else if (key === "delay") d.delayMs = int(value);
    else if (key === "chunk_delay") d.chunkDelayMs = int(value);
    else if (key === "drop") d.drop = int(value) ?? 0;
    else if (key === "done_reason") d.doneReason = value ?? "";
    else if (key === "unknown_done") d.doneReason = "confused";
    else if (key === "not_found") d.notFound = true;
    else if (key === "stream_error") d.streamError = true;
    else if (key === "cached_prompt") d.cachedPrompt = true;
    else if (key === "reset" || key === "stall" || key === "tools" || key === "length") d[key] = true;
    else if (key === "thinking" || key === "malformed") d[key] = true;
  }
  return d;
}

/** Ollama's error text for a status (what the real server says in `{"error"}`). */
export function ollamaErrorText(status: number, model: string): string {
  switch (status) {
    case 400:
      return `registry.ollama.ai/library/${model}:latest does not support tools`;
    case 404:
      return `model "${model}" not found, try pulling it first`;
    case 500:
      return "llama runner process has terminated: exit status 2";
    case 503:
      return "server busy, please try again.  maximum pending requests exceeded";
    default:
      return `the fake was asked to fail with status ${status}`;
  }
}

export const OLLAMA_TAGS = ["llama3.2:latest", "qwen3:8b", "nomic-embed-text:latest"];
export const OLLAMA_TOOL_ARGS = { city: "Paris" };
export const OLLAMA_THINKING = "Let me think about it.";

function send(ex: Exchange, status: number, payload: unknown, headers: Record<string, string> = {}): void {
  if (ex.closed) return;
  const text = JSON.stringify(payload);
  ex.res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(text)),
    ...headers,
  });
  ex.res.end(text);
}

const durations = {
  total_duration: 5_043_500_667,
  load_duration: 5_025_959,
  prompt_eval_duration: 325_953_000,
  eval_duration: 1_000_000,
};

function finalLine(d: OllamaDirectives, reqBody: unknown, outWords: number): Record<string, unknown> {
  const line: Record<string, unknown> = {
    model: d.base,
    created_at: new Date().toISOString(),
    message: { role: "assistant", content: "" },
    done_reason: d.doneReason ?? (d.length ? "length" : "stop"),
    done: true,
    ...durations,
    prompt_eval_count: Math.max(1, promptTokens(messagesOf(reqBody))),
    eval_count: outWords,
  };
  if (d.cachedPrompt) delete line["prompt_eval_count"];
  return line;
}

async function chat(ex: Exchange, d: OllamaDirectives, reqBody: unknown): Promise<void> {
  const content = d.tools ? "" : `echo: ${lastUserText(messagesOf(reqBody))}`;
  const thinking = d.thinking && field(reqBody, "think") === true ? OLLAMA_THINKING : "";
  const calls = d.tools
    ? [{ function: { name: toolName(reqBody), arguments: OLLAMA_TOOL_ARGS } }]
    : undefined;
  const outWords = d.tools ? 5 : wordCount(content) + wordCount(thinking);
  const at = () => new Date().toISOString();
  if (field(reqBody, "stream") === false) {
    const message: Record<string, unknown> = { role: "assistant", content };
    if (thinking !== "") message["thinking"] = thinking;
    if (calls) message["tool_calls"] = calls;
    const payload = { ...finalLine(d, reqBody, outWords), message };
    if (d.stall) return;
    if (!d.malformed && d.drop === undefined) return send(ex, 200, payload);
    const text = JSON.stringify(payload);
    const half = text.slice(0, Math.floor(text.length / 2));
    const length = Buffer.byteLength(d.malformed ? half : text);
    ex.res.writeHead(200, {
      "content-type": "application/json; charset=utf-8",
      "content-length": String(length),
    });
    if (d.malformed) return void ex.res.end(half); // complete body, broken JSON
    return void ex.res.write(half, () => kill(ex, false));
  }
  ex.res.writeHead(200, { "content-type": "application/x-ndjson" });
  const lines: Record<string, unknown>[] = [];
  for (const w of words(thinking)) lines.push({ role: "assistant", content: "", thinking: w });
  if (calls) lines.push({ role: "assistant", content: "", tool_calls: calls });
  for (const w of words(content)) lines.push({ role: "assistant", content: w });
  for (let i = 0; i < lines.length; i++) {
    if (d.drop !== undefined && i >= d.drop) return killAfterFlush(ex);
    if (ex.closed) return;
    ex.res.write(`${JSON.stringify({ model: d.base, created_at: at(), message: lines[i], done: false })}\n`);
    if (d.stall) return;
    if (i === 0 && d.malformed) ex.res.write('{"model":"broken","message":{\n');
    if (i === 0 && d.streamError)
      return void ex.res.end(`${JSON.stringify({ error: ollamaErrorText(500, d.base) })}\n`);
    if (!(await pause(ex, d.chunkDelayMs ?? 0))) return;
  }
  if (d.drop !== undefined) return killAfterFlush(ex);
  if (!ex.closed) ex.res.end(`${JSON.stringify(finalLine(d, reqBody, outWords))}\n`);
}

function toolName(reqBody: unknown): string {
  const tools = field(reqBody, "tools");
  const first: unknown = Array.isArray(tools) ? tools[0] : undefined;
  const name = field(field(first, "function"), "name");
  return typeof name === "string" ? name : "get_weather";
}

function embed(ex: Exchange, d: OllamaDirectives, reqBody: unknown): void {
  const inputs = embeddingInputs(field(reqBody, "input"));
  if (!inputs) {
    send(ex, 400, { error: "invalid input type" });
    return;
  }
  const dimsField = field(reqBody, "dimensions");
  const dims = typeof dimsField === "number" && Number.isInteger(dimsField) && dimsField > 0 ? dimsField : 8;
  const tokens = inputs.reduce((n, s) => n + Math.max(1, Math.ceil(s.length / 4)), 0);
  send(ex, 200, {
    model: d.base,
    embeddings: inputs.map((text) => embeddingVector(text, dims)),
    total_duration: 14_143_917,
    load_duration: 1_019_500,
    prompt_eval_count: tokens,
  });
}

function tags(ex: Exchange): void {
  send(ex, 200, {
    models: OLLAMA_TAGS.map((name, i) => ({
      name,
      model: name,
      modified_at: "2025-05-04T17:37:44.706015396-07:00",
      size: 2_019_393_189 + i,
      digest: `a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b7${i}`,
      details: {
        parent_model: "",
        format: "gguf",
        family: "llama",
        families: ["llama"],
        parameter_size: "3.2B",
        quantization_level: "Q4_K_M",
      },
    })),
  });
}

/** Starts the fake on an ephemeral loopback port. */
export async function startOllamaFake(): Promise<OllamaFake> {
  const calls = new Map<string, number>();

  async function handle(ex: Exchange, body: BodyInfo): Promise<void> {
    const { res, rec } = ex;
    const { method, path } = rec;
    if (body.invalidJson) {
      return send(ex, 400, { error: "invalid character 'o' in literal null (expecting 'u')" });
    }
    if ((method === "GET" || method === "HEAD") && path === "/") {
      res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
      return void res.end("Ollama is running");
    }
    if (method === "GET" && path === "/api/version") return send(ex, 200, { version: "0.12.6" });
    if (method === "GET" && path === "/api/tags") return tags(ex);
    const isChat = method === "POST" && path === "/api/chat";
    if (!isChat && !(method === "POST" && path === "/api/embed")) {
      res.writeHead(404, { "content-type": "text/plain" });
      return void res.end("404 page not found");
    }
    const model = field(rec.body, "model");
    if (typeof model !== "string" || model === "") return send(ex, 400, { error: "model is required" });
    const n = (calls.get(model) ?? 0) + 1;
    calls.set(model, n);
    let d = parseOllamaDirectives(model);
    if (d.failTimes !== undefined && n > d.failTimes) {
      d = {
        ...d,
        status: undefined,
        reset: false,
        stall: false,
        drop: undefined,
        malformed: false,
        notFound: false,
        streamError: false,
      };
    }
    if (d.delayMs !== undefined && !(await pause(ex, d.delayMs))) return;
    if (ex.closed) return;
    if (d.reset) return kill(ex, true);
    if (d.notFound) return send(ex, 404, { error: ollamaErrorText(404, d.base) });
    if (d.status !== undefined) {
      const headers: Record<string, string> =
        d.retryAfter === undefined ? {} : { "retry-after": d.retryAfter };
      return send(ex, d.status, { error: ollamaErrorText(d.status, d.base) }, headers);
    }
    if (!isChat) return d.stall ? undefined : embed(ex, d, rec.body);
    if (!Array.isArray(field(rec.body, "messages"))) return send(ex, 400, { error: "messages is required" });
    return chat(ex, d, rec.body);
  }

  const server = await startFakeServer(handle, {
    onCrash: crashWith({ error: "fake failed" }, "application/json; charset=utf-8"),
  });
  return {
    ...server,
    url: `http://127.0.0.1:${server.port}`,
    reset() {
      server.reset();
      calls.clear();
    },
  };
}
