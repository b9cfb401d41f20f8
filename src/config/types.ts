// The resolved configuration object the rest of the gateway reads (built once by load.ts).
import type { FileConfig } from "./schema.js";

/** Timeouts in milliseconds; the request deadline bounds all the others. */
export interface Timeouts {
  requestMs: number;
  attemptMs: number;
  firstTokenMs: number;
  idleMs: number;
  maxStreamMs: number;
}

/** Per-model policy: `defaults` deep-merged with the model's own section. */
export interface ModelPolicy {
  timeouts: Timeouts;
  retries: { maxAttempts: number; baseMs: number; maxMs: number; budgetPct: number };
  breaker: { errorThresholdPct: number; minCalls: number; windowMs: number; resetMs: number };
  cache: { enabled: boolean; ttlS: number };
  equivalents: boolean;
  unsupportedParams: "reject" | "warn";
  /** A prompt over the context window: refused, or trimmed to fit (src/gateway/context-trim.ts). */
  contextOverflow: "reject" | "trim";
}

/** An enabled provider: endpoint and credentials (the key never leaves this object but to its provider). */
export interface ProviderConfig {
  name: string;
  type: string;
  baseUrl: string;
  apiKey: string;
  headers: Record<string, string>;
  /** Hugging Face only: where embeddings go (feature-extraction), when not the default. */
  embedBaseUrl?: string;
  /** type openai only: which wire its chat calls take ("auto" when absent; providers/openai-responses/select.ts). */
  wire?: "chat" | "responses" | "auto";
  /** How calls leave for the upstream (providers.<name>.proxy / tls / http2 / ...); defaults when absent. */
  transport?: ProviderTransport;
}

/** providers.<name> transport keys as the HTTP layer takes them (src/providers/upstream.ts). */
export interface ProviderTransport {
  /** Proxy URL; "none" = direct whatever the environment says; unset = HTTPS_PROXY / HTTP_PROXY / NO_PROXY. */
  proxy?: string;
  /** TLS towards the upstream: PEM text read from the configured files at load. */
  tls?: { ca?: string; cert?: string; key?: string; serverName?: string; insecureSkipVerify?: boolean };
  http2?: boolean;
  maxConnections?: number;
  keepAliveTimeoutMs?: number;
  keepAliveMaxTimeoutMs?: number;
  connectTimeoutMs?: number;
}

/** A model name from config: deployments then fallbacks. */
export interface ModelConfig {
  name: string;
  /** `rpm` / `tpm`: the provider's outbound limits for that deployment (unset = unlimited). */
  deployments: { target: string; weight: number; rpm?: number; tpm?: number }[];
  strategy: "weighted" | "least_inflight" | "least_latency";
  fallbacks: string[];
  /** Send to a second deployment when the first has not answered after this long (0 = race); unset = no hedging. */
  hedgeAfterMs?: number;
  policy: ModelPolicy;
}

/** What one client connection may hold (server.* keys; README "Security and hardening"). */
export interface ConnLimits {
  /** A new connection's first bytes (the protocol sniffer; the full HTTP/2 preface). */
  firstBytesTimeoutMs: number;
  /** HTTP/1.1: a request head; HTTP/2: the client's first SETTINGS frame. */
  headersTimeoutMs: number;
  /** HTTP/1.1: a whole request (head and body) received. */
  requestTimeoutMs: number;
  /** HTTP/1.1: idle keep-alive between requests. */
  keepAliveTimeoutMs: number;
  /** HTTP/2: a session with no open stream. */
  http2IdleTimeoutMs: number;
  /** Open client connections; more are refused (closed at once). */
  maxConnections: number;
  /** HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS advertised to clients. */
  http2MaxConcurrentStreams: number;
  /** PING + SETTINGS frames a client may send per second on one session. */
  http2MaxControlFramesPerS: number;
}

/** server.tls, resolved: file paths (relative ones from the config file's folder) and client auth. */
export interface TlsSettings {
  certFile: string;
  keyFile: string;
  /** CA bundle verifying client certificates; set exactly when clientAuth is not "none". */
  clientCaFile: string | undefined;
  clientAuth: "none" | "optional" | "require";
}

/** responses.* resolved with defaults (stored responses of the Responses API, src/responses). */
export interface ResponsesSettings {
  storeDefault: boolean;
  allowAnonymousStore: boolean;
  ttlS: number;
  /** Memory: in all; Redis: per owner. */
  maxEntries: number;
  /** Memory: in all; Redis: per owner. */
  maxBytes: number;
  maxRecordBytes: number;
  /** Redis: command timeout of the store's own connection (big records do not queue behind the limiter). */
  redisTimeoutMs: number;
}

/** The whole configuration. */
export interface GatewayConfig {
  configPath: string;
  server: {
    host: string;
    port: number;
    maxRequestBytes: number;
    maxInflight: number;
    maxStreams: number;
    /** What an upstream answer may make the gateway hold (server.max_answer_bytes, ...; providers/body-budget.ts). */
    upstreamLimits: {
      maxAnswerBytes: number;
      maxEmbedAnswerBytes: number;
      maxEventBytes: number;
      bufferBytes: number;
    };
    shutdownGraceMs: number;
    /** Gateway processes behind the one port (server.workers, --workers; "auto" resolved); 1 = no cluster. */
    workers: number;
    trustedProxies: string[];
    corsOrigins: string[];
    /** Connection hardening: timeouts, caps and the HTTP/2 flood guard (src/server/listen.ts). */
    conn: ConnLimits;
    /** TLS on the one port; undefined = cleartext (src/server/tls.ts). */
    tls: TlsSettings | undefined;
  };
  providers: ProviderConfig[];
  models: Map<string, ModelConfig>;
  defaults: ModelPolicy;
  logging: { level: string; logPrompts: boolean };
  /** Stored responses (responses.*). */
  responses: ResponsesSettings;
  /** Problems that do not stop the gateway (a provider disabled, ...), logged at start. */
  warnings: string[];
  /** redis.url, else REDIS_URL ("" = no Redis unless sentinels / cluster_nodes are configured). */
  redisUrl: string;
  /** The validated file as written, for sections later features read (redis, keys, limits). */
  file: FileConfig;
}
