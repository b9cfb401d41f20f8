// Workers bench: calls per second of one gateway started with `--workers 1` and one with `--workers 2`
// (or the counts in WORKERS), under the same load, in interleaved rounds. The provider is the
// built-in mock (mock/echo: no upstream process competing for cores). Prints one JSON object on
// stdout; progress on stderr. Needs `npm run -s build` first (it runs dist/src/main.js, as
// `npm start` does) and Linux `taskset`.
//
//   npm run -s build && node --import tsx bench/workers.ts > workers.json
//
// Env: WORKERS (default "1,2"), ROUNDS (5), SECONDS per round (3), CONCURRENCY (32 keep-alive
// connections), FRESH=1 (one new connection per call: measures the primary's accept + hand-off
// too), LOAD_CORE (0), GATEWAY_CORES (every core but LOAD_CORE on 4+ cores, else every core),
// LOG_LEVEL (warn: a log line per call would be measured too), ENTRY (dist/src/main.js).
//
// What a 2-core machine can show: that 2 workers serve everything 1 worker does, that the primary
// stays out of the request path on keep-alive connections (it only accepts and hands over new
// ones: compare FRESH=1), and the cost of a second process competing with the load generator.
// What it cannot show: scaling. Two workers need two cores of their own plus one for the load
// generator; with the load on one of the gateway's two cores, a second worker mostly trades CPU
// with the load generator. Measure scaling on 4+ cores (or with the load from another machine).
import { type ChildProcess, spawn } from "node:child_process";
import { availableParallelism, loadavg } from "node:os";
import { Agent, Pool, request } from "undici";
import { throughputRounds } from "./measure.js";
import { freePort, pinSelf, RUNTIME_FLAGS } from "./procs.js";
import { median } from "./stats.js";

const env = process.env;
/** The gateways started (their workers exit with them: a cluster worker exits when its primary does). */
const gateways: ChildProcess[] = [];
const counts = (env["WORKERS"] ?? "1,2").split(",").map(Number);
const rounds = Number(env["ROUNDS"] ?? 5);
const seconds = Number(env["SECONDS"] ?? 3);
const concurrency = Number(env["CONCURRENCY"] ?? 32);
const fresh = env["FRESH"] === "1";
const cores = availableParallelism();
const loadCore = Number(env["LOAD_CORE"] ?? 0);
const allCores = Array.from({ length: cores }, (_, i) => i);
const gatewayCores =
  env["GATEWAY_CORES"] ?? (cores >= 4 ? allCores.filter((c) => c !== loadCore) : allCores).join(",");

/** ENTRY=src/main.ts runs the sources through tsx (a smoke run without a build; slower to start). */
const entry = env["ENTRY"] ?? "dist/src/main.js";
process.on("exit", () => {
  for (const g of gateways) if (g.exitCode === null) g.kill("SIGKILL");
});

const BODY = JSON.stringify({
  model: "mock/echo",
  messages: [{ role: "ROLE_USER", content: [{ text: "hi" }] }],
});
const PATH = "/llmgateway.v1.LLMService/Chat";
const HEADERS = { "content-type": "application/json", "connect-protocol-version": "1" };

/** Starts `node dist/src/main.js --workers n` on the gateway cores; resolves once every worker serves. */
async function startGateway(n: number): Promise<string> {
  const port = await freePort();
  const loader = entry.endsWith(".ts") ? ["--import", "tsx"] : [];
  const args = [...RUNTIME_FLAGS, ...loader, entry, "--workers", String(n), "--port", String(port)];
  const proc = spawn("taskset", ["-c", gatewayCores, process.execPath, ...args], {
    env: { PATH: env["PATH"] ?? "", LLMGW_LOG_LEVEL: env["LOG_LEVEL"] ?? "warn" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  gateways.push(proc);
  proc.once("exit", (code, signal) => {
    process.stderr.write(`gateway --workers ${n} exited (${signal ?? code})\n`);
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    try {
      const r = await request(`${url}/metrics`);
      const text = await r.body.text();
      const alive = /^llmgw_workers_scraped (\d+)/m.exec(text);
      // One worker: no supervisor (its metrics are the process's own); n workers: all answered.
      if (r.statusCode === 200 && (n === 1 || Number(alive?.[1]) === n)) return url;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`gateway --workers ${n} not ready after 120 s`);
}

function caller(url: string): () => Promise<unknown> {
  const pool = new Pool(url, { connections: concurrency, pipelining: 1 });
  const once = new Agent({ pipelining: 0 }); // a new connection per call (FRESH=1)
  return async () => {
    const res = fresh
      ? await request(`${url}${PATH}`, {
          method: "POST",
          headers: HEADERS,
          body: BODY,
          dispatcher: once,
        })
      : await pool.request({ path: PATH, method: "POST", headers: HEADERS, body: BODY });
    await res.body.arrayBuffer();
    if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
  };
}

async function main(): Promise<void> {
  pinSelf(loadCore);
  const load0 = loadavg()[0];
  process.stderr.write(
    `workers bench: ${counts.join(", ")} workers on cores ${gatewayCores}, load on ${loadCore}\n`,
  );
  const targets = [];
  for (const n of counts) targets.push({ name: `workers_${n}`, call: caller(await startGateway(n)) });
  const out = await throughputRounds(targets, { rounds, seconds, concurrency });
  const results: Record<string, { callsPerSec: number; rounds: number[]; errors: number }> = {};
  for (const [name, r] of out)
    results[name] = {
      callsPerSec: Math.round(median(r.rounds)),
      rounds: r.rounds.map(Math.round),
      errors: r.errors,
    };
  const base = results[`workers_${counts[0]}`]?.callsPerSec ?? 0;
  const ratios = Object.fromEntries(
    Object.entries(results).map(([k, v]) => [k, base ? Number((v.callsPerSec / base).toFixed(2)) : 0]),
  );
  console.log(
    JSON.stringify(
      {
        machine: { cores, gatewayCores, loadCore, loadAvg1mStart: load0, loadAvg1mEnd: loadavg()[0] },
        settings: { rounds, seconds, concurrency, fresh, model: "mock/echo", runtimeFlags: RUNTIME_FLAGS },
        results,
        ratioToFirst: ratios,
        note:
          cores < 4
            ? "fewer than 4 cores: the load generator shares the gateway's cores, so this shows overhead and parity, not scaling"
            : "the load generator has a core of its own",
      },
      null,
      2,
    ),
  );
}

main()
  .catch((e: unknown) => {
    process.stderr.write(`workers bench failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const g of gateways) if (g.exitCode === null) g.kill("SIGKILL");
    process.exit();
  });
