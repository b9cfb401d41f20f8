// Hostile upstream answers through the whole gateway: an event or NDJSON line far over
// server.max_event_bytes and a unary answer over server.max_answer_bytes end as protocol errors
// without reading the rest; past server.upstream_buffer_bytes new reads fail fast with
// RESOURCE_EXHAUSTED / GATEWAY_OVERLOADED (REST: 503) — sent once, no retry, no fallback, the
// breaker untouched — and the budget comes back whole, so later calls work. A reload applies new bounds.
import { once } from "node:events";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChatResponse, LLMService } from "../../gen/llmgateway/v1/llm_pb.js";
import { loadConfig } from "../../src/config/index.js";
import { implementedTypes, presetInfo, upstreamBufferStats } from "../../src/providers/index.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { listenLocal } from "../helpers/loopback.js";
import { waitFor } from "../helpers/wait.js";
import { chatReq, collect, failure, type LLMClient, reasonOf } from "../resilience/harness.js";

const KIB = 1024;
const MIB = 1024 * KIB;

/** What the hostile upstream did per request: the directive it read and the bytes it got out. */
interface Seen {
  directive: string;
  sent: number;
  /** The answer's connection closed (ended, or cut by the gateway). */
  closed: boolean;
}

let server: Server;
let base = "";
const seen: Seen[] = [];
/** Held answers, by directive: calling it writes the rest and ends the answer. */
const held = new Map<string, () => void>();
let gw: TestGateway;
let client: LLMClient;
let manager: Http2SessionManager;

const HEAD =
  '{"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"';
const TAIL =
  '"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}';

/** Writes `n` bytes of `x` in 16 KiB writes, waiting for drain; stops when the client goes. */
async function pad(res: ServerResponse, rec: Seen, n: number): Promise<boolean> {
  const block = Buffer.alloc(16 * KIB, "x");
  for (let left = n; left > 0; left -= block.length) {
    if (res.destroyed) return false;
    const part = left >= block.length ? block : block.subarray(0, left);
    rec.sent += part.length;
    if (!res.write(part)) {
      const closed = once(res, "close").then(() => false);
      if (!(await Promise.race([once(res, "drain").then(() => true), closed]))) return false;
    }
  }
  return !res.destroyed;
}

/** The directive in the last message: `answer:N`, `hold:N`, `sse-line:N` or `ndjson-line:N`. */
async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
  let body = "";
  for await (const c of req) body += String(c);
  const m = /(answer|hold|sse-line|ndjson-line):(\d+)/.exec(body);
  const rec: Seen = { directive: m?.[0] ?? "none", sent: 0, closed: false };
  seen.push(rec);
  res.on("close", () => {
    rec.closed = true;
  });
  const kind = m?.[1] ?? "answer";
  const n = Number(m?.[2] ?? "2");
  res.on("error", () => {});
  if (kind === "sse-line") {
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write('data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"');
    if (await pad(res, rec, n)) res.end('"}}]}\n\ndata: [DONE]\n\n');
    return;
  }
  if (kind === "ndjson-line") {
    res.writeHead(200, { "content-type": "application/x-ndjson" });
    res.write('{"model":"m","message":{"role":"assistant","content":"');
    if (await pad(res, rec, n)) res.end('"},"done":true,"done_reason":"stop"}\n');
    return;
  }
  res.writeHead(200, { "content-type": "application/json" });
  res.write(HEAD);
  if (kind === "hold") {
    if (!(await pad(res, rec, n))) return;
    await new Promise<void>((resolve) => held.set(rec.directive, resolve));
    held.delete(rec.directive);
  } else if (!(await pad(res, rec, n))) return;
  res.end(TAIL);
}

/** The answer's text. */
function textOf(res: ChatResponse): string {
  return (res.message?.content ?? []).map((p) => (p.part.case === "text" ? p.part.value : "")).join("");
}

/** The environment the gateway runs with: both providers pointed at the hostile upstream. */
const env = () => ({
  OPENAI_API_KEY: "sk-hostile-0123456789",
  OPENAI_BASE_URL: `${base}/v1`,
  OLLAMA_HOST: base,
});

const count = (directive: string) => seen.filter((s) => s.directive === directive).length;

beforeAll(async () => {
  server = createServer((req, res) => void serve(req, res));
  base = `http://127.0.0.1:${await listenLocal(server)}`;
  gw = await startGateway({
    env: env(),
    yaml: [
      "server:",
      `  max_answer_bytes: ${3 * MIB}`,
      `  max_embed_answer_bytes: ${3 * MIB}`,
      `  max_event_bytes: ${MIB}`,
      `  upstream_buffer_bytes: ${4 * MIB}`,
      "defaults:",
      "  retries: { max_attempts: 3, base_ms: 1, max_ms: 5 }",
      // Two failures counted against it would open this breaker.
      "  breaker: { error_threshold_pct: 50, min_calls: 2, window_ms: 60000, reset_ms: 60000 }",
      "",
    ].join("\n"),
  });
  manager = new Http2SessionManager(gw.url);
  client = createClient(
    LLMService,
    createConnectTransport({ baseUrl: gw.url, httpVersion: "2", sessionManager: manager }),
  );
});

afterAll(async () => {
  for (const release of held.values()) release();
  manager.abort();
  await gw.close();
  server.closeAllConnections();
  server.close();
});

describe("one event or line over server.max_event_bytes", () => {
  it("SSE: a 32 MiB data line sent in small chunks ends the stream with a protocol error naming the cap, unread", async () => {
    const t0 = performance.now();
    const { events, error } = await collect(
      client.chatStream(chatReq("openai/gpt-4o", `sse-line:${32 * MIB}`)),
    );
    expect(performance.now() - t0).toBeLessThan(10_000); // generous: the old parser took ~6 s of CPU here alone
    expect(events.filter((e) => e.event.case === "delta")).toHaveLength(0);
    expect(error?.code).toBe(Code.Unavailable);
    expect(error && reasonOf(error)).toBe("UPSTREAM_PROTOCOL_ERROR");
    expect(error?.message).toContain("server.max_event_bytes");
    expect(count(`sse-line:${32 * MIB}`)).toBe(1); // a broken answer: no retry on the same deployment
    const rec = seen.find((s) => s.directive === `sse-line:${32 * MIB}`);
    await waitFor(() => rec?.closed === true, { what: "the gateway to cut the answer" });
    expect(rec?.sent).toBeLessThan(16 * MIB); // it stopped reading at the cap (plus socket buffers)
  });

  it("NDJSON (Ollama's wire): the same for a 32 MiB line", async () => {
    const directive = `ndjson-line:${32 * MIB}`;
    const { error } = await collect(client.chatStream(chatReq("ollama/llama3.2", directive)));
    expect(error && reasonOf(error)).toBe("UPSTREAM_PROTOCOL_ERROR");
    expect(error?.message).toContain("server.max_event_bytes");
    expect(count(directive)).toBe(1);
    const rec = seen.find((s) => s.directive === directive);
    await waitFor(() => rec?.closed === true, { what: "the gateway to cut the answer" });
    expect(rec?.sent).toBeLessThan(16 * MIB);
  });
});

describe("a unary answer over server.max_answer_bytes", () => {
  it("is a protocol error naming the setting, sent once (not retried)", async () => {
    const directive = `answer:${5 * MIB}`;
    const err = await failure(client.chat(chatReq("openai/gpt-4o", directive)));
    expect(err.code).toBe(Code.Unavailable);
    expect(reasonOf(err)).toBe("UPSTREAM_PROTOCOL_ERROR");
    expect(err.message).toContain(`exceeds ${3 * MIB} bytes (server.max_answer_bytes)`);
    expect(count(directive)).toBe(1);
  });

  it("an answer under it passes", async () => {
    const res = await client.chat(chatReq("openai/gpt-4o", `answer:${2 * MIB}`));
    expect(textOf(res)).toHaveLength(2 * MIB);
  });
});

describe("the process-wide budget (server.upstream_buffer_bytes)", () => {
  it("past it new reads fail fast with GATEWAY_OVERLOADED: once, no retry, no breaker; then it is all given back", async () => {
    const target = "openai/gpt-4o";
    // A holds 2.75 of the 4 MiB budget: its answer is written but not ended.
    const a = client.chat(chatReq(target, `hold:${2.75 * MIB}`));
    await waitFor(() => upstreamBufferStats().used >= 2.75 * MIB, {
      what: "the held answer to fill the budget",
    });

    // Connect: RESOURCE_EXHAUSTED + ErrorInfo GATEWAY_OVERLOADED, while A is still held (fast).
    for (const n of [1.5, 2.5]) {
      const err = await failure(client.chat(chatReq(target, `answer:${n * MIB}`)));
      expect(err.code).toBe(Code.ResourceExhausted);
      expect(reasonOf(err)).toBe("GATEWAY_OVERLOADED");
      expect(err.message).toContain("server.upstream_buffer_bytes");
      expect(count(`answer:${n * MIB}`)).toBe(1); // no retry, no fallback
    }
    // REST: 503, OpenAI-style error, Retry-After.
    const rest = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: target, messages: [{ role: "user", content: `answer:${3 * MIB - 1}` }] }),
    });
    expect(rest.status).toBe(503);
    expect(rest.headers.get("retry-after")).toBe("1");
    const body = (await rest.json()) as { error: { code: string; type: string } };
    expect(body.error).toMatchObject({ code: "gateway_overloaded", type: "service_unavailable_error" });
    expect(count(`answer:${3 * MIB - 1}`)).toBe(1);
    expect(held.size).toBe(1); // all of that happened while A was still held

    // The breaker counted none of it (two counted failures would have opened it).
    const health = gw.app.gateway.deploymentHealth().find((d) => d.target === target);
    expect(health?.breaker).toBe("closed");

    held.get(`hold:${2.75 * MIB}`)?.();
    const done = await a;
    expect(textOf(done)).toHaveLength(2.75 * MIB);
    await waitFor(() => upstreamBufferStats().used === 0, { what: "every buffered byte to be given back" });

    // New calls work again, big ones included.
    const again = await client.chat(chatReq(target, `answer:${2 * MIB}`));
    expect(textOf(again)).toHaveLength(2 * MIB);
    expect(upstreamBufferStats().used).toBe(0);
  });
});

describe("on reload", () => {
  it("the new bounds apply to the whole process (no restart)", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "llmgw-")), "config.yaml");
    writeFileSync(file, `server: { upstream_buffer_bytes: ${64 * MIB}, max_answer_bytes: ${MIB} }\n`);
    const next = loadConfig({
      argv: ["--port", "0", "--config", file],
      env: env(),
      presets: presetInfo,
      implementedTypes,
    });
    expect(gw.app.reload(next)).toMatchObject({ ok: true, restartNeeded: [] });
    expect(upstreamBufferStats().budget).toBe(64 * MIB);
    const err = await failure(client.chat(chatReq("openai/gpt-4o", `answer:${2 * MIB}`)));
    expect(err.message).toContain(`exceeds ${MIB} bytes (server.max_answer_bytes)`);
  });
});
