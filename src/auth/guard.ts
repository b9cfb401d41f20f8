// What stands between a caller and the providers: who is calling (gateway key, or a client IP when
// keyless callers are let in), which models they may reach, and their rate limits.
import type { GatewayConfig } from "../config/index.js";
import type { CallContext } from "../gateway/context.js";
import { GatewayError } from "../gateway/errors.js";
import type { Grant, Limiter, Subject } from "../limits/index.js";
import type { LimitSpec } from "../limits/types.js";
import type { Plan, Router } from "../routing/index.js";
import type { Logger } from "../telemetry/logger.js";
import { TrustedProxies } from "./ip.js";
import { KeyRing } from "./keys.js";
import { ModelAllowList } from "./models.js";

/** Who is calling. */
export interface Caller {
  /** Key name, "anonymous" or "open": for logs. */
  label: string;
  allow: ModelAllowList;
  /** Limited subject; undefined = no limits apply. */
  subject: Subject | undefined;
}

const EVERYTHING = new ModelAllowList(undefined);

function limited(spec: LimitSpec | undefined): spec is LimitSpec {
  return !!spec && !!(spec.rpm || spec.tpm || spec.concurrent);
}

export class CallGuard {
  readonly keys: KeyRing;
  private readonly proxies: TrustedProxies;
  private readonly allowAnonymous: boolean;
  private readonly anonymous: LimitSpec | undefined;
  private readonly allowLists = new Map<string, ModelAllowList>();
  readonly defaultOutputReserve: number;

  constructor(
    private readonly config: GatewayConfig,
    private readonly router: Router,
    readonly limiter: Limiter,
    log: Logger,
  ) {
    this.keys = new KeyRing(config.file.keys);
    this.proxies = new TrustedProxies(config.server.trustedProxies);
    this.allowAnonymous = config.file.auth?.allow_anonymous ?? false;
    const a = config.file.limits?.anonymous;
    this.anonymous = a ? { rpm: a.rpm, tpm: a.tpm, concurrent: a.concurrent } : undefined;
    this.defaultOutputReserve = config.file.limits?.default_output_reserve ?? 1024;
    for (const k of config.file.keys ?? []) this.allowLists.set(k.sha256, new ModelAllowList(k.models));
    if (this.keys.size === 0) log.warn("no gateway keys configured: the gateway is open to every caller");
  }

  /** The caller behind a call, or API_KEY_INVALID. Keys never reach an error or a log line. */
  identify(ctx: CallContext): Caller {
    if (this.keys.size > 0 && ctx.apiKey !== undefined) {
      const k = this.keys.find(ctx.apiKey);
      if (k) {
        return {
          label: k.name,
          allow: this.allowLists.get(k.digestHex) ?? EVERYTHING,
          subject: limited(k.limits) ? { id: `k:${k.digestHex}`, spec: k.limits } : undefined,
        };
      }
      throw new GatewayError("UNAUTHENTICATED", "API_KEY_INVALID", "the gateway API key is not valid");
    }
    if (this.keys.size > 0 && !this.allowAnonymous) {
      throw new GatewayError(
        "UNAUTHENTICATED",
        "API_KEY_INVALID",
        "a gateway API key is required: send Authorization: Bearer <key> or x-api-key",
      );
    }
    const label = this.keys.size > 0 ? "anonymous" : "open";
    if (!limited(this.anonymous)) return { label, allow: EVERYTHING, subject: undefined };
    const ip = this.proxies.clientIp(ctx.peerIp, ctx.forwardedFor);
    return { label, allow: EVERYTHING, subject: { id: `ip:${ip}`, spec: this.anonymous } };
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
      let ok = allow.allows(name);
      if (!ok && !alias) {
        const t = this.resolve(name);
        ok = t !== undefined && allow.allows(t);
      }
      if (!ok) throw notAllowed(name, name === model ? "model" : "fallback_models");
      cover(name);
      if (alias) for (const f of alias.fallbacks) cover(f);
    }
    const kept = plan.deployments.filter((d) => covered.has(d.target) || allow.allows(d.target));
    if (kept.length === 0) throw notAllowed(model, "model");
    plan.deployments = kept;
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
    ctx: CallContext,
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

function setHeaders(ctx: CallContext, h: Record<string, string>): void {
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
