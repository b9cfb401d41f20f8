// An HTTP/1.1 response parser for the upstream client (h1-pool.ts): bytes in, head / data / end
// out. Pure (no sockets), fed whatever chunks the socket gives, so it is tested byte by byte with
// recorded answers. Strict where a lenient reading could desynchronise a kept-alive connection:
// CRLF line ends, no folded header lines, one Content-Length, chunk sizes in hex; a
// Transfer-Encoding other than chunked, or neither framing header, means "until the connection
// closes" (RFC 9112 §6.3). Answers are never pipelined, so bytes after an answer are an error.

import type { IncomingHttpHeaders } from "node:http";

/** What the parser reports; `head` is called once per answer (1xx heads are skipped). */
export interface ParserSink {
  head(status: number, headers: IncomingHttpHeaders, reason: string): void;
  data(chunk: Buffer): void;
  end(): void;
}

/** A malformed answer; `code` matches undici's (UND_ERR_*), which the error mapping knows. */
export class ParseError extends Error {
  readonly code: string;
  constructor(message: string, code = "HPE_INVALID") {
    super(message);
    this.name = "ParseError";
    this.code = code;
  }
}

enum State {
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  UntilClose,
  Done,
}

const CRLF = Buffer.from("\r\n");
const HEAD_END = Buffer.from("\r\n\r\n");
/** A chunk-size line (hex digits, extensions) longer than this is refused. */
const MAX_CHUNK_LINE = 4096;
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: ([^\r\n]*))?$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEX = /^[0-9A-Fa-f]{1,13}$/;

export class ResponseParser {
  #state = State.Done;
  #sink: ParserSink;
  #maxHead: number;
  /** Unconsumed bytes of a head, chunk-size line or trailer section. */
  #pending: Buffer | undefined;
  /** Bytes of the head / chunk line already searched for their terminator (no re-scan). */
  #scanned = 0;
  #remaining = 0;
  #noBody = false;
  /** Known once the head is read: the connection may carry another request after this answer. */
  keepAlive = false;
  /** The server's Keep-Alive `timeout=` hint in ms, if it gave one. */
  keepAliveHint: number | undefined;

  constructor(sink: ParserSink, maxHeadBytes: number) {
    this.#sink = sink;
    this.#maxHead = maxHeadBytes;
  }

  /** Expects the answer to a new request (`head`: its method was HEAD, so no body follows). */
  expect(noBody: boolean): void {
    this.#state = State.Head;
    this.#pending = undefined;
    this.#scanned = 0;
    this.#noBody = noBody;
    this.keepAlive = false;
    this.keepAliveHint = undefined;
  }

  /** True between `expect` and the answer's end. */
  get busy(): boolean {
    return this.#state !== State.Done;
  }

  /** True once the head of the current answer was read. */
  get headRead(): boolean {
    return this.#state !== State.Head && this.#state !== State.Done;
  }

  /** Feeds bytes from the socket; throws ParseError on a malformed answer or bytes after it. */
  execute(chunk: Buffer): void {
    let buf = chunk;
    while (buf.length > 0) {
      switch (this.#state) {
        case State.Done:
          throw new ParseError("data after the end of the answer");
        case State.Head:
        case State.ChunkSize:
        case State.Trailers: {
          const line = this.#line(buf);
          if (line === undefined) return;
          buf = line.rest;
          this.#onLine(line.text);
          break;
        }
        case State.UntilClose:
          this.#sink.data(buf);
          return;
        case State.Length:
        case State.ChunkData: {
          if (buf.length >= this.#remaining) {
            const part = buf.subarray(0, this.#remaining);
            buf = buf.subarray(this.#remaining);
            this.#remaining = 0;
            if (part.length > 0) this.#sink.data(part);
            if (this.#state === State.Length) this.#finish();
            else this.#state = State.ChunkDataEnd;
            break;
          }
          this.#remaining -= buf.length;
          this.#sink.data(buf);
          return;
        }
        case State.ChunkDataEnd: {
          // The CRLF after a chunk's data, possibly split across reads.
          const have = this.#pending === undefined ? buf : Buffer.concat([this.#pending, buf]);
          if (have.length < 2) {
            this.#pending = have;
            return;
          }
          this.#pending = undefined;
          if (have[0] !== 13 || have[1] !== 10) throw new ParseError("missing CRLF after a chunk");
          buf = have.subarray(2);
          this.#state = State.ChunkSize;
          break;
        }
      }
    }
  }

  /** The connection ended: completes an answer delimited by the close, else throws. */
  finish(): void {
    if (this.#state === State.UntilClose) {
      this.#finish();
      return;
    }
    if (this.#state !== State.Done) throw new ParseError("other side closed", "UND_ERR_SOCKET");
  }

  /**
   * Takes one terminated unit from `buf` (plus pending bytes): a whole head in State.Head (up to
   * the blank line), else one CRLF-terminated line. Undefined while it is incomplete.
   */
  #line(buf: Buffer): { text: string; rest: Buffer } | undefined {
    const head = this.#state === State.Head;
    const sep = head ? HEAD_END : CRLF;
    const limit = head || this.#state === State.Trailers ? this.#maxHead : MAX_CHUNK_LINE;
    const have = this.#pending === undefined ? buf : Buffer.concat([this.#pending, buf]);
    const at = have.indexOf(sep, Math.max(0, this.#scanned - sep.length + 1));
    if (at < 0) {
      // Up to sep.length - 1 bytes of a split terminator may already be here: not counted.
      if (have.length - sep.length + 1 > limit) {
        throw new ParseError("answer head too large", "UND_ERR_HEADERS_OVERFLOW");
      }
      this.#pending = have;
      this.#scanned = have.length;
      return undefined;
    }
    if (at > limit) throw new ParseError("answer head too large", "UND_ERR_HEADERS_OVERFLOW");
    this.#pending = undefined;
    this.#scanned = 0;
    return { text: have.toString("latin1", 0, at), rest: have.subarray(at + sep.length) };
  }

  #onLine(text: string): void {
    if (this.#state === State.Head) this.#onHead(text);
    else if (this.#state === State.ChunkSize) this.#onChunkSize(text);
    else if (text === "") this.#finish(); // the blank line ending the trailers
  }

  #onHead(text: string): void {
    const lines = text.split("\r\n");
    const m = STATUS_LINE.exec(lines[0] ?? "");
    if (m === null) throw new ParseError("malformed status line");
    const minor = m[1];
    const status = Number(m[2]);
    if (status < 100) throw new ParseError("malformed status code");
    const headers: IncomingHttpHeaders = Object.create(null) as IncomingHttpHeaders;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] as string;
      const colon = line.indexOf(":");
      const name = colon > 0 ? line.slice(0, colon).toLowerCase() : "";
      if (!TOKEN.test(name)) throw new ParseError("malformed header line");
      const value = line.slice(colon + 1).trim();
      if (value.includes("\n") || value.includes("\r")) throw new ParseError("malformed header value");
      const prev = headers[name];
      if (prev === undefined) headers[name] = value;
      else if (Array.isArray(prev)) prev.push(value);
      else headers[name] = [prev, value];
    }
    if (status < 200) {
      // Informational (100 Continue, 103 Early Hints): the real head follows.
      if (status === 101) throw new ParseError("unexpected protocol switch");
      return;
    }
    const connection = listOf(headers["connection"]);
    this.keepAlive = minor === "1" ? !connection.includes("close") : connection.includes("keep-alive");
    this.keepAliveHint = hintOf(headers["keep-alive"]);
    const te = listOf(headers["transfer-encoding"]);
    const length = headers["content-length"];
    if (this.#noBody || status === 204 || status === 304) {
      this.#state = State.Done;
    } else if (te.length > 0) {
      // Chunked must be the last coding to frame the body; anything else runs until the close.
      if (te[te.length - 1] === "chunked") this.#state = State.ChunkSize;
      else this.#untilClose();
      if (length !== undefined) this.keepAlive = false; // both framings: never reuse (RFC 9112 §6.3)
    } else if (length !== undefined) {
      this.#remaining = lengthOf(length);
      this.#state = this.#remaining === 0 ? State.Done : State.Length;
    } else {
      this.#untilClose();
    }
    this.#sink.head(status, headers, m[3] ?? "");
    if (this.#state === State.Done) this.#sink.end();
  }

  #untilClose(): void {
    this.keepAlive = false;
    this.#state = State.UntilClose;
  }

  #onChunkSize(text: string): void {
    const semi = text.indexOf(";");
    const hex = (semi < 0 ? text : text.slice(0, semi)).trim();
    if (!HEX.test(hex)) throw new ParseError("malformed chunk size");
    const size = Number.parseInt(hex, 16);
    if (size === 0) {
      this.#state = State.Trailers;
      return;
    }
    this.#remaining = size;
    this.#state = State.ChunkData;
  }

  #finish(): void {
    this.#state = State.Done;
    this.#sink.end();
  }
}

/** A comma-separated header as lower-case items (all occurrences). */
function listOf(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  const all = Array.isArray(v) ? v.join(",") : v;
  return all
    .toLowerCase()
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** One Content-Length: repeats must agree (RFC 9112 §6.3), digits only. */
function lengthOf(v: string | string[]): number {
  const all = Array.isArray(v) ? v.join(",").split(",") : v.split(",");
  const first = (all[0] ?? "").trim();
  if (!/^\d{1,15}$/.test(first) || all.some((x) => x.trim() !== first)) {
    throw new ParseError("invalid Content-Length");
  }
  return Number(first);
}

/** `Keep-Alive: timeout=5, max=100` -> 5000. */
function hintOf(v: string | string[] | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = /(?:^|[,\s])timeout=(\d+)/i.exec(Array.isArray(v) ? v.join(",") : v);
  return m === null ? undefined : Number(m[1]) * 1000;
}
