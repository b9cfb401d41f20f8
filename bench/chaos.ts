// `npm run bench:chaos`: N calls at fixed concurrency through the gateway to one model with two
// deployments, one of which injects 30% mixed faults (503, 429 + retry-after-ms, connection resets,
// stalls). Prints success rate (target 100%), p50/p99 latency and upstream calls per client call.
// A benchmark, not a test: it always exits 0 once it has measured. Flags: --calls N --concurrency C.
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import os, { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { LLMService, Role } from "../gen/llmgateway/v1/llm_pb.js";
import { loadConfig } from "../src/config/index.js";
import { parseFlags } from "../src/config/load.js";
import { createLogger } from "../src/lib/logger.js";
import { implementedTypes, presetInfo } from "../src/providers/index.js";
import { startApp } from "../src/server/app.js";
import { ms, p50p99 } from "./stats.js";

const flags = parseFlags(process.argv.slice(2));
const CALLS = Number(flags.get("calls") ?? 2000);
const CONCURRENCY = Number(flags.get("concurrency") ?? 32);
const STREAM_SHARE = 0.2;
const FAULT_RATE = 0.3;
const log = (msg: string) => process.stderr.write(`chaos: ${msg}\n`);

type Fault = "ok" | "503" | "429" | "reset" | "stall";
const counts = {
  good: 0,
  flaky: 0,
  faults: { "503": 0, "429": 0, reset: 0, stall: 0 } as Record<string, number>,
};

function pickFault(): Fault {
  const r = Math.random();
  if (r >= FAULT_RATE) return "ok";
  const kinds: Fault[] = ["503", "429", "reset", "stall"];
  return kinds[Math.floor((r / FAULT_RATE) * kinds.length)] ?? "503";
}

function answer(res: ServerResponse, stream: boolean): void {
  if (!stream) {
    const body = JSON.stringify({
      id: "chatcmpl-chaos",
      object: "chat.completion",
      created: 0,
      model: "m",
      choices: [{ index: 0, message: { role: "assistant", content: "Hello!" }, finish_reason: "stop" }],
      usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
    });
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  const chunk = (delta: object, finish: string | null) =>
    `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 0, model: "m", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  res.writeHead(200, { "content-type": "text/event-stream" });
  res.write(chunk({ role: "assistant", content: "Hello" }, null));
  res.write(chunk({ content: "!" }, null));
  res.write(chunk({}, "stop"));
  res.write(
    `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 0, model: "m", choices: [], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } })}\n\n`,
  );
  res.end("data: [DONE]\n\n");
}

/** The two upstreams on one port: /good/v1 always answers, /flaky/v1 fails 30% of calls. */
async function startUpstream(): Promise<{ port: number; close: () => void }> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const stream = Buffer.concat(chunks).toString("utf8").includes('"stream":true');
      const flaky = (req.url ?? "").startsWith("/flaky/");
      const latency = 5 + Math.random() * 10;
      if (flaky) counts.flaky++;
      else counts.good++;
      const fault = flaky ? pickFault() : "ok";
      if (fault !== "ok") counts.faults[fault] = (counts.faults[fault] ?? 0) + 1;
      setTimeout(() => {
        const err = (status: number, headers: Record<string, string> = {}) => {
          const body = JSON.stringify({
            error: { message: "chaos", type: "server_error", param: null, code: null },
          });
          res.writeHead(status, { "content-type": "application/json", ...headers });
          res.end(body);
        };
        if (fault === "503") err(503);
        else if (fault === "429") err(429, { "retry-after-ms": "100" });
        else if (fault === "reset") req.socket.destroy();
        else if (fault === "stall")
          return; // never answers; the gateway's attempt timeout must act
        else answer(res, stream);
      }, latency);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

async function main(): Promise<void> {
  const up = await startUpstream();
  const base = `http://127.0.0.1:${up.port}`;
  const yaml = `
providers:
  good: { type: openai, base_url: "${base}/good/v1", api_key: k }
  flaky: { type: openai, base_url: "${base}/flaky/v1", api_key: k }
models:
  chaos:
    deployments: [{ target: flaky/m, weight: 1 }, { target: good/m, weight: 1 }]
    strategy: weighted
defaults:
  timeouts: { attempt_ms: 300, first_token_ms: 300, request_ms: 10000 }
  retries: { max_attempts: 3, base_ms: 20, max_ms: 1000, budget_pct: 20 }
`;
  const file = join(mkdtempSync(join(tmpdir(), "llmgw-chaos-")), "config.yaml");
  writeFileSync(file, yaml);
  const config = loadConfig({
    argv: ["--port", "0", "--config", file],
    env: {},
    presets: presetInfo,
    implementedTypes,
  });
  const app = await startApp(config, createLogger("silent"));
  const sessionManager = new Http2SessionManager(app.url);
  const client = createClient(
    LLMService,
    createConnectTransport({ baseUrl: app.url, httpVersion: "2", sessionManager }),
  );
  const req = {
    model: "chaos",
    messages: [{ role: Role.USER, content: [{ part: { case: "text" as const, value: "hello" } }] }],
  };
  log(
    `${CALLS} calls, concurrency ${CONCURRENCY}, ${STREAM_SHARE * 100}% streamed; flaky deployment: ${FAULT_RATE * 100}% faults`,
  );
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  let ok = 0;
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < CALLS) {
      next++;
      const t = performance.now();
      try {
        if (Math.random() < STREAM_SHARE) {
          let ended = false;
          for await (const ev of client.chatStream(req)) if (ev.event.case === "end") ended = true;
          if (!ended) throw new Error("stream without end");
        } else await client.chat(req);
        ok++;
        latencies.push(performance.now() - t);
      } catch (e: unknown) {
        const key = e instanceof Error ? e.message.slice(0, 80) : "error";
        failures[key] = (failures[key] ?? 0) + 1;
      }
    }
  };
  await Promise.all([...Array(CONCURRENCY)].map(worker));
  const wallS = (performance.now() - t0) / 1000;
  const { p50, p99 } = p50p99(latencies);
  const upstream = counts.good + counts.flaky;
  const result = {
    machine: { cores: os.cpus().length, loadAvg1m: os.loadavg()[0] },
    calls: CALLS,
    concurrency: CONCURRENCY,
    successRate: ok / CALLS,
    failures,
    latencyMs: { p50: ms(p50), p99: ms(p99) },
    callsPerSecond: Math.round(CALLS / wallS),
    upstreamCallsPerClientCall: Math.round((upstream / CALLS) * 1000) / 1000,
    upstream: { good: counts.good, flaky: counts.flaky, injectedFaults: counts.faults },
    deployments: app.gateway.deploymentHealth(),
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  sessionManager.abort();
  await app.shutdown(1000);
  app.gateway.close();
  up.close();
}

main().catch((e: unknown) => {
  log(`failed: ${e instanceof Error ? e.stack : String(e)}`);
  process.exitCode = 1;
});
