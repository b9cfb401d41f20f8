// A real HTTP/1.1 server on loopback speaking Anthropic's Messages API (unary + SSE with `event:`
// lines, /v1/models, error bodies), with faults chosen by the request's model string
// (`claude-x+status=529+retry_after=2`; see anthropic-faults.ts for the directives), and as strict
// as the API about signed thinking, cache breakpoints and blocks (anthropic-strict.ts).
import {
  type AnthropicAnswer,
  anthropicAnswer,
  anthropicEvents,
  fieldOf,
  validateMessages,
} from "./anthropic-answers.js";
import {
  type AnthropicDirectives,
  anthropicFault,
  anthropicHeaders,
  errorBody,
  parseAnthropicDirectives,
  sendAnthropicJson,
  withoutAnthropicFailures,
} from "./anthropic-faults.js";
import {
  checkBlocks,
  checkThinkingHistory,
  PromptCache,
  promptElements,
  ThinkingSigner,
} from "./anthropic-strict.js";
import {
  type BodyInfo,
  crashWith,
  type Exchange,
  type FakeWithCounters,
  startFakeServer,
} from "./fake-server.js";
import { kill, killAfterFlush, pause } from "./openai-faults.js";

export type { RecordedRequest } from "./fake-server.js";

/** A running fake; `url` is the base URL without /v1 (as the SDK and the provider take it). */
export interface AnthropicFake extends FakeWithCounters {
  url: string;
}

/** The models GET /v1/models lists, newest first as Anthropic orders them. */
export const ANTHROPIC_FAKE_MODELS = [
  {
    type: "model",
    id: "claude-sonnet-4-5",
    display_name: "Claude Sonnet 4.5",
    created_at: "2025-09-29T00:00:00Z",
  },
  {
    type: "model",
    id: "claude-haiku-4-5",
    display_name: "Claude Haiku 4.5",
    created_at: "2025-10-15T00:00:00Z",
  },
  {
    type: "model",
    id: "claude-opus-4-1",
    display_name: "Claude Opus 4.1",
    created_at: "2025-08-05T00:00:00Z",
  },
] as const;

function unary(ex: Exchange, d: AnthropicDirectives, a: AnthropicAnswer, id: string): void {
  const payload = {
    id,
    type: "message",
    role: "assistant",
    model: d.base,
    content: a.blocks,
    stop_reason: a.stopReason,
    stop_sequence: a.stopSequence,
    usage: { ...a.usage, service_tier: "standard" },
  };
  if (d.stall) return;
  if (!d.malformed && d.drop === undefined) {
    sendAnthropicJson(ex, 200, payload);
    return;
  }
  const text = d.malformed ? `{"id":"${id}","type":"message","content":[{"type":` : JSON.stringify(payload);
  ex.res.writeHead(200, {
    ...anthropicHeaders(),
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(text)),
  });
  if (d.malformed) ex.res.end(text);
  else ex.res.write(text.slice(0, Math.floor(text.length / 2)), () => kill(ex, false));
}

async function stream(ex: Exchange, d: AnthropicDirectives, a: AnthropicAnswer, id: string): Promise<void> {
  const res = ex.res;
  res.writeHead(200, {
    ...anthropicHeaders(),
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
  });
  let deltas = 0;
  for (const [name, payload] of anthropicEvents(d, a, id)) {
    if (ex.closed) return;
    if (name === "content_block_delta") {
      if (d.drop !== undefined && deltas >= d.drop) return killAfterFlush(ex);
      if (deltas === 1 && d.stall) return;
      if (deltas === 1 && d.streamError) {
        const err = errorBody("overloaded_error", "Overloaded");
        res.end(`event: error\ndata: ${JSON.stringify({ type: "error", error: err.error })}\n\n`);
        return;
      }
      if (deltas === 1 && d.malformed)
        res.write('event: content_block_delta\ndata: {"type":"content_block_delta",\n\n');
      deltas++;
    }
    res.write(`event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`);
    if (!(await pause(ex, d.chunkDelayMs ?? 0))) return;
  }
  if (d.drop !== undefined) return killAfterFlush(ex);
  if (!ex.closed) res.end();
}

function invalid(ex: Exchange, message: string): void {
  sendAnthropicJson(ex, 400, errorBody("invalid_request_error", message));
}

/** Starts the fake on a free loopback port; with `apiKey` set, requests must carry it. */
export async function startAnthropicFake(opts: { apiKey?: string } = {}): Promise<AnthropicFake> {
  const calls = new Map<string, number>();
  const signer = new ThinkingSigner();
  const cache = new PromptCache();
  let seq = 0;

  async function handle(ex: Exchange, info: BodyInfo): Promise<void> {
    const { req, rec } = ex;
    const { method, path } = rec;
    const search = (req.url ?? "/").split("?")[1] ?? "";
    if (info.invalidJson) return invalid(ex, "There was an issue with your request body: invalid JSON");
    const body = rec.body;

    if (opts.apiKey !== undefined) {
      const key = req.headers["x-api-key"];
      const auth = req.headers.authorization;
      if (key === undefined && auth === undefined) {
        return sendAnthropicJson(ex, 401, errorBody("authentication_error", "x-api-key header is required"));
      }
      if (key !== opts.apiKey && auth !== `Bearer ${opts.apiKey}`) {
        return sendAnthropicJson(ex, 401, errorBody("authentication_error", "invalid x-api-key"));
      }
    }
    if (req.headers["anthropic-version"] === undefined)
      return invalid(ex, "anthropic-version: header is required");

    if (method === "GET" && path === "/v1/models") {
      const q = new URLSearchParams(search);
      const limit = Math.max(1, Number(q.get("limit") ?? 20) || 20);
      const after = q.get("after_id");
      const from = after === null ? 0 : ANTHROPIC_FAKE_MODELS.findIndex((m) => m.id === after) + 1;
      const data = ANTHROPIC_FAKE_MODELS.slice(from, from + limit);
      return sendAnthropicJson(ex, 200, {
        data,
        has_more: from + limit < ANTHROPIC_FAKE_MODELS.length,
        first_id: data[0]?.id ?? null,
        last_id: data[data.length - 1]?.id ?? null,
      });
    }
    if (method === "GET" && path.startsWith("/v1/models/")) {
      const id = decodeURIComponent(path.slice("/v1/models/".length));
      const m = ANTHROPIC_FAKE_MODELS.find((x) => x.id === id);
      return m
        ? sendAnthropicJson(ex, 200, m)
        : sendAnthropicJson(ex, 404, errorBody("not_found_error", `model: ${id}`));
    }
    if (method !== "POST" || path !== "/v1/messages") {
      return sendAnthropicJson(ex, 404, errorBody("not_found_error", "Not Found"));
    }

    const problem = validateMessages(body) ?? checkBlocks(body) ?? checkThinkingHistory(body, signer);
    if (problem !== undefined) return invalid(ex, problem);
    const elements = promptElements(body);
    if (typeof elements === "string") return invalid(ex, elements);
    const model = fieldOf(body, "model") as string;
    const n = (calls.get(model) ?? 0) + 1;
    calls.set(model, n);
    let d = parseAnthropicDirectives(model);
    if (d.failTimes !== undefined && n > d.failTimes) d = withoutAnthropicFailures(d);
    if (d.delayMs !== undefined && !(await pause(ex, d.delayMs))) return;
    if (ex.closed) return;
    if (d.reset) return kill(ex, true);
    const fault = anthropicFault(d);
    if (fault) {
      const headers: Record<string, string> =
        d.retryAfter === undefined ? {} : { "retry-after": d.retryAfter };
      return sendAnthropicJson(ex, fault.status, fault.body, headers);
    }
    seq++;
    const id = `msg_fake${String(seq).padStart(4, "0")}`;
    const answer = anthropicAnswer(d, body, seq, signer);
    const cached = cache.account(d.base, elements);
    if (cached !== undefined) Object.assign(answer.usage, cached);
    if (fieldOf(body, "stream") === true) return stream(ex, d, answer, id);
    return unary(ex, d, answer, id);
  }

  const server = await startFakeServer(handle, {
    onCrash: crashWith(errorBody("api_error", "fake failed")),
  });
  return {
    ...server,
    url: `http://127.0.0.1:${server.port}`,
    reset() {
      server.reset();
      calls.clear();
      cache.clear();
    },
  };
}
