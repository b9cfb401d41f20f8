// One upstream request/answer through a dispatch-handler interface (h1-pool.ts; undici's has the
// same shape), with a body of our own instead of a Node Readable (an AsyncResource, a stream, an
// async iterator over it and an abort listener per call, as undici's `request()` builds). A unary
// answer is collected in a few array pushes and read with one promise; a streamed one is iterated
// chunk by chunk with backpressure (the socket pauses while a slow reader has HIGH_WATER bytes
// queued). Measured in bench/ (README, performance).

import type { IncomingHttpHeaders } from "node:http";
import { UpstreamError } from "../errors.js";
import type { Signal } from "../lib/cancel.js";
import type { Controller, Handler, WireRequest } from "./h1-pool.js";

/** What carries a request: our HTTP/1.1 pool (h1-pool.ts); an undici Pool fits too. */
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
  readonly #owner: { detach(): void };

  constructor(controller: Controller, owner: { detach(): void }) {
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
    this.#queue = [];
    this.#wake?.();
  }

  /**
   * The whole body as UTF-8 once it has arrived. More than `limit` bytes fails with
   * UpstreamError("protocol") and aborts the exchange; a network failure rejects with its error.
   */
  text(limit: number, provider: string): Promise<string> {
    this.#limit = limit;
    this.#limitError = () => new UpstreamError("protocol", `upstream body exceeds ${limit} bytes`, provider);
    this.#whole = true;
    this.#unpause();
    if (this.#state === 0 && this.#total > limit) {
      this.#fail(this.#limitError());
      this.#controller.abort(RELEASED);
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
    this.#queue = [];
    return Promise.resolve(
      q.length === 1 ? (q[0] as Buffer).toString("utf8") : Buffer.concat(q).toString("utf8"),
    );
  }

  /**
   * Throws the body away: nothing to do once it has ended (the connection is already back in
   * the pool); else the rest is let in and dropped for up to DRAIN_MS / DRAIN_BYTES, so a body
   * about to end keeps its connection, and past that the exchange is aborted (the connection
   * closes, the upstream sees the request cancelled).
   */
  discard(): void {
    if (this.#state !== 0) return;
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
  readonly onAbort = (): void => this.controller?.abort(reasonOf(this.signal));

  constructor(
    readonly signal: Signal,
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
    this.controller = c;
    if (this.signal.aborted) c.abort(reasonOf(this.signal));
  }

  onResponseStart(c: Controller, status: number, headers: IncomingHttpHeaders): void {
    if (status < 200) return; // 1xx: informational, the real head follows
    const body = new UpstreamBody(c, this);
    this.body = body;
    this.resolve({ status, headers, body });
  }

  onResponseData(_c: Controller, chunk: Buffer): void {
    this.body?.push(chunk);
  }

  onResponseEnd(): void {
    this.detach();
    this.body?.end();
  }

  onResponseError(_c: Controller, e: Error): void {
    this.detach();
    if (this.body === undefined) this.reject(e);
    else this.body.fail(e);
  }
}

/**
 * Sends one request through `dispatcher`. Resolves at the answer's head; rejects with the raw
 * failure (the caller maps it) when no answer came. Aborting `signal` aborts the exchange with
 * the signal's reason, before or after the head.
 */
export function exchange(dispatcher: Wire, opts: WireRequest, signal: Signal): Promise<Answer> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    dispatcher.dispatch(opts, new Pending(signal, resolve, reject));
  });
}
