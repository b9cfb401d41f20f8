// A provider's connection pool (providers.<name>.max_connections) against a real server that holds
// its answers: the upstream never sees more sockets than allowed, the calls beyond wait and show in
// llmgw_upstream_queued_requests, and a waiting call whose signal fires (its attempt or first-token
// timer) is let go at once without costing the pool a connection.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openUpstream, readText, request, upstreamLoad } from "../../src/providers/http.js";
import type { Upstream } from "../../src/providers/upstream.js";
import { GatewayMetrics } from "../../src/telemetry/metrics.js";
import { listenLocal } from "../helpers/loopback.js";
import { rejection } from "./helpers.js";

let server: Server;
let base = "";
/** Answers held by the server until `releaseAll`. */
const held: ServerResponse[] = [];
const paths: string[] = [];
let open = 0;
let maxOpen = 0;
let accepted = 0;
const sockets = new Set<Socket>();

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    paths.push(req.url ?? "");
    held.push(res);
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    accepted++;
    open++;
    maxOpen = Math.max(maxOpen, open);
    s.on("close", () => {
      open--;
      sockets.delete(s);
    });
  });
  base = `http://127.0.0.1:${await listenLocal(server)}`;
});

afterAll(() => {
  for (const s of sockets) s.destroy();
  server.close();
});

function releaseAll(): void {
  for (const res of held.splice(0)) res.end("ok");
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const queuedOf = (provider: string) =>
  upstreamLoad()
    .filter((u) => u.provider === provider)
    .reduce((n, u) => n + u.queued, 0);

function get(upstream: Upstream, path: string, signal = new AbortController().signal): Promise<string> {
  return request({ url: `${base}${path}`, headers: {}, signal, provider: "pooled", upstream }).then((r) =>
    readText(r.body, "pooled"),
  );
}

describe("upstream pool", () => {
  it("max_connections: at most N sockets; the rest wait, visible in the queue gauge; a waiting call can leave", async () => {
    const upstream = openUpstream("pooled", { maxConnections: 2 });
    try {
      const calls = [1, 2, 3, 4, 5, 6].map((i) => get(upstream, `/c${i}`));
      await until(() => held.length === 2 && queuedOf("pooled") === 4, "2 calls at the server and 4 queued");

      const metrics = new GatewayMetrics(false, {
        gateway: () => undefined,
        redis: () => undefined,
        labels: () => undefined,
        inflight: () => ({ calls: 0, streams: 0 }),
      });
      const text = await metrics.registry.metrics();
      expect(text).toContain('llmgw_upstream_queued_requests{provider="pooled"} 4');
      expect(text).toContain('llmgw_upstream_active_requests{provider="pooled"} 2');

      // A seventh call waits too; its timer fires while it waits: it is let go at once.
      const ac = new AbortController();
      const late = get(upstream, "/late", ac.signal);
      await until(() => queuedOf("pooled") === 5, "the seventh call queued");
      const reason = new Error("first token timeout");
      ac.abort(reason);
      expect(await rejection(late)).toBe(reason);

      // Release in waves until all six answered; the upstream never saw a third socket.
      const done = Promise.all(calls);
      while (paths.length < 6 || held.length > 0) {
        releaseAll();
        await new Promise((r) => setTimeout(r, 5));
      }
      expect(await done).toEqual(["ok", "ok", "ok", "ok", "ok", "ok"]);
      expect(maxOpen).toBe(2);
      // The abandoned call never reached the upstream, and cost no connection when its turn came.
      expect(paths).not.toContain("/late");
      expect(accepted).toBe(2);
      expect(queuedOf("pooled")).toBe(0);
    } finally {
      releaseAll();
      await upstream.close();
    }
    expect(upstreamLoad().filter((u) => u.provider === "pooled")).toEqual([]);
  });
});
