// Real Redis servers and real gateway processes for the limiter and outage suites: a throwaway
// redis-server per test file on a free port (so it can be frozen or killed), gateways spawned as
// `node --import tsx src/main.ts --port P --config file`, and Connect JSON calls over node:http.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { connectJsonError, post, ROOT } from "../e2e/helpers.js";
import { WAIT_MS, waitFor as waitUntil } from "../helpers/wait.js";

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** Polls `check` (a throw counts as "not yet") for at least `ms`, failing with `what`. */
function waitFor(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  return waitUntil(check, { timeoutMs: Math.max(ms, WAIT_MS), what, everyMs: 50 });
}

/** A throwaway redis-server. */
export class RedisServer {
  proc: ChildProcess | undefined;
  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(port?: number): Promise<RedisServer> {
    const r = new RedisServer(port ?? (await freePort()));
    await r.spawn();
    return r;
  }

  async spawn(): Promise<void> {
    this.proc = spawn(
      "redis-server",
      ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      { stdio: "ignore" },
    );
    await waitFor(
      async () => {
        const c = new Redis(this.url, {
          lazyConnect: true,
          maxRetriesPerRequest: 0,
          retryStrategy: () => null,
        });
        c.on("error", () => {});
        try {
          await c.connect();
          return (await c.ping()) === "PONG";
        } finally {
          c.disconnect();
        }
      },
      5000,
      "redis-server",
    );
  }

  /** A plain client for inspecting the server. */
  client(): Redis {
    const c = new Redis(this.url, { maxRetriesPerRequest: 0 });
    c.on("error", () => {});
    return c;
  }

  freeze(): void {
    this.proc?.kill("SIGSTOP");
  }
  thaw(): void {
    this.proc?.kill("SIGCONT");
  }
  async kill(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once("exit", r));
    p.kill("SIGCONT");
    p.kill("SIGKILL");
    await exited;
    this.proc = undefined;
  }
}

/** A YAML config in a temp file. */
export function configFile(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), "llmgw-limits-"));
  const file = join(dir, "config.yaml");
  writeFileSync(file, yaml);
  return file;
}

/** A gateway in its own process, with its stdout/stderr captured. */
export class GatewayProcess {
  readonly logs: string[] = [];
  constructor(
    readonly proc: ChildProcess,
    readonly url: string,
    /** The config file it was started with (rewrite it, then SIGHUP, to reload). */
    readonly configPath: string,
  ) {}

  static async start(yaml: string, env: Record<string, string> = {}): Promise<GatewayProcess> {
    const port = await freePort();
    const configPath = configFile(yaml);
    const proc = spawn(
      process.execPath,
      ["--import", "tsx", "src/main.ts", "--port", String(port), "--config", configPath],
      {
        cwd: ROOT,
        env: { PATH: process.env["PATH"] ?? "", ...env },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const g = new GatewayProcess(proc, `http://127.0.0.1:${port}`, configPath);
    for (const s of [proc.stdout, proc.stderr]) s?.on("data", (b: Buffer) => g.logs.push(b.toString("utf8")));
    await waitFor(async () => g.logs.join("").includes('"listening"'), 60_000, "gateway process");
    return g;
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const exited = new Promise((r) => this.proc.once("exit", r));
    this.proc.kill("SIGTERM");
    await exited;
  }
}

/** The outcome of one Connect JSON Chat call. */
export interface CallResult {
  status: number;
  ms: number;
  headers: Record<string, string | string[] | undefined>;
  code?: string;
  reason?: string;
  retryMs?: number;
  body: string;
}

/** One Connect JSON Chat call (HTTP/1.1, fresh connection). */
export async function chat(
  url: string,
  model: string,
  headers: Record<string, string> = {},
  text = "hi",
): Promise<CallResult> {
  const body = JSON.stringify({ model, messages: [{ role: "ROLE_USER", content: [{ text }] }] });
  const t0 = performance.now();
  const r = await post(url, "/llmgateway.v1.LLMService/Chat", body, {
    "content-type": "application/json",
    ...headers,
  });
  const out: CallResult = { status: r.status, ms: performance.now() - t0, headers: r.headers, body: r.body };
  if (r.status !== 200) {
    const e = connectJsonError(r.body);
    out.code = e.code;
    out.reason = e.errorInfo?.reason;
    const d = e.retryInfo?.retryDelay;
    if (d) out.retryMs = Number(d.seconds) * 1000 + d.nanos / 1e6;
  }
  return out;
}

/** Every key and value in a Redis, as text (hashes, sorted sets, strings, lists, sets). */
export async function dumpRedis(c: Redis): Promise<string> {
  let out = "";
  let cursor = "0";
  do {
    const [next, keys] = await c.scan(cursor, "COUNT", 1000);
    cursor = next;
    for (const k of keys) {
      const type = await c.type(k);
      let v: unknown;
      if (type === "hash") v = await c.hgetall(k);
      else if (type === "zset") v = await c.call("ZRANGE", k, "0", "-1", "WITHSCORES");
      else if (type === "string") v = await c.get(k);
      else if (type === "list") v = await c.lrange(k, 0, -1);
      else if (type === "set") v = await c.smembers(k);
      out += `${k} ${JSON.stringify(v)}\n`;
    }
  } while (cursor !== "0");
  return out;
}
