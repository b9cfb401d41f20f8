// How one provider's requests leave the process: an undici dispatcher (direct, through the provider's
// proxy, or as HTTPS_PROXY / HTTP_PROXY / NO_PROXY say) with its TLS, HTTP/2, pool size and keep-alive.
import type { Socket } from "node:net";
import { buildConnector, type Dispatcher, EnvHttpProxyAgent, Pool, ProxyAgent } from "undici";

/** TLS towards the upstream; PEM text (the config loader reads the files). */
export interface TransportTls {
  /** Trusted CAs instead of the system's. */
  ca?: string;
  /** Client certificate and its key (mutual TLS). */
  cert?: string;
  key?: string;
  /** SNI and the name the certificate must carry, when not the URL's host. */
  serverName?: string;
  /** Accept any certificate (tests, a lab): logged as a warning at start. */
  insecureSkipVerify?: boolean;
}

/** A provider's transport settings (providers.<name>.proxy / tls / http2 / max_connections / keep_alive_*). */
export interface TransportSettings {
  /** Proxy URL for every request; "none" = direct whatever the environment says; unset = environment. */
  proxy?: string;
  tls?: TransportTls;
  /** Offer HTTP/2 (ALPN, https upstreams): one connection then carries many calls. */
  http2?: boolean;
  /** Most connections open to one origin; more calls wait for one (llmgw_upstream_queued_requests). */
  maxConnections?: number;
  /** Idle lifetime of a kept connection when the upstream gives no Keep-Alive hint. */
  keepAliveTimeoutMs?: number;
  /** Cap on the upstream's Keep-Alive hint. */
  keepAliveMaxTimeoutMs?: number;
  /** TCP + TLS (+ proxy tunnel) setup. */
  connectTimeoutMs?: number;
}

/** The defaults (README, providers section). */
export const TRANSPORT_DEFAULTS = Object.freeze({
  maxConnections: 256,
  keepAliveTimeoutMs: 30_000,
  keepAliveMaxTimeoutMs: 60_000,
  connectTimeoutMs: 10_000,
});

/** How long a TLS alert is kept for the failure it explains (the failure follows within a tick or two). */
const ALERT_KEEP_MS = 5_000;

/** Last-resort guards only: the pipeline owns deadlines and idle timeouts through the signal. */
const SILENCE_GUARD_MS = 600_000;

/** The proxy a URL goes through under the environment's rules (as undici's EnvHttpProxyAgent reads them). */
export function envProxyFor(url: string, env: NodeJS.ProcessEnv): string | undefined {
  const u = new URL(url);
  const proxy =
    u.protocol === "https:"
      ? (env["https_proxy"] ?? env["HTTPS_PROXY"])
      : (env["http_proxy"] ?? env["HTTP_PROXY"]);
  if (!proxy) return undefined;
  const noProxy = env["no_proxy"] ?? env["NO_PROXY"] ?? "";
  if (noProxy.trim() === "*") return undefined;
  const host = u.host.replace(/:\d*$/, "").toLowerCase();
  const port = Number.parseInt(u.port, 10) || (u.protocol === "https:" ? 443 : 80);
  for (const entry of noProxy.split(/[,\s]/)) {
    if (entry === "") continue;
    const m = /^(.+):(\d+)$/.exec(entry);
    const name = (m ? (m[1] as string) : entry).replace(/^\*?\./, "").toLowerCase();
    if (m && Number(m[2]) !== port) continue;
    if (host === name || host.endsWith(`.${name}`)) return undefined;
  }
  return proxy;
}

/** A proxy URL fit for a log line: no user or password. */
export function redactProxy(proxy: string): string {
  try {
    const u = new URL(proxy);
    u.username = "";
    u.password = "";
    return u.href.replace(/\/$/, "");
  } catch {
    return "(unparsable proxy URL)";
  }
}

/** What to log at start about a provider's transport: where its requests go, and loud warnings. */
export function transportNotes(
  provider: string,
  s: TransportSettings,
  urls: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): { info: string[]; warn: string[] } {
  const info: string[] = [];
  const warn: string[] = [];
  for (const url of urls) {
    if (!URL.canParse(url)) continue; // its calls fail naming the URL; nothing to say about a route
    const origin = new URL(url).origin;
    let via = "direct";
    if (s.proxy === "none") via = "direct (proxy: none)";
    else if (s.proxy) via = `via proxy ${redactProxy(s.proxy)} (providers.${provider}.proxy)`;
    else {
      const p = envProxyFor(url, env);
      if (p !== undefined)
        via = `via proxy ${redactProxy(p)} (${origin.startsWith("https:") ? "HTTPS_PROXY" : "HTTP_PROXY"})`;
      else if (envProxyFor(url, { ...env, no_proxy: "", NO_PROXY: "" }) !== undefined)
        via = "direct (NO_PROXY)";
    }
    info.push(`provider ${provider}: upstream ${origin} ${via}${s.http2 ? ", HTTP/2 offered" : ""}`);
  }
  if (s.tls?.insecureSkipVerify) {
    warn.push(
      `provider ${provider}: tls.insecure_skip_verify is on: upstream certificates are NOT verified (anyone on the path can read and change its traffic)`,
    );
  }
  return { info, warn };
}

/** What carries a provider's requests: a dispatch entry point and a graceful close. */
export type UpstreamDispatcher = Pick<Dispatcher, "dispatch" | "close">;

/**
 * Direct connections: one Pool per origin, kept for the transport's life. (undici's Agent replaces
 * an origin's pool whenever its connections have all closed, and an old pool's late 'disconnect'
 * can retire the new one while it still has calls: max_connections then no longer holds. Measured:
 * a third connection opened with max_connections: 1.)
 */
class DirectPools {
  readonly #pools = new Map<string, Pool>();

  constructor(readonly make: (origin: string) => Pool) {}

  dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const origin = opts.origin as string;
    let pool = this.#pools.get(origin);
    if (pool === undefined) {
      pool = this.make(origin);
      this.#pools.set(origin, pool);
    }
    return pool.dispatch(opts, handler);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#pools.values()].map((p) => p.close()));
  }
}

/** One provider's dispatcher, and the pools behind it (for the queue gauge). */
export class Upstream {
  readonly dispatcher: UpstreamDispatcher;
  /** The newest pool per origin (undici's agents replace a pool whose connections all closed). */
  readonly #pools = new Map<string, Pool>();
  /**
   * TLS alerts received on direct sockets, by local address:port. undici 7.30 reports a socket the
   * server closes after its alert (TLS 1.3: "certificate required") as "other side closed", the
   * alert lost; `explain` puts it back so the failure is classified as the TLS refusal it is.
   */
  readonly #alerts = new Map<string, Error>();

  readonly #onClose: ((u: Upstream) => void) | undefined;

  constructor(
    readonly provider: string,
    s: TransportSettings = {},
    env: NodeJS.ProcessEnv = process.env,
    onClose?: (u: Upstream) => void,
  ) {
    this.#onClose = onClose;
    const tls = s.tls ?? {};
    const connect = {
      timeout: s.connectTimeoutMs ?? TRANSPORT_DEFAULTS.connectTimeoutMs,
      ...(tls.ca === undefined ? {} : { ca: tls.ca }),
      ...(tls.cert === undefined ? {} : { cert: tls.cert }),
      ...(tls.key === undefined ? {} : { key: tls.key }),
      ...(tls.serverName === undefined ? {} : { servername: tls.serverName }),
      ...(tls.insecureSkipVerify ? { rejectUnauthorized: false } : {}),
      ...(s.http2 ? { allowH2: true } : {}),
    };
    const opts = {
      connections: s.maxConnections ?? TRANSPORT_DEFAULTS.maxConnections,
      pipelining: 1,
      allowH2: s.http2 === true,
      keepAliveTimeout: s.keepAliveTimeoutMs ?? TRANSPORT_DEFAULTS.keepAliveTimeoutMs,
      keepAliveMaxTimeout: s.keepAliveMaxTimeoutMs ?? TRANSPORT_DEFAULTS.keepAliveMaxTimeoutMs,
      headersTimeout: SILENCE_GUARD_MS,
      bodyTimeout: SILENCE_GUARD_MS,
      connect: this.#watchAlerts(buildConnector(connect)),
      // Through a proxy, `connect` is the tunnel's: the upstream's TLS goes here.
      requestTls: connect,
      factory: (origin: string | URL, o: object): Dispatcher => {
        const pool = new Pool(origin, o);
        this.#pools.set(String(origin), pool);
        return pool;
      },
    };
    const { factory, requestTls: _tunnelOnly, ...poolOpts } = opts;
    const direct = () => new DirectPools((origin) => factory(origin, poolOpts) as Pool);
    if (s.proxy === "none") this.dispatcher = direct();
    else if (s.proxy) this.dispatcher = new ProxyAgent({ ...opts, uri: s.proxy });
    else {
      // Read here from `env` (the process's by default) and handed over, so the start log and the agent agree.
      const httpsProxy = env["https_proxy"] ?? env["HTTPS_PROXY"];
      const httpProxy = env["http_proxy"] ?? env["HTTP_PROXY"];
      const noProxy = env["no_proxy"] ?? env["NO_PROXY"];
      this.dispatcher =
        httpsProxy || httpProxy
          ? new EnvHttpProxyAgent({
              ...opts,
              ...(httpsProxy ? { httpsProxy } : {}),
              ...(httpProxy ? { httpProxy } : {}),
              ...(noProxy === undefined ? {} : { noProxy }),
            })
          : direct();
    }
  }

  /** Wraps a connector so TLS alerts on its sockets are remembered for `explain`. */
  #watchAlerts(base: buildConnector.connector): buildConnector.connector {
    return (opts, callback) =>
      base(opts, (...args) => {
        const socket = args[1];
        if (socket != null) {
          socket.on("error", (e: Error & { code?: string }) => {
            if (!e.code?.startsWith("ERR_SSL_")) return;
            const key = socketKey(socket);
            this.#alerts.set(key, e);
            setTimeout(() => this.#alerts.delete(key), ALERT_KEEP_MS).unref();
          });
        }
        callback(...args);
      });
  }

  /** The TLS alert behind an "other side closed" failure, when one came on that socket; else `e`. */
  explain(e: unknown): unknown {
    if (this.#alerts.size === 0 || (e as { code?: unknown } | null)?.code !== "UND_ERR_SOCKET") return e;
    const info = (e as { socket?: { localAddress?: string; localPort?: number } }).socket;
    const alert = info === undefined ? undefined : this.#alerts.get(`${info.localAddress}:${info.localPort}`);
    return alert ?? e;
  }

  /** Calls waiting for a connection (max_connections reached), summed over this provider's origins. */
  get queued(): number {
    let n = 0;
    for (const p of this.#pools.values()) n += p.stats.queued;
    return n;
  }

  /** Calls on a connection (sent, answer not finished). */
  get running(): number {
    let n = 0;
    for (const p of this.#pools.values()) n += p.stats.running;
    return n;
  }

  /** Gracefully closes: running calls finish, then every connection closes. */
  close(): Promise<void> {
    this.#onClose?.(this);
    return this.dispatcher.close();
  }
}

function socketKey(s: Socket): string {
  return `${s.localAddress}:${s.localPort}`;
}
