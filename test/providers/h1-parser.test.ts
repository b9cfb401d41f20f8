// The HTTP/1.1 response parser (providers/h1-parser.ts) fed recorded answers cut at every byte
// boundary and one byte at a time: the same head, body, end and keep-alive verdict whatever the
// cuts (Content-Length, chunked, close-delimited, no-body and 1xx answers), header normalisation,
// every malformed input refused with a ParseError, and one parser reused across answers.
import type { IncomingHttpHeaders } from "node:http";
import { describe, expect, it } from "vitest";
import { ParseError, type ParserSink, ResponseParser } from "../../src/providers/h1-parser.js";

const LIMIT = 16 * 1024;

interface Options {
  /** The request was a HEAD (`expect(true)`). */
  noBody?: boolean;
  /** The limit given to the constructor. */
  maxHead?: number;
  /** Call finish() (socket EOF) after the last chunk. */
  close?: boolean;
}

/** Everything a parser reported for one answer. */
interface Result {
  status: number | undefined;
  reason: string | undefined;
  headers: IncomingHttpHeaders | undefined;
  body: Buffer;
  heads: number;
  ends: number;
  keepAlive: boolean;
  keepAliveHint: number | undefined;
}

/** A sink that records events and checks their order (head, data..., end; nothing after end). */
function recorder() {
  const r: Result = {
    status: undefined,
    reason: undefined,
    headers: undefined,
    body: Buffer.alloc(0),
    heads: 0,
    ends: 0,
    keepAlive: false,
    keepAliveHint: undefined,
  };
  const parts: Buffer[] = [];
  const sink: ParserSink = {
    head(status, headers, reason) {
      expect(r.ends).toBe(0);
      r.heads++;
      r.status = status;
      r.headers = headers;
      r.reason = reason;
    },
    data(chunk) {
      expect(r.heads).toBe(1);
      expect(r.ends).toBe(0);
      expect(chunk.length).toBeGreaterThan(0);
      parts.push(Buffer.from(chunk)); // a copy: the parser may hand out views of its input
    },
    end() {
      expect(r.heads).toBe(1);
      r.ends++;
    },
  };
  const result = (p: ResponseParser): Result => {
    r.body = Buffer.concat(parts);
    r.keepAlive = p.keepAlive;
    r.keepAliveHint = p.keepAliveHint;
    return { ...r };
  };
  return { sink, result };
}

const bytes = (raw: string | Buffer): Buffer => (typeof raw === "string" ? Buffer.from(raw, "latin1") : raw);

/** Feeds `chunks` to a fresh parser; returns what it reported, or the error it threw. */
function parse(chunks: Buffer[], opts: Options = {}): { result: Result; error: unknown } {
  const { sink, result } = recorder();
  const p = new ResponseParser(sink, opts.maxHead ?? LIMIT);
  p.expect(opts.noBody ?? false);
  try {
    for (const c of chunks) p.execute(c);
    if (opts.close) p.finish();
  } catch (e: unknown) {
    return { result: result(p), error: e };
  }
  expect(p.busy).toBe(false);
  expect(p.headRead).toBe(false);
  return { result: result(p), error: undefined };
}

/** Every way to cut `raw` in two (empty halves included), then one byte at a time. */
function* splits(raw: Buffer): Generator<Buffer[]> {
  for (let i = 0; i <= raw.length; i++) yield [raw.subarray(0, i), raw.subarray(i)];
  yield Array.from({ length: raw.length }, (_, i) => raw.subarray(i, i + 1));
}

/** Parses `raw` whole and cut every way; all must succeed with the same result, which is returned. */
function everySplit(raw: string | Buffer, opts: Options = {}): Result {
  const buf = bytes(raw);
  const whole = parse([buf], opts);
  expect(whole.error).toBeUndefined();
  for (const chunks of splits(buf)) {
    const { result, error } = parse(chunks, opts);
    expect(error, `cut into ${chunks.map((c) => c.length).join("+")}`).toBeUndefined();
    expect(result, `cut into ${chunks.map((c) => c.length).join("+")}`).toEqual(whole.result);
  }
  expect(whole.result.heads).toBe(1);
  expect(whole.result.ends).toBe(1);
  return whole.result;
}

/** Parses `raw` whole and cut every way; every one must throw a ParseError with `code`. */
function failsEverySplit(raw: string | Buffer, code: string, opts: Options = {}): void {
  const buf = bytes(raw);
  for (const chunks of [[buf], ...splits(buf)]) {
    const { error } = parse(chunks, opts);
    const at = `cut into ${chunks.map((c) => c.length).join("+")}`;
    expect(error, at).toBeInstanceOf(ParseError);
    expect((error as ParseError).code, at).toBe(code);
  }
}

/** What feeding `chunks` (then finish() if asked) throws; the test fails if nothing is thrown. */
function failure(chunks: (string | Buffer)[], opts: Options = {}): ParseError {
  const { error } = parse(chunks.map(bytes), opts);
  expect(error).toBeInstanceOf(ParseError);
  return error as ParseError;
}

const head = (lines: string[]): string => `${lines.join("\r\n")}\r\n\r\n`;

describe("framing", () => {
  it("reads a Content-Length body", () => {
    const r = everySplit(
      head(["HTTP/1.1 200 OK", "Content-Type: text/plain", "Content-Length: 5"]) + "hello",
    );
    expect(r.status).toBe(200);
    expect(r.reason).toBe("OK");
    expect(r.headers).toEqual({ "content-type": "text/plain", "content-length": "5" });
    expect(r.body.toString()).toBe("hello");
    expect(r.keepAlive).toBe(true);
    expect(r.keepAliveHint).toBeUndefined();
  });

  it("ends a Content-Length: 0 answer with its head", () => {
    const r = everySplit(head(["HTTP/1.1 200 OK", "Content-Length: 0"]));
    expect(r.body.length).toBe(0);
    expect(r.keepAlive).toBe(true);
  });

  it("accepts repeated Content-Length values that agree", () => {
    expect(
      everySplit(head(["HTTP/1.1 200 OK", "Content-Length: 3", "Content-Length: 3"]) + "abc").body.toString(),
    ).toBe("abc");
    expect(everySplit(head(["HTTP/1.1 200 OK", "Content-Length: 3, 3"]) + "abc").body.toString()).toBe("abc");
  });

  it("keeps multi-byte UTF-8 intact when its bytes are split across chunks", () => {
    const text = "héllo wörld ✓ 😀 日本";
    const body = Buffer.from(text, "utf8");
    const raw = Buffer.concat([
      Buffer.from(head(["HTTP/1.1 200 OK", `Content-Length: ${body.length}`])),
      body,
    ]);
    const r = everySplit(raw);
    expect(r.body.equals(body)).toBe(true);
    expect(r.body.toString("utf8")).toBe(text);
  });

  it("reads a chunked body of several chunks", () => {
    const r = everySplit(
      head(["HTTP/1.1 200 OK", "Transfer-Encoding: chunked"]) +
        "5\r\nhello\r\n6\r\n world\r\n1\r\n!\r\n0\r\n\r\n",
    );
    expect(r.status).toBe(200);
    expect(r.headers?.["transfer-encoding"]).toBe("chunked");
    expect(r.body.toString()).toBe("hello world!");
    expect(r.keepAlive).toBe(true);
  });

  it("reads chunk sizes in upper- and lower-case hex with extensions", () => {
    const a = "0123456789";
    const b = "abcdefghijklmnopqrstuvwxyz";
    const r = everySplit(
      head(["HTTP/1.1 200 OK", "Transfer-Encoding: chunked"]) +
        `A;a=b\r\n${a}\r\n1A;name="q";x\r\n${b}\r\n001a\r\n${b}\r\n0;end=1\r\n\r\n`,
    );
    expect(r.body.toString()).toBe(a + b + b);
  });

  it("skips trailers after the last chunk (the head is not reported again)", () => {
    const r = everySplit(
      head(["HTTP/1.1 200 OK", "Transfer-Encoding: chunked", "Trailer: X-Checksum"]) +
        "3\r\nabc\r\n0\r\nX-Checksum: 42\r\nX-Other: yes\r\n\r\n",
    );
    expect(r.body.toString()).toBe("abc");
    expect(r.headers?.["x-checksum"]).toBeUndefined();
    expect(r.keepAlive).toBe(true);
  });

  it("waits for the CRLF after chunk data when it is split across reads", () => {
    const { sink, result } = recorder();
    const p = new ResponseParser(sink, LIMIT);
    p.expect(false);
    p.execute(Buffer.from(head(["HTTP/1.1 200 OK", "Transfer-Encoding: chunked"]) + "3\r\nabc\r"));
    expect(result(p).body.toString()).toBe("abc");
    p.execute(Buffer.from("\n"));
    p.execute(Buffer.from("2\r\nde"));
    p.execute(Buffer.from("\r"));
    p.execute(Buffer.from("\n0\r\n"));
    expect(p.busy).toBe(true);
    p.execute(Buffer.from("\r\n"));
    const r = result(p);
    expect(r.body.toString()).toBe("abcde");
    expect(r.ends).toBe(1);
    expect(p.busy).toBe(false);
  });

  it("treats chunked as the last coding as chunked framing", () => {
    const r = everySplit(
      head(["HTTP/1.1 200 OK", "Transfer-Encoding: gzip, chunked"]) + "2\r\n\x1f\x8b\r\n0\r\n\r\n",
    );
    expect(r.body).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(r.keepAlive).toBe(true);
  });

  it("reads a body without framing headers until the connection closes", () => {
    const r = everySplit(
      head(["HTTP/1.1 200 OK", "Content-Type: text/plain"]) + "all of it\r\n\r\nand more",
      {
        close: true,
      },
    );
    expect(r.body.toString()).toBe("all of it\r\n\r\nand more");
    expect(r.keepAlive).toBe(false);
  });

  it("does not end a close-delimited body before finish()", () => {
    const { sink, result } = recorder();
    const p = new ResponseParser(sink, LIMIT);
    p.expect(false);
    p.execute(Buffer.from(head(["HTTP/1.1 200 OK"]) + "abc"));
    p.execute(Buffer.from("def"));
    expect(p.busy).toBe(true);
    expect(p.headRead).toBe(true);
    expect(p.keepAlive).toBe(false);
    expect(result(p).ends).toBe(0);
    p.finish();
    const r = result(p);
    expect(r.ends).toBe(1);
    expect(r.body.toString()).toBe("abcdef");
    expect(p.busy).toBe(false);
    p.finish(); // a second EOF report changes nothing
    expect(result(p).ends).toBe(1);
  });

  it("reads a body with a Transfer-Encoding other than chunked until the close, even with a Content-Length", () => {
    const gz = everySplit(head(["HTTP/1.1 200 OK", "Transfer-Encoding: gzip"]) + "0\r\n\r\nnot chunks", {
      close: true,
    });
    expect(gz.body.toString()).toBe("0\r\n\r\nnot chunks");
    expect(gz.keepAlive).toBe(false);
    const last = everySplit(
      head(["HTTP/1.1 200 OK", "Transfer-Encoding: chunked, gzip"]) + "2\r\nab\r\n0\r\n\r\n",
      {
        close: true,
      },
    );
    expect(last.body.toString()).toBe("2\r\nab\r\n0\r\n\r\n");
    expect(last.keepAlive).toBe(false);
    const both = everySplit(
      head(["HTTP/1.1 200 OK", "Transfer-Encoding: gzip", "Content-Length: 2"]) + "abcdef",
      {
        close: true,
      },
    );
    expect(both.body.toString()).toBe("abcdef");
    expect(both.keepAlive).toBe(false);
  });

  it.each([204, 304])("gives a %i no body even with a Content-Length or chunked", (status) => {
    const r = everySplit(head([`HTTP/1.1 ${status} X`, "Content-Length: 42"]));
    expect(r.status).toBe(status);
    expect(r.body.length).toBe(0);
    expect(r.keepAlive).toBe(true);
    expect(everySplit(head([`HTTP/1.1 ${status} X`, "Transfer-Encoding: chunked"])).body.length).toBe(0);
  });

  it("gives the answer to a HEAD no body whatever its framing headers say", () => {
    const cl = everySplit(head(["HTTP/1.1 200 OK", "Content-Length: 1234"]), { noBody: true });
    expect(cl.headers?.["content-length"]).toBe("1234");
    expect(cl.body.length).toBe(0);
    expect(cl.keepAlive).toBe(true);
    expect(
      everySplit(head(["HTTP/1.1 200 OK", "Transfer-Encoding: chunked"]), { noBody: true }).body.length,
    ).toBe(0);
    const none = everySplit(head(["HTTP/1.1 200 OK"]), { noBody: true });
    expect(none.body.length).toBe(0);
    expect(none.keepAlive).toBe(true);
  });

  it("skips 100 Continue and 103 Early Hints heads and reports the final head once", () => {
    const r = everySplit(
      head(["HTTP/1.1 100 Continue"]) +
        head(["HTTP/1.1 103 Early Hints", "Link: </a.css>; rel=preload", "Link: </b.js>; rel=preload"]) +
        head(["HTTP/1.1 200 OK", "Content-Length: 2", "X-Final: 1"]) +
        "ok",
    );
    expect(r.heads).toBe(1);
    expect(r.status).toBe(200);
    expect(r.reason).toBe("OK");
    expect(r.headers).toEqual({ "content-length": "2", "x-final": "1" });
    expect(r.body.toString()).toBe("ok");
  });

  it("stays on the head while only a 1xx head has arrived", () => {
    const { sink, result } = recorder();
    const p = new ResponseParser(sink, LIMIT);
    p.expect(false);
    p.execute(Buffer.from(head(["HTTP/1.1 100 Continue"])));
    expect(result(p).heads).toBe(0);
    expect(p.busy).toBe(true);
    expect(p.headRead).toBe(false);
    expect(() => p.finish()).toThrow(ParseError);
  });

  it("refuses a 101 protocol switch", () => {
    failsEverySplit(
      head(["HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: upgrade"]),
      "HPE_INVALID",
    );
  });
});

describe("keep-alive", () => {
  it.each([
    ["HTTP/1.1 by default", ["HTTP/1.1 200 OK"], true],
    ["HTTP/1.1 with Connection: close", ["HTTP/1.1 200 OK", "Connection: close"], false],
    [
      "HTTP/1.1 with Connection: Close among other tokens",
      ["HTTP/1.1 200 OK", "Connection: te, Close"],
      false,
    ],
    ["HTTP/1.1 with Connection: keep-alive", ["HTTP/1.1 200 OK", "Connection: keep-alive"], true],
    ["HTTP/1.0 by default", ["HTTP/1.0 200 OK"], false],
    ["HTTP/1.0 with Connection: keep-alive", ["HTTP/1.0 200 OK", "Connection: keep-alive"], true],
    ["HTTP/1.0 with Connection: Keep-Alive", ["HTTP/1.0 200 OK", "Connection: Keep-Alive"], true],
  ])("%s", (_name, lines, keepAlive) => {
    const r = everySplit(head([...lines, "Content-Length: 2"]) + "ok");
    expect(r.keepAlive).toBe(keepAlive);
    expect(r.body.toString()).toBe("ok");
  });

  it("lets chunked win over a Content-Length but never reuses the connection", () => {
    const r = everySplit(
      head(["HTTP/1.1 200 OK", "Content-Length: 3", "Transfer-Encoding: chunked"]) +
        "5\r\nhello\r\n0\r\n\r\n",
    );
    expect(r.body.toString()).toBe("hello");
    expect(r.keepAlive).toBe(false);
  });

  it("reads the Keep-Alive timeout hint in ms", () => {
    const r = everySplit(head(["HTTP/1.1 200 OK", "Keep-Alive: timeout=5, max=100", "Content-Length: 0"]));
    expect(r.keepAliveHint).toBe(5000);
    expect(r.keepAlive).toBe(true);
    const reordered = everySplit(
      head(["HTTP/1.1 200 OK", "Keep-Alive: max=100, Timeout=7", "Content-Length: 0"]),
    );
    expect(reordered.keepAliveHint).toBe(7000);
    const without = everySplit(head(["HTTP/1.1 200 OK", "Keep-Alive: max=100", "Content-Length: 0"]));
    expect(without.keepAliveHint).toBeUndefined();
  });

  it("keeps a 204 and an answer to a HEAD without framing reusable", () => {
    expect(everySplit(head(["HTTP/1.1 204 No Content"])).keepAlive).toBe(true);
    expect(everySplit(head(["HTTP/1.1 200 OK"]), { noBody: true }).keepAlive).toBe(true);
  });
});

describe("headers", () => {
  it("lower-cases names and trims values", () => {
    const r = everySplit(
      head(["HTTP/1.1 200 OK", "Content-Type:   application/json  ", "X-MiXeD-CaSe:\tv a l \t", 'ETag:"x"']),
      { noBody: true },
    );
    expect(r.headers).toEqual({ "content-type": "application/json", "x-mixed-case": "v a l", etag: '"x"' });
  });

  it("gathers repeated headers into an array, in order", () => {
    const r = everySplit(
      head([
        "HTTP/1.1 200 OK",
        "Set-Cookie: a=1",
        "X-One: 1",
        "set-cookie: b=2",
        "SET-COOKIE: c=3",
        "X-Two: 2, 3",
      ]),
      { noBody: true },
    );
    expect(r.headers?.["set-cookie"]).toEqual(["a=1", "b=2", "c=3"]);
    expect(r.headers?.["x-one"]).toBe("1");
    expect(r.headers?.["x-two"]).toBe("2, 3");
  });

  it("gathers two identical headers into an array of two", () => {
    const r = everySplit(head(["HTTP/1.1 200 OK", "Set-Cookie: a=1", "Set-Cookie: b=2"]), { noBody: true });
    expect(r.headers?.["set-cookie"]).toEqual(["a=1", "b=2"]);
  });

  it("stores a header named __proto__ as an own key without touching the prototype", () => {
    const plain = everySplit(head(["HTTP/1.1 200 OK", "X-A: 1"]), { noBody: true }).headers;
    const r = everySplit(head(["HTTP/1.1 200 OK", "__proto__: polluted", "X-A: 1", "Constructor: c"]), {
      noBody: true,
    });
    const h = r.headers as IncomingHttpHeaders;
    expect(Object.hasOwn(h, "__proto__")).toBe(true);
    expect(Object.getOwnPropertyDescriptor(h, "__proto__")?.value).toBe("polluted");
    expect(Object.getPrototypeOf(h)).toBe(Object.getPrototypeOf(plain));
    expect(Object.keys(h).sort()).toEqual(["__proto__", "constructor", "x-a"]);
    expect(h["x-a"]).toBe("1");
    expect(h["constructor"]).toBe("c");
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });

  it("allows an empty value", () => {
    const r = everySplit(head(["HTTP/1.1 200 OK", "X-Empty:", "X-Blank:   ", "Content-Length: 0"]));
    expect(r.headers?.["x-empty"]).toBe("");
    expect(r.headers?.["x-blank"]).toBe("");
  });

  it("keeps the reason phrase as sent, and empty when missing", () => {
    expect(everySplit(head(["HTTP/1.1 404 Not Found Here", "Content-Length: 0"])).reason).toBe(
      "Not Found Here",
    );
    const bare = everySplit(head(["HTTP/1.1 200", "Content-Length: 0"]));
    expect(bare.status).toBe(200);
    expect(bare.reason).toBe("");
    expect(everySplit(head(["HTTP/1.1 200 ", "Content-Length: 0"])).reason).toBe("");
  });

  it("reads a head with no header lines at all", () => {
    const r = everySplit(head(["HTTP/1.1 503 Busy"]), { close: true });
    expect(r.status).toBe(503);
    expect(r.headers).toEqual({});
  });
});

describe("malformed answers", () => {
  it.each([
    "HTTP/2 200 OK",
    "HTTP/1.1 20 OK",
    "HTTP/1.1 2000 OK",
    "HTTP/1.1  200 OK",
    "HTTP/1.2 200 OK",
    "http/1.1 200 OK",
    "HTTP/1.1 abc OK",
    "garbage",
    "",
  ])("refuses the status line %j", (line) => {
    failsEverySplit(`${line}\r\nContent-Length: 0\r\n\r\n`, "HPE_INVALID");
  });

  it.each([
    ["without a colon", "X-No-Colon"],
    ["with an empty name", ": value"],
    ["with a space in the name", "Bad Name: x"],
    ["with a space before the colon", "X-Name : x"],
    ["folded (obs-fold, starts with a space)", " folded: x"],
    ["folded (starts with a tab)", "\tcontinued"],
    ["with a bare LF inside", "X-A: 1\nX-B: 2"],
    ["with a bare CR inside", "X-A: 1\rX-B: 2"],
  ])("refuses a header line %s", (_name, line) => {
    failsEverySplit(head(["HTTP/1.1 200 OK", "X-Ok: 1", line, "Content-Length: 0"]), "HPE_INVALID");
  });

  it("refuses conflicting Content-Length values", () => {
    failsEverySplit(
      head(["HTTP/1.1 200 OK", "Content-Length: 5", "Content-Length: 6"]) + "hello",
      "HPE_INVALID",
    );
    failsEverySplit(head(["HTTP/1.1 200 OK", "Content-Length: 5, 6"]) + "hello", "HPE_INVALID");
  });

  it.each(["abc", "-1", "+5", "5a", "0x5", "1.5", "", "1 2"])("refuses the Content-Length %j", (v) => {
    failsEverySplit(head(["HTTP/1.1 200 OK", `Content-Length: ${v}`]), "HPE_INVALID");
  });

  it("refuses a head larger than the limit that never ends", () => {
    const long = head(["HTTP/1.1 200 OK", `X-Big: ${"a".repeat(200)}`]).slice(0, -4);
    expect(failure([long], { maxHead: 100 }).code).toBe("UND_ERR_HEADERS_OVERFLOW");
    // Fed in small pieces: refused as soon as the pending bytes pass the limit, not at EOF.
    const { sink } = recorder();
    const p = new ResponseParser(sink, 100);
    p.expect(false);
    let fed = 0;
    let error: unknown;
    try {
      for (; fed < long.length; fed += 10) p.execute(Buffer.from(long.slice(fed, fed + 10)));
    } catch (e: unknown) {
      error = e;
    }
    expect(error).toBeInstanceOf(ParseError);
    expect((error as ParseError).code).toBe("UND_ERR_HEADERS_OVERFLOW");
    expect(fed).toBeLessThanOrEqual(110);
  });

  it("refuses a head larger than the limit whose terminator arrives late", () => {
    const raw = head(["HTTP/1.1 200 OK", `X-Big: ${"a".repeat(200)}`, "Content-Length: 0"]);
    failsEverySplit(raw, "UND_ERR_HEADERS_OVERFLOW", { maxHead: 100 });
    const pieces = raw.match(/[\s\S]{1,7}/g) ?? [];
    expect(failure(pieces, { maxHead: 100 }).code).toBe("UND_ERR_HEADERS_OVERFLOW");
  });

  it("accepts a head of exactly the limit however its terminator is split; one byte more is refused", () => {
    const h = head(["HTTP/1.1 200 OK", "Content-Length: 0"]);
    const limit = h.length - 4; // the limit counts the head without its blank line
    everySplit(h, { maxHead: limit });
    failsEverySplit(head(["HTTP/1.1 200 OK", "Content-Length: 00"]), "UND_ERR_HEADERS_OVERFLOW", {
      maxHead: limit,
    });
  });

  it("refuses a status code below 100 rather than skipping it as informational", () => {
    failsEverySplit("HTTP/1.1 099 Weird\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "HPE_INVALID");
  });

  it("accepts a head comfortably under the limit, body bytes not counted", () => {
    const h = head(["HTTP/1.1 200 OK", "Content-Length: 300"]);
    const r = everySplit(h + "b".repeat(300), { maxHead: h.length + 8 });
    expect(r.body.length).toBe(300);
  });

  it("applies the limit to each head, not to 1xx heads and the final head together", () => {
    const info = head(["HTTP/1.1 103 Early Hints", "Link: </a.css>; rel=preload"]);
    const final = head(["HTTP/1.1 200 OK", "Content-Length: 0"]);
    const r = everySplit(info + info + final, { maxHead: Math.max(info.length, final.length) + 8 });
    expect(r.status).toBe(200);
  });

  it.each(["zz", "", "-5", "0x5", "5 5", "ffffffffffffff", " ;x"])("refuses the chunk size %j", (size) => {
    failsEverySplit(
      head(["HTTP/1.1 200 OK", "Transfer-Encoding: chunked"]) + `${size}\r\nhello\r\n0\r\n\r\n`,
      "HPE_INVALID",
    );
  });

  it("refuses a chunk-size line that is too long", () => {
    const start = head(["HTTP/1.1 200 OK", "Transfer-Encoding: chunked"]);
    const ext = `5;x=${"y".repeat(5000)}`;
    // Never terminated: refused once the pending line is too long.
    const open = failure([start, ext]);
    expect(open.code).not.toBe("UND_ERR_SOCKET");
    // Terminated in the same read: still refused.
    const closed = failure([start + ext + "\r\nhello\r\n0\r\n\r\n"]);
    expect(closed.code).toBe(open.code);
    // Many small reads of a line with no end: refused before EOF.
    const pieces = [start, ...Array.from({ length: 100 }, () => "y".repeat(100))];
    expect(failure(["", ...pieces]).code).toBe(open.code);
  });

  it("refuses chunk data not followed by CRLF", () => {
    const start = head(["HTTP/1.1 200 OK", "Transfer-Encoding: chunked"]);
    failsEverySplit(start + "5\r\nhelloX\r\n0\r\n\r\n", "HPE_INVALID");
    failsEverySplit(start + "5\r\nhello\n0\r\n\r\n", "HPE_INVALID");
    failsEverySplit(start + "5\r\nhello!!\r\n", "HPE_INVALID");
    failsEverySplit(start + "5\r\nhello\rX0\r\n\r\n", "HPE_INVALID");
    failsEverySplit(start + "5\r\nhello\n\r0\r\n\r\n", "HPE_INVALID");
  });

  it("refuses bytes after the end of an answer", () => {
    failsEverySplit(head(["HTTP/1.1 200 OK", "Content-Length: 2"]) + "okX", "HPE_INVALID");
    failsEverySplit(head(["HTTP/1.1 200 OK", "Content-Length: 0"]) + "X", "HPE_INVALID");
    failsEverySplit(
      head(["HTTP/1.1 200 OK", "Transfer-Encoding: chunked"]) + "2\r\nok\r\n0\r\n\r\nX",
      "HPE_INVALID",
    );
    failsEverySplit(head(["HTTP/1.1 204 No Content", "Content-Length: 2"]) + "ok", "HPE_INVALID");
    failsEverySplit(head(["HTTP/1.1 200 OK", "Content-Length: 2"]) + "ok", "HPE_INVALID", { noBody: true });
    // A second answer nobody asked for (no pipelining).
    const one = head(["HTTP/1.1 200 OK", "Content-Length: 0"]);
    failsEverySplit(one + one, "HPE_INVALID");
  });

  it("reports the answer before refusing the bytes that follow it", () => {
    const { result, error } = parse([Buffer.from(head(["HTTP/1.1 200 OK", "Content-Length: 2"]) + "okX")]);
    expect(error).toBeInstanceOf(ParseError);
    expect(result.body.toString()).toBe("ok");
    expect(result.ends).toBe(1);
  });

  it("refuses data before any answer was expected", () => {
    const { sink } = recorder();
    const p = new ResponseParser(sink, LIMIT);
    expect(p.busy).toBe(false);
    expect(() => p.execute(Buffer.from("HTTP/1.1 200 OK\r\n\r\n"))).toThrow(ParseError);
  });
});

describe("connection closed early", () => {
  it("refuses the close before a Content-Length body is complete", () => {
    const raw = head(["HTTP/1.1 200 OK", "Content-Length: 10"]) + "hello";
    const { result, error } = parse([Buffer.from(raw)], { close: true });
    expect(error).toBeInstanceOf(ParseError);
    expect((error as ParseError).code).toBe("UND_ERR_SOCKET");
    expect(result.body.toString()).toBe("hello");
    expect(result.ends).toBe(0);
    failsEverySplit(raw, "UND_ERR_SOCKET", { close: true });
  });

  it("refuses the close in the middle of a head, or before any byte", () => {
    failsEverySplit("HTTP/1.1 200 OK\r\nContent-Le", "UND_ERR_SOCKET", { close: true });
    failsEverySplit(head(["HTTP/1.1 200 OK", "Content-Length: 0"]).slice(0, -1), "UND_ERR_SOCKET", {
      close: true,
    });
    expect(failure([], { close: true }).code).toBe("UND_ERR_SOCKET");
  });

  it("refuses the close in the middle of a chunked body", () => {
    const start = head(["HTTP/1.1 200 OK", "Transfer-Encoding: chunked"]);
    for (const cut of [
      "",
      "5\r",
      "5\r\nhel",
      "5\r\nhello",
      "5\r\nhello\r",
      "5\r\nhello\r\n0\r\n",
      "0\r\nX-T: 1\r\n",
    ]) {
      expect(failure([start + cut], { close: true }).code).toBe("UND_ERR_SOCKET");
    }
  });

  it("takes the close as the end of a close-delimited body, once", () => {
    const r = everySplit(head(["HTTP/1.0 200 OK"]) + "x", { close: true });
    expect(r.ends).toBe(1);
    expect(r.body.toString()).toBe("x");
    // With no body byte at all.
    const empty = everySplit(head(["HTTP/1.1 200 OK"]), { close: true });
    expect(empty.ends).toBe(1);
    expect(empty.body.length).toBe(0);
  });

  it("accepts the close after a complete answer", () => {
    const r = everySplit(head(["HTTP/1.1 200 OK", "Content-Length: 2"]) + "ok", { close: true });
    expect(r.ends).toBe(1);
  });
});

describe("reuse on a kept-alive connection", () => {
  it("parses a second answer with the same parser; busy and headRead follow each phase", () => {
    const { sink, result } = recorder();
    let heads = 0;
    let ends = 0;
    const bodies: string[] = [];
    const countingSink: ParserSink = {
      head(status, headers, reason) {
        heads++;
        bodies.push("");
        sink.head(status, headers, reason);
      },
      data(chunk) {
        bodies[bodies.length - 1] += chunk.toString();
      },
      end() {
        ends++;
      },
    };
    const p = new ResponseParser(countingSink, LIMIT);
    expect([p.busy, p.headRead]).toEqual([false, false]);

    p.expect(false);
    expect([p.busy, p.headRead]).toEqual([true, false]);
    p.execute(Buffer.from("HTTP/1.1 200 OK\r\nKeep-Alive: timeout=3\r\nContent-Length: 5\r\n\r"));
    expect([p.busy, p.headRead]).toEqual([true, false]);
    expect(heads).toBe(0);
    p.execute(Buffer.from("\nhel"));
    expect([p.busy, p.headRead]).toEqual([true, true]);
    expect(heads).toBe(1);
    expect(p.keepAlive).toBe(true);
    expect(p.keepAliveHint).toBe(3000);
    p.execute(Buffer.from("lo"));
    expect([p.busy, p.headRead]).toEqual([false, false]);
    expect(ends).toBe(1);

    p.expect(false);
    expect([p.busy, p.headRead]).toEqual([true, false]);
    expect(p.keepAlive).toBe(false);
    expect(p.keepAliveHint).toBeUndefined();
    p.execute(Buffer.from(head(["HTTP/1.1 201 Created", "Transfer-Encoding: chunked"]) + "3\r\nabc\r\n"));
    expect([p.busy, p.headRead]).toEqual([true, true]);
    expect(p.keepAliveHint).toBeUndefined();
    p.execute(Buffer.from("0\r\n\r\n"));
    expect([p.busy, p.headRead]).toEqual([false, false]);
    expect(heads).toBe(2);
    expect(ends).toBe(2);
    expect(bodies).toEqual(["hello", "abc"]);
    expect(result(p).status).toBe(201);

    // A third exchange: a HEAD, then a close-delimited answer ended by EOF.
    p.expect(true);
    p.execute(Buffer.from(head(["HTTP/1.1 200 OK", "Content-Length: 99"])));
    expect([p.busy, p.headRead]).toEqual([false, false]);
    expect(ends).toBe(3);
    p.expect(false);
    p.execute(Buffer.from(head(["HTTP/1.1 200 OK"]) + "tail"));
    expect([p.busy, p.headRead]).toEqual([true, true]);
    expect(p.keepAlive).toBe(false);
    p.finish();
    expect([p.busy, p.headRead]).toEqual([false, false]);
    expect(ends).toBe(4);
    expect(bodies).toEqual(["hello", "abc", "", "tail"]);
  });

  it("forgets a half-read head when a new answer is expected", () => {
    const { sink, result } = recorder();
    const p = new ResponseParser(sink, LIMIT);
    p.expect(false);
    p.execute(Buffer.from("HTTP/1.1 500 Oops\r\nX-Stale: 1\r\n"));
    p.expect(false);
    p.execute(Buffer.from(head(["HTTP/1.1 200 OK", "Content-Length: 0"])));
    const r = result(p);
    expect(r.status).toBe(200);
    expect(r.headers).toEqual({ "content-length": "0" });
  });
});

describe("long heads", () => {
  it("reads a long head arriving in many small chunks", () => {
    const lines = ["HTTP/1.1 200 OK"];
    for (let i = 0; i < 300; i++) lines.push(`X-Header-${i}: value-${i}-${"v".repeat(i % 17)}`);
    lines.push("Content-Length: 4");
    const raw = Buffer.from(head(lines) + "body");
    for (const size of [1, 2, 3, 5, 7, 64, 1000]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < raw.length; i += size) chunks.push(raw.subarray(i, i + size));
      const { result, error } = parse(chunks);
      expect(error).toBeUndefined();
      expect(result.heads).toBe(1);
      expect(result.ends).toBe(1);
      expect(result.body.toString()).toBe("body");
      const h = result.headers as IncomingHttpHeaders;
      expect(Object.keys(h)).toHaveLength(301);
      expect(h["x-header-0"]).toBe("value-0-");
      expect(h["x-header-299"]).toBe(`value-299-${"v".repeat(299 % 17)}`);
    }
  });

  it("finds the blank line when its four bytes arrive in separate reads after a long head", () => {
    const text = head(["HTTP/1.1 200 OK", `X-Long: ${"z".repeat(3000)}`, "Content-Length: 1"]);
    const body = text.slice(0, -4);
    const r = parse([
      Buffer.from(body),
      Buffer.from("\r"),
      Buffer.from("\n"),
      Buffer.from("\r"),
      Buffer.from("\n1"),
    ]);
    expect(r.error).toBeUndefined();
    expect(r.result.headers?.["x-long"]).toBe("z".repeat(3000));
    expect(r.result.body.toString()).toBe("1");
  });
});
