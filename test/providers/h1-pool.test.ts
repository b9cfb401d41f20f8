// The upstream HTTP/1.1 pool (h1-pool.ts) against real servers on loopback, raw TCP where the
// answer must be exact: connection reuse and its limits (Connection: close, a body delimited by
// the close, the server's Keep-Alive hint), the socket cap and the queue, what goes on the wire
// (Host, Content-Length of multi-byte bodies, refused header injection), aborts while queued and
// mid-body, resets, garbage, refused connections, the last-resort timeouts (not while the reader
// holds the socket paused), graceful close, IPv6, and TLS (a CA, session resumption, an untrusted
// certificate refused).
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { type AddressInfo, createServer as createNetServer, type Server, type Socket } from "node:net";
import path from "node:path";
import type { TLSSocket } from "node:tls";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { exchange } from "../../src/providers/exchange.js";
import { H1Pool, type H1PoolOptions, type WireRequest } from "../../src/providers/h1-pool.js";

const TLS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../fixtures/tls");
const CERT = readFileSync(path.join(TLS_DIR, "cert.pem"));
const KEY = readFileSync(path.join(TLS_DIR, "key.pem"));

const OPTS: H1PoolOptions = {
  connections: 8,
  keepAliveTimeout: 30_000,
  keepAliveMaxTimeout: 60_000,
  headersTimeout: 30_000,
  bodyTimeout: 30_000,
};

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const live = () => new AbortController().signal;

function pool(origin: string, opts: Partial<H1PoolOptions> = {}): H1Pool {
  const p = new H1Pool(origin, { ...OPTS, ...opts });
  cleanups.push(() => p.close());
  return p;
}

async function listen<S extends Server>(server: S, host = "127.0.0.1"): Promise<number> {
  server.listen(0, host);
  await once(server, "listening");
  cleanups.push(() => new Promise((r) => server.close(r)));
  return (server.address() as AddressInfo).port;
}

/** An HTTP server that counts connections and tracks its sockets. */
async function httpServer(route: (req: IncomingMessage, res: ServerResponse) => void) {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createHttpServer(route);
  server.on("connection", (s: Socket) => {
    connections++;
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  cleanups.push(() => server.closeAllConnections());
  const port = await listen(server);
  return { origin: `http://127.0.0.1:${port}`, connections: () => connections, sockets };
}

/**
 * A raw TCP server: `answer` gets each request's bytes (head + body, read up to the head's
 * Content-Length) and the socket, and writes whatever it likes.
 */
async function rawServer(answer: (request: string, socket: Socket, n: number) => void) {
  const requests: string[] = [];
  let connections = 0;
  const server = createNetServer((socket) => {
    connections++;
    let buf = Buffer.alloc(0);
    socket.on("error", () => {});
    socket.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = buf.toString("latin1", 0, end);
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length < end + 4 + length) return;
        const request = buf.subarray(0, end + 4 + length).toString("utf8");
        buf = buf.subarray(end + 4 + length);
        requests.push(request);
        answer(request, socket, requests.length);
      }
    });
  });
  const sockets = new Set<Socket>();
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
  });
  const port = await listen(server);
  return { origin: `http://127.0.0.1:${port}`, requests, connections: () => connections, sockets };
}

const GET: WireRequest = { path: "/", method: "GET", headers: {}, body: null };

/** One exchange read to its end: status, headers, body text. */
async function send(p: H1Pool, req: Partial<WireRequest> = {}, signal: AbortSignal = live()) {
  const answer = await exchange(p, { ...GET, ...req }, signal);
  const body = await answer.body.text(1 << 20, "test");
  return { status: answer.status, headers: answer.headers, body };
}

/** The error a promise rejected with. */
async function failure(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (e: unknown) {
    return e as Error & { code?: string };
  }
  throw new Error("expected a failure");
}

const ok = (body: string, extra = "") =>
  `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n${extra}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

describe("h1 pool: connections", () => {
  it("keeps a connection alive across sequential requests", async () => {
    const s = await httpServer((_req, res) => res.end("hi"));
    const p = pool(s.origin);
    for (let i = 0; i < 5; i++) expect((await send(p)).body).toBe("hi");
    expect(s.connections()).toBe(1);
  });

  it("does not reuse a connection the server closes, nor one whose body ran until the close", async () => {
    const s = await rawServer((req, socket) => {
      if (req.startsWith("GET /close")) socket.write(ok("a", "connection: close\r\n"));
      else socket.end("HTTP/1.1 200 OK\r\n\r\nuntil the end"); // no framing: body ends with the close
    });
    const p = pool(s.origin);
    expect((await send(p, { path: "/close" })).body).toBe("a");
    expect((await send(p, { path: "/eof" })).body).toBe("until the end");
    expect((await send(p, { path: "/close" })).body).toBe("a");
    expect(s.connections()).toBe(3);
  });

  it("reads chunked bodies with extensions and trailers, then reuses the connection", async () => {
    const s = await rawServer((_req, socket) => {
      socket.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n");
      socket.write("5;ext=1\r\nhello\r\n");
      setTimeout(() => socket.write("8\r\n, wörld\r\n0\r\nx-trailer: 1\r\n\r\n"), 5);
    });
    const p = pool(s.origin);
    expect((await send(p)).body).toBe("hello, wörld");
    expect((await send(p)).body).toBe("hello, wörld");
    expect(s.connections()).toBe(1);
  });

  it("skips 1xx heads and reports the final one", async () => {
    const s = await rawServer((_req, socket) => {
      socket.write("HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n");
      socket.write(ok("final", "x-a: 1\r\nx-a: 2\r\n"));
    });
    const r = await send(pool(s.origin));
    expect(r).toMatchObject({ status: 200, body: "final", headers: { "x-a": ["1", "2"] } });
  });

  it("honours the server's Keep-Alive hint: an idle socket is closed 2 s before the server would", async () => {
    const s = await rawServer((_req, socket) => socket.write(ok("x", "keep-alive: timeout=3\r\n")));
    const p = pool(s.origin);
    await send(p);
    expect(s.sockets.size).toBe(1);
    const t0 = Date.now();
    const [socket] = [...s.sockets];
    await once(socket as Socket, "close");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900); // ~1 s idle, not the 30 s default
    await send(p);
    expect(s.connections()).toBe(2);
  });

  it("never reuses a connection whose hint leaves no margin", async () => {
    const s = await rawServer((_req, socket) => socket.write(ok("x", "keep-alive: timeout=2\r\n")));
    const p = pool(s.origin);
    await send(p);
    await send(p);
    expect(s.connections()).toBe(2);
  });

  it("opens at most `connections` sockets; further requests wait their turn and all finish", async () => {
    let open = 0;
    let most = 0;
    const s = await httpServer((_req, res) => {
      open++;
      most = Math.max(most, open);
      setTimeout(() => {
        open--;
        res.end("done");
      }, 20);
    });
    const p = pool(s.origin, { connections: 2 });
    const all = await Promise.all(Array.from({ length: 7 }, () => send(p)));
    expect(all.map((r) => r.body)).toEqual(Array(7).fill("done"));
    expect(most).toBe(2);
    expect(s.connections()).toBe(2);
  });

  it("waits a loop turn before reusing a socket: a close sent with the answer does not fail the next request", async () => {
    const s = await rawServer((_req, socket) => {
      socket.end(ok("x")); // says nothing of closing, then closes at once
    });
    const p = pool(s.origin, { connections: 1 });
    const all = await Promise.all([send(p), send(p), send(p)]);
    expect(all.map((r) => r.body)).toEqual(["x", "x", "x"]);
    expect(s.connections()).toBe(3);
  });

  it("does not reuse a socket answered before its request was fully written", async () => {
    let serverSide: Socket | undefined;
    const server = createNetServer((socket) => {
      serverSide = socket;
      socket.on("error", () => {});
      socket.once("data", () => {
        socket.write(ok("early")); // answers at the first bytes, then reads slowly
        socket.pause();
      });
    });
    const port = await listen(server);
    cleanups.push(() => serverSide?.destroy());
    const p = pool(`http://127.0.0.1:${port}`);
    const body = "b".repeat(8 * 1024 * 1024); // more than the socket takes at once
    const r = await send(p, { method: "POST", body });
    expect(r.body).toBe("early");
    const closed = once(serverSide as Socket, "close");
    serverSide?.resume(); // the client's close is seen once the server reads again
    await closed;
  });

  it("speaks to an IPv6 literal origin", async () => {
    const server = createHttpServer((req, res) => res.end(req.headers.host));
    const port = await listen(server, "::1");
    cleanups.push(() => server.closeAllConnections());
    expect((await send(pool(`http://[::1]:${port}`))).body).toBe(`[::1]:${port}`);
  });
});

describe("h1 pool: the request on the wire", () => {
  it("writes Host, the headers and a byte-exact Content-Length; GET carries no body", async () => {
    const s = await rawServer((_req, socket) => socket.write(ok("k")));
    const p = pool(s.origin);
    const body = JSON.stringify({ text: "ünïcødé 😀 مرحبا" });
    await send(p, { method: "POST", path: "/v1/x?q=1", headers: { "x-key": "v" }, body });
    await send(p, { method: "DELETE" });
    await send(p);
    const port = new URL(s.origin).port;
    expect(s.requests[0]).toBe(
      `POST /v1/x?q=1 HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nx-key: v\r\nconnection: keep-alive\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    expect(s.requests[1]).toContain("DELETE / HTTP/1.1\r\n");
    expect(s.requests[1]).toContain("content-length: 0\r\n");
    expect(s.requests[2]).not.toContain("content-length");
    await send(p, { headers: { Host: "api.example.test" } }); // an override replaces ours
    expect(s.requests[3]).toMatch(
      /^GET \/ HTTP\/1\.1\r\nHost: api\.example\.test\r\nconnection: keep-alive\r\n\r\n$/,
    );
  });

  it("refuses header injection, framing headers of its own and a bad path, sending nothing", async () => {
    const s = await rawServer((_req, socket) => socket.write(ok("k")));
    const p = pool(s.origin);
    const bad: Partial<WireRequest>[] = [
      { headers: { "x-a": "1\r\nx-injected: 1" } },
      { headers: { "bad name": "1" } },
      { headers: { "Content-Length": "5" } },
      { headers: { "transfer-encoding": "chunked" } },
      { path: "/a b" },
      { path: "no-slash" },
    ];
    for (const req of bad) {
      expect((await failure(send(p, req))).code).toBe("UND_ERR_INVALID_ARG");
    }
    expect(s.requests).toEqual([]);
    expect((await send(p)).body).toBe("k"); // the pool still works
  });
});

describe("h1 pool: failures", () => {
  it("an abort while queued fails that request with the reason and never sends it", async () => {
    const s = await httpServer((_req, res) => setTimeout(() => res.end("slow"), 50));
    const p = pool(s.origin, { connections: 1 });
    const first = send(p, { path: "/first" });
    const ac = new AbortController();
    const queued = send(p, { path: "/queued" }, ac.signal);
    const reason = new Error("caller gone");
    ac.abort(reason);
    expect(await failure(queued)).toBe(reason);
    expect((await first).body).toBe("slow");
    expect((await send(p, { path: "/after" })).body).toBe("slow");
    expect(s.connections()).toBe(1);
  });

  it("an abort mid-body closes the connection and fails the reader with the reason", async () => {
    const s = await rawServer((_req, socket) =>
      socket.write("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npart"),
    );
    const p = pool(s.origin);
    const ac = new AbortController();
    const answer = await exchange(p, GET, ac.signal);
    const text = answer.body.text(1 << 20, "test");
    const [socket] = [...s.sockets];
    const closed = once(socket as Socket, "close");
    const reason = new Error("stop");
    ac.abort(reason);
    expect(await failure(text)).toBe(reason);
    await closed;
  });

  it("a connection cut mid-body fails the reader; a reset before the head fails the request", async () => {
    const s = await rawServer((req, socket) => {
      if (req.startsWith("GET /cut")) socket.end("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npart");
      else socket.resetAndDestroy();
    });
    const p = pool(s.origin);
    const answer = await exchange(p, { ...GET, path: "/cut" }, live());
    expect((await failure(answer.body.text(1 << 20, "test"))).code).toBe("UND_ERR_SOCKET");
    expect((await failure(send(p, { path: "/reset" }))).code).toBe("ECONNRESET");
  });

  it("garbage is a parse error and the next request gets a fresh connection", async () => {
    const s = await rawServer((_req, socket, n) => socket.write(n === 1 ? "SMTP ready\r\n\r\n" : ok("fine")));
    const p = pool(s.origin);
    expect((await failure(send(p))).message).toMatch(/status line/);
    expect((await send(p)).body).toBe("fine");
    expect(s.connections()).toBe(2);
  });

  it("bytes after an answer end that connection; the answer itself is delivered", async () => {
    const s = await rawServer((_req, socket) => socket.write(`${ok("one")}EXTRA`));
    const p = pool(s.origin);
    expect((await send(p)).body).toBe("one");
    expect((await send(p)).body).toBe("one");
    expect(s.connections()).toBe(2);
  });

  it("a refused connection fails every queued request (none hangs)", async () => {
    const s = await rawServer(() => {});
    const origin = s.origin;
    await new Promise<void>((r) => {
      for (const c of cleanups.splice(0)) void c();
      setTimeout(r, 20);
    });
    const p = pool(origin, { connections: 1 });
    const all = await Promise.all([1, 2, 3].map(() => failure(send(p))));
    expect(all.map((e) => e.code)).toEqual(["ECONNREFUSED", "ECONNREFUSED", "ECONNREFUSED"]);
  });

  it("a TLS server that never finishes the handshake hits the connect timeout", async () => {
    const sockets: Socket[] = [];
    const server = createNetServer((socket) => {
      sockets.push(socket); // takes the hello, says nothing
      socket.on("error", () => {});
    });
    const port = await listen(server);
    cleanups.push(() => {
      for (const s of sockets) s.destroy();
    });
    const p = pool(`https://localhost:${port}`, { connectTimeout: 200 });
    const t0 = Date.now();
    expect((await failure(send(p))).code).toBe("UND_ERR_CONNECT_TIMEOUT");
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(5_000); // not restarted by the hello's write, nor by anything else
  });

  it("a silent server hits the headers timeout (a lower bound, the guard waited)", async () => {
    const s = await rawServer(() => {});
    const p = pool(s.origin, { headersTimeout: 200 });
    const t0 = Date.now();
    expect((await failure(send(p))).code).toBe("UND_ERR_HEADERS_TIMEOUT");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
  });

  it("a server silent mid-body hits the body timeout, but a reader pausing the socket does not", async () => {
    const s = await rawServer((req, socket) => {
      socket.write("HTTP/1.1 200 OK\r\ncontent-length: 8\r\n\r\nhalf");
      if (req.startsWith("GET /slow")) setTimeout(() => socket.write("done"), 500);
    });
    const p = pool(s.origin, { bodyTimeout: 200 });
    const a = await exchange(p, { ...GET, path: "/silent" }, live());
    expect((await failure(a.body.text(1 << 20, "test"))).code).toBe("UND_ERR_BODY_TIMEOUT");

    // The reader holds the socket paused longer than the body timeout: not the server's silence.
    const b = await new Promise<string>((resolve, reject) => {
      let text = "";
      p.dispatch(
        { ...GET, path: "/slow" },
        {
          onResponseStart: (c) => {
            c.pause();
            setTimeout(() => c.resume(), 400);
          },
          onResponseData: (_c, chunk) => {
            text += chunk.toString();
          },
          onResponseEnd: () => resolve(text),
          onResponseError: (_c, e) => reject(e),
        },
      );
    });
    expect(b).toBe("halfdone");
  });
});

describe("h1 pool: close", () => {
  it("waits for running and queued requests, then closes every socket; later requests are refused", async () => {
    const s = await httpServer((_req, res) => setTimeout(() => res.end("late"), 50));
    const p = new H1Pool(s.origin, { ...OPTS, connections: 1 });
    const running = [send(p), send(p)];
    await sleep(10);
    const closed = p.close();
    expect((await failure(send(p))).code).toBe("UND_ERR_CLOSED");
    expect((await Promise.all(running)).map((r) => r.body)).toEqual(["late", "late"]);
    await closed;
    await p.close(); // a second close resolves too
    for (let i = 0; i < 50 && s.sockets.size > 0; i++) await sleep(10);
    expect(s.sockets.size).toBe(0);
  });
});

describe("h1 pool: TLS", () => {
  async function httpsServer() {
    const resumed: boolean[] = [];
    const server = createHttpsServer({ key: KEY, cert: CERT }, (req, res) => {
      resumed.push((req.socket as TLSSocket).isSessionReused());
      res.setHeader("connection", "close"); // every request on a new connection
      res.end(`tls ${req.headers.host}`);
    });
    const port = await listen(server);
    cleanups.push(() => server.closeAllConnections());
    return { port, resumed };
  }

  it("speaks HTTPS to a server its CA vouches for, resuming the TLS session on new connections", async () => {
    const s = await httpsServer();
    const p = pool(`https://localhost:${s.port}`, { tls: { ca: CERT } });
    expect((await send(p)).body).toBe(`tls localhost:${s.port}`);
    await sleep(20); // the session ticket arrives after the first answer
    expect((await send(p)).body).toBe(`tls localhost:${s.port}`);
    expect(s.resumed).toEqual([false, true]);
  });

  it("refuses a certificate it cannot verify", async () => {
    const s = await httpsServer();
    const e = await failure(send(pool(`https://127.0.0.1:${s.port}`)));
    expect(e.code).toMatch(/CERT|SELF_SIGNED/);
  });
});
