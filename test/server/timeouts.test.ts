// The one port's connection limits (server.* timeouts, cap, HTTP/2 settings and flood guard), held
// against real sockets and node:http2 clients: nothing idle stays open, a producing stream does.

import { mkdtempSync, writeFileSync } from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { implementedTypes, presetInfo } from "../../src/providers/index.js";
import { type OpenAIFake, startOpenAIFake } from "../fakes/openai.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";

/** Generous: only reached when the close never comes (a bug), never part of a passing run's timing. */
const DEADLINE_MS = 8000;

/** Resolves with the ms until `emitter` emits `event`; rejects naming `what` past the deadline. */
function within(
  emitter: { once(e: string, f: () => void): unknown },
  event: string,
  what: string,
  ms = DEADLINE_MS,
): Promise<number> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no "${event}" within ${ms} ms`)), ms);
    emitter.once(event, () => {
      clearTimeout(timer);
      resolve(Date.now() - t0);
    });
  });
}

/** A raw TCP connection to the gateway (errors such as ECONNRESET are a close here, not a failure). */
async function rawSocket(port: number): Promise<net.Socket> {
  const s = net.connect(port, "127.0.0.1");
  s.on("error", () => {});
  s.resume(); // read what the server sends, so its FIN surfaces as "close"
  await within(s, "connect", "connect");
  return s;
}

async function poll(cond: () => Promise<boolean>, what: string): Promise<void> {
  const until = Date.now() + DEADLINE_MS;
  while (!(await cond().catch(() => false))) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** GET on a fresh connection; the body text, or undefined when the connection was refused. */
function get(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        body += c;
      });
      res.on("end", () => resolve(body));
    });
    req.on("error", reject);
  });
}

function metric(text: string, name: string): number {
  const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

/** A Connect streaming request body: one JSON envelope. */
function envelope(msg: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(msg));
  const head = Buffer.alloc(5);
  head.writeUInt32BE(json.length, 1);
  return Buffer.concat([head, json]);
}

const TIMEOUT_YAML = `
server:
  first_bytes_timeout_ms: 300
  headers_timeout_ms: 400
  request_timeout_ms: 5000
  keep_alive_timeout_ms: 300
  http2_idle_timeout_ms: 400
  http2_max_concurrent_streams: 7
  http2_max_control_frames_per_s: 50
`;

describe("connection timeouts", () => {
  let gw: TestGateway;
  let fake: OpenAIFake;
  beforeAll(async () => {
    fake = await startOpenAIFake({ apiKey: "sk-t" });
    gw = await startGateway({
      yaml: `${TIMEOUT_YAML}
providers:
  openai: { base_url: "${fake.url}", api_key: sk-t }
`,
    });
  });
  afterAll(async () => {
    await gw?.close();
    await fake?.close();
  });

  it("closes a socket that never sends a byte after first_bytes_timeout_ms", async () => {
    const s = await rawSocket(gw.port);
    const ms = await within(s, "close", "silent socket");
    expect(ms).toBeGreaterThanOrEqual(250);
  });

  it("closes a half-sent HTTP/2 preface after first_bytes_timeout_ms", async () => {
    const s = await rawSocket(gw.port);
    s.write("PRI * HTTP/2.0\r\n");
    const ms = await within(s, "close", "half-sent preface");
    expect(ms).toBeGreaterThanOrEqual(250);
  });

  it("closes an HTTP/2 connection whose client never sends SETTINGS after headers_timeout_ms", async () => {
    const s = await rawSocket(gw.port);
    s.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    const ms = await within(s, "close", "preface without SETTINGS");
    expect(ms).toBeGreaterThanOrEqual(350);
  });

  it("closes an HTTP/1.1 request head dribbled a byte at a time after headers_timeout_ms", async () => {
    const s = await rawSocket(gw.port);
    let answer = "";
    s.on("data", (c: Buffer) => {
      answer += c.toString("latin1");
    });
    s.write("GET /v1/models HTTP/1.1\r\nHost: x\r\n");
    const dribble = setInterval(() => s.writable && s.write("x"), 50); // never a full header line
    try {
      const ms = await within(s, "close", "dribbled head");
      expect(ms).toBeGreaterThanOrEqual(350);
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      clearInterval(dribble);
    }
  });

  it("closes an idle HTTP/1.1 keep-alive connection after keep_alive_timeout_ms", async () => {
    const s = await rawSocket(gw.port);
    let answer = "";
    s.on("data", (c: Buffer) => {
      answer += c.toString("latin1");
    });
    s.write("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    await within(s, "close", "idle keep-alive");
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(answer).toMatch(/keep-alive/i);
  });

  it("closes an idle HTTP/2 session (GOAWAY) after http2_idle_timeout_ms, after its last stream", async () => {
    const session = http2.connect(`http://127.0.0.1:${gw.port}`);
    session.on("error", () => {});
    const closed = within(session, "close", "idle HTTP/2 session");
    const req = session.request({ ":path": "/metrics" });
    req.resume();
    await within(req, "close", "one request");
    const t0 = Date.now();
    await closed;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
  });

  it("advertises http2_max_concurrent_streams in its SETTINGS frame", async () => {
    const session = http2.connect(`http://127.0.0.1:${gw.port}`);
    try {
      await within(session, "remoteSettings", "server SETTINGS");
      expect(session.remoteSettings.maxConcurrentStreams).toBe(7);
    } finally {
      session.destroy();
    }
  });

  it("keeps an HTTP/2 session open while a stream produces data for longer than the idle timeout", async () => {
    const session = http2.connect(`http://127.0.0.1:${gw.port}`);
    session.on("error", () => {});
    let sessionClosed = false;
    session.once("close", () => {
      sessionClosed = true;
    });
    const words = Array.from({ length: 12 }, (_, i) => `w${i}`).join(" ");
    const req = session.request({
      ":method": "POST",
      ":path": "/llmgateway.v1.LLMService/ChatStream",
      "content-type": "application/connect+json",
    });
    req.end(
      envelope({
        model: "openai/gpt-4o-mini+chunk_delay=100",
        messages: [{ role: "ROLE_USER", content: [{ text: words }] }],
      }),
    );
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => {
      body += c;
    });
    const t0 = Date.now();
    await within(req, "end", "long stream", 20_000);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThan(800); // the stream outlived two idle timeouts
    expect(sessionClosed).toBe(false);
    expect(body).toContain('"delta"');
    expect(body).toContain("w11");
    expect(body).not.toContain('"error"');
    // Once it is over, the now idle session goes.
    await within(session, "close", "session idle after the stream");
  });

  it("keeps an HTTP/1.1 stream open past keep_alive_timeout_ms while it produces data", async () => {
    const words = Array.from({ length: 10 }, (_, i) => `v${i}`).join(" ");
    const body = await new Promise<string>((resolve, reject) => {
      const req = http.request(
        {
          host: "127.0.0.1",
          port: gw.port,
          method: "POST",
          path: "/llmgateway.v1.LLMService/ChatStream",
          headers: { "content-type": "application/connect+json" },
          agent: false,
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => {
            text += c;
          });
          res.on("end", () => resolve(text));
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(
        envelope({
          model: "openai/gpt-4o-mini+chunk_delay=100",
          messages: [{ role: "ROLE_USER", content: [{ text: words }] }],
        }),
      );
    });
    expect(body).toContain("v9");
    expect(body).not.toContain('"error"');
  });

  it("closes an HTTP/2 session that floods PINGs (GOAWAY ENHANCE_YOUR_CALM), not one that pings a little", async () => {
    const calm = http2.connect(`http://127.0.0.1:${gw.port}`);
    const flood = http2.connect(`http://127.0.0.1:${gw.port}`, { maxOutstandingPings: 100_000 });
    calm.on("error", () => {});
    flood.on("error", () => {});
    try {
      await within(calm, "connect", "calm connect");
      await within(flood, "connect", "flood connect");
      for (let i = 0; i < 5; i++) await new Promise((r, j) => calm.ping((e) => (e ? j(e) : r(undefined))));
      const goaway = new Promise<number>((resolve) => flood.once("goaway", (code: number) => resolve(code)));
      const closed = within(flood, "close", "flooding session");
      for (let i = 0; i < 1000 && !flood.destroyed; i++) flood.ping(() => {});
      await closed;
      expect(await goaway).toBe(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
      expect(calm.closed || calm.destroyed).toBe(false);
      expect(gw.logs.some((l) => l.includes("HTTP/2 PING/SETTINGS flood"))).toBe(true);
      const text = await get(gw.port, "/metrics");
      expect(text).toMatch(/llmgw_connections_closed_total\{reason="http2_flood"\} [1-9]/);
    } finally {
      calm.destroy();
      flood.destroy();
    }
  });

  it("closes an HTTP/2 connection that floods SETTINGS frames (raw frames, GOAWAY ENHANCE_YOUR_CALM)", async () => {
    const s = await rawSocket(gw.port);
    const got: Buffer[] = [];
    s.on("data", (c: Buffer) => got.push(c));
    const settings = Buffer.from("000000040000000000", "hex"); // empty SETTINGS on stream 0
    s.write(Buffer.concat([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), ...Array(500).fill(settings)]));
    await within(s, "close", "SETTINGS flood");
    expect(goawayCode(Buffer.concat(got))).toBe(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
  });
});

/** The error code of the first GOAWAY frame among the server's frames (after its SETTINGS). */
function goawayCode(bytes: Buffer): number | undefined {
  let at = 0;
  while (at + 9 <= bytes.length) {
    const len = bytes.readUIntBE(at, 3);
    if (bytes[at + 3] === 0x7) return bytes.readUInt32BE(at + 9 + 4);
    at += 9 + len;
  }
  return undefined;
}

describe("HTTP/1.1 request timeout", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({
      yaml: "server:\n  first_bytes_timeout_ms: 5000\n  headers_timeout_ms: 300\n  request_timeout_ms: 600\n",
    });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("answers 408 and closes when a request body is dribbled past request_timeout_ms", async () => {
    const s = await rawSocket(gw.port);
    let answer = "";
    s.on("data", (c: Buffer) => {
      answer += c.toString("latin1");
    });
    s.write(
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{",
    );
    const dribble = setInterval(() => s.writable && s.write(" "), 50);
    try {
      const ms = await within(s, "close", "dribbled body");
      expect(ms).toBeGreaterThanOrEqual(500);
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      clearInterval(dribble);
    }
  });
});

describe("connection cap", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ yaml: "server:\n  max_connections: 3\n" });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("refuses connection N+1 with a log line and a metric, and accepts again once one closes", async () => {
    const held = [await rawSocket(gw.port), await rawSocket(gw.port), await rawSocket(gw.port)];
    const heldOpen = held.map(() => true);
    for (const [i, s] of held.entries())
      s.once("close", () => {
        heldOpen[i] = false;
      });
    const extra = await rawSocket(gw.port);
    await within(extra, "close", "connection over the cap");
    expect(heldOpen).toEqual([true, true, true]);
    expect(gw.logs.some((l) => l.includes("connection refused: server.max_connections"))).toBe(true);

    held[0]?.destroy();
    let text = "";
    await poll(async () => {
      text = await get(gw.port, "/metrics");
      return true;
    }, "a new connection accepted after one closed");
    expect(metric(text, "llmgw_connections_refused_total")).toBeGreaterThanOrEqual(1);
    expect(metric(text, "llmgw_open_connections")).toBeGreaterThanOrEqual(1);
    for (const s of held) s.destroy();
  });
});

describe("server.* connection settings in the config", () => {
  const load = (yaml?: string) => {
    const argv: string[] = [];
    if (yaml !== undefined) {
      const file = join(mkdtempSync(join(tmpdir(), "llmgw-conn-")), "config.yaml");
      writeFileSync(file, yaml);
      argv.push("--config", file);
    }
    return loadConfig({ argv, env: {}, presets: presetInfo, implementedTypes });
  };

  it("has defaults for a gateway behind a load balancer", () => {
    expect(load().server.conn).toEqual({
      firstBytesTimeoutMs: 10_000,
      headersTimeoutMs: 30_000,
      requestTimeoutMs: 300_000,
      keepAliveTimeoutMs: 65_000,
      http2IdleTimeoutMs: 300_000,
      maxConnections: 10_000,
      http2MaxConcurrentStreams: 1000,
      http2MaxControlFramesPerS: 100,
    });
  });

  it("rejects settings Node could not honour, naming the field", () => {
    expect(() => load("server:\n  headers_timeout_ms: 60000\n  request_timeout_ms: 1000\n")).toThrow(
      /server.headers_timeout_ms \(60000\) must not exceed server.request_timeout_ms/,
    );
    expect(() => load("server:\n  keep_alive_timeout_ms: 9999999999\n")).toThrow(
      /server.keep_alive_timeout_ms/,
    );
    expect(() => load("server:\n  max_connections: 0\n")).toThrow(/max_connections/);
  });
});
