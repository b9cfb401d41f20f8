// Builds the one validated GatewayConfig from flags, LLMGW_* env, a YAML file and provider keys
// in the environment. Precedence: flags, then env, then file. Errors name the offending field.
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { type FileConfig, fileSchema } from "./schema.js";
import { envWithSecretFiles, SECRET_ENV, withAdminDigest, yamlWithSecretFiles } from "./secret-files.js";
import type { GatewayConfig, ModelPolicy, ProviderConfig, ProviderTransport } from "./types.js";

/** A configuration the gateway cannot start with; the message names the field. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

const fail = (message: string): Error => new ConfigError(message);

/** What the loader needs to know of each known provider name (a preset): wire format, env vars, endpoint. */
export interface PresetInfo {
  /** Wire format ("openai" for the OpenAI-compatible hosts). */
  type: string;
  /** Env var holding the key; absent for keyless providers (Ollama), enabled by their base-URL env var. */
  keyEnv?: string;
  baseUrlEnv: string;
  baseUrl: string;
}

/** Ollama's OLLAMA_HOST may be "host:port" without a scheme. */
function withScheme(url: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `http://${url}`;
}

export interface LoadInput {
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  presets: Readonly<Record<string, PresetInfo>>;
  /** Wire formats this build can speak (others are disabled with a warning). */
  implementedTypes: ReadonlySet<string>;
}

const DEFAULT_POLICY: ModelPolicy = {
  timeouts: {
    requestMs: 120_000,
    attemptMs: 60_000,
    firstTokenMs: 20_000,
    idleMs: 30_000,
    maxStreamMs: 900_000,
  },
  retries: { maxAttempts: 3, baseMs: 200, maxMs: 5_000, budgetPct: 20 },
  breaker: { errorThresholdPct: 50, minCalls: 10, windowMs: 10_000, resetMs: 30_000 },
  cache: { enabled: false, ttlS: 600 },
  equivalents: false,
  unsupportedParams: "reject",
  contextOverflow: "reject",
};

/** Parses `--name value` / `--name=value` flags. */
export function parseFlags(argv: readonly string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (!arg.startsWith("--")) continue;
    const eq = arg.indexOf("=");
    if (eq > 0) flags.set(arg.slice(2, eq), arg.slice(eq + 1));
    else {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith("--")) {
        flags.set(arg.slice(2), next);
        i++;
      } else flags.set(arg.slice(2), "true");
    }
  }
  return flags;
}

const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Replaces ${VAR} and ${VAR:-default} in every string of a parsed YAML tree. */
export function substituteEnv(value: unknown, env: LoadInput["env"]): unknown {
  if (typeof value === "string") {
    return value.replace(VAR, (_m, name: string, def: string | undefined) => {
      const v = env[name];
      return v !== undefined && v !== "" ? v : (def ?? "");
    });
  }
  if (Array.isArray(value)) return value.map((v) => substituteEnv(v, env));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = substituteEnv(v, env);
    return out;
  }
  return value;
}

function formatZodError(err: z.ZodError, source: string): string {
  const lines = err.issues.map((i) => {
    const path = i.path.length ? i.path.map(String).join(".") : "(root)";
    return `  ${path}: ${i.message}`;
  });
  return `invalid configuration in ${source}:\n${lines.join("\n")}`;
}

function readFile(path: string, env: LoadInput["env"]): FileConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e: unknown) {
    throw new ConfigError(`cannot read config file ${path}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e: unknown) {
    throw new ConfigError(`config file ${path} is not valid YAML: ${(e as Error).message}`);
  }
  const tree = yamlWithSecretFiles(substituteEnv(raw ?? {}, env), dirname(resolve(path)), fail);
  const parsed = fileSchema.safeParse(tree);
  if (!parsed.success) throw new ConfigError(formatZodError(parsed.error, path));
  return parsed.data;
}

function mergePolicy(base: ModelPolicy, over: NonNullable<FileConfig["defaults"]> | undefined): ModelPolicy {
  if (!over) return base;
  const t = over.timeouts ?? {};
  const r = over.retries ?? {};
  const b = over.breaker ?? {};
  const c = over.cache ?? {};
  return {
    timeouts: {
      requestMs: t.request_ms ?? base.timeouts.requestMs,
      attemptMs: t.attempt_ms ?? base.timeouts.attemptMs,
      firstTokenMs: t.first_token_ms ?? base.timeouts.firstTokenMs,
      idleMs: t.idle_ms ?? base.timeouts.idleMs,
      maxStreamMs: t.max_stream_ms ?? base.timeouts.maxStreamMs,
    },
    retries: {
      maxAttempts: r.max_attempts ?? base.retries.maxAttempts,
      baseMs: r.base_ms ?? base.retries.baseMs,
      maxMs: r.max_ms ?? base.retries.maxMs,
      budgetPct: r.budget_pct ?? base.retries.budgetPct,
    },
    breaker: {
      errorThresholdPct: b.error_threshold_pct ?? base.breaker.errorThresholdPct,
      minCalls: b.min_calls ?? base.breaker.minCalls,
      windowMs: b.window_ms ?? base.breaker.windowMs,
      resetMs: b.reset_ms ?? base.breaker.resetMs,
    },
    cache: { enabled: c.enabled ?? base.cache.enabled, ttlS: c.ttl_s ?? base.cache.ttlS },
    equivalents: over.equivalents ?? base.equivalents,
    unsupportedParams: over.unsupported_params ?? base.unsupportedParams,
    contextOverflow: over.context_overflow ?? base.contextOverflow,
  };
}

function intFrom(value: string | undefined, what: string): number | undefined {
  if (value === undefined || value === "") return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new ConfigError(`${what}: "${value}" is not a port number`);
  return n;
}

function resolveProviders(
  file: FileConfig,
  input: LoadInput,
  warnings: string[],
  configPath: string | undefined,
): ProviderConfig[] {
  const out: ProviderConfig[] = [{ name: "mock", type: "mock", baseUrl: "", apiKey: "", headers: {} }];
  const { env, presets } = input;
  const declared = file.providers ?? {};
  for (const [name, spec] of Object.entries(declared)) {
    if (name === "mock") continue;
    const preset = presets[name];
    const type = spec?.type ?? preset?.type ?? "";
    if (!type) {
      throw new ConfigError(`providers.${name}.type: required for a provider that is not a known preset`);
    }
    if (spec?.enabled === false) continue;
    if (!input.implementedTypes.has(type)) {
      warnings.push(`provider ${name} disabled: wire format "${type}" is not available in this build`);
      continue;
    }
    const keyless = preset !== undefined && preset.keyEnv === undefined && spec?.api_key === undefined;
    const baseUrl = spec?.base_url ?? (preset ? env[preset.baseUrlEnv] || preset.baseUrl : "");
    if (!baseUrl) {
      if (keyless) {
        warnings.push(`provider ${name} disabled: its base_url resolved empty`);
        continue;
      }
      throw new ConfigError(`providers.${name}.base_url: required for type ${type}`);
    }
    const apiKey = spec?.api_key ?? (preset?.keyEnv ? (env[preset.keyEnv] ?? "") : "");
    if (!apiKey && !keyless) {
      warnings.push(`provider ${name} disabled: its api_key resolved empty`);
      continue;
    }
    if (spec?.wire !== undefined && type !== "openai") {
      throw new ConfigError(`providers.${name}.wire: only for providers of type openai`);
    }
    const embedBaseUrl =
      spec?.embed_base_url || (type === "huggingface" ? env["HF_EMBED_BASE_URL"] : undefined);
    out.push({
      name,
      type,
      baseUrl: withScheme(baseUrl),
      apiKey,
      headers: spec?.headers ?? {},
      ...(embedBaseUrl ? { embedBaseUrl } : {}),
      ...(spec?.wire === undefined ? {} : { wire: spec.wire }),
      ...(spec ? { transport: providerTransport(name, spec, configPath) } : {}),
    });
  }
  for (const [name, preset] of Object.entries(presets)) {
    if (name in declared || !input.implementedTypes.has(preset.type)) continue;
    const apiKey = preset.keyEnv ? env[preset.keyEnv] : "";
    const baseUrl = env[preset.baseUrlEnv];
    // Keyed presets are enabled by their key; keyless ones (Ollama) by their base-URL variable.
    if (preset.keyEnv ? !apiKey : !baseUrl) continue;
    const embedBaseUrl = preset.type === "huggingface" ? env["HF_EMBED_BASE_URL"] : undefined;
    out.push({
      name,
      type: preset.type,
      baseUrl: withScheme(baseUrl || preset.baseUrl),
      apiKey: apiKey ?? "",
      headers: {},
      ...(embedBaseUrl ? { embedBaseUrl } : {}),
    });
  }
  return out;
}

/** Loads and validates the configuration; throws ConfigError naming the field on any problem. */
export function loadConfig(given: LoadInput): GatewayConfig {
  const flags = parseFlags(given.argv);
  // Secrets from files: every secret NAME also as NAME_FILE (secret-files.ts).
  const keyEnvs = Object.values(given.presets).flatMap((p) => (p.keyEnv ? [p.keyEnv] : []));
  const input = { ...given, env: envWithSecretFiles(given.env, [...keyEnvs, ...SECRET_ENV], fail) };
  const { env } = input;
  const path = flags.get("config") ?? env["LLMGW_CONFIG"];
  const file: FileConfig = withAdminDigest(path ? readFile(path, env) : {}, env, fail);
  const warnings: string[] = [];
  const defaults = mergePolicy(DEFAULT_POLICY, file.defaults);
  const providers = resolveProviders(file, input, warnings, path);
  const models = new Map<string, GatewayConfig["models"] extends Map<string, infer M> ? M : never>();
  for (const [name, m] of Object.entries(file.models ?? {})) {
    models.set(name, {
      name,
      deployments: m.deployments.map((d) => ({
        target: d.target,
        weight: d.weight ?? 1,
        ...(d.rpm !== undefined ? { rpm: d.rpm } : {}),
        ...(d.tpm !== undefined ? { tpm: d.tpm } : {}),
      })),
      strategy: m.strategy ?? "weighted",
      fallbacks: m.fallbacks ?? [],
      hedgeAfterMs: m.hedge_after_ms,
      policy: mergePolicy(defaults, m),
    });
  }
  const level = flags.get("log-level") ?? env["LLMGW_LOG_LEVEL"] ?? file.logging?.level ?? "info";
  const levels = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];
  if (!levels.includes(level))
    throw new ConfigError(`logging.level: "${level}" is not one of ${levels.join(", ")}`);
  checkMetricsAccess(file);
  const s = file.server ?? {};
  return {
    configPath: path ?? "",
    server: {
      host: flags.get("host") ?? (env["LLMGW_HOST"] || undefined) ?? s.host ?? "127.0.0.1",
      port:
        intFrom(flags.get("port"), "--port") ?? intFrom(env["LLMGW_PORT"], "LLMGW_PORT") ?? s.port ?? 8080,
      maxRequestBytes: s.max_request_bytes ?? 32 * 1024 * 1024,
      maxInflight: s.max_inflight ?? 2000,
      maxStreams: s.max_streams ?? 10_000,
      upstreamLimits: upstreamLimits(s),
      shutdownGraceMs:
        intFromAny(flags.get("shutdown-grace-ms") ?? env["LLMGW_SHUTDOWN_GRACE_MS"]) ??
        s.shutdown_grace_ms ??
        10_000,
      workers: workerCount(flags.get("workers") ?? (env["LLMGW_WORKERS"] || undefined) ?? s.workers),
      trustedProxies: s.trusted_proxies ?? [],
      corsOrigins: s.cors_origins ?? [],
      conn: connLimits(s),
      tls: tlsSettings(s.tls, path, file.keys, warnings),
    },
    providers,
    models,
    defaults,
    logging: { level, logPrompts: file.logging?.log_prompts ?? false },
    responses: responsesSettings(file.responses),
    redisUrl: file.redis?.url || env["REDIS_URL"] || "",
    warnings,
    file,
  };
}

/** responses.* with their defaults (README "Stored responses"); the schema checked the bounds. */
function responsesSettings(r: FileConfig["responses"]): GatewayConfig["responses"] {
  return {
    storeDefault: r?.store_default ?? false,
    allowAnonymousStore: r?.allow_anonymous_store ?? false,
    ttlS: r?.ttl_s ?? 3600,
    maxEntries: r?.max_entries ?? 10_000,
    maxBytes: r?.max_bytes ?? 64 * 1024 * 1024,
    maxRecordBytes: r?.max_record_bytes ?? 4 * 1024 * 1024,
    redisTimeoutMs: r?.redis_timeout_ms ?? 2000,
  };
}

/** telemetry.metrics_auth / metrics_listen: an admin scrape needs an admin key; a port fits in 16 bits. */
function checkMetricsAccess(file: FileConfig): void {
  const t = file.telemetry ?? {};
  if (t.metrics_auth === "admin" && !file.auth?.admin_sha256)
    throw new ConfigError(
      "telemetry.metrics_auth: admin needs auth.admin_sha256 (the SHA-256 of the admin key scrapers send)",
    );
  if (t.metrics === false && (t.metrics_listen !== undefined || t.metrics_auth !== undefined))
    throw new ConfigError("telemetry.metrics_listen / metrics_auth: set, but telemetry.metrics is false");
  const port = Number(t.metrics_listen?.slice(t.metrics_listen.lastIndexOf(":") + 1) ?? 0);
  if (port > 65535) throw new ConfigError(`telemetry.metrics_listen: port ${port} is above 65535`);
}

/** server.workers / --workers / LLMGW_WORKERS: a count from 1 to 256, or "auto" (one per core). */
function workerCount(v: string | number | undefined): number {
  if (v === undefined) return 1;
  if (v === "auto") return availableParallelism();
  const n = typeof v === "number" ? v : Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 256)
    throw new ConfigError(`server.workers: "${v}" is not a whole number from 1 to 256 or "auto"`);
  return n;
}

function intFromAny(v: string | undefined): number | undefined {
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new ConfigError(`shutdown grace: "${v}" is not a whole number of ms`);
  return n;
}

type ProviderSpec = NonNullable<NonNullable<FileConfig["providers"]>[string]>;

/**
 * providers.<name> transport keys as the HTTP layer takes them; TLS files are read here (relative to
 * the config file), so a missing or unreadable one stops the load naming its key.
 */
function providerTransport(
  name: string,
  spec: ProviderSpec,
  configPath: string | undefined,
): ProviderTransport {
  const t: ProviderTransport = {};
  if (spec.proxy) t.proxy = spec.proxy;
  if (spec.http2 !== undefined) t.http2 = spec.http2;
  if (spec.max_connections !== undefined) t.maxConnections = spec.max_connections;
  if (spec.keep_alive_timeout_ms !== undefined) t.keepAliveTimeoutMs = spec.keep_alive_timeout_ms;
  if (spec.keep_alive_max_timeout_ms !== undefined) t.keepAliveMaxTimeoutMs = spec.keep_alive_max_timeout_ms;
  if (spec.connect_timeout_ms !== undefined) t.connectTimeoutMs = spec.connect_timeout_ms;
  const tls = spec.tls;
  if (tls !== undefined) {
    const base = configPath ? dirname(resolve(configPath)) : process.cwd();
    const pem = (key: string, file: string): string => {
      try {
        return readFileSync(resolve(base, file), "utf8");
      } catch (e: unknown) {
        throw new ConfigError(`providers.${name}.tls.${key}: cannot read ${file}: ${(e as Error).message}`);
      }
    };
    t.tls = {
      ...(tls.ca_file === undefined ? {} : { ca: pem("ca_file", tls.ca_file) }),
      ...(tls.cert_file === undefined ? {} : { cert: pem("cert_file", tls.cert_file) }),
      ...(tls.key_file === undefined ? {} : { key: pem("key_file", tls.key_file) }),
      ...(tls.server_name === undefined ? {} : { serverName: tls.server_name }),
      ...(tls.insecure_skip_verify === undefined ? {} : { insecureSkipVerify: tls.insecure_skip_verify }),
    };
  }
  return t;
}

/** server.tls with paths resolved from the config file's folder; warns of keys[].client_cert nobody can use. */
function tlsSettings(
  t: NonNullable<FileConfig["server"]>["tls"],
  configPath: string | undefined,
  keys: FileConfig["keys"],
  warnings: string[],
): GatewayConfig["server"]["tls"] {
  const clientAuth = t?.client_auth ?? "none";
  if (clientAuth === "none") {
    for (const [i, k] of (keys ?? []).entries())
      if (k.client_cert !== undefined)
        warnings.push(
          `keys.${i}.client_cert (key "${k.name}") is unused: server.tls.client_auth is not optional or require`,
        );
  }
  if (!t) return undefined;
  const base = configPath ? dirname(resolve(configPath)) : process.cwd();
  return {
    certFile: resolve(base, t.cert_file),
    keyFile: resolve(base, t.key_file),
    clientCaFile: t.client_ca_file === undefined ? undefined : resolve(base, t.client_ca_file),
    clientAuth,
  };
}

const MIB = 1024 * 1024;

/**
 * server.max_answer_bytes, max_embed_answer_bytes, max_event_bytes, upstream_buffer_bytes with their
 * defaults (the same as providers/body-budget.ts; README "Security and hardening" says why). The budget
 * must hold at least one answer of each kind, or every such answer would fail as GATEWAY_OVERLOADED.
 */
function upstreamLimits(s: NonNullable<FileConfig["server"]>): GatewayConfig["server"]["upstreamLimits"] {
  const l = {
    maxAnswerBytes: s.max_answer_bytes ?? 8 * MIB,
    maxEmbedAnswerBytes: s.max_embed_answer_bytes ?? 64 * MIB,
    maxEventBytes: s.max_event_bytes ?? 4 * MIB,
    bufferBytes: s.upstream_buffer_bytes ?? 256 * MIB,
  };
  const biggest = Math.max(l.maxAnswerBytes, l.maxEmbedAnswerBytes, l.maxEventBytes);
  if (l.bufferBytes < biggest)
    throw new ConfigError(
      `server.upstream_buffer_bytes (${l.bufferBytes}) must be at least the largest of server.max_answer_bytes, max_embed_answer_bytes and max_event_bytes (${biggest})`,
    );
  return l;
}

/** Largest timer Node honours (a longer one fires after 1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** server.* connection limits with their defaults (sane behind a load balancer; README explains each). */
function connLimits(s: NonNullable<FileConfig["server"]>): GatewayConfig["server"]["conn"] {
  const c = {
    firstBytesTimeoutMs: s.first_bytes_timeout_ms ?? 10_000,
    headersTimeoutMs: s.headers_timeout_ms ?? 30_000,
    requestTimeoutMs: s.request_timeout_ms ?? 300_000,
    keepAliveTimeoutMs: s.keep_alive_timeout_ms ?? 65_000,
    http2IdleTimeoutMs: s.http2_idle_timeout_ms ?? 300_000,
    maxConnections: s.max_connections ?? 10_000,
    http2MaxConcurrentStreams: s.http2_max_concurrent_streams ?? 1000,
    http2MaxControlFramesPerS: s.http2_max_control_frames_per_s ?? 100,
  };
  const timers = {
    first_bytes_timeout_ms: c.firstBytesTimeoutMs,
    headers_timeout_ms: c.headersTimeoutMs,
    request_timeout_ms: c.requestTimeoutMs,
    keep_alive_timeout_ms: c.keepAliveTimeoutMs,
    http2_idle_timeout_ms: c.http2IdleTimeoutMs,
  };
  for (const [k, v] of Object.entries(timers))
    if (v > MAX_TIMER_MS)
      throw new ConfigError(`server.${k}: ${v} is above ${MAX_TIMER_MS} ms (about 24 days)`);
  if (c.headersTimeoutMs > c.requestTimeoutMs)
    throw new ConfigError(
      `server.headers_timeout_ms (${c.headersTimeoutMs}) must not exceed server.request_timeout_ms (${c.requestTimeoutMs})`,
    );
  if (c.http2MaxConcurrentStreams > MAX_TIMER_MS)
    throw new ConfigError("server.http2_max_concurrent_streams: at most 2^31-1 (HTTP/2 SETTINGS value)");
  return c;
}
