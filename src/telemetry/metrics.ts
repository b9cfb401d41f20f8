// The gateway's Prometheus metrics (prom-client, own Registry): definitions, cells cached per label
// tuple (cells.ts), gauges read at scrape time (in flight, breakers, Redis), the process metrics.
import { collectDefaultMetrics, Gauge, Registry } from "prom-client";
import { upstreamLoad } from "../providers/http.js";
import type { RedisLink } from "../redis/client.js";
import type { DeploymentSnapshot } from "../resilience/index.js";
import { CellHistogram, type CounterCell, cellCounter, type HistogramCell } from "./cells.js";
import { CappedLabels, type ModelLabels } from "./labels.js";

const SEP = "\u001f";

/**
 * The series of one metric, cached per label tuple in nested Maps (one level per label): a lookup is a
 * few Map reads of strings whose hashes are already computed, with no key string built per call.
 */
export class Family<C> {
  private readonly root = new Map<string, unknown>();

  constructor(
    private readonly arity: number,
    private readonly make: (values: readonly string[]) => C,
  ) {}

  /** The series for these label values (arguments beyond the metric's labels are ignored). */
  of(a: string, b = "", c = "", d = "", e = ""): C {
    const n = this.arity;
    let node = this.root;
    for (let i = 0; i < n - 1; i++) {
      const k = i === 0 ? a : i === 1 ? b : i === 2 ? c : d;
      let next = node.get(k) as Map<string, unknown> | undefined;
      if (next === undefined) {
        next = new Map();
        node.set(k, next);
      }
      node = next;
    }
    const last = n === 1 ? a : n === 2 ? b : n === 3 ? c : n === 4 ? d : e;
    let child = node.get(last) as C | undefined;
    if (child === undefined) {
      child = this.make([a, b, c, d, e].slice(0, n));
      node.set(last, child);
    }
    return child;
  }
}

function counter(reg: Registry, name: string, help: string, labelNames: string[]): Family<CounterCell> {
  return new Family(labelNames.length, cellCounter(reg, name, help, labelNames));
}

function histogram(
  reg: Registry,
  name: string,
  help: string,
  labelNames: string[],
  buckets: number[],
): Family<HistogramCell> {
  const h = new CellHistogram(reg, name, help, labelNames, buckets);
  return new Family(Math.max(1, labelNames.length), (v) => h.cell(v));
}

/** Seconds: from a millisecond to ten minutes (LLM calls and streams are long). */
const CALL_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
/** Seconds: the gateway's own time, from 0.1 ms. */
const OVERHEAD_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const TTFT_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const GAP_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Breaker state as a number (llmgw_breaker_state). */
const BREAKER_VALUE: Readonly<Record<string, number>> = { closed: 0, half_open: 1, open: 2 };

/** What the breaker gauge reads of a gateway at scrape time (a Gateway is one). */
export interface BreakerSource {
  deploymentHealth(): readonly DeploymentSnapshot[];
}

/** Where the scrape-time gauges read from; thunks, so a replaced gateway is read after a reload. */
export interface MetricSources {
  gateway: () => BreakerSource | undefined;
  redis: () => RedisLink | undefined;
  /** The current gateway's model labels (deployment labels of the breaker gauge). */
  labels: () => ModelLabels | undefined;
  /** Calls and streams in flight on every generation (a reload's old one still draining included). */
  inflight: () => { calls: number; streams: number };
}

/** Every metric the gateway exports, on its own Registry. */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly calls: Family<CounterCell>;
  readonly duration: Family<HistogramCell>;
  readonly upstream: Family<HistogramCell>;
  readonly overhead: Family<HistogramCell>;
  readonly ttft: Family<HistogramCell>;
  readonly chunkGap: HistogramCell;
  readonly tokens: Family<CounterCell>;
  readonly cost: Family<CounterCell>;
  readonly cacheHits: Family<CounterCell>;
  readonly cacheMisses: Family<CounterCell>;
  readonly cacheCoalesced: Family<CounterCell>;
  readonly attempts: Family<CounterCell>;
  readonly retries: Family<CounterCell>;
  readonly fallbacks: Family<CounterCell>;
  readonly hedges: Family<CounterCell>;
  readonly rejections: Family<CounterCell>;
  /** Client connections refused at the door (server.max_connections reached). */
  readonly connectionsRefused: CounterCell;
  /** Client connections the door closed, by reason (a timeout, the HTTP/2 flood guard). */
  readonly connectionsClosed: Family<CounterCell>;
  /** Key names as labels (telemetry.metrics_key_labels), at most 1000 distinct; undefined when off. */
  readonly keys: CappedLabels | undefined;

  /** `keyLabels`: add a `key` label (the caller's key name) to calls, tokens and cost. */
  constructor(
    readonly keyLabels: boolean,
    sources: MetricSources,
  ) {
    const r = this.registry;
    this.keys = keyLabels ? new CappedLabels(1000) : undefined;
    const key = keyLabels ? ["key"] : [];
    this.calls = counter(
      r,
      "llmgw_calls_total",
      "Finished calls by RPC, requested model, answering provider and status code.",
      ["rpc", "model", "provider", "code", ...key],
    );
    this.duration = histogram(
      r,
      "llmgw_call_duration_seconds",
      "Total call duration as the gateway saw it (a stream: until its end).",
      ["rpc", "model", "provider"],
      CALL_BUCKETS,
    );
    this.upstream = histogram(
      r,
      "llmgw_upstream_duration_seconds",
      "Time spent in upstream attempts, for calls that made at least one.",
      ["rpc", "model", "provider"],
      CALL_BUCKETS,
    );
    this.overhead = histogram(
      r,
      "llmgw_gateway_overhead_seconds",
      "Gateway time: total minus upstream (retry backoff included; coalesced calls excluded).",
      ["rpc"],
      OVERHEAD_BUCKETS,
    );
    this.ttft = histogram(
      r,
      "llmgw_time_to_first_token_seconds",
      "ChatStream: time from the call's start to its first content.",
      ["model", "provider"],
      TTFT_BUCKETS,
    );
    this.chunkGap = histogram(
      r,
      "llmgw_stream_chunk_gap_seconds",
      "ChatStream: gap between two chunks written to the client.",
      [],
      GAP_BUCKETS,
    ).of("");
    this.tokens = counter(
      r,
      "llmgw_tokens_total",
      "Tokens billed by providers (cache hits and coalesced calls add none), by type: input, output, cached (part of input), reasoning (part of output).",
      ["model", "provider", "type", ...key],
    );
    this.cost = counter(r, "llmgw_cost_usd_total", "Cost of the calls in USD, from the catalog's prices.", [
      "model",
      "provider",
      ...key,
    ]);
    this.cacheHits = counter(r, "llmgw_cache_hits_total", "Response cache hits by level (memory, redis).", [
      "rpc",
      "level",
    ]);
    this.cacheMisses = counter(
      r,
      "llmgw_cache_misses_total",
      "Response cache misses (coalesced ones included).",
      ["rpc"],
    );
    this.cacheCoalesced = counter(
      r,
      "llmgw_cache_coalesced_total",
      "Cache misses answered by another caller's identical in-flight call.",
      ["rpc"],
    );
    this.attempts = counter(
      r,
      "llmgw_upstream_attempts_total",
      "Upstream attempts by deployment and outcome (ok, HEDGE_LOST, OUTBOUND_LIMITED or the error reason).",
      ["deployment", "outcome"],
    );
    this.retries = counter(
      r,
      "llmgw_retries_total",
      "Retries: attempts on a deployment already tried in the same call.",
      ["rpc", "model"],
    );
    this.fallbacks = counter(
      r,
      "llmgw_fallbacks_total",
      "Fallbacks: attempts on another deployment after a failed one.",
      ["rpc", "model"],
    );
    this.hedges = counter(
      r,
      "llmgw_hedges_total",
      "Hedged calls: a second deployment called while the first was still in flight.",
      ["rpc", "model"],
    );
    this.rejections = counter(
      r,
      "llmgw_limiter_rejections_total",
      "Calls refused by limits before going upstream, by reason.",
      ["reason"],
    );
    this.connectionsRefused = counter(
      r,
      "llmgw_connections_refused_total",
      "Client connections refused because server.max_connections were open.",
      [],
    ).of("");
    this.connectionsClosed = counter(
      r,
      "llmgw_connections_closed_total",
      "Client connections the door closed itself: first_bytes_timeout, http2_handshake_timeout, http2_idle_timeout, http2_flood (HTTP/1.1 timeouts are Node's, not counted).",
      ["reason"],
    );
    this.scrapeGauges(sources);
  }

  /** Exports the number of open client connections (read at scrape time from the door). */
  watchConnections(open: () => number): void {
    new Gauge({
      name: "llmgw_open_connections",
      help: "Client connections open on the gateway's port (HTTP/1.1 and HTTP/2, any state).",
      registers: [this.registry],
      collect() {
        this.set(open());
      },
    });
  }

  /** Gauges computed when Prometheus scrapes: nothing on the call path. */
  private scrapeGauges(s: MetricSources): void {
    const r = this.registry;
    new Gauge({
      name: "llmgw_inflight_calls",
      help: "Calls in flight (unary and streams).",
      registers: [r],
      collect() {
        this.set(s.inflight().calls);
      },
    });
    new Gauge({
      name: "llmgw_inflight_streams",
      help: "ChatStream calls in flight.",
      registers: [r],
      collect() {
        this.set(s.inflight().streams);
      },
    });
    // Upstream connection pools (providers.<name>.max_connections): calls waiting for a connection, and on one.
    const upstreamGauge = (
      name: string,
      help: string,
      pick: (u: { queued: number; running: number }) => number,
    ) =>
      new Gauge({
        name,
        help,
        labelNames: ["provider"],
        registers: [r],
        collect() {
          this.reset();
          const sum = new Map<string, number>();
          for (const u of upstreamLoad()) sum.set(u.provider, (sum.get(u.provider) ?? 0) + pick(u));
          for (const [provider, n] of sum) this.set({ provider }, n);
        },
      });
    upstreamGauge(
      "llmgw_upstream_queued_requests",
      "Calls waiting for a connection to their provider (max_connections open to the origin); the wait counts against the attempt's timeouts.",
      (u) => u.queued,
    );
    upstreamGauge(
      "llmgw_upstream_active_requests",
      "Calls on a connection to their provider (request sent, answer not finished).",
      (u) => u.running,
    );
    new Gauge({
      name: "llmgw_breaker_state",
      help: "Circuit breaker per deployment called: 0 closed, 1 half-open, 2 open (the worst of those sharing a label).",
      labelNames: ["deployment", "provider"],
      registers: [r],
      collect() {
        this.reset();
        const labels = s.labels();
        const worst = new Map<string, { deployment: string; provider: string; v: number }>();
        for (const d of s.gateway()?.deploymentHealth() ?? []) {
          const deployment = labels ? labels.of(d.target) : d.target;
          const v = BREAKER_VALUE[d.breaker] ?? 0;
          const k = deployment + SEP + d.provider;
          const cur = worst.get(k);
          if (!cur) worst.set(k, { deployment, provider: d.provider, v });
          else if (v > cur.v) cur.v = v;
        }
        for (const w of worst.values()) this.set({ deployment: w.deployment, provider: w.provider }, w.v);
      },
    });
    if (s.redis()) {
      new Gauge({
        name: "llmgw_redis_up",
        help: "1 when the shared Redis answers, 0 while it is down or connecting (present only with Redis).",
        registers: [r],
        collect() {
          this.set(s.redis()?.state === "up" ? 1 : 0);
        },
      });
    }
  }

  /** The exposition text: these metrics, then the process metrics (event-loop lag, heap, GC, ...). */
  async text(): Promise<string> {
    const [own, proc] = await Promise.all([this.registry.metrics(), processRegistry().metrics()]);
    return own + proc;
  }

  /** The registries text() reads (these metrics, the process metrics): a cluster worker sends them as JSON. */
  registries(): Registry[] {
    return [this.registry, processRegistry()];
  }

  /** The Prometheus text format's content type. */
  get contentType(): string {
    return this.registry.contentType;
  }
}

let processMetrics: Registry | undefined;

/** One registry per process for the default metrics: several apps in a process share it. */
function processRegistry(): Registry {
  if (!processMetrics) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
  }
  return processMetrics;
}
