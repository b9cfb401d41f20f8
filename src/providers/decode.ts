// Content-Encoding of upstream answers: gzip / deflate / br decoded with Node's zlib between undici's
// handler and our body, so every limit counts decoded bytes and a slow reader pauses the decoder too.
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import type { Dispatcher } from "undici";
import { UpstreamError } from "../errors.js";

/** What we ask upstreams for (sent on every request: decoding is ours, not the provider's guess). */
export const ACCEPT_ENCODING = "gzip, deflate, br";

type Controller = Dispatcher.DispatchController;
type Zlib = ReturnType<typeof createGunzip>;

const MAKERS: Readonly<Record<string, () => Zlib>> = {
  gzip: createGunzip,
  "x-gzip": createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/** Where decoded bytes go (exchange.ts's UpstreamBody). */
export interface DecodedSink {
  push(chunk: Buffer): void;
  end(): void;
  fail(e: unknown): void;
}

/**
 * A decoder for one answer, and the controller its body must use: pausing it pauses the socket and
 * the decoder's output (so a compressed answer cannot inflate past the reader's backpressure mark),
 * aborting it stops both.
 */
export class Decoder implements Controller {
  readonly #z: Zlib;
  readonly #c: Controller;
  #sink: DecodedSink | undefined;
  /** The undici side asked to pause because zlib's input is full (as opposed to the reader). */
  #inputFull = false;
  #paused = false;
  #done = false;

  constructor(z: Zlib, c: Controller, coding: string, provider: string) {
    this.#z = z;
    this.#c = c;
    z.on("data", (b: Buffer) => this.#sink?.push(b));
    z.on("end", () => {
      this.#done = true;
      this.#sink?.end();
    });
    z.on("error", (e: Error) => {
      if (this.#done) return;
      this.#done = true;
      const msg = `upstream answer is not valid ${coding} (${(e as { code?: string }).code ?? e.message})`;
      this.#sink?.fail(new UpstreamError("protocol", msg, provider, { cause: e }));
      this.#c.abort(e);
    });
    z.on("drain", () => {
      this.#inputFull = false;
      if (!this.#paused) this.#c.resume();
    });
  }

  /** Connects the body that receives decoded bytes (it is built with this decoder as controller). */
  attach(sink: DecodedSink): void {
    this.#sink = sink;
  }

  get aborted(): boolean {
    return this.#c.aborted;
  }

  get paused(): boolean {
    return this.#paused;
  }

  get reason(): Error | null {
    return this.#c.reason;
  }

  abort(reason: Error): void {
    this.destroy();
    this.#c.abort(reason);
  }

  pause(): void {
    this.#paused = true;
    this.#z.pause();
    this.#c.pause();
  }

  resume(): void {
    this.#paused = false;
    this.#z.resume();
    if (!this.#inputFull) this.#c.resume();
  }

  /** A compressed chunk from the socket. */
  write(chunk: Buffer): void {
    if (this.#done) return;
    if (!this.#z.write(chunk)) {
      this.#inputFull = true;
      this.#c.pause();
    }
  }

  /** The compressed answer is complete: flush; the body ends when the decoder does. */
  end(): void {
    if (!this.#done) this.#z.end();
  }

  /** Stops decoding (the exchange failed or was aborted). */
  destroy(): void {
    this.#done = true;
    this.#z.destroy();
  }
}

/**
 * The decoder for a `content-encoding` value: undefined for none / identity, null for one we do not
 * speak (a chain of several is refused too: we never ask for it).
 */
export function decoderFor(
  coding: string | string[],
  c: Controller,
  provider: string,
): Decoder | null | undefined {
  const value = (Array.isArray(coding) ? coding.join(",") : coding).trim().toLowerCase();
  if (value === "" || value === "identity") return undefined;
  const make = MAKERS[value];
  return make === undefined ? null : new Decoder(make(), c, value, provider);
}
