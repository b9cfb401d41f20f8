// Assembles a running gateway from a config: providers, pipeline, Connect routes on one port,
// health, and graceful shutdown (NOT_SERVING, refuse new calls, drain, then close).
import { setMaxListeners } from "node:events";
import type { Interceptor } from "@connectrpc/connect";
import { createKeyStore } from "../auth/index.js";
import { createBudgetLedger, createUsageLedger } from "../billing/index.js";
import { CachedCalls, cacheRedisOver, ResponseCache } from "../cache/index.js";
import { loadCatalog } from "../catalog/index.js";
import type { GatewayConfig } from "../config/index.js";
import { Gateway } from "../gateway/gateway.js";
import { ModelDirectory } from "../gateway/models.js";
import type { Logger } from "../lib/logger.js";
import { Limiter } from "../limits/index.js";
import { closeHttpPools, createProviders, setUpstreamLimits } from "../providers/index.js";
import { createRedisLink } from "../redis/client.js";
import { createResponseStore, responsesDeps } from "../responses/index.js";
import { setupTelemetry } from "../telemetry/index.js";
import { createConnectHandler, type FastPath, type Served } from "./adapter.js";
import { withCors } from "./cors.js";
import { createFastConnect } from "./fast-connect.js";
import { createFastGrpc } from "./fast-grpc.js";
import { httpProbe } from "./http-probes.js";
import { listenOnePort, type OnePort } from "./listen.js";
import { listenMetrics, type MetricsListener, metricsRoute } from "./metrics-route.js";
import { ProbeHealth } from "./probes.js";
import { type Generation, LiveGateway, type ReloadResult } from "./reload.js";
import { createRestHandler } from "./rest/index.js";
import { routes, streamMethods, unaryMethods } from "./routes.js";
import { startLineFields } from "./start-line.js";
import { UsageRecorder } from "./usage-recorder.js";

/** A running gateway. */
export interface App {
  /** The current generation's pipeline (replaced on reload). */
  readonly gateway: Gateway;
  /** The config the current generation runs on. */
  readonly config: GatewayConfig;
  /**
   * Swaps in a new config (SIGHUP): providers, models, defaults, keys, limits, catalog, log level.
   * Calls in flight finish on the config they started with; a config that cannot be built is rejected.
   */
  reload(next: GatewayConfig): ReloadResult;
  port: number;
  url: string;
  /** The port of the /metrics listener when telemetry.metrics_listen is set (else /metrics is on `port`). */
  metricsPort?: number;
  /** Graceful stop: NOT_SERVING, refuse new calls, let in-flight ones finish within the grace period. */
  shutdown(graceMs?: number): Promise<void>;
}

/**
 * Knobs for tests only, never set from config: the differential test (test/server/
 * fast-differential.test.ts) serves the same calls with and without the fast paths.
 */
export interface AppInternals {
  /** false: every RPC goes to Connect's own handler. */
  fastPaths?: boolean;
  /** Connect interceptors (then every RPC goes to Connect's handler, which runs them). */
  interceptors?: Interceptor[];
  /** Told which handler took each RPC request. */
  onServed?: (by: Served) => void;
}

/** Starts the gateway described by `config`. */
export async function startApp(
  config: GatewayConfig,
  log: Logger,
  internals: AppInternals = {},
): Promise<App> {
  for (const w of config.warnings) log.warn(w);
  const redis = createRedisLink(config.file, config.redisUrl, log);
  const limiter = new Limiter(redis, config.file.redis?.on_outage ?? "fail_open", log);
  const c = config.file.cache;
  const cache = new ResponseCache({
    ...(redis ? { redis: cacheRedisOver(redis) } : {}),
    ...(c?.redis_prefix ? { prefix: c.redis_prefix } : {}),
    maxBytes: (c?.memory_mb ?? 64) * 1024 * 1024,
    // The link keeps the "down" memory (shared with the limiter); the guard only bounds each command.
    timeoutMs: (redis?.opts.commandTimeoutMs ?? 100) + 50,
    skipMs: 0,
    onError: (err, op) =>
      log.debug({ op, err: err instanceof Error ? err.message : String(err) }, "cache redis command failed"),
  });
  const cached = new CachedCalls(cache);
  /** Hooks every generation's gateway gets (observers: metrics, traces, usage). */
  // Runtime gateway keys (AdminService): one store per process, handed to every generation's guard.
  const keyStore = createKeyStore(config, redis, log);
  await keyStore.start();
  const onGateway: ((g: Gateway) => void)[] = [(g) => g.guard.useKeyStore(keyStore)];
  // Budgets (keys[].budget) and usage per key / model / day: on Redis when configured, else memory.
  const budgets = createBudgetLedger(redis, config.file.redis?.on_outage ?? "fail_open", log);
  const usage = createUsageLedger(redis, { retentionDays: config.file.usage?.retention_days }, log);
  onGateway.push((g) => {
    g.useBudgets(budgets);
    g.observe(new UsageRecorder(usage));
  });
  // Metrics (GET /metrics) and, with telemetry.otlp_endpoint, traces: observers on every generation.
  const telemetry = await setupTelemetry({
    config,
    log,
    gateway: () => live.gateway,
    redis: () => redis,
    inflight: () => ({ calls: live.inFlight, streams: live.streamsInFlight }),
  });
  onGateway.push((g) => telemetry.attach(g));
  // Stored responses (Responses API): Redis when configured (every replica), else this process's memory.
  const responseStore = createResponseStore(config, log).store;
  // One generation of the pipeline per config (at start, then on each reload); shared state above.
  const build = (cfg: GatewayConfig): Generation => {
    const providers = createProviders(cfg.providers, {
      unsupportedParams: cfg.defaults.unsupportedParams,
      warn: (msg) => log.warn(msg),
      info: (msg) => log.info(msg),
    });
    const catalog = loadCatalog(cfg.file.catalog);
    log.level = cfg.logging.level;
    const gw = new Gateway(cfg, providers, log, catalog, limiter, cached);
    for (const hook of onGateway) hook(gw);
    // Process-wide (the HTTP layer is shared by every generation): the newest built config's bounds apply.
    setUpstreamLimits(cfg.server.upstreamLimits);
    return {
      config: cfg,
      gateway: gw,
      models: new ModelDirectory(gw, catalog, log),
      close: async () => {
        await Promise.all([...providers.values()].map((p) => p.close()));
      },
    };
  };
  const live = new LiveGateway(build(config), build, log);
  // Liveness and readiness (grpc.health.v1 "liveness" / "readiness", the Health RPC): probes.ts.
  const health = new ProbeHealth({ gateway: () => live.gateway, redis: () => redis });
  const shutdownController = new AbortController();
  // Connect links every call to this signal: thousands of listeners are normal, not a leak.
  setMaxListeners(0, shutdownController.signal);

  const deps = {
    gateway: () => live.gateway,
    models: () => live.models,
    health,
    redis: () => redis,
    admin: { gateway: () => live.gateway, store: keyStore, usage: () => usage, budgets: () => budgets },
  };
  const methods = unaryMethods(deps);
  const streams = streamMethods(deps);
  const handler = createConnectHandler({
    routes: (router) => routes(router, deps, methods),
    ...(internals.fastPaths === false
      ? {}
      : {
          fast: fastPaths(
            createFastConnect(methods, streams, config.server.maxRequestBytes, log),
            createFastGrpc(methods, streams, config.server.maxRequestBytes, log),
          ),
        }),
    ...(internals.interceptors ? { interceptors: internals.interceptors } : {}),
    ...(internals.onServed ? { onServed: internals.onServed } : {}),
    maxRequestBytes: config.server.maxRequestBytes,
    shutdownSignal: shutdownController.signal,
    log,
    fallback: createRestHandler({
      gateway: deps.gateway,
      models: deps.models,
      maxRequestBytes: config.server.maxRequestBytes,
      log,
      responses: responsesDeps(responseStore, () => live.config),
    }),
  });
  const served = withCors(handler, config.server.corsOrigins);
  // /metrics: open for scrapers, or behind the admin key; on the main port or a listener of its own.
  const tel = config.file.telemetry ?? {};
  const adminOnly = tel.metrics_auth === "admin" ? () => live.gateway.guard.admin : undefined;
  const metricsAll = telemetry.metrics && metricsRoute(telemetry.metrics, log, adminOnly);
  let metricsListener: MetricsListener | undefined;
  if (metricsAll && tel.metrics_listen)
    metricsListener = await listenMetrics(tel.metrics_listen, metricsAll, log);
  const metrics = metricsListener ? undefined : metricsAll;
  const probe = httpProbe(health);
  const server: OnePort = await listenOnePort(
    (req, res) => {
      if (metrics?.(req, res)) return;
      if (probe(req, res)) return;
      served(req, res);
    },
    {
      host: config.server.host,
      port: config.server.port,
      limits: config.server.conn,
      tls: config.server.tls,
      log,
      events: {
        refused: () => telemetry.metrics?.connectionsRefused.inc(),
        closed: (reason) => telemetry.metrics?.connectionsClosed.of(reason).inc(),
      },
    },
  );
  telemetry.metrics?.watchConnections(() => server.openConnections());
  const port = server.port();
  log.info(
    {
      host: config.server.host,
      port,
      providers: [...live.gateway.providers.keys()],
      config: config.configPath || undefined,
      ...startLineFields(config, keyStore),
    },
    "listening",
  );

  /** A reload re-reads server.tls files too; unusable ones reject it whole (the running config stays). */
  const reloadWithTls = (next: GatewayConfig): ReloadResult => {
    let commit: (() => void) | undefined;
    try {
      if (server.tls && next.server.tls) commit = server.tls.prepare(next.server.tls);
    } catch (e: unknown) {
      const error = e instanceof Error ? e.message : String(e);
      log.error({ err: error }, "config reload rejected; the running config stays");
      return { ok: false, error };
    }
    const r = live.reload(next);
    if (r.ok && commit && server.tls) {
      commit();
      log.info({ fingerprint: server.tls.fingerprint }, "TLS certificate files reloaded");
    }
    return r;
  };

  let stopping: Promise<void> | undefined;
  const shutdown = (graceMs = config.server.shutdownGraceMs): Promise<void> => {
    stopping ??= (async () => {
      log.info({ inflight: live.inFlight, grace_ms: graceMs }, "shutting down");
      health.stop();
      const drained = live.drain();
      // Stop accepting at once; open connections stay until the calls on them finish (new calls on
      // them are refused with SHUTTING_DOWN), then they are closed as they go quiet.
      server.server.close();
      const until = Date.now() + graceMs;
      const within = (p: Promise<unknown>, ms: number) =>
        Promise.race([
          p.then(() => true),
          new Promise<boolean>((r) => setTimeout(() => r(false), Math.max(0, ms)).unref()),
        ]);
      const clean =
        (await within(drained, graceMs)) && (await within(server.closeGracefully(), until - Date.now()));
      if (!clean) log.warn({ inflight: live.inFlight }, "grace period over: aborting remaining calls");
      shutdownController.abort();
      server.http1.closeIdleConnections();
      server.destroyAll();
      await live.close();
      metricsListener?.close();
      await telemetry.close();
      limiter.close();
      keyStore.close();
      budgets.close();
      // Usage recorded so far reaches Redis before the link closes (bounded: Redis may be down).
      await Promise.race([usage.flush(), new Promise((r) => setTimeout(r, 2000).unref())]);
      usage.close();
      await responseStore.close();
      await redis?.close();
      await closeHttpPools();
      log.info("stopped");
    })();
    return stopping;
  };
  return {
    get gateway() {
      return live.gateway;
    },
    get config() {
      return live.config;
    },
    reload: (next) => (stopping ? { ok: false, error: "shutting down" } : reloadWithTls(next)),
    port,
    url: `${server.tls ? "https" : "http"}://${config.server.host}:${port}`,
    ...(metricsListener ? { metricsPort: metricsListener.port } : {}),
    shutdown,
  };
}

/** Tries each fast path in turn (Connect, then gRPC); false = Connect's generic handler serves it. */
function fastPaths(...paths: FastPath[]): FastPath {
  return (req, res, handBack) => {
    for (const p of paths) if (p(req, res, handBack)) return true;
    return false;
  };
}
