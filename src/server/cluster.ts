// The supervisor of `--workers N` (server.workers): the primary process forks N gateway workers that
// share the one port through node:cluster (Node 20 has no reusePort: the primary accepts and hands
// connections round-robin to the workers; each worker's net.Server in listen.ts still sniffs
// HTTP/1.1 vs HTTP/2 on the sockets it is given). It restarts a worker that dies (with a backoff,
// giving up when workers crash in a loop), forwards SIGHUP to every worker (each reloads its own
// config), drains every worker on SIGTERM / SIGINT, and answers workers' /metrics scrapes with every
// worker's metrics aggregated (cluster-metrics.ts, with prom-client's AggregatorRegistry.aggregate;
// the worker side is cluster-worker.ts).
import cluster, { type Worker } from "node:cluster";
import { Counter, Gauge, Registry } from "prom-client";
import type { GatewayConfig } from "../config/index.js";
import type { Logger } from "../lib/logger.js";
import { ClusterMetrics } from "./cluster-metrics.js";
import { SCRAPE_REQ, SCRAPE_RES, WORKER_SLOT_ENV } from "./cluster-worker.js";

/** More than this many unplanned worker exits within CRASH_WINDOW_MS is a crash loop: give up. */
const MAX_CRASHES = 5;
const CRASH_WINDOW_MS = 60_000;
/** Restart delay: 250 ms doubled per recent crash, at most 8 s. */
const BACKOFF_BASE_MS = 250;
const BACKOFF_MAX_MS = 8000;
/** Past the grace period, how long workers get to finish closing (usage flush, Redis) before SIGKILL. */
const EXIT_MARGIN_MS = 5000;

/** What stays in one process's memory when workers share no Redis (said in one warning at start). */
export function perWorkerState(config: GatewayConfig): string[] {
  const r = config.file.redis;
  if (config.redisUrl || r?.sentinels?.length || r?.cluster_nodes?.length) return [];
  return [
    "rate limits (keys[].limits, limits.anonymous, deployment rpm/tpm)",
    "budgets (keys[].budget)",
    "usage records",
    "the response cache",
    "stored responses (Responses API)",
  ];
}

export interface SupervisorOptions {
  config: GatewayConfig;
  log: Logger;
  /** Re-reads the config on SIGHUP (the supervisor takes its grace period from it); throws when invalid. */
  load: () => GatewayConfig;
}

interface Slot {
  worker: Worker | undefined;
  /** Whether a worker in this slot ever listened (a worker that never did failed to start). */
  listened: boolean;
  restart: NodeJS.Timeout | undefined;
}

/** Runs the primary until every worker has exited; resolves with the process's exit code. */
export function runSupervisor(o: SupervisorOptions): Promise<number> {
  const { log } = o;
  const n = o.config.server.workers;
  let graceMs = o.config.server.shutdownGraceMs;
  const slots: Slot[] = Array.from({ length: n }, () => ({
    worker: undefined,
    listened: false,
    restart: undefined,
  }));
  const slotOf = new Map<number, number>();
  let crashes: number[] = [];
  let allUp = false;
  let stopping = false;
  let exitCode = 0;
  let finish: (code: number) => void = () => {};
  const done = new Promise<number>((r) => {
    let finished = false;
    finish = (code) => {
      if (finished) return;
      finished = true;
      log.info({ code }, "every worker has exited");
      r(code);
    };
  });

  const own = new Registry();
  new Gauge({
    name: "llmgw_workers",
    help: "Worker processes configured (--workers).",
    registers: [own],
  }).set(n);
  new Gauge({
    name: "llmgw_workers_alive",
    help: "Worker processes running now.",
    registers: [own],
    collect() {
      this.set(slots.filter((s) => s.worker && !s.worker.isDead()).length);
    },
  });
  const restarts = new Counter({
    name: "llmgw_worker_restarts_total",
    help: "Workers restarted by the supervisor after an unplanned exit.",
    registers: [own],
  });
  const collector = new ClusterMetrics(own);

  const fork = (slot: number) => {
    const s = slots[slot] as Slot;
    s.restart = undefined;
    const w = cluster.fork({ [WORKER_SLOT_ENV]: String(slot) });
    s.worker = w;
    slotOf.set(w.id, slot);
  };

  const live = () => slots.flatMap((s) => (s.worker && !s.worker.isDead() ? [s.worker] : []));

  const stopAll = (code: number, why: string) => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    for (const s of slots) if (s.restart) clearTimeout(s.restart);
    const workers = live();
    log.info({ why, workers: workers.length, grace_ms: graceMs }, "stopping the workers");
    for (const w of workers) w.process.kill("SIGTERM");
    if (workers.length === 0) finish(exitCode);
    setTimeout(() => {
      const left = live();
      if (left.length === 0) return;
      log.error(
        { workers: left.map((w) => w.process.pid) },
        "workers still running after the grace period: killing them",
      );
      exitCode = 1;
      for (const w of left) w.process.kill("SIGKILL");
    }, graceMs + EXIT_MARGIN_MS).unref();
  };

  cluster.on("listening", (w, address) => {
    const slot = slotOf.get(w.id);
    // The gateway's port only (telemetry.metrics_listen, listened on first, is not "started").
    const main = o.config.server.port;
    if (slot === undefined || (main !== 0 && address.port !== main)) return;
    (slots[slot] as Slot).listened = true;
    log.info({ worker: slot, pid: w.process.pid, port: address.port }, "worker listening");
    if (!allUp && slots.every((s) => s.listened)) {
      allUp = true;
      log.info({ workers: n, port: address.port }, "all workers listening");
    }
  });

  cluster.on("exit", (w, code, signal) => {
    collector.onExit(w);
    const slot = slotOf.get(w.id);
    slotOf.delete(w.id);
    if (slot === undefined) return;
    const s = slots[slot] as Slot;
    if (s.worker === w) s.worker = undefined;
    if (stopping) {
      if (code !== 0 && code !== null) exitCode = exitCode || code;
      if (live().length === 0) finish(exitCode);
      return;
    }
    const how = { worker: slot, pid: w.process.pid, code, signal };
    // A worker that never listened at the first start: the config, the port or a file is wrong, and
    // every worker would fail alike. Its own stderr line said why; stop with its exit code.
    if (!allUp && !s.listened) {
      log.error(how, "a worker failed to start: stopping");
      stopAll(code || 1, "a worker failed to start");
      return;
    }
    const now = Date.now();
    crashes = [...crashes.filter((t) => now - t < CRASH_WINDOW_MS), now];
    if (crashes.length > MAX_CRASHES) {
      log.error(
        { ...how, exits: crashes.length, window_s: CRASH_WINDOW_MS / 1000 },
        "workers crash in a loop: giving up (no more restarts); stopping",
      );
      stopAll(1, "crash loop");
      return;
    }
    const delay = Math.min(BACKOFF_BASE_MS * 2 ** (crashes.length - 1), BACKOFF_MAX_MS);
    log.warn({ ...how, restart_in_ms: delay }, "worker exited unexpectedly: restarting it");
    restarts.inc();
    s.restart = setTimeout(() => fork(slot), delay);
  });

  // A worker's /metrics scrape: every worker's registries, aggregated, plus the supervisor's own.
  cluster.on("message", (w, m: unknown) => {
    if (collector.onMessage(w, m)) return;
    const msg = m as { type?: unknown; id?: unknown };
    if (msg?.type !== SCRAPE_REQ) return;
    const reply = (body: { text: string } | { error: string }) => {
      if (w.isConnected()) w.send({ type: SCRAPE_RES, id: msg.id, ...body });
    };
    collector.text(live(), own).then(
      (text) => reply({ text }),
      (e: unknown) => reply({ error: e instanceof Error ? e.message : String(e) }),
    );
  });

  process.on("SIGHUP", () => {
    try {
      const next = o.load();
      graceMs = next.server.shutdownGraceMs;
      if (next.server.workers !== n)
        log.warn({ running: n, configured: next.server.workers }, "server.workers changed: takes a restart");
    } catch {
      // Each worker reloads and logs why the config is rejected.
    }
    const workers = live();
    log.info({ workers: workers.length }, "SIGHUP: reloading every worker's config");
    for (const w of workers) w.process.kill("SIGHUP");
  });
  process.once("SIGTERM", () => stopAll(0, "SIGTERM"));
  process.once("SIGINT", () => stopAll(0, "SIGINT"));

  const shared = perWorkerState(o.config);
  log.info({ workers: n, pid: process.pid }, "starting workers");
  if (shared.length > 0)
    log.warn(
      `${n} workers and no redis.url: each worker keeps its own ${shared.join(", ")}; configure Redis to share them`,
    );
  for (let i = 0; i < n; i++) fork(i);
  return done;
}
