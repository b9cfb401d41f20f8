// Waiting for a connection counts against the attempt's timers: with max_connections: 1 held by a
// call the upstream never answers, a second call (unary: attempt_ms; stream: first_token_ms) fails
// on its own timer while it waits, and never reaches the upstream.
import { createServer, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { listenLocal } from "../helpers/loopback.js";

let server: Server;
const held: ServerResponse[] = [];
const sockets = new Set<Socket>();
let gw: TestGateway;

beforeAll(async () => {
  server = createServer((_req, res) => held.push(res)); // never answers
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  const port = await listenLocal(server);
  gw = await startGateway({
    yaml: [
      "providers:",
      "  held:",
      "    type: openai",
      `    base_url: http://127.0.0.1:${port}/v1`,
      "    api_key: k",
      "    max_connections: 1",
      "models:",
      "  hold:", // the call that keeps the one connection: timers far beyond the test's
      "    deployments: [{ target: held/gpt-4o-mini }]",
      "    timeouts: { attempt_ms: 30000, first_token_ms: 30000 }",
      "defaults:",
      "  timeouts: { attempt_ms: 800, first_token_ms: 800, request_ms: 30000 }",
      "  retries: { max_attempts: 1 }",
      "",
    ].join("\n"),
  });
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await gw?.close();
  server.close();
});

const chat = (stream: boolean, signal?: AbortSignal, model = "held/gpt-4o-mini") =>
  fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }], stream }),
    ...(signal === undefined ? {} : { signal }),
  });

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("queueing for a connection", () => {
  it.each([false, true])(
    "stream=%s: a call waiting behind max_connections fails on its own timer, unsent",
    async (stream) => {
      const first = new AbortController();
      const holding = chat(false, first.signal, "hold").catch(() => undefined);
      const before = held.length;
      await until(() => held.length === before + 1, "the first call at the upstream");
      const t0 = performance.now();
      const res = await chat(stream);
      const waited = performance.now() - t0;
      const text = await res.text();
      expect(res.status).toBe(504);
      expect(text).toMatch(/timeout|deadline/i);
      expect(waited).toBeGreaterThanOrEqual(700); // its timer, not an instant refusal
      expect(waited).toBeLessThan(10_000);
      expect(held.length).toBe(before + 1); // the waiting call never reached the upstream
      first.abort();
      await holding;
      for (const r of held.splice(0)) r.destroy();
    },
  );
});
