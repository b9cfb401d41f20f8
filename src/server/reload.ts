// Config reload without a restart: the live gateway (pipeline + model directory) is rebuilt from the
// new config and swapped in whole; calls in flight finish on the instance they started on, which is
// then drained and closed. Shared state (Redis, limiter, cache, key store, ledgers) outlives reloads.
import type { GatewayConfig } from "../config/index.js";
import type { Gateway } from "../gateway/gateway.js";
import type { ModelDirectory } from "../gateway/models.js";
import type { Logger } from "../lib/logger.js";

/** One generation of the pipeline, built from one config. */
export interface Generation {
  config: GatewayConfig;
  gateway: Gateway;
  models: ModelDirectory;
  /** Releases what this generation owns alone (its providers' connections); after its calls drained. */
  close(): Promise<void>;
}

/** What `reload` did. */
export type ReloadResult = { ok: true; restartNeeded: string[] } | { ok: false; error: string };

/** Settings read once at start (the port, Redis, storage, telemetry): a reload cannot change them. */
export function restartNeeded(old: GatewayConfig, next: GatewayConfig): string[] {
  const out: string[] = [];
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  const o = old.server;
  const n = next.server;
  if (o.host !== n.host) out.push("server.host");
  if (o.port !== n.port) out.push("server.port");
  if (o.workers !== n.workers) out.push("server.workers");
  if (o.maxRequestBytes !== n.maxRequestBytes) out.push("server.max_request_bytes");
  if (!same(o.corsOrigins, n.corsOrigins)) out.push("server.cors_origins");
  // TLS on or off, and client_auth, are fixed at start; the certificate files are re-read (app.ts).
  if ((o.tls === undefined) !== (n.tls === undefined) || o.tls?.clientAuth !== n.tls?.clientAuth)
    out.push("server.tls");
  if (old.redisUrl !== next.redisUrl || !same(old.file.redis, next.file.redis)) out.push("redis");
  if (!same(old.file.cache, next.file.cache)) out.push("cache");
  if (!same(old.file.telemetry, next.file.telemetry)) out.push("telemetry");
  if (!same(old.file.usage, next.file.usage)) out.push("usage");
  // The response store is built once (its backend follows redis); its bounds are read at start.
  for (const k of ["max_entries", "max_bytes", "max_record_bytes", "redis_timeout_ms"] as const)
    if (old.file.responses?.[k] !== next.file.responses?.[k]) out.push(`responses.${k}`);
  // The key store is built once per process: every auth setting but these two is read at start.
  const reloadable = new Set(["allow_anonymous", "admin_sha256"]);
  const oa: Record<string, unknown> = old.file.auth ?? {};
  const na: Record<string, unknown> = next.file.auth ?? {};
  for (const k of new Set([...Object.keys(oa), ...Object.keys(na)])) {
    if (!reloadable.has(k) && !same(oa[k], na[k])) out.push(`auth.${k}`);
  }
  return out;
}

/** The current generation, and the ones still draining. */
export class LiveGateway {
  private gen: Generation;
  private readonly retiring = new Set<Generation>();

  constructor(
    first: Generation,
    private readonly build: (config: GatewayConfig) => Generation,
    private readonly log: Logger,
  ) {
    this.gen = first;
  }

  get gateway(): Gateway {
    return this.gen.gateway;
  }

  get models(): ModelDirectory {
    return this.gen.models;
  }

  get config(): GatewayConfig {
    return this.gen.config;
  }

  /** Calls in flight on every generation (the current one and those draining). */
  get inFlight(): number {
    let n = this.gen.gateway.inFlight;
    for (const g of this.retiring) n += g.gateway.inFlight;
    return n;
  }

  /** Streams in flight on every generation. */
  get streamsInFlight(): number {
    let n = this.gen.gateway.streamsInFlight;
    for (const g of this.retiring) n += g.gateway.streamsInFlight;
    return n;
  }

  /**
   * Builds a generation from `next` and swaps it in. A config the pipeline cannot be built from
   * (a bad catalog override, a provider that fails to start) is rejected and the old one stays.
   */
  reload(next: GatewayConfig): ReloadResult {
    let built: Generation;
    try {
      built = this.build(next);
    } catch (e: unknown) {
      const error = e instanceof Error ? e.message : String(e);
      this.log.error({ err: error }, "config reload rejected; the running config stays");
      return { ok: false, error };
    }
    const old = this.gen;
    const restart = restartNeeded(old.config, next);
    this.gen = built;
    this.retire(old);
    for (const w of next.warnings) this.log.warn(w);
    if (restart.length > 0) {
      this.log.warn({ fields: restart }, "config reloaded; these settings take effect only after a restart");
    }
    this.log.info(
      { providers: [...built.gateway.providers.keys()], models: built.config.models.size },
      "config reloaded",
    );
    return { ok: true, restartNeeded: restart };
  }

  /** Lets the old generation's calls finish, then closes it (its own connections and breakers). */
  private retire(g: Generation): void {
    this.retiring.add(g);
    void g.gateway.drain().then(async () => {
      this.retiring.delete(g);
      g.gateway.close();
      await g.close().catch(() => {});
    });
  }

  /** Shutdown: stops admitting on every generation; resolves when all their calls finished. */
  drain(): Promise<void> {
    return Promise.all([this.gen.gateway.drain(), ...[...this.retiring].map((g) => g.gateway.drain())]).then(
      () => {},
    );
  }

  /** Shutdown, after drain (or the grace period): closes every generation. */
  async close(): Promise<void> {
    const all = [this.gen, ...this.retiring];
    this.retiring.clear();
    for (const g of all) g.gateway.close();
    await Promise.all(all.map((g) => g.close().catch(() => {})));
  }
}
