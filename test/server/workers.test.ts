// `--workers 2`: the real entry (`node --import tsx src/main.ts --workers 2`) as one primary and two
// workers on one port, with a throwaway Redis: calls reach both workers, one /metrics scrape sums
// them, a key's rpm holds across both, SIGHUP reloads both, a SIGKILLed worker loses only its own
// calls and is replaced, SIGTERM drains and exits 0.
import { createHash, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../helpers/wait.js";
import { type CallResult, chat, configFile, freePort, RedisServer } from "../limits/helpers.js";
import { Group, STARTUP_MS } from "./workers-group.js";

const TEN = `llmgw-workers-ten-${randomBytes(8).toString("hex")}`;
const FREE = `llmgw-workers-free-${randomBytes(8).toString("hex")}`;
const digest = (k: string) => createHash("sha256").update(k).digest("hex");

function yaml(redisUrl: string, aliases: string): string {
  return `
redis: { url: ${redisUrl}, command_timeout_ms: 2000 }
keys:
  - { name: ten, sha256: ${digest(TEN)}, limits: { rpm: 10 } }
  - { name: free, sha256: ${digest(FREE)} }
models:
${aliases}
logging: { level: info }
server: { shutdown_grace_ms: 8000 }
`;
}
const SMART = "  smart: { deployments: [{ target: mock/echo }] }";

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false, timeout: 10_000 }, (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString("utf8")));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on("error", reject);
  });
}

/** Sum of the series of `name` in a scrape whose labels contain `filter` (e.g. `pid="12"`). */
function metric(text: string, name: string, filter = ""): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (filter && !line.includes(filter)) continue;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

/** Served calls per worker pid, from llmgw_worker_calls_total. */
function perPid(text: string): Map<number, number> {
  const m = new Map<number, number>();
  for (const line of text.split("\n")) {
    const hit = /^llmgw_worker_calls_total\{.*pid="(\d+)".*\} (\d+)/.exec(line);
    if (hit) m.set(Number(hit[1]), Number(hit[2]));
  }
  return m;
}

async function scrape(g: Group): Promise<string> {
  const r = await get(`${g.url}/metrics`);
  expect(r.status).toBe(200);
  return r.body;
}

const free = { authorization: `Bearer ${FREE}` };

describe("--workers 2: one port, two gateway processes", () => {
  let redis: RedisServer;
  let g: Group;
  let config = "";
  let calls = 0;
  const call = async (model: string, headers: Record<string, string> = free): Promise<CallResult> => {
    calls++;
    return chat(g.url, model, headers);
  };

  beforeAll(async () => {
    redis = await RedisServer.start();
    config = configFile(yaml(redis.url, SMART));
    g = Group.start(await freePort(), config);
    await waitFor(() => g.lines("all workers listening").length === 1, {
      timeoutMs: STARTUP_MS,
      what: `both workers listening (output so far: ${g.out.slice(-2000)})`,
      everyMs: 200,
    });
  }, STARTUP_MS + 10_000);

  afterAll(async () => {
    if (g && g.proc.exitCode === null) {
      g.proc.kill("SIGKILL");
      await g.exited;
    }
    await redis?.kill();
  });

  it("serves calls from both workers and one scrape shows the sum over both", async () => {
    expect(g.lines("worker listening")).toHaveLength(2);
    for (let i = 0; i < 8; i++) expect((await call("smart")).status).toBe(200);
    const text = await scrape(g);
    const pids = perPid(text);
    expect(pids.size).toBe(2);
    for (const n of pids.values()) expect(n).toBeGreaterThan(0);
    expect([...pids.values()].reduce((a, b) => a + b, 0)).toBe(8);
    expect(metric(text, "llmgw_calls_total")).toBe(8);
    expect(metric(text, "llmgw_call_duration_seconds_count")).toBe(8);
    expect(metric(text, "llmgw_workers")).toBe(2);
    expect(metric(text, "llmgw_workers_alive")).toBe(2);
    expect(metric(text, "llmgw_redis_up")).toBe(1); // min over workers, not a sum
    // The group's calls were logged by two processes, each line naming its worker.
    await waitFor(() => g.lines("call").length === 8, { what: "8 call log lines" });
    expect(new Set(g.lines("call").map((l) => l["pid"]))).toEqual(new Set(pids.keys()));
  });

  it("a key with rpm 10 gets exactly 10 calls through both workers (Redis)", async () => {
    const before = perPid(await scrape(g));
    const results = await Promise.all(
      Array.from({ length: 30 }, () => call("mock/echo", { authorization: `Bearer ${TEN}` })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(10);
    for (const r of results.filter((x) => x.status !== 200)) expect(r.reason).toBe("RATE_LIMITED");
    const text = await scrape(g);
    const after = perPid(text);
    // Both workers decided calls of this key (30 fresh connections, handed round-robin).
    expect(metric(text, "llmgw_limiter_rejections_total")).toBe(20);
    expect(metric(text, "llmgw_calls_total")).toBe(calls);
    for (const [pid, n] of after) expect(n).toBeGreaterThan(before.get(pid) ?? 0);
  });

  it("SIGHUP reloads the config of both workers", async () => {
    expect((await call("smarter")).status).not.toBe(200);
    writeFileSync(config, yaml(redis.url, `${SMART}\n  smarter: { deployments: [{ target: mock/echo }] }`));
    g.proc.kill("SIGHUP");
    await waitFor(() => g.lines("config reloaded").length >= 2, {
      what: "both workers reloaded",
      timeoutMs: 30_000,
    });
    const before = perPid(await scrape(g));
    for (let i = 0; i < 6; i++) expect((await call("smarter")).status).toBe(200);
    const after = perPid(await scrape(g));
    for (const [pid, n] of after) expect(n).toBeGreaterThan(before.get(pid) ?? 0);
  });

  it("a worker SIGKILLed under load loses only its own calls; the supervisor starts a new one", async () => {
    const before = perPid(await scrape(g));
    const pids = [...before.keys()];
    const victim = pids[0] as number;
    const survivor = pids[1] as number;
    const inflight = Array.from({ length: 10 }, () =>
      call("mock/slow-3000").catch((e: unknown) => ({ status: -1, error: String(e) })),
    );
    await waitFor(async () => metric(await scrape(g), "llmgw_inflight_calls") === 10, {
      what: "10 calls in flight",
    });
    process.kill(victim, "SIGKILL");
    const results = await Promise.all(inflight);
    const ok = results.filter((r) => r.status === 200).length;
    const lost = results.filter((r) => r.status === -1).length;
    expect(ok + lost).toBe(10);
    expect(ok).toBeGreaterThan(0);
    expect(lost).toBeGreaterThan(0);
    // Exactly the survivor's calls succeeded.
    const mid = perPid(await scrape(g));
    expect((mid.get(survivor) ?? 0) - (before.get(survivor) ?? 0)).toBe(ok);
    calls -= lost; // never finished, never counted
    // The supervisor replaced the worker: a new pid joins and serves calls.
    await waitFor(() => g.lines("worker exited unexpectedly: restarting it").length === 1, {
      what: "the restart log line",
    });
    const fresh = await waitForNewPid(g, pids);
    await waitFor(
      async () => {
        // Two calls per scrape: connections go round-robin, so one call + one scrape would keep
        // landing the calls on the same worker.
        expect((await call("smart")).status).toBe(200);
        expect((await call("smart")).status).toBe(200);
        return (perPid(await scrape(g)).get(fresh) ?? 0) > 0;
      },
      { what: `the new worker ${fresh} serving a call`, timeoutMs: 30_000 },
    );
    const text = await scrape(g);
    expect(metric(text, "llmgw_worker_restarts_total")).toBe(1);
    expect(metric(text, "llmgw_workers_alive")).toBe(2);
  }, 180_000);

  it("SIGTERM drains both workers (a call in flight finishes) and the primary exits 0", async () => {
    const slow = call("mock/slow-2000");
    await waitFor(async () => metric(await scrape(g), "llmgw_inflight_calls") === 1, {
      what: "the call in flight",
    });
    g.proc.kill("SIGTERM");
    expect((await slow).status).toBe(200);
    expect(await g.exited).toBe(0);
    expect(g.lines("every worker has exited")).toHaveLength(1);
    // Each worker ran its own graceful shutdown. (Its last lines may be cut by its exit: pino writes async.)
    expect(new Set(g.lines("shutting down").map((l) => l["pid"])).size).toBe(2);
  }, 60_000);
});

/** Waits (a restarted worker takes a while to start here) until a pid not in `old` shows in a scrape. */
async function waitForNewPid(g: Group, old: number[]): Promise<number> {
  let fresh = 0;
  await waitFor(
    async () => {
      const started = g.lines("worker listening").map((l) => Number(l["pid"]));
      fresh = started.find((p) => !old.includes(p)) ?? 0;
      return fresh > 0;
    },
    { what: "a new worker listening", timeoutMs: STARTUP_MS, everyMs: 200 },
  );
  return fresh;
}
