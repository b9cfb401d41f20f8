// The validated shape of the gateway's configuration (../shared/config.example.yaml), as zod
// schemas. Strict objects: an unknown key is a mistake worth stopping for, named by its path.
import { z } from "zod";
import { catalogOverrideSchema } from "../catalog/schema.js";
import { headerProblem } from "../lib/http-header.js";

const positiveInt = z.number().int().positive();
const nonNegInt = z.number().int().nonnegative();

const timeouts = z.strictObject({
  request_ms: positiveInt.optional(),
  attempt_ms: positiveInt.optional(),
  first_token_ms: positiveInt.optional(),
  idle_ms: positiveInt.optional(),
  max_stream_ms: positiveInt.optional(),
});

const retries = z.strictObject({
  max_attempts: positiveInt.optional(),
  base_ms: nonNegInt.optional(),
  max_ms: nonNegInt.optional(),
  budget_pct: z.number().min(0).max(100).optional(),
});

const breaker = z.strictObject({
  error_threshold_pct: z.number().min(1).max(100).optional(),
  min_calls: positiveInt.optional(),
  window_ms: positiveInt.optional(),
  reset_ms: positiveInt.optional(),
});

const cache = z.strictObject({ enabled: z.boolean().optional(), ttl_s: positiveInt.optional() });

const modelPolicy = {
  timeouts: timeouts.optional(),
  retries: retries.optional(),
  breaker: breaker.optional(),
  cache: cache.optional(),
  equivalents: z.boolean().optional(),
  unsupported_params: z.enum(["reject", "warn"]).optional(),
  /** A prompt over the deployment's context window: refuse it (default) or trim it to fit. */
  context_overflow: z.enum(["reject", "trim"]).optional(),
};

const deployment = z.strictObject({
  target: z.string().min(3).includes("/"),
  weight: z.number().positive().optional(),
  rpm: positiveInt.optional(),
  tpm: positiveInt.optional(),
});

const limitSpec = z.strictObject({
  rpm: positiveInt.optional(),
  tpm: positiveInt.optional(),
  concurrent: positiveInt.optional(),
});

/** server.tls: certificate and key (PEM files); with client_ca_file, mutual TLS per client_auth. */
const tlsSchema = z
  .strictObject({
    cert_file: z.string().min(1),
    key_file: z.string().min(1),
    /** CA bundle that verifies client certificates (mutual TLS). */
    client_ca_file: z.string().min(1).optional(),
    /** none (default): no client certificate asked; optional: asked, verified when sent; require: no handshake without one. */
    client_auth: z.enum(["none", "optional", "require"]).optional(),
  })
  .superRefine((t, ctx) => {
    const auth = t.client_auth ?? "none";
    if (auth !== "none" && t.client_ca_file === undefined)
      ctx.addIssue({
        code: "custom",
        path: ["client_ca_file"],
        message: `required with client_auth: ${auth}`,
      });
    if (auth === "none" && t.client_ca_file !== undefined)
      ctx.addIssue({
        code: "custom",
        path: ["client_auth"],
        message:
          "client_ca_file is set but client_auth is none: set optional or require (or drop client_ca_file)",
      });
  });

/**
 * keys[].client_cert: one name of a verified client certificate, typed by prefix — "CN=<common name>"
 * (the subject's CN) or a subjectAltName entry "DNS:<name>", "URI:<uri>", "email:<address>", "IP:<address>".
 */
const clientCertSchema = z
  .string()
  .regex(
    /^(CN=|DNS:|URI:|email:|IP:)\S/,
    'a certificate name: "CN=<common name>", or a SAN "DNS:...", "URI:...", "email:..." or "IP:..."',
  );

/** The file's schema. Every section is optional; defaults are applied in load.ts. */
export const fileSchema = z.strictObject({
  server: z
    .strictObject({
      host: z.string().min(1).optional(),
      port: z.number().int().min(0).max(65535).optional(),
      max_request_bytes: positiveInt.optional(),
      max_inflight: positiveInt.optional(),
      max_streams: positiveInt.optional(),
      // What an upstream answer may make the gateway hold (src/providers/body-budget.ts).
      max_answer_bytes: positiveInt.optional(),
      max_embed_answer_bytes: positiveInt.optional(),
      max_event_bytes: positiveInt.optional(),
      upstream_buffer_bytes: positiveInt.optional(),
      shutdown_grace_ms: nonNegInt.optional(),
      /** Gateway processes behind the one port (src/server/cluster.ts): a count, or "auto" (one per core). */
      workers: z.union([positiveInt, z.literal("auto")]).optional(),
      trusted_proxies: z.array(z.string()).optional(),
      cors_origins: z.array(z.string()).optional(),
      // Connection hardening (src/server/listen.ts): timeouts, caps and the HTTP/2 flood guard.
      first_bytes_timeout_ms: positiveInt.optional(),
      headers_timeout_ms: positiveInt.optional(),
      request_timeout_ms: positiveInt.optional(),
      keep_alive_timeout_ms: positiveInt.optional(),
      http2_idle_timeout_ms: positiveInt.optional(),
      max_connections: positiveInt.optional(),
      http2_max_concurrent_streams: positiveInt.optional(),
      http2_max_control_frames_per_s: positiveInt.optional(),
      /** TLS on the one port (src/server/tls.ts); absent = cleartext. Files re-read on SIGHUP. */
      tls: tlsSchema.optional(),
    })
    .optional(),
  redis: z
    .strictObject({
      url: z.string().optional(),
      name: z.string().optional(),
      sentinels: z.array(z.strictObject({ host: z.string(), port: positiveInt })).optional(),
      cluster_nodes: z.array(z.strictObject({ host: z.string(), port: positiveInt })).optional(),
      command_timeout_ms: positiveInt.optional(),
      on_outage: z.enum(["fail_open", "fail_closed"]).optional(),
    })
    .optional(),
  providers: z
    .record(
      z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, "provider names are lower-case letters, digits, - and _"),
      z
        .strictObject({
          type: z.string().optional(),
          base_url: z.string().optional(),
          /** Hugging Face: the feature-extraction base for embeddings. */
          embed_base_url: z.string().optional(),
          api_key: z.string().optional(),
          headers: z
            .record(z.string(), z.string())
            .superRefine((h, ctx) => {
              for (const [name, value] of Object.entries(h)) {
                const problem = headerProblem(name, value);
                if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem, path: [name] });
              }
            })
            .optional(),
          enabled: z.boolean().optional(),
          /** type openai: "chat" (/chat/completions), "responses" (/responses) or "auto" (default: responses for OpenAI's reasoning models). */
          wire: z.enum(["chat", "responses", "auto"]).optional(),
          // How calls leave for this upstream (src/providers/upstream.ts; README, providers section).
          /** Proxy URL (http:// or https://, user:password@ allowed); "none" = direct; unset = HTTPS_PROXY / HTTP_PROXY / NO_PROXY. */
          proxy: z
            .string()
            .refine((p) => p === "" || p === "none" || (/^https?:\/\/[^/]/.test(p) && URL.canParse(p)), {
              message: 'an http:// or https:// proxy URL, or "none"',
            })
            .optional(),
          /** TLS towards the upstream: PEM files (relative to the config file), SNI name, verification. */
          tls: z
            .strictObject({
              ca_file: z.string().min(1).optional(),
              cert_file: z.string().min(1).optional(),
              key_file: z.string().min(1).optional(),
              server_name: z.string().min(1).optional(),
              insecure_skip_verify: z.boolean().optional(),
            })
            .refine((t) => (t.cert_file === undefined) === (t.key_file === undefined), {
              message: "cert_file and key_file go together (a client certificate and its key)",
            })
            .optional(),
          /** Offer HTTP/2 to an https upstream (ALPN); HTTP/1.1 when it declines. */
          http2: z.boolean().optional(),
          /** Most connections to one origin of this provider (default 256); more calls wait (llmgw_upstream_queued_requests). */
          max_connections: positiveInt.optional(),
          /** Idle lifetime of a kept upstream connection when it sends no Keep-Alive hint (default 30000). */
          keep_alive_timeout_ms: positiveInt.optional(),
          /** Cap on the upstream's Keep-Alive hint (default 60000). */
          keep_alive_max_timeout_ms: positiveInt.optional(),
          /** TCP + TLS (+ proxy tunnel) setup (default 10000). */
          connect_timeout_ms: positiveInt.optional(),
        })
        .nullable(),
    )
    .optional(),
  models: z
    .record(
      z.string().min(1),
      z.strictObject({
        deployments: z.array(deployment).min(1),
        strategy: z.enum(["weighted", "least_inflight", "least_latency"]).optional(),
        fallbacks: z.array(z.string().includes("/")).optional(),
        hedge_after_ms: nonNegInt.optional(),
        ...modelPolicy,
      }),
    )
    .optional(),
  defaults: z.strictObject(modelPolicy).optional(),
  auth: z
    .strictObject({
      allow_anonymous: z.boolean().optional(),
      /** SHA-256 (hex) of the admin key that guards AdminService; empty = AdminService refuses every call. */
      admin_sha256: z
        .string()
        .regex(/^([0-9a-fA-F]{64})?$/, "empty, or the hex SHA-256 of the admin key")
        .optional(),
      /** Where keys created at run time live when there is no Redis (default: llmgw-keys.json beside the config, else in the working directory). */
      keys_file: z.string().optional(),
      /** How often a replica re-reads runtime keys (create / revoke / update), ms (default 1000). */
      keys_refresh_ms: positiveInt.optional(),
      /** The Redis hash holding runtime keys and their version counter (default "llmgw:keys"). */
      keys_redis_key: z.string().min(1).optional(),
    })
    .optional(),
  keys: z
    .array(
      z
        .strictObject({
          name: z.string().min(1),
          sha256: z
            .string()
            .regex(/^[0-9a-f]{64}$/, "a lower-case hex SHA-256 digest")
            .optional(),
          /** A verified TLS client certificate that stands for this key (mutual TLS): see clientCertSchema. */
          client_cert: clientCertSchema.optional(),
          models: z.array(z.string()).optional(),
          limits: limitSpec.optional(),
          budget: z
            .strictObject({ usd: z.number().positive(), period: z.enum(["day", "week", "month"]) })
            .optional(),
        })
        .refine((k) => k.sha256 !== undefined || k.client_cert !== undefined, {
          message: "a key needs sha256 (a bearer key's digest), client_cert, or both",
        }),
    )
    .superRefine((keys, ctx) => {
      const seen = new Map<string, number>();
      keys.forEach((k, i) => {
        if (k.client_cert === undefined) return;
        const first = seen.get(k.client_cert);
        if (first !== undefined)
          ctx.addIssue({
            code: "custom",
            path: [i, "client_cert"],
            message: `same as keys.${first}.client_cert`,
          });
        else seen.set(k.client_cert, i);
      });
    })
    .optional(),
  limits: z
    .strictObject({ anonymous: limitSpec.optional(), default_output_reserve: positiveInt.optional() })
    .optional(),
  /** The response cache's storage (whether a call uses it: models.*.cache / defaults.cache). */
  cache: z
    .strictObject({
      /** Prefix of every cache key in Redis (default "llmgw:cache:"). */
      redis_prefix: z.string().min(1).optional(),
      /** Upper bound of the in-process level, MiB (default 64). */
      memory_mb: positiveInt.optional(),
    })
    .optional(),
  telemetry: z
    .strictObject({
      /** OTLP/HTTP traces endpoint (base URL or …/v1/traces); empty = no traces exported. */
      otlp_endpoint: z.string().optional(),
      /** service.name of exported spans (default "llm-gateway"). */
      service_name: z.string().min(1).optional(),
      /** Prometheus metrics at GET /metrics (default true). */
      metrics: z.boolean().optional(),
      /** Label metrics with key names (default false: bounded cardinality, no key names). */
      metrics_key_labels: z.boolean().optional(),
      /** Who may scrape /metrics: none (default, open for scrapers) or admin (the admin key, as a bearer). */
      metrics_auth: z.enum(["none", "admin"]).optional(),
      /** "host:port": serve /metrics on this listener only (not on the main port). Port 0 = any free port. */
      metrics_listen: z
        .string()
        .regex(
          /^(\[[0-9A-Fa-f:.]+\]|[^\s:/[\]]*):\d{1,5}$/,
          '"host:port", e.g. "127.0.0.1:9464" or "[::1]:9464"',
        )
        .optional(),
    })
    .optional(),
  /** Stored responses of the Responses API (src/responses): `store`, previous_response_id, GET / DELETE. */
  responses: z
    .strictObject({
      /** Whether a call that omits `store` is stored (default false; OpenAI's own default is true). */
      store_default: z.boolean().optional(),
      /** With no gateway keys configured (or a keyless caller), store under the shared owner "anonymous" (default false). */
      allow_anonymous_store: z.boolean().optional(),
      /** How long a stored response lives, s (default 3600; at most 30 days, OpenAI's own retention). */
      ttl_s: positiveInt.max(30 * 86_400, "at most 2592000 (30 days)").optional(),
      /** Most stored responses (memory: in all; Redis: per owner). Beyond it the oldest go (default 10000). */
      max_entries: positiveInt.optional(),
      /** Most bytes of stored responses (memory: in all; Redis: per owner) (default 64 MiB). */
      max_bytes: positiveInt.optional(),
      /** Largest one stored response, bytes; a bigger one is not stored (default 4 MiB). */
      max_record_bytes: positiveInt.optional(),
      /** Redis: the longest wait for one command of the store's own connection, ms (default 2000). */
      redis_timeout_ms: positiveInt.max(60_000).optional(),
    })
    .refine((r) => (r.max_record_bytes ?? 4 * 1024 * 1024) <= (r.max_bytes ?? 64 * 1024 * 1024), {
      message: "max_record_bytes must not exceed max_bytes (one record must fit)",
      path: ["max_record_bytes"],
    })
    .optional(),
  /** Usage accounting (per key, model and UTC day). */
  usage: z
    .strictObject({
      /** Days of usage Redis keeps (default 90); memory keeps the same window. */
      retention_days: positiveInt.optional(),
    })
    .optional(),
  /** Catalog overrides and additions by model id (src/catalog/models.json is the built-in data). */
  catalog: z.record(z.string().includes("/"), catalogOverrideSchema).optional(),
  logging: z
    .strictObject({
      level: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).optional(),
      log_prompts: z.boolean().optional(),
    })
    .optional(),
});

/** What a config file may contain, after ${VAR} substitution. */
export type FileConfig = z.infer<typeof fileSchema>;
