// A keep-alive HTTP/1.1 connection pool for one origin, speaking to exchange.ts through undici's
// dispatch-handler interface (so either can carry a request). Lighter than undici's Pool per call
// (no request object validation layers, no wasm parser callbacks per header, no fast-timer
// bookkeeping): measured in bench/ and README (performance). One request per connection at a time
// (no pipelining); at most `connections` sockets, further requests wait in order.
//
// Connection reuse follows RFC 9112 and undici: HTTP/1.1 keeps the connection unless the server
// says `close`; a body delimited by the close, both framing headers, a failure or an abort end it.
// An idle connection lives `keepAliveTimeout` ms, or the server's Keep-Alive hint less 2 s (capped
// by `keepAliveMaxTimeout`), so a request is not written into a socket the server is closing.

import type { IncomingHttpHeaders } from "node:http";
import { maxHeaderSize } from "node:http";
import { connect, isIP, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { headerProblem } from "../lib/http-header.js";
import { ParseError, type ParserSink, ResponseParser } from "./h1-parser.js";

/** A request's controls, as its handler sees them (the shape of undici's DispatchController). */
export interface Controller {
  readonly aborted: boolean;
  readonly paused: boolean;
  readonly reason: Error | null;
  /** Ends the exchange with `reason` (the handler hears it through onResponseError). */
  abort(reason: Error): void;
  pause(): void;
  resume(): void;
}

/** What hears one exchange (the shape of undici's DispatchHandler, so undici can carry it too). */
export interface Handler {
  onRequestStart?(controller: Controller, context: unknown): void;
  onResponseStart?(
    controller: Controller,
    status: number,
    headers: IncomingHttpHeaders,
    reason?: string,
  ): void;
  onResponseData?(controller: Controller, chunk: Buffer): void;
  onResponseEnd?(controller: Controller, trailers: IncomingHttpHeaders): void;
  onResponseError?(controller: Controller, error: Error): void;
}

/** One request as exchange.ts sends it. */
export interface WireRequest {
  path: string;
  method: "GET" | "POST" | "DELETE";
  headers: Record<string, string>;
  /** UTF-8 text (every provider builds its JSON once); null for none. */
  body: string | null;
}

export interface H1PoolOptions {
  /** Most sockets open at once. */
  connections: number;
  /** Idle lifetime of a kept connection when the server gives no Keep-Alive hint. */
  keepAliveTimeout: number;
  /** Cap on the server's hint. */
  keepAliveMaxTimeout: number;
  /** Longest silence while waiting for an answer's head, and inside a body (last-resort guards). */
  headersTimeout: number;
  bodyTimeout: number;
  /** Longest TCP (+TLS) connect. */
  connectTimeout?: number;
  /** TLS options for https origins (tests pass a CA; production uses the system's). */
  tls?: { ca?: string | Buffer };
}

/** A failure of the pool itself, with undici's code so the error mapping reads it the same. */
export class PoolError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.name = "PoolError";
    this.code = code;
  }
}

/** Server's Keep-Alive hint minus this is how long we keep an idle socket (as undici). */
const HINT_MARGIN_MS = 2000;
/** A path must not break the request line. */
const PATH = /^\/[^\s]*$/;
/** How often idle connections past their lifetime are closed (a checkout never takes one anyway). */
const SWEEP_MS = 250;
/** TCP keep-alive probes on every socket after this much silence (NATs drop quiet flows). */
const TCP_KEEPALIVE_MS = 60_000;

/** Request state, and the controller its handler sees. */
class Exchange implements Controller {
  /** 0 waiting for a socket, 1 on a socket, 2 finished (ended, failed or aborted). */
  state = 0;
  conn: Conn | undefined;
  #paused = false;
  #reason: Error | null = null;
  /** The serialized request until it is written (then dropped: a prompt can be megabytes). */
  head: string;

  constructor(
    readonly pool: H1Pool,
    readonly handler: Handler,
    head: string,
  ) {
    this.head = head;
  }

  get aborted(): boolean {
    return this.#reason !== null;
  }

  get paused(): boolean {
    return this.#paused;
  }

  get reason(): Error | null {
    return this.#reason;
  }

  abort(reason: Error): void {
    if (this.state === 2) return;
    this.#reason = reason;
    const conn = this.conn;
    if (conn !== undefined) conn.destroy();
    else this.pool.unqueue(this);
    this.fail(reason);
  }

  pause(): void {
    this.#paused = true;
    this.conn?.pause();
  }

  resume(): void {
    this.#paused = false;
    this.conn?.resume();
  }

  /** Marks the exchange finished; false if it already was. */
  settle(): boolean {
    if (this.state === 2) return false;
    this.state = 2;
    this.conn = undefined;
    this.pool.settled();
    return true;
  }

  /** Ends the exchange with `e` (once). */
  fail(e: Error): void {
    if (this.settle()) this.handler.onResponseError?.(this, e);
  }
}

/** One socket and its parser; carries one exchange at a time. */
class Conn implements ParserSink {
  readonly socket: Socket;
  readonly #pool: H1Pool;
  readonly #parser: ResponseParser;
  #ex: Exchange | undefined;
  /** The answer ended inside the current `execute` (completed once it returns). */
  #ended = false;
  #error: Error | undefined;
  #connectTimer: NodeJS.Timeout | undefined;
  /** The socket's silence timeout as last set (set again only when it changes: each set is a new timer). */
  #armed = -1;
  /** When an idle connection expires (performance.now() ms); checked at checkout and by the pool's sweep. */
  idleUntil = 0;

  constructor(pool: H1Pool, socket: Socket) {
    this.#pool = pool;
    this.socket = socket;
    this.#parser = new ResponseParser(this, maxHeaderSize);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, TCP_KEEPALIVE_MS);
    // A timer of its own: the socket's idle timeout would restart on the TLS hello's write.
    this.#connectTimer = setTimeout(() => {
      this.#error ??= new PoolError("connect timed out", "UND_ERR_CONNECT_TIMEOUT");
      this.socket.destroy();
    }, pool.opts.connectTimeout ?? 10_000);
    socket.once(pool.secure ? "secureConnect" : "connect", () => this.#connectDone());
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("end", () => this.#onEnd());
    socket.on("error", (e: Error) => {
      this.#error ??= e;
    });
    socket.on("timeout", () => this.#onTimeout());
    socket.on("close", () => this.#onClose());
  }

  /** Destroyed, whether or not its 'close' event has run yet. */
  get closed(): boolean {
    return this.socket.destroyed;
  }

  #connectDone(): void {
    clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
  }

  #arm(ms: number): void {
    if (ms === this.#armed) return;
    this.#armed = ms;
    this.socket.setTimeout(ms);
  }

  /** Sends `ex` on this socket. */
  start(ex: Exchange): void {
    this.#ex = ex;
    ex.state = 1;
    ex.conn = this;
    this.#parser.expect(false);
    this.socket.ref();
    this.#arm(ex.paused ? 0 : this.#pool.opts.headersTimeout);
    if (ex.paused) this.socket.pause();
    this.socket.write(ex.head);
    ex.head = "";
  }

  pause(): void {
    this.socket.pause();
    this.#arm(0); // a paused reader is not a silent server
  }

  resume(): void {
    if (this.#ex !== undefined) {
      this.#arm(this.#parser.headRead ? this.#pool.opts.bodyTimeout : this.#pool.opts.headersTimeout);
    }
    this.socket.resume();
  }

  destroy(): void {
    this.socket.destroy();
  }

  head(status: number, headers: IncomingHttpHeaders, reason: string): void {
    const ex = this.#ex;
    if (ex === undefined) return;
    this.#arm(ex.paused ? 0 : this.#pool.opts.bodyTimeout);
    ex.handler.onResponseStart?.(ex, status, headers, reason);
  }

  data(chunk: Buffer): void {
    const ex = this.#ex;
    if (ex !== undefined && ex.state === 1) ex.handler.onResponseData?.(ex, chunk);
  }

  end(): void {
    this.#ended = true;
  }

  #onData(chunk: Buffer): void {
    if (this.#ex === undefined) {
      this.#error = new ParseError("data on an idle connection");
      this.socket.destroy();
      return;
    }
    try {
      this.#parser.execute(chunk);
    } catch (e: unknown) {
      this.#error = e as Error;
    }
    // An answer that ended before bad bytes is still delivered; the connection is not kept.
    if (this.#ended) this.#complete();
    if (this.#error !== undefined) this.socket.destroy();
  }

  #complete(): void {
    this.#ended = false;
    const ex = this.#ex;
    this.#ex = undefined;
    if (ex === undefined || ex.state !== 1) return;
    const hint = this.#parser.keepAliveHint;
    const opts = this.#pool.opts;
    const idle =
      hint === undefined ? opts.keepAliveTimeout : Math.min(hint - HINT_MARGIN_MS, opts.keepAliveMaxTimeout);
    // Kept only if the server may take another request: it said so, nothing failed, and it has
    // all of this one (an early answer to a request still being written ends the connection).
    const keep = this.#parser.keepAlive && idle > 0 && this.#error === undefined;
    if (keep && !this.closed && this.socket.writableLength === 0) {
      // Idle expiry by timestamp (no timer per call); the silence guard stays armed meanwhile.
      this.idleUntil = performance.now() + idle;
      if (this.socket.isPaused()) this.socket.resume();
      // Back in the pool after the next poll phase (as undici): a close or stray bytes the server
      // sent right behind this answer are read before another request goes into the socket. One
      // turn is not enough: a short read ends libuv's reading, the EOF comes in the next poll.
      this.#pool.hold();
      setImmediate(() => setImmediate(() => this.#pool.release(this)));
    } else {
      this.socket.destroy();
    }
    if (ex.settle()) ex.handler.onResponseEnd?.(ex, {});
  }

  #onEnd(): void {
    if (this.#ex !== undefined && this.#parser.busy) {
      try {
        this.#parser.finish();
      } catch (e: unknown) {
        this.#error ??= e as Error;
      }
      if (this.#ended) this.#complete();
    }
    this.socket.destroy();
  }

  #onTimeout(): void {
    if (this.#ex !== undefined) {
      this.#error ??= this.#parser.headRead
        ? new PoolError("upstream body timed out", "UND_ERR_BODY_TIMEOUT")
        : new PoolError("upstream headers timed out", "UND_ERR_HEADERS_TIMEOUT");
    }
    this.socket.destroy(); // idle: its lifetime is over
  }

  #onClose(): void {
    this.#connectDone();
    const ex = this.#ex;
    this.#ex = undefined;
    this.#pool.remove(this);
    ex?.fail(this.#error ?? new PoolError("other side closed", "UND_ERR_SOCKET"));
  }
}

export class H1Pool {
  readonly opts: H1PoolOptions;
  readonly secure: boolean;
  readonly #host: string;
  readonly #port: number;
  /** `host` header value. */
  readonly #authority: string;
  #idle: Conn[] = [];
  #queue: Exchange[] = [];
  #open = 0;
  /** Connections between their answer's end and their return to #idle. */
  #settling = 0;
  #busy = 0;
  #closing: Promise<void> | undefined;
  #drained: (() => void) | undefined;
  /** Closes expired idle connections (idle expiry is a timestamp, not a timer per call). */
  #sweep: NodeJS.Timeout | undefined;
  /** The last TLS session, offered to the next connection (saves a full handshake). */
  #session: Buffer | undefined;

  constructor(origin: string, opts: H1PoolOptions) {
    const url = new URL(origin);
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new PoolError(`unsupported protocol ${url.protocol}`, "UND_ERR_INVALID_ARG");
    }
    this.opts = opts;
    this.secure = url.protocol === "https:";
    this.#host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
    this.#port = url.port === "" ? (this.secure ? 443 : 80) : Number(url.port);
    this.#authority = url.host;
  }

  /** Starts `req`; the handler hears everything (errors included) through its callbacks. */
  dispatch(req: WireRequest, handler: Handler): boolean {
    this.#busy++; // counted out by Exchange.settle, however the exchange ends
    let head = "";
    let refused: Error | undefined;
    try {
      head = this.#serialize(req);
    } catch (e: unknown) {
      refused = e as Error;
    }
    const ex = new Exchange(this, handler, head);
    try {
      handler.onRequestStart?.(ex, {});
    } catch (e: unknown) {
      refused ??= e as Error;
    }
    if (refused === undefined && this.#closing !== undefined) {
      refused = new PoolError("the pool is closed", "UND_ERR_CLOSED");
    }
    if (refused !== undefined) ex.fail(refused);
    if (ex.state === 2) return false; // refused, or aborted at once
    this.#queue.push(ex);
    this.#next();
    return true;
  }

  /** Gracefully closes: queued and running requests finish, then every socket closes. */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closing = new Promise((resolve) => {
      this.#drained = resolve;
    });
    if (this.#busy === 0) this.#settledAll();
    return this.#closing;
  }

  /** A kept connection will be back in a moment (Conn, when its answer ended). */
  hold(): void {
    this.#settling++;
  }

  /** Hands a kept connection back (Conn, two event-loop turns after `hold`). */
  release(conn: Conn): void {
    this.#settling--;
    // A connection closed meanwhile is not kept, but what waited for it needs a socket (#next).
    if (!conn.closed) {
      if (this.#closing !== undefined && this.#queue.length === 0) {
        conn.destroy();
      } else {
        conn.socket.unref();
        this.#idle.push(conn);
        this.#sweep ??= setInterval(() => this.#expire(), SWEEP_MS).unref();
      }
    }
    this.#next();
    if (this.#closing !== undefined && this.#busy === 0) this.#settledAll();
  }

  /** A socket closed (called by Conn). */
  remove(conn: Conn): void {
    this.#open--;
    const i = this.#idle.indexOf(conn);
    if (i >= 0) this.#idle.splice(i, 1);
    queueMicrotask(() => this.#next());
  }

  /** Drops a waiting exchange (aborted before it got a socket). */
  unqueue(ex: Exchange): void {
    const i = this.#queue.indexOf(ex);
    if (i >= 0) this.#queue.splice(i, 1);
  }

  #next(): void {
    while (this.#queue.length > 0) {
      let conn = this.#idle.pop();
      if (conn !== undefined) {
        const now = performance.now();
        while (conn !== undefined && (conn.closed || conn.idleUntil <= now)) {
          conn.destroy(); // expired (or closed): the server may be closing it
          conn = this.#idle.pop();
        }
      }
      if (conn === undefined) {
        // A connection coming back in a moment serves the queue's tail, as undici waits for it.
        if (this.#queue.length <= this.#settling || this.#open >= this.opts.connections) return;
        conn = this.#connect();
      }
      conn.start(this.#queue.shift() as Exchange);
    }
  }

  /** An exchange finished (called by Exchange.settle). */
  settled(): void {
    this.#busy--;
    if (this.#closing !== undefined && this.#busy === 0) this.#settledAll();
  }

  /** Closing and nothing runs: idle sockets go now, returning ones as they come back (release). */
  #settledAll(): void {
    this.#closeIdle();
    if (this.#settling === 0) this.#drained?.();
  }

  #closeIdle(): void {
    for (const c of this.#idle.splice(0)) c.destroy();
  }

  /** Closes idle connections past their lifetime; stops when none is idle. */
  #expire(): void {
    const now = performance.now();
    for (const c of this.#idle.filter((c) => c.idleUntil <= now)) c.destroy();
    if (this.#idle.length === 0 && this.#sweep !== undefined) {
      clearInterval(this.#sweep);
      this.#sweep = undefined;
    }
  }

  #connect(): Conn {
    this.#open++;
    if (!this.secure) return new Conn(this, connect({ host: this.#host, port: this.#port }));
    const socket = tlsConnect({
      host: this.#host,
      port: this.#port,
      ...(isIP(this.#host) === 0 ? { servername: this.#host } : {}), // SNI never names an address
      ALPNProtocols: ["http/1.1"],
      ...(this.#session === undefined ? {} : { session: this.#session }),
      ...(this.opts.tls?.ca === undefined ? {} : { ca: this.opts.tls.ca }),
    });
    socket.on("session", (session: Buffer) => {
      this.#session = session;
    });
    return new Conn(this, socket);
  }

  #serialize(req: WireRequest): string {
    if (!PATH.test(req.path)) throw new PoolError("invalid request path", "UND_ERR_INVALID_ARG");
    let lines = "";
    let host = true;
    for (const name in req.headers) {
      const value = req.headers[name] as string;
      const problem = headerProblem(name, value);
      if (problem !== undefined) throw new PoolError(problem, "UND_ERR_INVALID_ARG");
      if (host && name.length === 4 && name.toLowerCase() === "host") host = false; // an override
      lines += `${name}: ${value}\r\n`;
    }
    const start = `${req.method} ${req.path} HTTP/1.1\r\n`;
    const head = `${host ? `${start}host: ${this.#authority}\r\n` : start}${lines}connection: keep-alive\r\n`;
    const body = req.body;
    if (body === null) return req.method === "GET" ? `${head}\r\n` : `${head}content-length: 0\r\n\r\n`;
    return `${head}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  }
}
