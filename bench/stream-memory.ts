// Memory per open ChatStream (issue 14 §2): N streams held open on the mock's `stall` model over
// gRPC on HTTP/2, Connect on HTTP/2 and Connect on HTTP/1.1; heap and RSS of the gateway per stream.
//
//   npm run bench:memory [-- --streams 2000] [-- --kinds grpc_h2,connect_h1] [-- --where]
// prints one JSON object on stdout (progress on stderr); --where adds, from two heap snapshots, what
// each held stream added by kind of object.
//
// The gateway runs compiled in a child process that collects garbage before each reading, once with
// the V8 flags `npm start` gives it and once with V8's defaults; the parent only holds the client ends.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { ChatRequestSchema, Role } from "../gen/llmgateway/v1/llm_pb.js";
import { RUNTIME_FLAGS } from "./procs.js";

interface Mem {
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  rss: number;
}

const YAML = `
server: { max_inflight: 1000000, max_streams: 1000000, max_connections: 1000000 }
defaults: { timeouts: { idle_ms: 600000, first_token_ms: 600000, max_stream_ms: 600000 } }
logging: { level: warn }
`;

// ---- child: the gateway, compiled (dist/, as `npm start` runs it: tsx would add names to closures) ----
const DIST = new URL("../dist/src/", import.meta.url).href;
const SERVE = `
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeHeapSnapshot } from "node:v8";
const { loadConfig } = await import("${DIST}config/index.js");
const { createLogger } = await import("${DIST}lib/logger.js");
const { implementedTypes, presetInfo } = await import("${DIST}providers/index.js");
const { startApp } = await import("${DIST}server/app.js");
const file = join(mkdtempSync(join(tmpdir(), "llmgw-mem-")), "config.yaml");
writeFileSync(file, ${JSON.stringify(YAML)});
const config = loadConfig({ argv: ["--port", "0", "--config", file], env: {}, presets: presetInfo, implementedTypes });
const app = await startApp(config, createLogger("warn"));
process.on("message", (m) => {
  for (let i = 0; i < 4; i++) globalThis.gc();
  if (m !== "measure") {
    writeHeapSnapshot(m);
    process.send({});
    return;
  }
  const u = process.memoryUsage();
  process.send({ heapUsed: u.heapUsed, external: u.external, arrayBuffers: u.arrayBuffers, rss: u.rss });
});
process.send({ port: app.port });
`;

// ---- parent: the clients ----
function request(message: string): { json: Buffer; proto: Buffer } {
  const req = create(ChatRequestSchema, {
    model: "mock/stall",
    messages: [{ role: Role.USER, content: [{ part: { case: "text", value: message } }] }],
  });
  const envelope = (body: Uint8Array) => {
    const head = Buffer.alloc(5);
    head.writeUInt32BE(body.length, 1);
    return Buffer.concat([head, body]);
  };
  const json = JSON.stringify({
    model: "mock/stall",
    messages: [{ role: "ROLE_USER", content: [{ text: message }] }],
  });
  return { json: envelope(Buffer.from(json)), proto: envelope(toBinary(ChatRequestSchema, req)) };
}

type Kind = "grpc_h2" | "connect_h2" | "connect_h1";
/** An open stream: resolves once its first bytes arrived; close() ends it from the client side. */
interface Held {
  first: Promise<void>;
  close(): void;
}

function openH2(session: http2.ClientHttp2Session, kind: Kind, body: { json: Buffer; proto: Buffer }): Held {
  const grpc = kind === "grpc_h2";
  const s = session.request({
    ":method": "POST",
    ":path": "/llmgateway.v1.LLMService/ChatStream",
    "content-type": grpc ? "application/grpc+proto" : "application/connect+json",
    ...(grpc ? { te: "trailers" } : {}),
  });
  s.on("error", () => {});
  s.end(grpc ? body.proto : body.json);
  const first = new Promise<void>((resolve, reject) => {
    s.once("data", () => resolve());
    s.once("close", () => reject(new Error("stream closed before its first message")));
  });
  return { first, close: () => s.close(http2.constants.NGHTTP2_CANCEL) };
}

function openH1(port: number, body: { json: Buffer }): Held {
  let destroy = () => {};
  const first = new Promise<void>((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/llmgateway.v1.LLMService/ChatStream",
        headers: { "content-type": "application/connect+json" },
        agent: false,
      },
      (res) => res.once("data", () => resolve()),
    );
    req.on("error", (e) => reject(e));
    req.end(body.json);
    destroy = () => req.destroy();
  });
  return { first, close: () => destroy() };
}

async function inflightStreams(port: number): Promise<number> {
  const text = await new Promise<string>((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path: "/metrics", agent: false }, (res) => {
        let t = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          t += c;
        });
        res.on("end", () => resolve(t));
      })
      .on("error", reject);
  });
  return Number(/^llmgw_inflight_streams (\S+)$/m.exec(text)?.[1] ?? Number.NaN);
}

async function settle(port: number): Promise<void> {
  const until = Date.now() + 60_000;
  while ((await inflightStreams(port)) !== 0) {
    if (Date.now() > until) throw new Error("streams still in flight 60 s after closing them");
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The gateway in a child process of its own, and a way to read its memory after a full GC. */
async function startChild(
  flags: readonly string[],
): Promise<{ port: number; measure(): Promise<Mem>; snapshot(file: string): Promise<void>; kill(): void }> {
  const child: ChildProcess = spawn(
    process.execPath,
    ["--expose-gc", ...flags, "--input-type=module", "-e", SERVE],
    {
      stdio: ["ignore", 2, 2, "ipc"],
    },
  );
  const replies: ((m: unknown) => void)[] = [];
  child.on("message", (m) => replies.shift()?.(m));
  const next = () => new Promise<unknown>((r) => replies.push(r));
  const { port } = (await next()) as { port: number };
  return {
    port,
    async measure() {
      const reply = next();
      child.send("measure");
      return (await reply) as Mem;
    },
    async snapshot(file) {
      const reply = next();
      child.send(file);
      await reply;
    },
    kill: () => child.kill("SIGKILL"),
  };
}

/** Opens `n` streams of `kind` on a fresh gateway; its memory per stream (KiB). */
async function measureKind(
  kind: Kind,
  n: number,
  flags: readonly string[],
  where: boolean,
): Promise<Record<string, unknown>> {
  const gw = await startChild(flags);
  const { port } = gw;
  const body = request("hold this stream open, please");
  const perSession = 500;
  const sessions =
    kind === "connect_h1"
      ? []
      : Array.from({ length: Math.ceil(n / perSession) }, () => http2.connect(`http://127.0.0.1:${port}`));
  for (const s of sessions) s.on("error", () => {});
  const open = (i: number) =>
    kind === "connect_h1"
      ? openH1(port, body)
      : openH2(sessions[i % sessions.length] as http2.ClientHttp2Session, kind, body);
  // Warm-up: the code paths compiled and the heap grown once, the sessions' own memory in the baseline.
  for (let round = 0; round < 2; round++) {
    const warm = Array.from({ length: Math.min(n, 1000) }, (_, i) => open(i));
    await Promise.all(warm.map((h) => h.first));
    for (const h of warm) h.close();
    await settle(port);
  }
  const snapshots = join(tmpdir(), `llmgw-mem-${process.pid}-${kind}`);
  if (where) await gw.snapshot(`${snapshots}-before.heapsnapshot`);
  const before = await gw.measure();
  const held: Held[] = [];
  for (let i = 0; i < n; i++) {
    held.push(open(i));
    if (i % 200 === 199) await Promise.all(held.slice(-200).map((h) => h.first));
  }
  await Promise.all(held.map((h) => h.first));
  const inflight = await inflightStreams(port);
  const during = await gw.measure();
  if (where) await gw.snapshot(`${snapshots}-during.heapsnapshot`);
  const per = (k: keyof Mem) => Math.round(((during[k] - before[k]) / n / 1024) * 10) / 10;
  for (const h of held) h.close();
  for (const s of sessions) s.destroy();
  gw.kill();
  return {
    streams: n,
    inflightSeen: inflight,
    perStreamKiB: {
      heap: per("heapUsed"),
      external: per("external"),
      rss: per("rss"),
    },
    before,
    during,
    ...(where
      ? {
          whereBytesPerStream: heapDiff(
            `${snapshots}-before.heapsnapshot`,
            `${snapshots}-during.heapsnapshot`,
            n,
          ),
        }
      : {}),
  };
}

/** Heap snapshot nodes by kind ("object:Promise", "closure", ...): count and self size. */
function heapKinds(file: string): Map<string, { count: number; size: number }> {
  const snap = JSON.parse(readFileSync(file, "utf8")) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [width, iType, iName, iSize] = [
    fields.length,
    ...["type", "name", "self_size"].map((f) => fields.indexOf(f)),
  ];
  const out = new Map<string, { count: number; size: number }>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + (iType as number)] as number] ?? "?";
    const named = type === "object" || type === "native" || type === "synthetic" || type === "hidden";
    const key = named ? `${type}:${snap.strings[snap.nodes[i + (iName as number)] as number]}` : type;
    const agg = out.get(key) ?? { count: 0, size: 0 };
    agg.count++;
    agg.size += snap.nodes[i + (iSize as number)] as number;
    out.set(key, agg);
  }
  return out;
}

/** What each held stream added, by kind, largest first (bytes and objects per stream). */
function heapDiff(beforeFile: string, duringFile: string, n: number): Record<string, string> {
  const before = heapKinds(beforeFile);
  const rows = [...heapKinds(duringFile)].map(([k, v]) => {
    const b = before.get(k) ?? { count: 0, size: 0 };
    return { k, size: (v.size - b.size) / n, count: (v.count - b.count) / n };
  });
  rows.sort((a, b) => b.size - a.size);
  const out: Record<string, string> = {};
  for (const r of rows.slice(0, 25)) out[r.k] = `${Math.round(r.size)} B in ${r.count.toFixed(1)}`;
  for (const f of [beforeFile, duringFile]) rmSync(f, { force: true });
  return out;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const arg = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const n = Number(arg("--streams") ?? 2000) || 2000;
  const where = args.includes("--where");
  const kinds = (arg("--kinds")?.split(",") ?? ["grpc_h2", "connect_h2", "connect_h1"]) as Kind[];
  // As `npm start` runs it (a large young generation), and with V8's default young generation.
  const runs = { npm_start_flags: RUNTIME_FLAGS, v8_defaults: [] as string[] };
  const results: Record<string, Record<string, unknown>> = {};
  for (const [name, flags] of Object.entries(runs)) {
    const r: Record<string, unknown> = {};
    results[name] = r;
    for (const kind of kinds) {
      r[kind] = await measureKind(kind, n, flags, where);
      process.stderr.write(
        `${name} ${kind}: ${JSON.stringify((r[kind] as { perStreamKiB: unknown }).perStreamKiB)}\n`,
      );
    }
  }
  process.stdout.write(`${JSON.stringify({ node: process.version, streams: n, runs, results }, null, 2)}\n`);
}

await main();
