// What stands between a caller and the providers: who is calling (a gateway key from the config or
// the runtime store, or a client IP when keyless callers are let in), which models they may reach,
// and their rate limits. The key set is rebuilt when the store moves; identify() is a Map lookup.
import type { BudgetSpec } from "../billing/types.js";
import type { GatewayConfig } from "../config/index.js";
import { GatewayError } from "../errors.js";
import type { Logger } from "../lib/logger.js";
import type { Grant, Limiter, Subject } from "../limits/index.js";
import type { LimitSpec } from "../limits/types.js";
import type { Plan, Router } from "../routing/index.js";
import { AdminGuard } from "./admin.js";
import { TrustedProxies } from "./ip.js";
import { type GatewayKey, KeyRing } from "./keys.js";
import { mergeKeys } from "./merge.js";
import { ModelAllowList } from "./models.js";
import type { KeyStore } from "./store.js";

/**
 * What the guard reads of a call and sets on it; the pipeline's CallContext is one (auth does not
 * import the pipeline). Credentials are never logged.
 */
export interface GuardedCall {
  /** The gateway key presented (Authorization: Bearer / x-api-key). */
  apiKey?: string | undefined;
  /** The names of the caller's verified TLS client certificate ("CN=...", "URI:..."), if any. */
  clientCert?: readonly string[] | undefined;
  /** The socket's peer address. */
  peerIp?: string | undefined;
  /** X-Forwarded-For as received (believed only from server.trusted_proxies). */
  forwardedFor?: string | undefined;
  /** The x-ratelimit-* headers, set before the call goes upstream (also when it is refused). */
  responseHeaders?: Record<string, string>;
  /** Told as soon as `responseHeaders` is set. */
  onResponseHeaders?: (h: Record<string, string>) => void;
}

/** Who is calling. One object per key, shared by its calls: do not mutate. */
export interface Caller {
  /** Key name, "anonymous" or "open": for logs and usage. */
  readonly label: string;
  readonly allow: ModelAllowList;
  /** Limited subject; undefined = no limits apply. */
  readonly subject: Subject | undefined;
  /** The key's SHA-256 (hex): the budget ledger's key id. Undefined for anonymous / open callers. */
  readonly keyId: string | undefined;
  /** The key's budget; undefined = none (and always for anonymous / open callers). */
  readonly budget: BudgetSpec | undefined;
}

const EVERYTHING = new ModelAllowList(undefined);

function limited(spec: LimitSpec | undefined): spec is LimitSpec {
  return !!spec && !!(spec.rpm || spec.tpm || spec.concurrent);
}

/** The keys in force for one store generation, with a ready Caller per key. */
interface KeyView {
  generation: number;
  ring: KeyRing;
  callers: Map<string, Caller>;
  /** Any key configured or ever created at run time: keyless callers need auth.allow_anonymous. */
  keyed: boolean;
  /** keys[].client_cert names of config keys that are revoked (a tombstone): refused, not anonymous. */
  revokedCerts: ReadonlySet<string>;
}

function callerOf(k: GatewayKey): Caller {
  return {
    label: k.name,
    allow: k.models === undefined ? EVERYTHING : new ModelAllowList(k.models),
    subject: limited(k.limits) ? { id: `k:${k.digestHex}`, spec: k.limits } : undefined,
    keyId: k.digestHex,
    budget: k.budget,
  };
}

export class CallGuard {
  private readonly proxies: TrustedProxies;
  private readonly allowAnonymous: boolean;
  private readonly anonymous: LimitSpec | undefined;
  private readonly failClosed: boolean;
  readonly defaultOutputReserve: number;
  /** The admin key (AdminService); never a gateway key. */
  readonly admin: AdminGuard;
  private store: KeyStore | undefined;
  private view: KeyView;

  constructor(
    private readonly config: GatewayConfig,
    private readonly router: Router,
    readonly limiter: Limiter,
    private readonly log: Logger,
  ) {
    this.proxies = new TrustedProxies(config.server.trustedProxies);
    this.allowAnonymous = config.file.auth?.allow_anonymous ?? false;
    const a = config.file.limits?.anonymous;
    this.anonymous = a ? { rpm: a.rpm, tpm: a.tpm, concurrent: a.concurrent } : undefined;
    this.defaultOutputReserve = config.file.limits?.default_output_reserve ?? 1024;
    this.failClosed = config.file.redis?.on_outage === "fail_closed";
    this.admin = new AdminGuard(config.file.auth?.admin_sha256);
    this.view = this.build();
  }

  /**
   * Reads runtime keys (AdminService) from `store` too. The store is created once per process and
   * handed to each new guard (config reloads); the guard only reads it.
   */
  useKeyStore(store: KeyStore): void {
    this.store = store;
    this.view = this.build();
    if (!this.view.keyed && store.loaded)
      this.log.warn(
        "no gateway keys configured (config file or runtime store): the gateway is open to every caller " +
          "until a key is created",
      );
  }

  private current(): KeyView {
    const g = this.store?.generation ?? 0;
    if (g !== this.view.generation) this.view = this.build();
    return this.view;
  }

  private build(): KeyView {
    const store = this.store;
    const merged = mergeKeys(this.config.file.keys, store?.records ?? new Map());
    const adminDigest = this.admin.digestHex;
    const live = merged.live.filter((k) => {
      if (k.sha256 !== adminDigest) return true;
      this.log.warn({ key_name: k.name }, "a gateway key has the admin key's digest: ignored");
      return false;
    });
    const ring = new KeyRing(live);
    const callers = new Map<string, Caller>();
    for (const k of ring.values()) callers.set(k.digestHex, callerOf(k));
    const revokedCerts = new Set<string>();
    for (const k of this.config.file.keys ?? [])
      if (k.client_cert !== undefined && ring.findByCert([k.client_cert]) === undefined)
        revokedCerts.add(k.client_cert);
    return { generation: store?.generation ?? 0, ring, callers, keyed: merged.keyed, revokedCerts };
  }

  /**
   * The caller a verified TLS client certificate stands for (keys[].client_cert), or undefined when
   * it names no key (then the call is keyless). A certificate of a revoked key is refused.
   */
  private byCertificate(v: KeyView, names: readonly string[]): Caller | undefined {
    const k = v.ring.findByCert(names);
    if (k === "ambiguous") throw certInvalid("names more than one gateway key");
    if (k) return v.callers.get(k.digestHex) as Caller;
    if (names.some((n) => v.revokedCerts.has(n)))
      throw certInvalid("stands for a gateway key that is not valid");
    return undefined;
  }

  /** The caller behind a call, or API_KEY_INVALID. Keys never reach an error or a log line. */
  identify(ctx: GuardedCall): Caller {
    const v = this.current();
    const unknownRuntime = this.store !== undefined && !this.store.loaded;
    if (v.keyed && ctx.apiKey !== undefined) {
      const k = v.ring.find(ctx.apiKey);
      if (k) return v.callers.get(k.digestHex) as Caller;
      // The key may be one created at run time that this replica could not read yet.
      if (unknownRuntime) throw storeUnavailable();
      throw new GatewayError("UNAUTHENTICATED", "API_KEY_INVALID", "the gateway API key is not valid");
    }
    // No bearer key: a verified client certificate may stand for one (mutual TLS).
    if (v.keyed && ctx.clientCert !== undefined) {
      const c = this.byCertificate(v, ctx.clientCert);
      if (c) return c;
    }
    if (unknownRuntime && (this.failClosed || ctx.apiKey !== undefined)) throw storeUnavailable();
    if (v.keyed && !this.allowAnonymous) {
      throw new GatewayError(
        "UNAUTHENTICATED",
        "API_KEY_INVALID",
        "a gateway API key is required: send Authorization: Bearer <key> or x-api-key",
      );
    }
    const label = v.keyed ? "anonymous" : "open";
    const none = { label, allow: EVERYTHING, subject: undefined, keyId: undefined, budget: undefined };
    if (!limited(this.anonymous)) return none;
    const ip = this.proxies.clientIp(ctx.peerIp, ctx.forwardedFor);
    return { ...none, subject: { id: `ip:${ip}`, spec: this.anonymous } };
  }

  /**
   * Checks the names the caller gave (the model and each fallback) against its allow-list and
   * keeps in the plan only deployments it may reach: a target its patterns match, or one that an
   * allowed config alias names (its deployments and configured fallbacks). Anything else the plan
   * would add on its own (catalog equivalents) is dropped, so no call ever reaches a model the key
   * may not use. MODEL_NOT_ALLOWED names the first name refused.
   */
  authorize(caller: Caller, model: string, fallbacks: readonly string[], plan: Plan): void {
    const allow = caller.allow;
    if (allow.all) return;
    const covered = new Set<string>();
    const cover = (name: string) => {
      const alias = this.config.models.get(name);
      if (alias) {
        for (const d of alias.deployments) covered.add(d.target);
        return;
      }
      const t = this.resolve(name);
      if (t) covered.add(t);
    };
    for (const name of [model, ...fallbacks]) {
      const alias = this.config.models.get(name);
      if (!this.allowsName(caller, name))
        throw notAllowed(name, name === model ? "model" : "fallback_models");
      cover(name);
      if (alias) for (const f of alias.fallbacks) cover(f);
    }
    const kept = plan.deployments.filter((d) => covered.has(d.target) || allow.allows(d.target));
    if (kept.length === 0) throw notAllowed(model, "model");
    plan.deployments = kept;
  }

  /**
   * Whether the caller may name `name`: its patterns match the name, or (for a name that is not a
   * config alias) the "provider/model" it resolves to. Chat, GetModel and CountTokens ask this.
   */
  allowsName(caller: Caller, name: string): boolean {
    const allow = caller.allow;
    if (allow.allows(name)) return true;
    if (this.config.models.has(name)) return false;
    const t = this.resolve(name);
    return t !== undefined && allow.allows(t);
  }

  /** MODEL_NOT_ALLOWED (naming `field`) unless the caller may name `name`. */
  authorizeName(caller: Caller, name: string, field: string): void {
    if (!this.allowsName(caller, name)) throw notAllowed(name, field);
  }

  /**
   * Who sees Health's per-deployment detail (breakers, latency, error texts): everyone on an open
   * gateway (no keys), else only the admin key. Any other caller must pass identify() (a valid
   * gateway key, or keyless with auth.allow_anonymous) and gets the summary.
   */
  healthDetail(ctx: GuardedCall): boolean {
    if (ctx.apiKey !== undefined && this.admin.matches(ctx.apiKey)) return true;
    this.identify(ctx);
    return !this.current().keyed;
  }

  /** The "provider/model" target a plain name resolves to (catalog aliases), if any. */
  private resolve(name: string): string | undefined {
    try {
      return this.router.plan(name).deployments[0]?.target;
    } catch {
      return undefined;
    }
  }

  /**
   * Reserves the call's request, tokens and concurrency slot; sets the x-ratelimit-* headers on
   * the context (also when the call is refused). Undefined when no limits apply.
   */
  async reserve(
    caller: Caller,
    ctx: GuardedCall,
    tokens: number,
    leaseTtlMs: number,
  ): Promise<Grant | undefined> {
    if (!caller.subject) {
      ctx.onResponseHeaders?.({});
      return undefined;
    }
    try {
      const g = await this.limiter.acquire(caller.subject, tokens, leaseTtlMs);
      setHeaders(ctx, g.headers);
      return g;
    } catch (e: unknown) {
      if (e instanceof GatewayError && e.details.headers) setHeaders(ctx, e.details.headers);
      throw e;
    }
  }
}

function setHeaders(ctx: GuardedCall, h: Record<string, string>): void {
  ctx.responseHeaders = h;
  ctx.onResponseHeaders?.(h);
}

function notAllowed(name: string, field: string): GatewayError {
  return new GatewayError(
    "PERMISSION_DENIED",
    "MODEL_NOT_ALLOWED",
    `this gateway key may not use model "${name}" (${field})`,
    {
      metadata: { model: name },
    },
  );
}

function certInvalid(why: string): GatewayError {
  return new GatewayError("UNAUTHENTICATED", "API_KEY_INVALID", `the TLS client certificate ${why}`);
}

function storeUnavailable(): GatewayError {
  return new GatewayError(
    "UNAVAILABLE",
    "KEY_STORE_UNAVAILABLE",
    "gateway keys cannot be checked yet (the key store is unreachable): retry",
    { retryAfterMs: 1000 },
  );
}
