// A real HTTP/1.1 server on loopback speaking Anthropic's Messages API (unary + SSE with `event:`
// lines, /v1/models, error bodies), with faults chosen by the request's model string
// (`claude-x+status=529+retry_after=2`; see anthropic-faults.ts for the directives).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import {
  type AnthropicAnswer,
  type AnthropicDirectives,
  anthropicAnswer,
  anthropicEvents,
  anthropicFault,
  anthropicHeaders,
  errorBody,
  fieldOf,
  parseAnthropicDirectives,
  sendAnthropicJson,
  validateMessages,
  withoutAnthropicFailures,
} from "./anthropic-faults.js";
import type { RecordedRequest } from "./openai.js";
import { type Exchange, kill, killAfterFlush, pause } from "./openai-faults.js";

export type { RecordedRequest } from "./openai.js";

/** A running fake; `url` is the base URL without /v1 (as the SDK and the provider take it). */
export interface AnthropicFake {
  url: string;
  port: number;
  requests: RecordedRequest[];
  close(): Promise<void>;
  /** Clears `requests` and the per-model-string call counters (fail_times). */
  reset(): void;
  /** Resolves true once requests[index] is aborted by the client, false after timeoutMs. */
  waitForAbort(index: number, timeoutMs: number): Promise<boolean>;
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
    stop_sequence: null,
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
  const requests: RecordedRequest[] = [];
  const calls = new Map<string, number>();
  const sockets = new Set<Socket>();
  const abortWaiters = new Set<() => void>();
  let seq = 0;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const [path = "/", search = ""] = (req.url ?? "/").split("?");
    const method = req.method ?? "GET";
    const rec: RecordedRequest = {
      method,
      path,
      headers: { ...req.headers },
      body: undefined,
      aborted: false,
      finished: false,
    };
    requests.push(rec);
    const ex: Exchange = { req, res, rec, closed: false, killed: false };
    res.on("close", () => {
      ex.closed = true;
      rec.finished = res.writableFinished;
      if (!res.writableFinished && !ex.killed) {
        rec.aborted = true;
        for (const w of abortWaiters) w();
      }
    });
    const chunks: Buffer[] = [];
    try {
      for await (const c of req) chunks.push(c as Buffer);
    } catch {
      return; // the client went away mid-body; the close handler recorded it
    }
    const raw = Buffer.concat(chunks).toString("utf8");
    let body: unknown;
    if (raw !== "") {
      try {
        body = JSON.parse(raw);
      } catch {
        rec.body = raw;
        return invalid(ex, "There was an issue with your request body: invalid JSON");
      }
    }
    rec.body = body;

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

    const problem = validateMessages(body);
    if (problem !== undefined) return invalid(ex, problem);
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
    const answer = anthropicAnswer(d, body, seq);
    if (fieldOf(body, "stream") === true) return stream(ex, d, answer, id);
    return unary(ex, d, answer, id);
  }

  const server = createServer({ keepAlive: true }, (req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify(errorBody("api_error", "fake failed")));
      } else res.destroy();
    });
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    reset() {
      requests.length = 0;
      calls.clear();
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
      });
    },
    waitForAbort(index, timeoutMs) {
      if (requests[index]?.aborted) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const check = () => {
          if (requests[index]?.aborted) done(true);
        };
        const done = (v: boolean) => {
          clearTimeout(timer);
          abortWaiters.delete(check);
          resolve(v);
        };
        const timer = setTimeout(() => done(false), timeoutMs);
        abortWaiters.add(check);
      });
    },
  };
}
