// The limiter and the cache's L2 on Redis Sentinel and Redis Cluster (issue 5 §4): real servers of our
// own on free ports (one master + one sentinel; three cluster masters), two in-process gateways on each.
// A key limited to N requests admits exactly N across both gateways (Cluster: the hash-tagged keys of one
// bucket share a slot, so the Lua script runs); a second gateway hits the first one's answer in L2; and a
// cancelled stream's token reservation is reconciled (settled to what it used, its lease freed), not leaked.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type Client, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { Cluster, Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CacheStatus, LLMService } from "../../gen/llmgateway/v1/llm_pb.js";
import { ClientConnections, chatReq } from "../e2e/helpers.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { WAIT_MS, waitFor } from "../helpers/wait.js";
import { chat, freePort } from "./helpers.js";

const RPM_KEY = "llmgw-topology-rpm-key-0123456789abcdef";
const TPM_KEY = "llmgw-topology-tpm-key-fedcba9876543210";
const CACHE_KEY = "llmgw-topology-cache-key-5555555555555555";
const digest = (k: string) => createHash("sha256").update(k).digest("hex");
const run = promisify(execFile);

const RPM = 10;
const TPM = 1000;
const RESERVE = 600; // default_output_reserve: one call holds 600 + its prompt estimate, so two never fit

/** Polls `check` (a throw counts as "not yet") for at least `ms`, failing with `what`. */
function until(check: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
  return waitFor(check, { timeoutMs: Math.max(ms, WAIT_MS), what, everyMs: 50 });
}

/** A plain client of one server, for setup and inspection. */
function plain(port: number): Redis {
  const c = new Redis({
    host: "127.0.0.1",
    port,
    maxRetriesPerRequest: 0,
    lazyConnect: true,
    retryStrategy: () => null,
  });
  c.on("error", () => {});
  return c;
}

async function ask<T>(port: number, fn: (c: Redis) => Promise<T>): Promise<T> {
  const c = plain(port);
  try {
    await c.connect();
    return await fn(c);
  } finally {
    c.disconnect();
  }
}

/** Redis processes of one topology, in a temp dir; all killed (and the dir removed) by `stop`. */
class Servers {
  readonly procs: ChildProcess[] = [];
  readonly dir = mkdtempSync(join(tmpdir(), "llmgw-topo-"));

  spawn(args: string[]): ChildProcess {
    const p = spawn("redis-server", args, { stdio: "ignore", cwd: this.dir });
    this.procs.push(p);
    return p;
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.procs.map((p) => {
        if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
        const exited = new Promise((r) => p.once("exit", r));
        p.kill("SIGKILL");
        return exited;
      }),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const BASE = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no"];

/** One master and one sentinel monitoring it as "mymaster"; returns the gateway's redis config. */
async function startSentinel(s: Servers): Promise<{ yaml: string; master: number }> {
  const master = await freePort();
  s.spawn(["--port", String(master), ...BASE]);
  await until(async () => (await ask(master, (c) => c.ping())) === "PONG", 5000, "master");
  const port = await freePort();
  const conf = join(s.dir, "sentinel.conf"); // a sentinel rewrites its config: it must be a file of its own
  writeFileSync(
    conf,
    [
      `port ${port}`,
      "bind 127.0.0.1",
      "protected-mode no",
      `dir ${s.dir}`,
      `sentinel monitor mymaster 127.0.0.1 ${master} 1`,
      "sentinel down-after-milliseconds mymaster 5000",
      "",
    ].join("\n"),
  );
  s.spawn([conf, "--sentinel"]);
  await until(
    async () => {
      const a = (await ask(port, (c) =>
        c.call("SENTINEL", "get-master-addr-by-name", "mymaster"),
      )) as string[];
      return a[1] === String(master);
    },
    5000,
    "sentinel",
  );
  return {
    yaml: `{ sentinels: [{ host: 127.0.0.1, port: ${port} }], name: mymaster, command_timeout_ms: 500 }`,
    master,
  };
}

/** Three cluster masters (no replicas), slots spread by `redis-cli --cluster create`. */
async function startCluster(s: Servers): Promise<{ yaml: string; nodes: number[] }> {
  const nodes: number[] = [];
  const used = new Set<number>();
  const fresh = async () => {
    for (;;) {
      const p = await freePort();
      if (!used.has(p)) {
        used.add(p);
        return p;
      }
    }
  };
  for (let i = 0; i < 3; i++) {
    // A free port can be taken by another suite's server between our probe and redis-server's bind
    // (suites run in parallel): a node that exits at once is started again on other ports.
    for (let attempt = 1; ; attempt++) {
      const port = await fresh();
      const bus = await fresh(); // cluster-port (Redis 7): not port + 10000, which may be taken or > 65535
      const proc = s.spawn([
        "--port",
        String(port),
        "--cluster-port",
        String(bus),
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        join(s.dir, `nodes-${port}.conf`),
        "--cluster-node-timeout",
        "5000",
        "--dir",
        s.dir,
        ...BASE,
      ]);
      try {
        await until(
          async () => {
            if (proc.exitCode !== null) throw new Error("exited");
            return (await ask(port, (c) => c.ping())) === "PONG";
          },
          10_000,
          `node ${port}`,
        );
      } catch (e: unknown) {
        if (proc.exitCode === null || attempt >= 3) throw e;
        continue;
      }
      nodes.push(port);
      break;
    }
  }
  await run(
    "redis-cli",
    [
      "--cluster",
      "create",
      ...nodes.map((p) => `127.0.0.1:${p}`),
      "--cluster-replicas",
      "0",
      "--cluster-yes",
    ],
    { timeout: 20_000 },
  );
  for (const p of nodes) {
    await until(
      async () => (await ask(p, (c) => c.cluster("INFO"))).includes("cluster_state:ok"),
      15_000,
      `cluster state on ${p}`,
    );
  }
  const list = nodes.map((p) => `{ host: 127.0.0.1, port: ${p} }`).join(", ");
  return { yaml: `{ cluster_nodes: [${list}], command_timeout_ms: 500 }`, nodes };
}

function gatewayYaml(redis: string): string {
  return `
redis: ${redis}
keys:
  - { name: rpm, sha256: ${digest(RPM_KEY)}, limits: { rpm: ${RPM} } }
  - { name: tpm, sha256: ${digest(TPM_KEY)}, limits: { tpm: ${TPM}, concurrent: 5 } }
  - { name: cache, sha256: ${digest(CACHE_KEY)} }
limits: { default_output_reserve: ${RESERVE} }
models:
  cached: { deployments: [{ target: mock/echo }], cache: { enabled: true, ttl_s: 60 } }
`;
}

interface Topology {
  name: string;
  start(s: Servers): Promise<{ yaml: string }>;
  /** A client that reaches every key of the topology (the master, or the cluster). */
  inspect(): Redis | Cluster;
}

let sentinelMaster = 0;
let clusterNodes: number[] = [];

const topologies: Topology[] = [
  {
    name: "Sentinel (one master, one sentinel)",
    async start(s) {
      const t = await startSentinel(s);
      sentinelMaster = t.master;
      return t;
    },
    inspect: () => new Redis({ host: "127.0.0.1", port: sentinelMaster, maxRetriesPerRequest: 0 }),
  },
  {
    name: "Cluster (three masters)",
    async start(s) {
      const t = await startCluster(s);
      clusterNodes = t.nodes;
      return t;
    },
    inspect: () => new Cluster(clusterNodes.map((port) => ({ host: "127.0.0.1", port }))),
  },
];

for (const topo of topologies) {
  describe(`limits and cache on Redis ${topo.name}`, () => {
    const servers = new Servers();
    const gws: TestGateway[] = [];
    const conns = new ClientConnections();
    let inspect: Redis | Cluster;

    const client = (g: TestGateway): Client<typeof LLMService> =>
      createClient(
        LLMService,
        createConnectTransport({ baseUrl: g.url, httpVersion: "1.1", nodeOptions: { agent: conns.agent() } }),
      );

    beforeAll(async () => {
      const { yaml } = await topo.start(servers);
      for (let i = 0; i < 2; i++) gws.push(await startGateway({ yaml: gatewayYaml(yaml) }));
      for (const g of gws)
        await until(() => g.logs.some((l) => l.includes("redis ready")), 10_000, "redis ready");
      // Ready also measures the Redis clock; wait until both links can take decisions.
      for (const g of gws)
        await until(() => g.app.gateway.guard.limiter.link?.usable === true, 5000, "usable link");
      inspect = topo.inspect();
      inspect.on("error", () => {});
    }, 60_000);

    afterAll(async () => {
      conns.close();
      await Promise.all(gws.map((g) => g.close()));
      inspect?.disconnect();
      await servers.stop();
    });

    it(`a key limited to ${RPM} requests admits exactly ${RPM} across two gateways`, async () => {
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          chat((gws[i % 2] as TestGateway).url, "mock/echo", { authorization: `Bearer ${RPM_KEY}` }),
        ),
      );
      const ok = results.filter((r) => r.status === 200);
      expect(ok).toHaveLength(RPM);
      for (const r of results.filter((x) => x.status !== 200)) {
        expect(r.code).toBe("resource_exhausted");
        expect(r.reason).toBe("RATE_LIMITED");
        expect(r.retryMs).toBeGreaterThan(0);
      }
      // One atomic decision each: the ten successes saw 9..0 remaining.
      const remaining = ok
        .map((r) => Number(r.headers["x-ratelimit-remaining-requests"]))
        .sort((a, b) => a - b);
      expect(remaining).toEqual(Array.from({ length: RPM }, (_, i) => i));
      // Every decision was taken in Redis, none in local memory.
      for (const g of gws) {
        expect(g.app.gateway.guard.limiter.stats.local).toBe(0);
        expect(g.app.gateway.guard.limiter.stats.redis).toBeGreaterThan(0);
      }
      const bucket = `{rl:k:${digest(RPM_KEY)}}:r`;
      expect(Number(await inspect.hget(bucket, "v"))).toBeLessThan(1);
    });

    it("a second gateway gets the first one's answer from L2", async () => {
      const auth = { headers: { authorization: `Bearer ${CACHE_KEY}` } };
      const text = `cached on ${topo.name}`;
      const first = await client(gws[0] as TestGateway).chat(chatReq("cached", text), auth);
      expect(first.gateway?.cache).toBe(CacheStatus.MISS);
      // The L2 write runs in the background; wait for it in Redis before asking the second gateway
      // (a MISS there would fill its own L1 and hide L2).
      await until(
        async () => {
          const keys =
            inspect instanceof Cluster
              ? (await Promise.all(inspect.nodes("master").map((n) => n.keys("llmgw:cache:*")))).flat()
              : await inspect.keys("llmgw:cache:*");
          return keys.length > 0;
        },
        3000,
        "the L2 write",
      );
      const second = await client(gws[1] as TestGateway).chat(chatReq("cached", text), auth);
      expect(second.gateway?.cache).toBe(CacheStatus.HIT_REDIS);
      expect(second.gateway?.attempts).toBe(0);
      expect(second.message?.content).toEqual(first.message?.content);
    });

    it("a cancelled stream's token reservation is settled to what it used, not leaked", async () => {
      const [g1, g2] = gws as [TestGateway, TestGateway];
      const tokens = `{rl:k:${digest(TPM_KEY)}}:t`;
      const leases = `{rl:k:${digest(TPM_KEY)}}:c`;
      const auth = { authorization: `Bearer ${TPM_KEY}` };
      const cancel = new AbortController();
      const stream = client(g1)
        .chatStream(chatReq("mock/stall", "hello"), { headers: auth, signal: cancel.signal })
        [Symbol.asyncIterator]();
      const events: string[] = [];
      // Read up to the first delta and hold the stream open there (mock/stall stalls after it).
      while (!events.includes("delta")) {
        const r = await stream.next();
        if (r.done) break;
        events.push(r.value.event.case ?? "");
      }
      expect(events).toEqual(["start", "delta"]);
      // While the stream is open its reservation (prompt + 600) is held: a second call does not fit.
      const during = await chat(g2.url, "mock/echo", auth, "hello");
      expect(during.status).not.toBe(200);
      expect(during.reason).toBe("RATE_LIMITED");
      expect(Number(during.headers["x-ratelimit-remaining-tokens"])).toBeLessThan(TPM - RESERVE);
      expect(await inspect.zcard(leases)).toBe(1);

      cancel.abort();
      await expect(stream.next()).rejects.toThrow();
      // Settled: the lease is gone and the bucket is refunded down to prompt + streamed text (a few tokens).
      await until(async () => (await inspect.zcard(leases)) === 0, 3000, "the lease to be released");
      await until(async () => Number(await inspect.hget(tokens, "v")) > TPM - 50, 3000, "the refund");

      // A following call fits again, on the other gateway, and its header shows the refund.
      const after = await chat(g2.url, "mock/echo", auth, "hello");
      expect(after.status).toBe(200);
      const left = Number(after.headers["x-ratelimit-remaining-tokens"]);
      expect(left).toBeGreaterThan(TPM - RESERVE - 50); // leaked, it would be about TPM - 2 * RESERVE
      expect(left).toBeLessThanOrEqual(TPM - RESERVE);
    });
  });
}
