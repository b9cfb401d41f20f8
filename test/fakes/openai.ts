// A real HTTP/1.1 server on loopback speaking OpenAI's wire (chat completions unary + SSE,
// embeddings, models, error bodies), with faults chosen by the request's model string
// (`gpt-4o-mini+status=429+retry_after=2`; see openai-faults.ts for the directives).
import { type BodyInfo, crashWith, type FakeWithCounters, startFakeServer } from "./fake-server.js";
import {
  type Answer,
  answerFor,
  badJsonBody,
  baseHeaders,
  type Directives,
  type Exchange,
  embeddingInputs,
  embeddingVector,
  FINGERPRINT,
  faultError,
  field,
  float32Base64,
  includeUsage,
  invalidKeyBody,
  invalidUrlBody,
  kill,
  killAfterFlush,
  missingKeyBody,
  missingParamBody,
  modelNotFoundBody,
  parseDirectives,
  pause,
  retryHeaders,
  sendError,
  sendJson,
  TOOL_ARG_FRAGMENTS,
  TOOL_ARGS,
  usageOf,
  withoutFailures,
  words,
} from "./openai-faults.js";

export type { RecordedRequest } from "./fake-server.js";

export interface OpenAIFake extends FakeWithCounters {
  /** Base URL ending in /v1, e.g. http://127.0.0.1:PORT/v1. */
  url: string;
}

export const FAKE_MODELS = [
  { id: "gpt-4o-mini", object: "model", created: 1721172741, owned_by: "system" },
  { id: "gpt-4o", object: "model", created: 1715367049, owned_by: "system" },
  { id: "text-embedding-3-small", object: "model", created: 1705948997, owned_by: "system" },
] as const;

function chatUnary(ex: Exchange, d: Directives, a: Answer, id: string, created: number): void {
  const message: Record<string, unknown> = {
    role: "assistant",
    content: a.content,
    refusal: null,
    annotations: [],
  };
  if (a.tool) {
    message["tool_calls"] = [
      { id: a.tool.id, type: "function", function: { name: a.tool.name, arguments: TOOL_ARGS } },
    ];
  }
  const payload: Record<string, unknown> = {
    id,
    object: "chat.completion",
    created,
    model: d.base,
    choices: d.noChoices ? [] : [{ index: 0, message, logprobs: null, finish_reason: a.finish }],
    service_tier: "default",
    system_fingerprint: FINGERPRINT,
  };
  if (!d.noUsage) payload["usage"] = usageOf(a.promptTokens, a.completionTokens);
  if (d.stall) return;
  if (!d.malformed && d.drop === undefined) {
    sendJson(ex, 200, payload);
    return;
  }
  const text = d.malformed
    ? `{"id":"${id}","object":"chat.completion","choices":[{"index":0,`
    : JSON.stringify(payload);
  ex.res.writeHead(200, {
    ...baseHeaders(),
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(text)),
  });
  if (d.malformed) {
    ex.res.end(text);
    return;
  }
  ex.res.write(text.slice(0, Math.floor(text.length / 2)), () => kill(ex, false));
}

async function chatStream(
  ex: Exchange,
  d: Directives,
  a: Answer,
  reqBody: unknown,
  id: string,
  created: number,
): Promise<void> {
  const withUsage = includeUsage(reqBody);
  const res = ex.res;
  res.writeHead(200, {
    ...baseHeaders(),
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
  });
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => {
    const c: Record<string, unknown> = {
      id,
      object: "chat.completion.chunk",
      created,
      model: d.base,
      service_tier: "default",
      system_fingerprint: FINGERPRINT,
      choices,
    };
    if (withUsage) c["usage"] = null;
    return { ...c, ...extra };
  };
  const choice = (delta: Record<string, unknown>, finish: string | null = null) => [
    { index: 0, delta, logprobs: null, finish_reason: finish },
  ];
  const send = async (payload: unknown): Promise<boolean> => {
    if (ex.closed) return false;
    res.write(`data: ${JSON.stringify(payload)}\n\n`);
    return pause(ex, d.chunkDelayMs ?? 0);
  };

  const pieces: Record<string, unknown>[] = [];
  const first: Record<string, unknown> = {
    role: "assistant",
    content: a.content === null ? null : "",
    refusal: null,
  };
  if (a.tool) {
    first["tool_calls"] = [
      { index: 0, id: a.tool.id, type: "function", function: { name: a.tool.name, arguments: "" } },
    ];
    for (const f of TOOL_ARG_FRAGMENTS)
      pieces.push({ tool_calls: [{ index: 0, function: { arguments: f } }] });
  } else if (a.content === null) {
    pieces.push({ content: null }, { content: null });
  } else {
    for (const w of words(a.content)) pieces.push({ content: w });
  }

  if (!d.noChoices && !(await send(chunk(choice(first))))) return;
  for (let i = 0; i < pieces.length && !d.noChoices; i++) {
    if (d.drop !== undefined && i >= d.drop) {
      return killAfterFlush(ex);
    }
    if (d.emptyChunks) {
      if (!(await send(chunk([])))) return;
      if (!(await send(chunk(choice({ content: "" }))))) return;
    }
    if (!(await send(chunk(choice(pieces[i] ?? {}))))) return;
    if (d.stall) return;
    if (d.malformed && i === 0)
      res.write(`data: {"id":"${id}","object":"chat.completion.chunk","choices":[{\n\n`);
  }
  if (d.drop !== undefined) {
    return killAfterFlush(ex);
  }
  if (!d.noChoices && !(await send(chunk(choice({}, a.finish))))) return;
  if (withUsage && !d.noUsage) {
    if (!(await send(chunk([], { usage: usageOf(a.promptTokens, a.completionTokens) })))) return;
  }
  if (ex.closed) return;
  if (d.endDelayMs === undefined) {
    res.end("data: [DONE]\n\n");
    return;
  }
  // The answer's last bytes (the chunked terminator) come a moment after [DONE], as from many hosts.
  res.write("data: [DONE]\n\n");
  setTimeout(() => {
    if (!ex.closed) res.end();
  }, d.endDelayMs);
}

function embeddings(ex: Exchange, d: Directives, reqBody: unknown): void {
  const inputs = embeddingInputs(field(reqBody, "input"));
  if (!inputs) {
    sendError(ex, 400, missingParamBody("input"));
    return;
  }
  const dimsField = field(reqBody, "dimensions");
  const dims = typeof dimsField === "number" && Number.isInteger(dimsField) && dimsField > 0 ? dimsField : 8;
  const base64 = field(reqBody, "encoding_format") === "base64";
  const tokens = inputs.reduce((n, s) => n + Math.max(1, Math.ceil(s.length / 4)), 0);
  sendJson(ex, 200, {
    object: "list",
    data: inputs.map((text, index) => {
      const v = embeddingVector(text, dims);
      return { object: "embedding", index, embedding: base64 ? float32Base64(v) : v };
    }),
    model: d.base,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}

/** A route a fake built on this one adds (openai-responses.ts); true when it answered the request. */
export type ExtraRoute = (ex: Exchange) => boolean | Promise<boolean>;

export async function startOpenAIFake(
  opts: { apiKey?: string; route?: ExtraRoute } = {},
): Promise<OpenAIFake> {
  const calls = new Map<string, number>();
  let seq = 0;

  async function handle(ex: Exchange, body: BodyInfo): Promise<void> {
    const { req, rec } = ex;
    const { method, path } = rec;
    if (body.invalidJson) return sendError(ex, 400, badJsonBody());
    const reqBody = rec.body;

    if (opts.apiKey !== undefined) {
      const auth = req.headers.authorization;
      if (auth !== `Bearer ${opts.apiKey}`) {
        const given = auth?.replace(/^Bearer\s+/i, "") ?? "";
        return sendError(ex, 401, given === "" ? missingKeyBody() : invalidKeyBody(given));
      }
    }
    if (method === "GET" && path === "/v1/models")
      return sendJson(ex, 200, { object: "list", data: FAKE_MODELS });
    if (method === "GET" && path.startsWith("/v1/models/")) {
      const id = decodeURIComponent(path.slice("/v1/models/".length));
      const m = FAKE_MODELS.find((x) => x.id === id);
      return m ? sendJson(ex, 200, m) : sendError(ex, 404, modelNotFoundBody(id));
    }
    if (opts.route !== undefined && (await opts.route(ex))) return;
    const isChat = method === "POST" && path === "/v1/chat/completions";
    const isEmbed = method === "POST" && path === "/v1/embeddings";
    if (!isChat && !isEmbed) return sendError(ex, 404, invalidUrlBody(method, path));

    const model = field(reqBody, "model");
    if (typeof model !== "string" || model === "") {
      return sendError(ex, 400, {
        error: {
          message: "you must provide a model parameter",
          type: "invalid_request_error",
          param: null,
          code: null,
        },
      });
    }
    const n = (calls.get(model) ?? 0) + 1;
    calls.set(model, n);
    let d = parseDirectives(model);
    if (d.failTimes !== undefined && n > d.failTimes) d = withoutFailures(d);

    if (d.delayMs !== undefined && !(await pause(ex, d.delayMs))) return;
    if (ex.closed) return;
    if (d.reset) return kill(ex, true);
    const fault = faultError(d);
    if (fault) return sendError(ex, fault.status, fault.body, retryHeaders(d));
    if (isEmbed) return d.stall ? undefined : embeddings(ex, d, reqBody);

    if (!Array.isArray(field(reqBody, "messages"))) return sendError(ex, 400, missingParamBody("messages"));
    seq++;
    const id = `chatcmpl-fake${seq}`;
    const created = Math.floor(Date.now() / 1000);
    const answer = answerFor(d, reqBody, seq);
    if (field(reqBody, "stream") === true) return chatStream(ex, d, answer, reqBody, id, created);
    return chatUnary(ex, d, answer, id, created);
  }

  const server = await startFakeServer(handle, {
    onCrash: crashWith({
      error: { message: "fake failed", type: "server_error", param: null, code: null },
    }),
  });
  return {
    ...server,
    url: `http://127.0.0.1:${server.port}/v1`,
    reset() {
      server.reset();
      calls.clear();
    },
  };
}
