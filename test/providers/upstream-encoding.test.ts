// Compressed upstream answers: the gateway asks for gzip / deflate / br and decodes what comes (a
// unary JSON answer, an SSE stream, an error body), bounded like any body: a gzip bomb fails fast
// at the limit, a corrupt or unknown encoding is a protocol error naming it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { brotliCompressSync, constants, createGzip, deflateSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UpstreamError } from "../../src/errors.js";
import { readText, request } from "../../src/providers/http.js";
import { createOpenAIProvider } from "../../src/providers/openai/index.js";
import { chatReq, textOf } from "../e2e/helpers.js";
import { listenLocal } from "../helpers/loopback.js";
import { fixtures, rejection } from "./helpers.js";

const openai = fixtures("openai");
let server: Server;
let base = "";
/** accept-encoding of every request, in order. */
const asked: (string | undefined)[] = [];
type Route = (req: IncomingMessage, res: ServerResponse) => void;
const routes = new Map<string, Route>();

beforeAll(async () => {
  server = createServer((req, res) => {
    asked.push(req.headers["accept-encoding"]);
    const route = routes.get(req.url ?? "");
    if (route) route(req, res);
    else res.writeHead(404).end();
  });
  base = `http://127.0.0.1:${await listenLocal(server)}`;
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const encoded =
  (status: number, type: string, coding: string, body: Buffer): Route =>
  (_req, res) => {
    res.writeHead(status, {
      "content-type": type,
      "content-encoding": coding,
      "content-length": body.length,
    });
    res.end(body);
  };

const opts = () => ({ signal: new AbortController().signal, model: "gpt-4o-mini", requestId: "req-enc" });

describe("compressed upstream answers", () => {
  it("a gzip JSON answer is decoded (was a 502 'invalid JSON'); accept-encoding is sent", async () => {
    routes.set(
      "/gz/v1/chat/completions",
      encoded(200, "application/json", "gzip", gzipSync(openai.read("basic.response.json"))),
    );
    const p = createOpenAIProvider({ name: "gz", baseUrl: `${base}/gz/v1`, apiKey: "k" });
    try {
      const res = await p.chat(chatReq("gz/gpt-4o-mini", "hi"), opts());
      expect(textOf(res.message?.content)).not.toBe("");
      expect(asked.at(-1)).toBe("gzip, deflate, br");
    } finally {
      await p.close();
    }
  });

  it("a br event stream is decoded chunk by chunk into the same events as plain text", async () => {
    const sse = openai.read("text.sse");
    routes.set("/plain/v1/chat/completions", (_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.end(sse);
    });
    // Brotli in flushed pieces, as a streaming server sends it.
    const packed = brotliCompressSync(sse, { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } });
    routes.set("/br/v1/chat/completions", (_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream", "content-encoding": "br" });
      for (let i = 0; i < packed.length; i += 7) res.write(packed.subarray(i, i + 7));
      res.end();
    });
    const read = async (prefix: string) => {
      const p = createOpenAIProvider({ name: "sse", baseUrl: `${base}/${prefix}/v1`, apiKey: "k" });
      const out: string[] = [];
      try {
        for await (const ev of p.chatStream(chatReq("sse/gpt-4o-mini", "hi"), opts()))
          out.push(JSON.stringify(ev));
      } finally {
        await p.close();
      }
      return out;
    };
    const plain = await read("plain");
    expect(plain.length).toBeGreaterThan(2);
    expect(await read("br")).toEqual(plain);
  });

  it("deflate and a gzip error body are decoded too (the error keeps its message)", async () => {
    routes.set("/deflate", encoded(200, "application/json", "deflate", deflateSync('{"ok":true}')));
    const signal = new AbortController().signal;
    const r = await request({ url: `${base}/deflate`, headers: {}, signal, provider: "enc" });
    expect(r.headers["content-encoding"]).toBeUndefined();
    expect(await readText(r.body, "enc")).toBe('{"ok":true}');
    const err = gzipSync(openai.read("rate-limit.error.json"));
    routes.set("/err/v1/chat/completions", encoded(429, "application/json", "gzip", err));
    const p = createOpenAIProvider({ name: "err", baseUrl: `${base}/err/v1`, apiKey: "k" });
    try {
      const e = await rejection(p.chat(chatReq("err/gpt-4o-mini", "hi"), opts()));
      expect((e as UpstreamError).kind).toBe("rate_limited");
      expect((e as UpstreamError).message).toMatch(/rate limit/i);
    } finally {
      await p.close();
    }
  });

  it("a gzip bomb fails at the body limit as soon as the decoded bytes pass it, not after inflating it all", async () => {
    // 1 GiB of zeros streams as ~1 MiB of gzip; the server would send it all if we let it.
    let sent = 0;
    routes.set("/bomb", (_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" });
      const gz = createGzip({ level: 9 });
      gz.on("data", (c: Buffer) => {
        sent += c.length;
      });
      gz.pipe(res);
      const zeros = Buffer.alloc(1024 * 1024);
      let left = 1024;
      const pump = () => {
        while (left > 0) {
          left--;
          if (!gz.write(zeros)) return void gz.once("drain", pump);
        }
        gz.end();
      };
      pump();
      res.on("close", () => gz.destroy());
    });
    const signal = new AbortController().signal;
    const r = await request({ url: `${base}/bomb`, headers: {}, signal, provider: "enc" });
    const t0 = performance.now();
    const e = await rejection(readText(r.body, "enc", signal, 4 * 1024 * 1024));
    expect((e as UpstreamError).kind).toBe("protocol");
    expect((e as UpstreamError).message).toContain(`exceeds ${4 * 1024 * 1024} bytes`);
    expect(performance.now() - t0).toBeLessThan(5000); // inflating the whole GiB takes far longer here
    expect(sent).toBeLessThan(1024 * 1024); // the server was stopped early: well under its ~1 MiB of gzip
  });

  it("a corrupt gzip body and an encoding we never asked for are protocol errors naming the encoding", async () => {
    routes.set("/corrupt", encoded(200, "application/json", "gzip", Buffer.from("this is not gzip at all")));
    routes.set("/zz", encoded(200, "application/json", "compress-9000", Buffer.from("??")));
    const signal = new AbortController().signal;
    const r = await request({ url: `${base}/corrupt`, headers: {}, signal, provider: "enc" });
    const e = await rejection(readText(r.body, "enc"));
    expect((e as UpstreamError).kind).toBe("protocol");
    expect((e as UpstreamError).message).toContain("upstream answer is not valid gzip");
    const e2 = await rejection(request({ url: `${base}/zz`, headers: {}, signal, provider: "enc" }));
    expect((e2 as UpstreamError).kind).toBe("protocol");
    expect((e2 as UpstreamError).message).toContain('content-encoding "compress-9000"');
  });
});
