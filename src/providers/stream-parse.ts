// Parsing of upstream streams — server-sent events and NDJSON — linear in the bytes received (each
// byte scanned once, a line spanning chunks joined once), with one event capped and its bytes held on the budget.
import { UpstreamError } from "../errors.js";
import { bodyLimits, overloaded, releaseBuffer, reserveBuffer } from "./body-budget.js";

/** One server-sent event. `event` is "message" unless the server named it. */
export interface SSEEvent {
  event: string;
  data: string;
  id?: string;
}

/** What the parsers take beside the body. */
export interface ParseOptions {
  /** Provider name for errors. */
  provider?: string;
  /** Cap on one event (SSE) or line (NDJSON); server.max_event_bytes unless given. */
  maxEventBytes?: number;
}

const LF = 10;
const CR = 13;

function tooLarge(provider: string, max: number): UpstreamError {
  return new UpstreamError(
    "protocol",
    `upstream sent an event of more than ${max} bytes (server.max_event_bytes)`,
    provider,
  );
}

/**
 * Splits decoded chunks into lines. Only the new chunk is scanned; a line that began in an earlier
 * chunk is kept as pieces and joined once when its end arrives (never re-scanned, never
 * re-concatenated per chunk, as `buf += chunk; buf.indexOf(...)` would: quadratic in the line).
 */
class LineSplitter {
  readonly #decoder = new TextDecoder();
  #pieces: string[] = [];
  #pending = 0;
  /** The previous chunk ended with CR: a leading LF belongs to it (CRLF split across chunks). */
  #skipLF = false;

  /** `cr`: a lone CR ends a line too (event streams); else only LF does (NDJSON). */
  constructor(private readonly cr: boolean) {}

  /** Characters of the incomplete line held from earlier chunks. */
  get pending(): number {
    return this.#pending;
  }

  /** Appends the complete lines of `chunk` to `out`; keeps its incomplete tail. */
  split(chunk: Uint8Array | string, out: string[]): void {
    const s = typeof chunk === "string" ? chunk : this.#decoder.decode(chunk, { stream: true });
    const n = s.length;
    if (n === 0) return;
    let start = 0;
    if (this.#skipLF) {
      this.#skipLF = false;
      if (s.charCodeAt(0) === LF) start = 1;
    }
    let lf = s.indexOf("\n", start);
    let cr = this.cr ? s.indexOf("\r", start) : -1;
    while (lf >= 0 || cr >= 0) {
      const end = lf < 0 ? cr : cr < 0 ? lf : Math.min(lf, cr);
      out.push(this.#line(s, start, end));
      start = end + 1;
      if (end === cr) {
        if (start === n) this.#skipLF = true;
        else if (s.charCodeAt(start) === LF) start++;
      }
      // Each position is found once: a search runs again only once the scan has passed its hit.
      if (lf >= 0 && lf < start) lf = s.indexOf("\n", start);
      if (cr >= 0 && cr < start) cr = s.indexOf("\r", start);
    }
    if (start < n) {
      this.#pieces.push(start === 0 ? s : s.slice(start));
      this.#pending += n - start;
    }
  }

  /** The incomplete last line, when the body ended without a line end. */
  rest(): string {
    return this.#line(this.#decoder.decode(), 0, -1);
  }

  #line(s: string, start: number, end: number): string {
    const part = end < 0 ? s : s.slice(start, end);
    if (this.#pending === 0) return part;
    this.#pieces.push(part);
    const all = this.#pieces.join("");
    this.#pieces = [];
    this.#pending = 0;
    return all;
  }
}

/** The bytes a parser holds across chunks, taken from the process-wide budget and given back. */
class Hold {
  #held = 0;
  constructor(private readonly provider: string) {}

  /** Holds exactly `n` bytes; more than the budget allows is GATEWAY_OVERLOADED. */
  set(n: number): void {
    if (n > this.#held && !reserveBuffer(n - this.#held)) throw overloaded(this.provider);
    if (n < this.#held) releaseBuffer(this.#held - n);
    this.#held = n;
  }
}

/**
 * Parses a text/event-stream body per the WHATWG rules: LF, CR or CRLF line ends (also split
 * across chunks), `:` comments, multi-line `data`, `event` names. An event left incomplete when
 * the body ends is dropped (the caller sees an interrupted stream, not a truncated event). An event
 * over the cap is UpstreamError("protocol"), as soon as its size is known.
 */
export async function* parseSSE(
  body: AsyncIterable<Uint8Array | string>,
  opts: ParseOptions = {},
): AsyncGenerator<SSEEvent> {
  const provider = opts.provider ?? "upstream";
  const max = opts.maxEventBytes ?? bodyLimits().maxEventBytes;
  const splitter = new LineSplitter(true);
  const hold = new Hold(provider);
  const lines: string[] = [];
  let data: string | undefined;
  let size = 0; // characters of `data` so far
  let event = "";
  let id: string | undefined;
  try {
    for await (const chunk of body) {
      splitter.split(chunk, lines);
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i] as string;
        if (line === "") {
          if (data !== undefined) {
            yield id === undefined
              ? { event: event || "message", data }
              : { event: event || "message", data, id };
          }
          data = undefined;
          size = 0;
          event = "";
          continue;
        }
        if (line.charCodeAt(0) === 58) continue; // ":" comment
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? "" : line.slice(colon + 1);
        if (value.charCodeAt(0) === 32) value = value.slice(1);
        if (field === "data") {
          size += value.length + 1;
          if (size > max) throw tooLarge(provider, max);
          data = data === undefined ? value : `${data}\n${value}`;
        } else if (field === "event") event = value;
        else if (field === "id") id = value;
      }
      lines.length = 0;
      const held = splitter.pending + size;
      if (held > max) throw tooLarge(provider, max);
      hold.set(held);
    }
  } finally {
    hold.set(0);
  }
}

/** Splits a body into non-empty lines (LF or CRLF), for NDJSON and other line protocols. */
export async function* parseLines(
  body: AsyncIterable<Uint8Array | string>,
  opts: ParseOptions = {},
): AsyncGenerator<string> {
  const provider = opts.provider ?? "upstream";
  const max = opts.maxEventBytes ?? bodyLimits().maxEventBytes;
  const splitter = new LineSplitter(false);
  const hold = new Hold(provider);
  const lines: string[] = [];
  try {
    for await (const chunk of body) {
      splitter.split(chunk, lines);
      for (let i = 0; i < lines.length; i++) {
        let line = lines[i] as string;
        if (line.length > max) throw tooLarge(provider, max);
        if (line.charCodeAt(line.length - 1) === CR) line = line.slice(0, -1);
        if (line !== "") yield line;
      }
      lines.length = 0;
      if (splitter.pending > max) throw tooLarge(provider, max);
      hold.set(splitter.pending);
    }
    const last = splitter.rest().trim();
    if (last !== "") yield last;
  } finally {
    hold.set(0);
  }
}

/** NDJSON: one JSON value per line; a line that is not JSON is an UpstreamError("protocol"). */
export async function* parseNDJSON(
  body: AsyncIterable<Uint8Array | string>,
  opts: ParseOptions = {},
): AsyncGenerator<unknown> {
  for await (const line of parseLines(body, opts)) {
    if (line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e: unknown) {
      throw new UpstreamError(
        "protocol",
        "upstream sent a line that is not JSON",
        opts.provider ?? "upstream",
        {
          cause: e,
        },
      );
    }
    yield value;
  }
}
