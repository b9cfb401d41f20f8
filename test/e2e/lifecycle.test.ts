// End-to-end: deadlines, stream failures, upstream errors and fallbacks through real clients, and the
// gateway's lifecycle — in-process graceful shutdown and the real entry point as a child process.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorInfoSchema, RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { LLMService, ServingStatus } from "../../gen/llmgateway/v1/llm_pb.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { ClientConnections, chatReq, collect, deltaText, post, ROOT, textOf } from "./helpers.js";

type LlmClient = ReturnType<typeof createClient<typeof LLMService>>;

/** The ConnectError a call failed with (or undefined when it succeeded). */
const failure = (p: Promise<unknown>): Promise<ConnectError | undefined> =>
  p.then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );

const reasonOf = (e: ConnectError | undefined): string | undefined =>
  e?.findDetails(ErrorInfoSchema)[0]?.reason;

// One gateway with a short stream idle timeout, shared by the failure-mode suites.
let gw: TestGateway;
const conns = new ClientConnections();

beforeAll(async () => {
  gw = await startGateway({ yaml: "defaults:\n  timeouts:\n    idle_ms: 300\n" });
});

afterAll(async () => {
  conns.close();
  await gw?.close();
});

const transports: { name: string; make: (url: string) => Transport }[] = [
  {
    name: "Connect / HTTP/1.1",
    make: (baseUrl) =>
      createConnectTransport({ baseUrl, httpVersion: "1.1", nodeOptions: { agent: conns.agent() } }),
  },
  {
    name: "gRPC / HTTP/2",
    make: (baseUrl) => createGrpcTransport({ baseUrl, sessionManager: conns.h2(baseUrl) }),
  },
  {
    name: "gRPC-Web / HTTP/2",
    make: (baseUrl) =>
      createGrpcWebTransport({ baseUrl, httpVersion: "2", sessionManager: conns.h2(baseUrl) }),
  },
];

describe.each(transports)("failure modes over $name", ({ make }) => {
  let client: LlmClient;

  beforeAll(() => {
    client = createClient(LLMService, make(gw.url));
  });

  it("a 300 ms deadline on mock/slow-5000 fails DEADLINE_EXCEEDED long before 5 s, and the call is released", async () => {
    const t0 = performance.now();
    const err = await failure(client.chat(chatReq("mock/slow-5000", "late"), { timeoutMs: 300 }));
    const ms = performance.now() - t0;
    expect(err?.code).toBe(Code.DeadlineExceeded);
    expect(ms).toBeGreaterThanOrEqual(250);
    expect(ms).toBeLessThan(3000);
    // The gateway stopped waiting on the upstream too: nothing stays in flight.
    await expect.poll(() => gw.app.gateway.inFlight, { timeout: 10_000 }).toBe(0);
  });

  it("a stalled stream (mock/stall) fails UNAVAILABLE / UPSTREAM_STREAM_INTERRUPTED after start and a delta, no end", async () => {
    const t0 = performance.now();
    const { events, error } = await collect(client.chatStream(chatReq("mock/stall", "never finishes")));
    const ms = performance.now() - t0;
    const kinds = events.map((e) => e.event.case);
    expect(kinds.slice(0, 2)).toEqual(["start", "delta"]);
    expect(kinds).not.toContain("end");
    const err = ConnectError.from(error);
    expect(err.code).toBe(Code.Unavailable);
    expect(reasonOf(err)).toBe("UPSTREAM_STREAM_INTERRUPTED");
    expect(ms).toBeGreaterThanOrEqual(250); // idle_ms: 300
    expect(ms).toBeLessThan(5000);
  });

  it("a cut stream (mock/cut) fails with no end", async () => {
    const { events, error } = await collect(client.chatStream(chatReq("mock/cut", "cut me off")));
    const kinds = events.map((e) => e.event.case);
    expect(kinds[0]).toBe("start");
    expect(kinds).toContain("delta");
    expect(kinds).not.toContain("end");
    expect(deltaText(events)).not.toBe("echo: cut me off");
    const err = ConnectError.from(error);
    expect(err.code).toBe(Code.Unavailable);
    expect(reasonOf(err)).toBe("UPSTREAM_STREAM_INTERRUPTED");
  });

  it("mock/error-503 -> UNAVAILABLE / UPSTREAM_UNAVAILABLE (Chat, and ChatStream before any event)", async () => {
    const err = await failure(client.chat(chatReq("mock/error-503", "x")));
    expect(err?.code).toBe(Code.Unavailable);
    const info = err?.findDetails(ErrorInfoSchema)[0];
    expect(info).toMatchObject({ reason: "UPSTREAM_UNAVAILABLE", domain: "llmgateway" });
    expect(info?.metadata["upstream_status"]).toBe("503");
    const { events, error } = await collect(client.chatStream(chatReq("mock/error-503", "x")));
    expect(events).toEqual([]);
    expect(reasonOf(ConnectError.from(error))).toBe("UPSTREAM_UNAVAILABLE");
  });

  it("mock/error-429 -> RESOURCE_EXHAUSTED / UPSTREAM_RATE_LIMITED with RetryInfo", async () => {
    const err = await failure(client.chat(chatReq("mock/error-429", "x")));
    expect(err?.code).toBe(Code.ResourceExhausted);
    expect(reasonOf(err)).toBe("UPSTREAM_RATE_LIMITED");
    const retry = err?.findDetails(RetryInfoSchema)[0];
    expect(retry?.retryDelay).toBeDefined();
    const delayMs = Number(retry?.retryDelay?.seconds ?? 0n) * 1000 + (retry?.retryDelay?.nanos ?? 0) / 1e6;
    expect(delayMs).toBe(1000);
  });

  it("fallback_models: mock/error-500 falls back to mock/echo, with both attempts in the trail", async () => {
    const res = await client.chat(chatReq("mock/error-500", "rescued", { fallbackModels: ["mock/echo"] }));
    expect(textOf(res.message?.content)).toBe("echo: rescued");
    expect(res.model).toBe("mock/echo");
    expect(res.provider).toBe("mock");
    const trail = res.gateway?.attemptTrail ?? [];
    // error-500 is retried (max_attempts 3) while its retry budget allows, then falls back.
    expect(trail.length).toBeGreaterThanOrEqual(2);
    expect(trail.length).toBeLessThanOrEqual(4);
    expect(res.gateway?.attempts).toBe(trail.length);
    for (const a of trail.slice(0, -1)) expect(a.deployment).toBe("mock/error-500");
    expect(trail[0]?.outcome).not.toBe("ok");
    expect(trail[0]?.outcome).toMatch(/unavailable/i);
    expect(trail.at(-1)).toMatchObject({ deployment: "mock/echo", outcome: "ok" });
  });

  it("fallback_models on ChatStream: the stream starts on the fallback", async () => {
    const { events, error } = await collect(
      client.chatStream(chatReq("mock/error-500", "streamed rescue", { fallbackModels: ["mock/echo"] })),
    );
    expect(error).toBeUndefined();
    const start = events[0]?.event;
    expect(start?.case === "start" && start.value.model).toBe("mock/echo");
    expect(deltaText(events)).toBe("echo: streamed rescue");
    const end = events.at(-1)?.event;
    if (end?.case !== "end") throw new Error("no end");
    const tried = end.value.gateway?.attemptTrail.map((a) => a.deployment) ?? [];
    expect(tried.at(-1)).toBe("mock/echo");
    expect(tried.length).toBeGreaterThanOrEqual(2);
    for (const t of tried.slice(0, -1)) expect(t).toBe("mock/error-500");
  });

  it("a fallback_models entry naming an unknown provider -> NOT_FOUND / MODEL_NOT_FOUND", async () => {
    const err = await failure(client.chat(chatReq("mock/echo", "x", { fallbackModels: ["nope/x"] })));
    expect(err?.code).toBe(Code.NotFound);
    const info = err?.findDetails(ErrorInfoSchema)[0];
    expect(info?.reason).toBe("MODEL_NOT_FOUND");
    expect(info?.metadata["provider"]).toBe("nope");
    expect(err?.rawMessage).toContain("fallback_models[0]");
  });
});

describe("mock/flaky-1 with fallback_models", () => {
  it("the first failure is absorbed: the answer arrives and the trail ends in ok", async () => {
    const client = createClient(
      LLMService,
      createConnectTransport({ baseUrl: gw.url, httpVersion: "1.1", nodeOptions: { agent: conns.agent() } }),
    );
    const res = await client.chat(chatReq("mock/flaky-1", "flaky", { fallbackModels: ["mock/echo"] }));
    expect(textOf(res.message?.content)).toBe("echo: flaky");
    const trail = res.gateway?.attemptTrail ?? [];
    expect(trail.length).toBeGreaterThanOrEqual(2);
    expect(trail[0]).toMatchObject({ deployment: "mock/flaky-1" });
    expect(trail[0]?.outcome).not.toBe("ok");
    expect(trail.at(-1)?.outcome).toBe("ok");
  });
});

// --- graceful shutdown, in process --------------------------------------------------------------

describe("graceful shutdown (in process)", () => {
  it("finishes the in-flight call, refuses new ones, and reports NOT_SERVING meanwhile", async () => {
    const g = await startGateway();
    const local = new ClientConnections();
    try {
      const h2client = createClient(
        LLMService,
        createConnectTransport({ baseUrl: g.url, httpVersion: "2", sessionManager: local.h2(g.url) }),
      );
      // A client that opens a new connection per call (no keep-alive).
      const freshConn = createClient(
        LLMService,
        createConnectTransport({
          baseUrl: g.url,
          httpVersion: "1.1",
          nodeOptions: { agent: new http.Agent({ keepAlive: false }) },
        }),
      );
      expect((await h2client.health({})).status).toBe(ServingStatus.SERVING);

      const inflight = h2client.chat(chatReq("mock/slow-800", "drain me"));
      await expect.poll(() => g.app.gateway.inFlight, { timeout: 2000 }).toBe(1);
      const stopped = g.app.shutdown(5000);

      // A new connection is refused (the listener is closed)...
      const refused = await failure(freshConn.chat(chatReq("mock/echo", "too late")));
      expect(refused?.code).toBe(Code.Unavailable);
      // ...and a call on the already-open session is turned away by the draining gateway.
      const turnedAway = await failure(h2client.chat(chatReq("mock/echo", "too late")));
      expect(turnedAway?.code).toBe(Code.Unavailable);
      expect(reasonOf(turnedAway)).toBe("SHUTTING_DOWN");
      expect((await h2client.health({})).status).toBe(ServingStatus.NOT_SERVING);

      const res = await inflight;
      expect(textOf(res.message?.content)).toBe("echo: drain me");
      // Close our idle session: shutdown waits for client connections to go (see the report's bug).
      local.close();
      await stopped;
      expect(g.logs.some((l) => l.includes('"shutting down"'))).toBe(true);
      expect(g.logs.some((l) => l.includes('"stopped"'))).toBe(true);
      expect(g.logs.some((l) => l.includes("grace period over"))).toBe(false);
    } finally {
      local.close();
      await g.app.shutdown(100);
    }
  });

  // Regression: shutdown once awaited net.Server#close(), which waits for every client connection
  // (idle HTTP/2 sessions, keep-alive sockets) to end, so an idle client stalled it indefinitely.
  it("shutdown completes within the grace period while an idle HTTP/2 client stays connected", async () => {
    const g = await startGateway();
    const local = new ClientConnections();
    try {
      const client = createClient(
        LLMService,
        createConnectTransport({ baseUrl: g.url, httpVersion: "2", sessionManager: local.h2(g.url) }),
      );
      await client.health({});
      const done = g.app.shutdown(300).then(() => "stopped");
      const winner = await Promise.race([
        done,
        new Promise((r) => setTimeout(() => r("still running"), 10_000)), // a hang, not a busy machine
      ]);
      expect(winner).toBe("stopped");
    } finally {
      local.close();
      await g.app.shutdown(100);
    }
  });
});

// --- the real entry point as a child process ----------------------------------------------------

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

interface Child {
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startChild(args: string[], env: Record<string, string> = {}): Child {
  const proc = spawn(process.execPath, ["--import", "tsx", "src/main.ts", ...args], {
    cwd: ROOT,
    // A clean environment: zero config (mock provider only), no keys from the outer shell.
    env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? tmpdir(), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  proc.stdout?.on("data", (c: Buffer) => {
    out += c.toString("utf8");
  });
  proc.stderr?.on("data", (c: Buffer) => {
    err += c.toString("utf8");
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return { proc, stdout: () => out, stderr: () => err, exited };
}

/** Resolves with the exit, or rejects after `ms` (and kills the child). */
async function exitWithin(
  child: Child,
  ms: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      child.proc.kill("SIGKILL");
      reject(
        new Error(`child did not exit within ${ms} ms; stdout: ${child.stdout()} stderr: ${child.stderr()}`),
      );
    }, ms);
  });
  try {
    return await Promise.race([child.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe("the real entry point (node --import tsx src/main.ts)", () => {
  const children: Child[] = [];

  afterAll(() => {
    for (const c of children)
      if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill("SIGKILL");
  });

  it("serves, then on SIGTERM logs 'shutting down' and exits 0", async () => {
    const port = await freePort();
    const child = startChild(["--port", String(port)]);
    children.push(child);
    // Wait for the port, not for the "listening" line: the logger buffers up to 4 KB before writing.
    await expect.poll(() => canConnect(port), { timeout: 20_000, interval: 100 }).toBe(true);

    const url = `http://127.0.0.1:${port}`;
    const res = await post(
      url,
      "/llmgateway.v1.LLMService/Chat",
      JSON.stringify({ model: "mock/echo", messages: [{ role: "ROLE_USER", content: [{ text: "child" }] }] }),
    );
    expect(res.status).toBe(200);
    expect(res.body).toContain("echo: child");

    child.proc.kill("SIGTERM");
    const { code } = await exitWithin(child, 10_000);
    expect(code).toBe(0);
    expect(child.stdout()).toContain('"listening"');
    expect(child.stdout()).toContain('"shutting down"');
    expect(child.stdout()).toContain('"stopped"');
  });

  it("calls an HTTPS upstream whose CA comes from NODE_EXTRA_CA_CERTS (TLS verified, key sent)", async () => {
    const tls = path.join(ROOT, "test/fixtures/tls");
    const seen: { auth?: string; model?: string }[] = [];
    const upstream = https.createServer(
      { key: readFileSync(path.join(tls, "key.pem")), cert: readFileSync(path.join(tls, "cert.pem")) },
      (req, res) => {
        let body = "";
        req.on("data", (c: Buffer) => {
          body += c.toString("utf8");
        });
        req.on("end", () => {
          seen.push({
            auth: req.headers.authorization,
            model: (JSON.parse(body) as { model: string }).model,
          });
          res.setHeader("content-type", "application/json");
          res.end(
            JSON.stringify({
              id: "chatcmpl-tls",
              object: "chat.completion",
              created: 1,
              model: "gpt-4o-mini",
              choices: [
                { index: 0, message: { role: "assistant", content: "over tls" }, finish_reason: "stop" },
              ],
              usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
            }),
          );
        });
      },
    );
    upstream.listen(0, "127.0.0.1");
    await once(upstream, "listening");
    const upPort = (upstream.address() as net.AddressInfo).port;
    const port = await freePort();
    const child = startChild(["--port", String(port)], {
      NODE_EXTRA_CA_CERTS: path.join(tls, "cert.pem"),
      OPENAI_API_KEY: "sk-tls-test",
      OPENAI_BASE_URL: `https://localhost:${upPort}/v1`,
    });
    children.push(child);
    try {
      await expect.poll(() => canConnect(port), { timeout: 20_000, interval: 100 }).toBe(true);
      const res = await post(
        `http://127.0.0.1:${port}`,
        "/llmgateway.v1.LLMService/Chat",
        JSON.stringify({
          model: "openai/gpt-4o-mini",
          messages: [{ role: "ROLE_USER", content: [{ text: "hi" }] }],
        }),
      );
      expect(res.status).toBe(200);
      expect(res.body).toContain("over tls");
      expect(seen).toEqual([{ auth: "Bearer sk-tls-test", model: "gpt-4o-mini" }]);
    } finally {
      child.proc.kill("SIGKILL");
      upstream.closeAllConnections();
      upstream.close();
    }
  });

  it("a bad config file exits non-zero naming server.port on stderr", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "llmgw-e2e-"));
    const file = path.join(dir, "bad.yaml");
    writeFileSync(file, 'server:\n  port: "x"\n');
    const child = startChild(["--config", file]);
    children.push(child);
    const { code } = await exitWithin(child, 20_000);
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expect(child.stderr()).toContain("server.port");
  });
});
