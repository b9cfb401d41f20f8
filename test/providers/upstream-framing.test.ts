// Broken HTTP framing from an upstream (raw TCP fakes writing bad heads and bodies): each is a
// protocol error with its own message, at once, and a gateway in front makes exactly one attempt
// (no retry), while a reset connection on the same gateway is retried (the control case).
import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UpstreamError } from "../../src/errors.js";
import { readText, request } from "../../src/providers/http.js";
import { Upstream } from "../../src/providers/upstream.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { listenLocal } from "../helpers/loopback.js";
import { rejection } from "./helpers.js";

/** What the fake writes for each case (after reading a request), and the message the caller must get. */
const CASES: Record<string, { raw: string; message: string }> = {
  "bad-content-length": {
    raw: "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\nok",
    message: "upstream sent a malformed HTTP answer (Invalid character in Content-Length)",
  },
  "conflicting-content-length": {
    raw: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
    message: "upstream answer does not match its Content-Length (UND_ERR_RES_CONTENT_LENGTH_MISMATCH)",
  },
  "bad-chunk-size": {
    raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n",
    message: "upstream sent a malformed HTTP answer (Invalid character in chunk size)",
  },
  "lf-only-head": {
    raw: "HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
    message: "upstream sent a malformed HTTP answer (Missing expected CR after response line)",
  },
  "oversized-head": {
    raw: `HTTP/1.1 200 OK\r\nX-Big: ${"a".repeat(70_000)}\r\nContent-Length: 2\r\n\r\nok`,
    message: "upstream answer head too large (UND_ERR_HEADERS_OVERFLOW)",
  },
};

let server: Server;
let port = 0;
/** Requests the fake received, by case (the first path segment). */
const seen = new Map<string, number>();
const sockets = new Set<Socket>();
let gw: TestGateway;
const upstream = new Upstream("raw", {}, {});

beforeAll(async () => {
  server = createServer((s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => {});
    let head = "";
    s.on("data", (d: Buffer) => {
      head += d.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      const name = /^[A-Z]+ \/([^/ ]+)/.exec(head)?.[1] ?? "";
      head = "";
      seen.set(name, (seen.get(name) ?? 0) + 1);
      if (name === "reset") s.resetAndDestroy();
      else s.write(CASES[name]?.raw ?? "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    });
  });
  port = await listenLocal(server);
  const providers = Object.keys({ ...CASES, reset: 0 })
    .map((n) => `  ${n}:\n    type: openai\n    base_url: http://127.0.0.1:${port}/${n}/v1\n    api_key: k\n`)
    .join("");
  // Retries with no wait, so the control case's three attempts are quick.
  gw = await startGateway({
    yaml: `providers:\n${providers}defaults:\n  retries:\n    base_ms: 1\n    max_ms: 1\n`,
  });
});

afterAll(async () => {
  await gw?.close();
  await upstream.close();
  for (const s of sockets) s.destroy();
  server.close();
});

async function chat(provider: string): Promise<{ status: number; message: string }> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: `${provider}/gpt-4o-mini`, messages: [{ role: "user", content: "hi" }] }),
  });
  const body = (await res.json()) as { error?: { message?: string } };
  return { status: res.status, message: body.error?.message ?? "" };
}

describe("upstream framing errors", () => {
  for (const [name, c] of Object.entries(CASES)) {
    it(`${name}: a protocol error naming it, from the HTTP layer at once`, async () => {
      const signal = new AbortController().signal;
      const e = await rejection(
        request({
          url: `http://127.0.0.1:${port}/${name}/x`,
          headers: {},
          signal,
          provider: "raw",
          upstream,
        }).then((r) => readText(r.body, "raw")),
      );
      expect(e).toBeInstanceOf(UpstreamError);
      expect((e as UpstreamError).kind).toBe("protocol");
      expect((e as UpstreamError).message).toBe(c.message);
    });

    it(`${name}: through the gateway, one upstream attempt (no retry) and the message reaches the client`, async () => {
      seen.clear();
      const got = await chat(name);
      expect(got.status).toBe(502);
      expect(got.message).toContain(c.message);
      expect(seen.get(name)).toBe(1);
    });
  }

  it("control: a reset connection is a network failure, retried (three attempts) by the same gateway", async () => {
    seen.clear();
    const got = await chat("reset");
    expect(got.status).toBeGreaterThanOrEqual(500);
    expect(seen.get("reset")).toBe(3);
  });
});
