// The primary's side of a /metrics scrape under `--workers N`: asks every live worker for its metrics
// (cluster-worker.ts answers with its registries as JSON), sums them with prom-client's
// AggregatorRegistry.aggregate, and adds the supervisor's own. A worker that does not answer in time
// (killed, stuck) is left out of that scrape instead of failing it; the scrape says how many answered.
import type { Worker } from "node:cluster";
import { AggregatorRegistry, Gauge, type Registry } from "prom-client";
import { METRICS_REQ, METRICS_RES } from "./cluster-worker.js";

/** How long the primary waits for the workers' answers (the asking worker waits longer). */
const COLLECT_TIMEOUT_MS = 4000;

interface Pending {
  waiting: Set<number>;
  answers: object[][];
  done: () => void;
}

/** Collects and aggregates the workers' metrics for scrapes; feed it every worker message and exit. */
export class ClusterMetrics {
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private answered = 0;

  constructor(own: Registry) {
    const answered = () => this.answered;
    new Gauge({
      name: "llmgw_workers_scraped",
      help: "Workers whose metrics this scrape includes (fewer than llmgw_workers_alive: one did not answer in time).",
      registers: [own],
      collect() {
        this.set(answered());
      },
    });
  }

  /** The text of every worker that answers within the timeout, aggregated, followed by `own`. */
  async text(workers: readonly Worker[], own: Registry): Promise<string> {
    const id = ++this.seq;
    const answers: object[][] = [];
    const waiting = new Set<number>();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(finish, COLLECT_TIMEOUT_MS);
      function finish() {
        clearTimeout(timer);
        resolve();
      }
      this.pending.set(id, { waiting, answers, done: finish });
      for (const w of workers) {
        if (!w.isConnected()) continue;
        waiting.add(w.id);
        w.send({ type: METRICS_REQ, requestId: id }, (err: Error | null) => {
          if (err) this.drop(id, w.id);
        });
      }
      if (waiting.size === 0) finish();
    });
    this.pending.delete(id);
    this.answered = answers.length;
    const all = await AggregatorRegistry.aggregate(answers.flat() as unknown as object[]).metrics();
    const mine = await own.metrics();
    return all === "" || all.endsWith("\n") ? all + mine : `${all}\n${mine}`;
  }

  /** A worker's message; true when it was an answer to a collection. */
  onMessage(w: Worker, m: unknown): boolean {
    const msg = m as { type?: unknown; requestId?: unknown; metrics?: unknown };
    if (msg?.type !== METRICS_RES || typeof msg.requestId !== "number") return false;
    const p = this.pending.get(msg.requestId);
    if (p?.waiting.has(w.id)) {
      if (Array.isArray(msg.metrics)) p.answers.push(msg.metrics as object[]);
      this.drop(msg.requestId, w.id);
    }
    return true;
  }

  /** A worker exited: no collection waits for it any more. */
  onExit(w: Worker): void {
    for (const id of this.pending.keys()) this.drop(id, w.id);
  }

  private drop(id: number, worker: number): void {
    const p = this.pending.get(id);
    if (!p) return;
    p.waiting.delete(worker);
    if (p.waiting.size === 0) p.done();
  }
}
