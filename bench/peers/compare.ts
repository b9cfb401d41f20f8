// `npm run bench:peers` (see README.md here): the REST door against a peer gateway (Portkey), both
// in front of the same zero-latency upstream, through the same client code. Prints a table on
// stderr and one JSON object on stdout: sequential overhead over direct (unary, first stream byte)
// and throughput at 32 connections, absolute and as ratios to Portkey.
import { execFileSync } from "node:child_process";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { Pool } from "undici";
import { interleavedRounds, type RoundResults, throughput, timed } from "../measure.js";
import { freePort, killAll, pinSelf, startPinned, waitReady } from "../procs.js";
import { median, ms } from "../stats.js";

const ROUNDS = 10;
const UNARY_CALLS = 300;
const STREAM_CALLS = 200;
const CONCURRENCY = 32;
const SECONDS = 5;
const CALL_TIMEOUT_MS = 10_000;
const EXPECTED_TEXT = "Hello! How can I help?";
/** The targets: overhead at most a fifth of Portkey's, throughput at least 8x. */
const MAX_OVERHEAD_RATIO = 0.2;
const MIN_THROUGHPUT_RATIO = 8;

const root = fileURLToPath(new URL("../..", import.meta.url));
const log = (msg: string) => process.stderr.write(`bench:peers: ${msg}\n`);
const url = (port: number) => `http://127.0.0.1:${port}`;
const PORTKEY = `${root}bench/peers/node_modules/@portkey-ai/gateway/build/start-server.js`;

type Headers = Record<string, string>;
/** One target: where to send, with which headers and bodies (the same question for all). */
interface Target {
  name: string;
  port: number;
  pool: Pool;
  headers: Headers;
  unary: string;
  stream: string;
}

const question = [{ role: "user", content: "hello" }];
const bodies = (model: string) => ({
  unary: JSON.stringify({ model, messages: question }),
  stream: JSON.stringify({
    model,
    messages: question,
    stream: true,
    stream_options: { include_usage: true },
  }),
});

/** A unary POST /v1/chat/completions: the same undici code for every target. */
function unary(t: Target, pool = t.pool): () => Promise<Buffer> {
  const headers = { "content-type": "application/json", authorization: "Bearer x", ...t.headers };
  return async () => {
    const res = await pool.request({ path: "/v1/chat/completions", method: "POST", headers, body: t.unary });
    const bytes = Buffer.from(await res.body.arrayBuffer());
    if (res.statusCode !== 200)
      throw new Error(`${t.name}: HTTP ${res.statusCode}: ${bytes.toString("utf8")}`);
    return bytes;
  };
}

/** A streamed call: ms until the first body byte (the rest is drained). */
function firstByte(t: Target): () => Promise<number> {
  const headers = { "content-type": "application/json", authorization: "Bearer x", ...t.headers };
  return async () => {
    const t0 = performance.now();
    const res = await t.pool.request({
      path: "/v1/chat/completions",
      method: "POST",
      headers,
      body: t.stream,
    });
    let first = -1;
    for await (const _ of res.body) if (first < 0) first = performance.now() - t0;
    if (res.statusCode !== 200 || first < 0) throw new Error(`${t.name}: HTTP ${res.statusCode}, no body`);
    return first;
  };
}

function summarize(results: RoundResults, base: string): Record<string, Record<string, number>> {
  const b = results.get(base);
  const out: Record<string, Record<string, number>> = {};
  for (const [name, r] of results) {
    const row: Record<string, number> = { p50Ms: ms(median(r.p50)), p99Ms: ms(median(r.p99)) };
    if (b && name !== base) {
      row["overheadP50Ms"] = ms(median(r.p50.map((x, i) => x - (b.p50[i] ?? 0))));
      row["overheadP99Ms"] = ms(median(r.p99.map((x, i) => x - (b.p99[i] ?? 0))));
    }
    out[name] = row;
  }
  return out;
}

const ratio = (a: number | undefined, b: number | undefined) =>
  a !== undefined && b !== undefined && b !== 0 ? Math.round((a / b) * 1000) / 1000 : Number.NaN;

async function main(): Promise<void> {
  pinSelf(0);
  const loadAtStart = os.loadavg()[0] ?? 0;
  log("building the gateway (npm run build)");
  execFileSync("npm", ["run", "-s", "build"], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
  const [upPort, pkPort, gwPort] = [await freePort(), await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/_API_KEY$|_BASE_URL$|^LLMGW_/.test(k)) env[k] = v;
  log("starting upstream (core 0), Portkey and the gateway (core 1)");
  const upstream = startPinned("upstream", 0, `${root}bench/upstream.ts`, ["--port", String(upPort)]);
  const portkey = startPinned("portkey", 1, PORTKEY, [`--port=${pkPort}`, "--headless"], {
    ...env,
    NODE_ENV: "production",
  });
  const gateway = startPinned(
    "gateway",
    1,
    `${root}dist/src/main.js`,
    ["--port", String(gwPort), "--log-level", "warn"],
    { ...env, OPENAI_API_KEY: "x", OPENAI_BASE_URL: `${url(upPort)}/v1` },
  );
  const pool = (port: number, connections: number) =>
    new Pool(url(port), {
      connections,
      pipelining: 1,
      headersTimeout: CALL_TIMEOUT_MS,
      bodyTimeout: CALL_TIMEOUT_MS,
    });
  const targets: Target[] = [
    { name: "direct", port: upPort, pool: pool(upPort, 1), headers: {}, ...bodies("gpt-4o-mini") },
    {
      name: "portkey",
      port: pkPort,
      pool: pool(pkPort, 1),
      headers: { "x-portkey-provider": "openai", "x-portkey-custom-host": `${url(upPort)}/v1` },
      ...bodies("gpt-4o-mini"),
    },
    {
      name: "gateway_rest",
      port: gwPort,
      pool: pool(gwPort, 1),
      headers: {},
      ...bodies("openai/gpt-4o-mini"),
    },
  ];
  const children = [upstream, portkey, gateway];
  for (let i = 0; i < targets.length; i++) {
    const t = targets[i] as Target;
    const call = unary(t);
    await waitReady(children[i] as (typeof children)[number], async () =>
      (await call()).includes(EXPECTED_TEXT),
    );
  }

  log("unary: sequential calls, interleaved rounds");
  const u = await interleavedRounds(
    targets.map((t) => timed(t.name, unary(t))),
    { rounds: ROUNDS, calls: UNARY_CALLS, warmup: 200, label: "unary" },
  );
  log("stream: time to first byte, interleaved rounds");
  const s = await interleavedRounds(
    targets.map((t) => ({ name: t.name, run: firstByte(t) })),
    { rounds: ROUNDS, calls: STREAM_CALLS, warmup: 100, label: "first byte" },
  );
  const tput: Record<string, { callsPerSec: number; errors: number }> = {};
  for (const t of targets) {
    log(`throughput: ${t.name}, ${CONCURRENCY} connections, ${SECONDS} s`);
    const p = pool(t.port, CONCURRENCY);
    const r = await throughput(unary(t, p), CONCURRENCY, SECONDS);
    tput[t.name] = { callsPerSec: Math.round(r.callsPerSec), errors: r.errors };
    await p.close();
  }

  const unarySum = summarize(u, "direct");
  const streamSum = summarize(s, "direct");
  const ov = (sum: typeof unarySum, name: string, k: string) => sum[name]?.[k];
  const result = {
    when: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model,
      node: process.version,
      loadAvg1mStart: loadAtStart,
      loadAvg1mEnd: os.loadavg()[0],
    },
    unary: unarySum,
    firstStreamByte: streamSum,
    throughput: tput,
    ratios: {
      unaryOverheadP50VsPortkey: ratio(
        ov(unarySum, "gateway_rest", "overheadP50Ms"),
        ov(unarySum, "portkey", "overheadP50Ms"),
      ),
      unaryOverheadP99VsPortkey: ratio(
        ov(unarySum, "gateway_rest", "overheadP99Ms"),
        ov(unarySum, "portkey", "overheadP99Ms"),
      ),
      firstByteOverheadP50VsPortkey: ratio(
        ov(streamSum, "gateway_rest", "overheadP50Ms"),
        ov(streamSum, "portkey", "overheadP50Ms"),
      ),
      firstByteOverheadP99VsPortkey: ratio(
        ov(streamSum, "gateway_rest", "overheadP99Ms"),
        ov(streamSum, "portkey", "overheadP99Ms"),
      ),
      throughputVsPortkey: ratio(tput["gateway_rest"]?.callsPerSec, tput["portkey"]?.callsPerSec),
    },
    targets: { maxOverheadRatio: MAX_OVERHEAD_RATIO, minThroughputRatio: MIN_THROUGHPUT_RATIO },
  };
  const checks = {
    unaryOverhead: result.ratios.unaryOverheadP50VsPortkey <= MAX_OVERHEAD_RATIO,
    firstByteOverhead: result.ratios.firstByteOverheadP50VsPortkey <= MAX_OVERHEAD_RATIO,
    throughput: result.ratios.throughputVsPortkey >= MIN_THROUGHPUT_RATIO,
  };
  const row = (name: string) =>
    `| ${name.padEnd(12)} | ${String(unarySum[name]?.["p50Ms"]).padStart(7)} | ${String(unarySum[name]?.["p99Ms"]).padStart(7)} | ${String(unarySum[name]?.["overheadP50Ms"] ?? "-").padStart(7)} | ${String(unarySum[name]?.["overheadP99Ms"] ?? "-").padStart(7)} | ${String(streamSum[name]?.["p50Ms"]).padStart(7)} | ${String(streamSum[name]?.["overheadP50Ms"] ?? "-").padStart(7)} | ${String(tput[name]?.callsPerSec).padStart(7)} |`;
  process.stderr.write(
    [
      "",
      "| target       | p50 ms  | p99 ms  | +p50 ms | +p99 ms | 1st B50 | +1st B  | calls/s |",
      "|--------------|---------|---------|---------|---------|---------|---------|---------|",
      ...targets.map((t) => row(t.name)),
      "",
      `gateway/portkey: unary overhead p50 ${result.ratios.unaryOverheadP50VsPortkey}, first byte ${result.ratios.firstByteOverheadP50VsPortkey}, throughput ${result.ratios.throughputVsPortkey}x`,
      "",
    ].join("\n"),
  );
  process.stdout.write(`${JSON.stringify({ ...result, checks }, null, 2)}\n`);
  for (const t of targets) await t.pool.close();
}

main()
  .catch((e: unknown) => {
    log(`failed: ${e instanceof Error ? e.stack : String(e)}`);
    process.exitCode = 1;
  })
  .finally(killAll);
