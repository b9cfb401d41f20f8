// The upstream HTTP client (providers/http.ts over exchange.ts) against a real HTTP server on
// loopback: whole bodies, the size limit, a slow reader of a large stream (backpressure, order),
// bodies thrown away before and after their end (connection closed vs kept), aborts before and
// during the answer, and a refused connection.
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UpstreamError } from "../../src/errors.js";
import { bufferStats } from "../../src/providers/body-budget.js";
import { discard, openUpstream, readText, request } from "../../src/providers/http.js";
import type { Upstream } from "../../src/providers/upstream.js";
import { listenLocal } from "../helpers/loopback.js";
import { elapse, waitFor } from "../helpers/wait.js";
import { rejection } from "./helpers.js";

type Route = (req: IncomingMessage, res: ServerResponse) => void;

let server: Server;
let base = "";
const routes = new Map<string, Route>();
/** The server-side socket of each request, by path (to see connections reused or closed). */
const sockets = new Map<string, Socket>();
/** Requests whose answer was cut before it ended, by path. */
const cut = new Set<string>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? "";
    sockets.set(path, req.socket);
    res.on("close", () => {
      if (!res.writableFinished) cut.add(path);
    });
    const route = routes.get(path.replace(/\?.*/, ""));
    if (route) route(req, res);
    else res.writeHead(404).end();
  });
  base = `http://127.0.0.1:${await listenLocal(server)}`;
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const live = () => new AbortController().signal;
const get = (path: string, signal = live(), upstream?: Upstream) =>
  request({
    url: `${base}${path}`,
    headers: {},
    signal,
    provider: "test",
    ...(upstream ? { upstream } : {}),
  });

/** An answer that never ends: `first`, then `more` every 5 ms until the client goes. */
const trickle =
  (first: string, more: string): Route =>
  (_req, res) => {
    res.writeHead(200);
    res.write(first);
    const t = setInterval(() => res.write(more), 5);
    res.on("close", () => clearInterval(t));
  };

/** True once `path` was cut by the client (the close event lands a tick after); false if it never is. */
function seenCut(path: string): Promise<boolean> {
  return waitFor(() => cut.has(path), { what: `the client to cut ${path}` }).then(
    () => true,
    () => false,
  );
}

/**
 * After an answer's end undici hands its connection back to the pool in a microtask: past one turn of
 * the event loop the next request takes that idle connection (else the pool may open another).
 */
const pooled = () => new Promise<void>((r) => setImmediate(r));

/** Resolves when the server first gets a request for `path` (the route then does `then`). */
function arrival(path: string, then: Route = () => {}): Promise<void> {
  return new Promise((resolve) => {
    routes.set(path, (req, res) => {
      then(req, res);
      resolve();
    });
  });
}

describe("upstream exchange", () => {
  it("reads a whole body, split over many writes, as text", async () => {
    routes.set("/text", (_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "x-a": "1" });
      for (const part of ['{"a":', '"ünï', 'cødé"', "}"]) res.write(part);
      res.end();
    });
    const r = await get("/text");
    expect(r.status).toBe(200);
    expect(r.headers["x-a"]).toBe("1");
    expect(await readText(r.body, "test")).toBe('{"a":"ünïcødé"}');
    expect(r.body.ended).toBe(true);
  });

  it("reads a whole body far over the backpressure mark, whether or not it queued up first", async () => {
    const big = "x".repeat(1024 * 1024);
    routes.set("/large", (_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(big);
    });
    const now = await get("/large");
    expect(await readText(now.body, "test")).toBe(big);
    const held = bufferStats().used;
    const later = await get("/large");
    await waitFor(() => bufferStats().used - held > 64 * 1024, {
      what: "over 64 KiB of the answer to queue up unread (the socket pauses)",
    });
    expect(await readText(later.body, "test")).toBe(big);
  });

  it("refuses a body over the limit with a protocol error and closes the connection", async () => {
    let more = () => {};
    routes.set("/big", (_req, res) => {
      res.writeHead(200);
      res.write(Buffer.alloc(600));
      more = () => res.write(Buffer.alloc(600)); // and never ends
    });
    const r = await get("/big?1");
    const reading = rejection(readText(r.body, "test", undefined, 1000));
    more(); // the rest arrives while the body is being read whole
    const e = await reading;
    expect(e).toBeInstanceOf(UpstreamError);
    expect((e as UpstreamError).kind).toBe("protocol");
    expect((e as UpstreamError).message).toContain("exceeds 1000 bytes");
    expect(await seenCut("/big?1")).toBe(true);
  });

  it("streams a large body to a reader that stops for a while: the socket pauses, order holds", async () => {
    const chunk = 64 * 1024;
    const n = 768; // 48 MiB: far more than socket buffers hold
    let written = 0;
    /** The server is waiting for 'drain': the client stopped taking bytes. */
    let blocked = false;
    routes.set("/large", (_req, res) => {
      res.writeHead(200);
      let i = 0;
      const more = () => {
        blocked = false;
        while (i < n) {
          const ok = res.write(Buffer.alloc(chunk, i % 251));
          i++;
          written += chunk;
          if (!ok) {
            blocked = true;
            res.once("drain", more);
            return;
          }
        }
        res.end();
      };
      more();
    });
    const r = await get("/large");
    const it = r.body[Symbol.asyncIterator]();
    let total = 0;
    let ordered = true;
    const check = (c: Buffer) => {
      // Every byte of the i-th server chunk is i % 251: the sequence must survive.
      for (let k = 0; k < c.length; k += 4096) {
        if (c[k] !== Math.floor((total + k) / chunk) % 251) ordered = false;
      }
      total += c.length;
    };
    const first = await it.next();
    if (!first.done) check(first.value);
    await waitFor(() => blocked, { what: "the server to wait for the client to take more" });
    await elapse(300); // the reader stops for a while: the behaviour under test
    const during = written;
    for (let c = await it.next(); !c.done; c = await it.next()) check(c.value);
    expect(total).toBe(chunk * n);
    expect(ordered).toBe(true);
    // Without backpressure the client would have pulled the whole body into memory meanwhile.
    expect(during).toBeLessThan((chunk * n) / 2);
  });

  it("a body thrown away mid-way closes the connection; one read to its end keeps it", async () => {
    routes.set("/endless", trickle("first", "more"));
    const r = await get("/endless");
    for await (const c of r.body) {
      expect(c.toString()).toContain("first");
      break;
    }
    discard(r.body);
    expect(await seenCut("/endless")).toBe(true);

    routes.set("/small", (_req, res) => res.end("done"));
    const u = openUpstream("test"); // connections of its own: the next request takes the idle one
    try {
      const a = await get("/small?a", live(), u);
      expect(await readText(a.body, "test")).toBe("done");
      discard(a.body); // after the end: nothing to do
      await pooled();
      // The next request goes out on the same connection: it was kept, back in the pool.
      const b = await get("/small?b", live(), u);
      expect(await readText(b.body, "test")).toBe("done");
      expect(sockets.get("/small?b")).toBe(sockets.get("/small?a"));
      expect(sockets.get("/small?a")?.destroyed).toBe(false); // still open, back in the pool
      expect(cut.has("/small?a")).toBe(false);
    } finally {
      await u.close();
    }
  });

  it("a body thrown away just before its end keeps the connection (the rest is let in for a moment)", async () => {
    let terminate = () => {};
    routes.set("/sse", (_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: [DONE]\n\n");
      terminate = () => res.end();
    });
    // A transport of its own: its `running` count says when the exchange is over.
    const u = openUpstream("test");
    try {
      const r = await get("/sse?a", live(), u);
      for await (const c of r.body) {
        expect(c.toString()).toContain("[DONE]");
        break;
      }
      discard(r.body); // the stream's reader is done at [DONE]
      terminate(); // the chunked terminator comes a moment later
      await waitFor(() => u.running === 0, { what: "the discarded exchange to end (drained or aborted)" });
      await pooled();
      expect(cut.has("/sse?a")).toBe(false);
      expect(sockets.get("/sse?a")?.destroyed).toBe(false);
      const again = await get("/sse?b", live(), u);
      expect(sockets.get("/sse?b")).toBe(sockets.get("/sse?a")); // the same connection, reused
      discard(again.body);
    } finally {
      await u.close();
    }
  });

  it("an abort before the answer rejects with the signal's reason and cancels the request", async () => {
    const reached = arrival("/slow"); // never answers
    const ac = new AbortController();
    const reason = new Error("caller left");
    const p = get("/slow?1", ac.signal);
    await reached; // the request is out, its answer awaited
    ac.abort(reason);
    expect(await rejection(p)).toBe(reason);
    expect(await seenCut("/slow?1")).toBe(true);
  });

  it("an abort while the body arrives fails the reader with the signal's reason", async () => {
    routes.set("/trickle", trickle("a", "b"));
    const ac = new AbortController();
    const reason = new Error("deadline");
    const r = await get("/trickle", ac.signal);
    const read = (async () => {
      for await (const _ of r.body) {
        ac.abort(reason); // the body has begun to arrive, and more keeps coming: keep reading
      }
    })();
    expect(await rejection(read)).toBe(reason);
    expect(await seenCut("/trickle")).toBe(true);
  });

  it("an already aborted signal sends nothing", async () => {
    const ac = new AbortController();
    ac.abort(new Error("too late"));
    routes.set("/never", (_req, res) => res.end("x"));
    const e = await rejection(get("/never", ac.signal));
    expect((e as Error).message).toBe("too late");
    expect(sockets.has("/never")).toBe(false);
  });

  it("a refused connection is a network UpstreamError", async () => {
    const probe = createServer();
    probe.listen(0, "127.0.0.1");
    await once(probe, "listening");
    const port = (probe.address() as AddressInfo).port;
    probe.close();
    await once(probe, "close");
    const e = await rejection(
      request({ url: `http://127.0.0.1:${port}/x`, headers: {}, signal: live(), provider: "test" }),
    );
    expect(e).toBeInstanceOf(UpstreamError);
    expect((e as UpstreamError).kind).toBe("network");
    expect((e as UpstreamError).message).toContain("ECONNREFUSED");
  });
});
