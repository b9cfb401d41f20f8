// The worker side of `--workers N` (the supervisor is cluster.ts): a scrape of /metrics that reaches
// a worker asks the primary, which collects every worker's metrics (prom-client's AggregatorRegistry
// protocol) and sends back one aggregated text; each worker answers the primary's collection with
// its registries as JSON. (prom-client's own clusterMetrics() fails a whole scrape when one worker
// does not answer, a worker just killed say; cluster-metrics.ts serves the workers that answer.)
import cluster from "node:cluster";
import type { Registry } from "prom-client";
import type { GatewayMetrics } from "../telemetry/index.js";

/**
 * The primary asks each worker for its metrics as JSON (prom-client's getMetricsAsJSON() shape), and
 * aggregates them with AggregatorRegistry.aggregate (cluster-metrics.ts).
 */
export const METRICS_REQ = "llmgw:metricsReq";
export const METRICS_RES = "llmgw:metricsRes";
/** A worker asks the primary for the whole group's metrics text, and gets it back. */
export const SCRAPE_REQ = "llmgw:scrapeReq";
export const SCRAPE_RES = "llmgw:scrapeRes";
/** The env variable that gives a worker its slot (0..N-1, kept by a restarted worker). */
export const WORKER_SLOT_ENV = "LLMGW_WORKER_SLOT";

/** How long a worker waits for the primary's aggregated text (the primary gives up on workers at 5 s). */
const SCRAPE_TIMEOUT_MS = 8000;

/**
 * How series of the same name and labels from several workers combine (default: summed — counters,
 * histograms, in-flight gauges, open connections). These would be wrong summed.
 */
const AGGREGATORS: Readonly<Record<string, string>> = {
  llmgw_breaker_state: "max",
  llmgw_redis_up: "min",
};

interface Sample {
  value: number;
  labels?: Record<string, string | number>;
  sharedLabels?: Record<string, string | number>;
  metricName?: string;
}
interface MetricJson {
  name: string;
  help: string;
  type: string;
  values: Sample[];
  aggregator?: string;
}
/** What prom-client's Registry holds: get(), and getForPromString() on the telemetry's own histograms. */
interface RegisteredMetric {
  get(): Promise<MetricJson> | MetricJson;
  getForPromString?: () => Promise<MetricJson>;
}

/** The metrics this worker answers with (set when its /metrics route is built). */
let source: GatewayMetrics | undefined;
let scrapeSeq = 0;
const scrapes = new Map<number, { resolve: (t: string) => void; reject: (e: Error) => void }>();
let installed = false;

/** True in a worker process of `--workers N`. */
export function isWorker(): boolean {
  return cluster.isWorker && typeof process.send === "function";
}

/** This worker's slot (0..N-1), or undefined outside a cluster. */
export function workerSlot(): number | undefined {
  if (!isWorker()) return undefined;
  const slot = Number(process.env[WORKER_SLOT_ENV]);
  return Number.isInteger(slot) ? slot : (cluster.worker?.id ?? 0);
}

/** Sets the metrics this worker sends to the primary (the app's /metrics route calls it). */
export function useClusterMetrics(metrics: GatewayMetrics): void {
  source = metrics;
}

/**
 * One registry as prom-client's getMetricsAsJSON() would give it, but reading the telemetry's cell
 * histograms through getForPromString() (their get() is empty) and folding shared labels in.
 */
async function registryJson(reg: Registry): Promise<MetricJson[]> {
  const out: MetricJson[] = [];
  for (const m of reg.getMetricsAsArray() as unknown as RegisteredMetric[]) {
    const got = m.getForPromString ? await m.getForPromString() : await m.get();
    out.push({
      name: got.name,
      help: got.help,
      type: got.type,
      aggregator: AGGREGATORS[got.name] ?? got.aggregator ?? "sum",
      values: (got.values ?? []).map((v) => ({
        value: v.value,
        labels: { ...v.sharedLabels, ...v.labels },
        ...(v.metricName !== undefined ? { metricName: v.metricName } : {}),
      })),
    });
  }
  return out;
}

/** This worker's metrics as the primary aggregates them, plus its own calls under worker/pid labels. */
export async function workerMetricsJson(): Promise<MetricJson[][]> {
  if (!source) return [];
  const regs = await Promise.all(source.registries().map(registryJson));
  const calls = regs.flat().find((m) => m.name === "llmgw_calls_total");
  const total = calls?.values.reduce((n, v) => n + v.value, 0) ?? 0;
  const own: MetricJson = {
    name: "llmgw_worker_calls_total",
    help: "Finished calls per worker process (--workers): how the primary spreads connections.",
    type: "counter",
    aggregator: "sum",
    values: [{ value: total, labels: { worker: String(workerSlot() ?? 0), pid: process.pid } }],
  };
  return [...regs, [own]];
}

/**
 * Installs the worker's message handlers (call once, early: the primary asks every live worker, and a
 * worker still starting answers with nothing rather than making the scrape wait).
 */
export function installWorker(): void {
  if (installed || !isWorker()) return;
  installed = true;
  process.on("message", (m: unknown) => {
    const msg = m as { type?: unknown; requestId?: unknown; id?: unknown; text?: unknown; error?: unknown };
    if (msg?.type === METRICS_REQ) {
      workerMetricsJson().then(
        (metrics) => process.send?.({ type: METRICS_RES, requestId: msg.requestId, metrics }),
        (e: unknown) =>
          process.send?.({
            type: METRICS_RES,
            requestId: msg.requestId,
            error: e instanceof Error ? e.message : String(e),
          }),
      );
    } else if (msg?.type === SCRAPE_RES && typeof msg.id === "number") {
      const p = scrapes.get(msg.id);
      scrapes.delete(msg.id);
      if (!p) return;
      if (typeof msg.text === "string") p.resolve(msg.text);
      else p.reject(new Error(`the primary could not collect the workers' metrics: ${String(msg.error)}`));
    }
  });
}

/** The /metrics text: in a worker, every worker's metrics aggregated by the primary; else this process's. */
export function scrapeText(metrics: GatewayMetrics): Promise<string> {
  if (!isWorker() || !installed) return metrics.text();
  const id = ++scrapeSeq;
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      scrapes.delete(id);
      reject(new Error(`the primary sent no metrics within ${SCRAPE_TIMEOUT_MS} ms`));
    }, SCRAPE_TIMEOUT_MS);
    scrapes.set(id, {
      resolve: (t) => {
        clearTimeout(timer);
        resolve(t);
      },
      reject: (e) => {
        clearTimeout(timer);
        reject(e);
      },
    });
    process.send?.({ type: SCRAPE_REQ, id });
  });
}
