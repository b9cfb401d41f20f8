// One upstream request/answer through undici's dispatch-handler interface (a Pool, Agent or ProxyAgent
// carries it: upstream.ts), with a body of our own instead of a Node Readable (an AsyncResource, a
// stream, an async iterator over it and an abort listener per call, as undici's `request()` builds).
// A unary answer is collected in a few array pushes and read with one promise; a streamed one is
// iterated chunk by chunk with backpressure (the socket pauses while a slow reader has HIGH_WATER
// bytes queued). gzip / deflate / br answers are decoded here (decode.ts), before any limit counts.

import type { IncomingHttpHeaders } from "node:http";
import type { Dispatcher } from "undici";
import { UpstreamError } from "../errors.js";
import type { Signal } from "../lib/cancel.js";
import { overloaded, releaseBuffer, reserveBuffer } from "./body-budget.js";
import { type Decoder, decoderFor } from "./decode.js";

/** A request's controls, as its handler sees them. */
export type Controller = Dispatcher.DispatchController;
/** What hears one exchange. */
export type Handler = Dispatcher.DispatchHandler;

/** One request as exchange.ts sends it (an undici dispatch: origin, path, method, headers, body). */
export interface WireRequest {
  origin: string;
  path: string;
  method: "GET" | "POST" | "DELETE";
  headers: Record<string, string>;
  /** UTF-8 text (every provider builds its JSON once); null for none. */
  body: string | null;
}

/** What carries a request: an undici dispatcher (upstream.ts). */
export interface Wire {
  dispatch(req: WireRequest, handler: Handler): boolean;
  close(): Promise<void>;
}

/** Bytes a reader may leave queued before the upstream socket is paused. */
const HIGH_WATER = 64 * 1024;

/**
 * The abort reason of a body thrown away before its end. Preallocated: it is never shown to
 * anyone, and an Error built per call would capture a stack trace for nothing.
 */
const RELEASED = new Error("upstream body released");

/**
 * A body thrown away before its end is first given this long and this many more bytes to finish
 * (a stream's last bytes, e.g. the chunked terminator behind `data: [DONE]`, often come a moment
 * later): if it ends, the connection is kept; if not, the exchange is aborted.
 */
const DRAIN_MS = 200;
const DRAIN_BYTES = 16 * 1024;

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * An upstream answer's body: async-iterable chunks (for event-stream and NDJSON parsers), or the
 * whole text (`text`). It must be read to its end or `discard`ed, or the connection is held.
 */
export class UpstreamBody implements AsyncIterable<Buffer> {
  #queue: Buffer[] = [];
  #queued = 0;
  /** Bytes taken from the process-wide budget (body-budget.ts) for what is queued; given back as it goes. */
  #held = 0;
  /** Provider name for errors: from the owner, else from `text`. */
  #provider = "upstream";
  #total = 0;
  /** 0 open, 1 ended (last byte arrived), 2 failed or discarded. */
  #state = 0;
  #error: unknown;
  #limit = Number.POSITIVE_INFINITY;
  #limitError: (() => unknown) | undefined;
  #wake: (() => void) | undefined;
  #paused = false;
  /** Read whole (`text`): no backpressure, the byte limit bounds what is held. */
  #whole = false;
  /** Discarded before its end and waiting for the rest (bytes still allowed, or undefined). */
  #drain: { left: number; timer: NodeJS.Timeout } | undefined;
  readonly #controller: Controller;
  /** Stops the caller's signal from aborting the exchange (the body is on its own bounds then). */
  readonly #owner: { detach(): void; readonly provider?: string };

  constructor(controller: Controller, owner: { detach(): void; readonly provider?: string }) {
    this.#controller = controller;
    this.#owner = owner;
  }

  /** True once the last byte has arrived (whether or not it was read). */
  get ended(): boolean {
    return this.#state === 1;
  }

  /** Handler side: a chunk arrived. */
  push(chunk: Buffer): void {
    if (this.#state !== 0) {
      const d = this.#drain;
      if (d === undefined) return;
      d.left -= chunk.length;
      if (d.left < 0) this.#abortDrain();
      return;
    }
    this.#total += chunk.length;
    if (this.#total > this.#limit) {
      this.#fail(this.#limitError?.());
      this.#controller.abort(RELEASED);
      return;
    }
    if (!reserveBuffer(chunk.length)) {
      this.#fail(overloaded(this.#owner.provider ?? this.#provider));
      this.#controller.abort(RELEASED);
      return;
    }
    this.#held += chunk.length;
    this.#queue.push(chunk);
    this.#queued += chunk.length;
    if (this.#queued > HIGH_WATER && !this.#paused && !this.#whole) {
      this.#paused = true;
      this.#controller.pause();
    }
    this.#wake?.();
  }

  /** Handler side: the answer is complete. */
  end(): void {
    this.#stopDrain();
    if (this.#state !== 0) return;
    this.#state = 1;
    this.#wake?.();
  }

  /** Handler side: the exchange failed (network, abort). */
  fail(e: unknown): void {
    this.#stopDrain();
    this.#fail(e);
  }

  /** Lets a paused socket flow again. */
  #unpause(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#controller.resume();
  }

  #fail(e: unknown): void {
    if (this.#state !== 0) return;
    this.#state = 2;
    this.#error = e;
    this.#drop();
    this.#wake?.();
  }

  /** Forgets what is queued and gives its bytes back to the budget (exactly once: #held goes to 0). */
  #drop(): void {
    this.#queue = [];
    this.#queued = 0;
    releaseBuffer(this.#held);
    this.#held = 0;
  }

  /**
   * The whole body as UTF-8 once it has arrived. More than `limit` bytes fails with
   * UpstreamError("protocol") naming `setting` and aborts the exchange; a network failure rejects
   * with its error; the process-wide budget running out rejects with GATEWAY_OVERLOADED.
   */
  text(limit: number, provider: string, setting?: string): Promise<string> {
    this.#limit = limit;
    this.#provider = provider;
    const why = `upstream answer exceeds ${limit} bytes${setting === undefined ? "" : ` (${setting})`}`;
    this.#limitError = () => new UpstreamError("protocol", why, provider);
    this.#whole = true;
    this.#unpause();
    if (this.#state === 0 && this.#total > limit) {
      this.#fail(this.#limitError());
      this.#controller.abort(RELEASED);
    } else if (this.#state === 1 && this.#total > limit) {
      this.#drop();
      return Promise.reject(this.#limitError());
    }
    if (this.#state !== 0) return this.#settled();
    return new Promise<void>((resolve) => {
      this.#wake = () => {
        if (this.#state !== 0) resolve();
      };
    }).then(() => this.#settled());
  }

  #settled(): Promise<string> {
    this.#wake = undefined;
    if (this.#state === 2) return Promise.reject(this.#error);
    const q = this.#queue;
    const text = q.length === 1 ? (q[0] as Buffer).toString("utf8") : Buffer.concat(q).toString("utf8");
    this.#drop();
    return Promise.resolve(text);
  }

  /**
   * Throws the body away: nothing to do once it has ended (the connection is already back in
   * the pool); else the rest is let in and dropped for up to DRAIN_MS / DRAIN_BYTES, so a body
   * about to end keeps its connection, and past that the exchange is aborted (the connection
   * closes, the upstream sees the request cancelled).
   */
  discard(): void {
    if (this.#state !== 0) {
      this.#drop(); // an ended stream's unread chunks
      return;
    }
    this.#owner.detach(); // the owner is done with it: ending the call must not cut the drain short
    this.#fail(RELEASED);
    this.#unpause();
    const timer = setTimeout(() => this.#abortDrain(), DRAIN_MS);
    timer.unref();
    this.#drain = { left: DRAIN_BYTES, timer };
  }

  #abortDrain(): void {
    if (this.#stopDrain()) this.#controller.abort(RELEASED);
  }

  /** Ends a drain in progress; true if there was one. */
  #stopDrain(): boolean {
    const d = this.#drain;
    if (d === undefined) return false;
    clearTimeout(d.timer);
    this.#drain = undefined;
    return true;
  }

  #next(): Promise<IteratorResult<Buffer>> {
    const chunk = this.#queue.shift();
    if (chunk !== undefined) {
      this.#queued -= chunk.length;
      releaseBuffer(chunk.length);
      this.#held -= chunk.length;
      if (this.#queued <= HIGH_WATER / 2) this.#unpause();
      return Promise.resolve({ done: false, value: chunk });
    }
    if (this.#state === 1) return Promise.resolve(DONE);
    if (this.#state === 2) return Promise.reject(this.#error);
    return new Promise<void>((resolve) => {
      this.#wake = resolve;
    }).then(() => {
      this.#wake = undefined;
      return this.#next();
    });
  }

  /** Leaving a loop early does not discard the body: its owner decides (`discard`). */
  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return {
      next: () => this.#next(),
      return: () => Promise.resolve(DONE),
    };
  }
}

/** The abort reason handed to the pool (the caller maps failures back to the signal's own reason). */
function reasonOf(signal: Signal): Error {
  return signal.reason instanceof Error ? signal.reason : RELEASED;
}

/** An answer's head, with its body still arriving. */
export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: UpstreamBody;
}

/** One exchange's handler: a class, so a call allocates one object and one closure, not six. */
class Pending implements Handler {
  controller: Controller | undefined;
  body: UpstreamBody | undefined;
  /** Set when the answer is compressed: chunks go through it into the body. */
  decoder: Decoder | undefined;
  /**
   * The caller's abort: the exchange ends with the signal's reason. Still waiting for a connection
   * (no controller yet: undici hands one over when the request reaches a socket), the caller is let
   * go at once and the request is refused when its turn comes (onRequestStart).
   */
  readonly onAbort = (): void => {
    const c = this.controller;
    if (c !== undefined) c.abort(reasonOf(this.signal));
    else this.reject(this.signal.reason);
  };

  constructor(
    readonly signal: Signal,
    readonly provider: string,
    readonly resolve: (a: Answer) => void,
    readonly reject: (e: unknown) => void,
  ) {
    signal.addEventListener("abort", this.onAbort);
  }

  /** Stops listening to the caller's signal (the exchange ended, or its body was discarded). */
  detach(): void {
    this.signal.removeEventListener("abort", this.onAbort);
  }

  onRequestStart(c: Controller): void {
    // Thrown, not c.abort(): undici then drops the request without destroying the socket it got.
    if (this.signal.aborted) throw reasonOf(this.signal);
    this.controller = c;
  }

  onResponseStart(c: Controller, status: number, headers: IncomingHttpHeaders): void {
    if (status < 200) return; // 1xx: informational, the real head follows
    const coding = headers["content-encoding"];
    if (coding === undefined || status === 204 || status === 304) {
      const body = new UpstreamBody(c, this);
      this.body = body;
      this.resolve({ status, headers, body });
      return;
    }
    const d = decoderFor(coding, c, this.provider);
    if (d === null) {
      // Not one we asked for: refused rather than handed on as bytes nobody can read.
      const what = Array.isArray(coding) ? coding.join(", ") : coding;
      c.abort(
        new UpstreamError("protocol", `upstream answered in content-encoding "${what}"`, this.provider),
      );
      return;
    }
    const body = new UpstreamBody(d ?? c, this);
    this.body = body;
    if (d === undefined) {
      this.resolve({ status, headers, body });
      return;
    }
    d.attach(body);
    this.decoder = d;
    // The body is handed on decoded: its encoding and length no longer describe it.
    const { "content-encoding": _, "content-length": __, ...plain } = headers;
    this.resolve({ status, headers: plain, body });
  }

  onResponseData(_c: Controller, chunk: Buffer): void {
    const d = this.decoder;
    if (d === undefined) this.body?.push(chunk);
    else d.write(chunk);
  }

  onResponseEnd(): void {
    this.detach();
    const d = this.decoder;
    if (d === undefined) this.body?.end();
    else d.end();
  }

  onResponseError(_c: Controller, e: Error): void {
    this.detach();
    this.decoder?.destroy();
    if (this.body === undefined) this.reject(e);
    else this.body.fail(e);
  }
}

/**
 * Sends one request through `dispatcher`. Resolves at the answer's head; rejects with the raw
 * failure (the caller maps it) when no answer came. Aborting `signal` aborts the exchange with
 * the signal's reason, before or after the head, and while it waits for a connection.
 */
export function exchange(
  dispatcher: Wire,
  opts: WireRequest,
  signal: Signal,
  provider: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    dispatcher.dispatch(opts, new Pending(signal, provider, resolve, reject));
  });
}
