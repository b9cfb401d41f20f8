// Routing: turns a requested model name into an ordered plan of deployments (provider + upstream
// model): a config alias's deployments (load balanced by its strategy), then the request's
// fallback_models, the alias's configured fallbacks, and — opt-in — catalog equivalents.
import type { ChatRequest } from "../../gen/llmgateway/v1/llm_pb.js";
import type { CapabilityName, Catalog } from "../catalog/index.js";
import { estimateTokens } from "../catalog/tokens.js";
import type { GatewayConfig, ModelPolicy } from "../config/index.js";
import { GatewayError } from "../errors.js";
import type { Provider } from "../providers/types.js";
import { balance, type LiveStats } from "./balance.js";
import { capabilityNeeds } from "./needs.js";

export { balance, type LiveStats, type Strategy } from "./balance.js";
export { capabilityNeeds } from "./needs.js";

/** One place a call can be sent. */
export interface Deployment {
  provider: Provider;
  /** Upstream model name. */
  model: string;
  /** "provider/model", as clients and logs see it. */
  target: string;
  /** The provider's outbound limits for this target (models.*.deployments[].rpm / tpm); unset = none. */
  limits?: { rpm?: number; tpm?: number };
}

/** The deployments to try, in order, and the policy of the requested model. */
export interface Plan {
  deployments: Deployment[];
  policy: ModelPolicy;
  /** Hedge delay of the requested model, ms (0 = race at once); undefined = no hedging. */
  hedgeAfterMs: number | undefined;
  /**
   * Tokens an attempt takes from a rate-limited deployment's outbound bucket: the prompt's estimate +
   * max_tokens (or limits.default_output_reserve). Set only when a deployment of the plan has outbound
   * limits and the request is a Chat; otherwise 0 (requests are still counted, usage reconciled after).
   */
  reserve: { prompt: number; total: number };
}

/** Resolves model names against the enabled providers and the config's aliases. */
export class Router {
  /** Outbound limits by target, from every alias that lists it (the lowest wins when several do). */
  private readonly limits = new Map<string, { rpm?: number; tpm?: number }>();

  constructor(
    private readonly providers: ReadonlyMap<string, Provider>,
    private readonly config: GatewayConfig,
    private readonly catalog?: Catalog,
    private readonly stats: (target: string) => LiveStats | undefined = () => undefined,
  ) {
    const min = (a: number | undefined, b: number | undefined) =>
      a === undefined ? b : b === undefined ? a : Math.min(a, b);
    for (const m of config.models.values()) {
      for (const d of m.deployments) {
        if (d.rpm === undefined && d.tpm === undefined) continue;
        const prev = this.limits.get(d.target) ?? {};
        const rpm = min(prev.rpm, d.rpm);
        const tpm = min(prev.tpm, d.tpm);
        this.limits.set(d.target, {
          ...(rpm !== undefined ? { rpm } : {}),
          ...(tpm !== undefined ? { tpm } : {}),
        });
      }
    }
  }

  private target(name: string, field: string): Deployment {
    // A catalog alias ("gpt-4o", "claude-sonnet") names its catalog model when that provider is enabled.
    if (!name.includes("/")) {
      const entry = this.catalog?.get(name);
      if (entry && this.providers.has(entry.provider)) name = entry.id;
    }
    const slash = name.indexOf("/");
    if (slash <= 0 || slash === name.length - 1) {
      const aliases = [...this.config.models.keys()];
      throw new GatewayError(
        "NOT_FOUND",
        "MODEL_NOT_FOUND",
        `unknown model "${name}" (${field}): name it "provider/model"` +
          (aliases.length ? ` or use an alias: ${aliases.join(", ")}` : ""),
        { metadata: { model: name } },
      );
    }
    const providerName = name.slice(0, slash);
    const provider = this.providers.get(providerName);
    if (!provider) {
      throw new GatewayError(
        "NOT_FOUND",
        "MODEL_NOT_FOUND",
        `unknown provider "${providerName}" (${field}); enabled providers: ${[...this.providers.keys()].join(", ")}`,
        { metadata: { model: name, provider: providerName } },
      );
    }
    const limits = this.limits.get(name);
    return { provider, model: name.slice(slash + 1), target: name, ...(limits ? { limits } : {}) };
  }

  /** A name's own deployments (balanced when it is an alias); its configured fallbacks go to `later`. */
  private expand(name: string, field: string, out: Deployment[], later?: string[]): ModelPolicy {
    const alias = this.config.models.get(name);
    if (!alias) {
      out.push(this.target(name, field));
      return this.config.defaults;
    }
    const ordered =
      alias.deployments.length === 1
        ? alias.deployments
        : balance(
            alias.deployments,
            alias.strategy,
            (d) => d.weight,
            (d) => this.stats(d.target),
          );
    for (const d of ordered) out.push(this.target(d.target, `models.${name}.deployments`));
    if (later) for (const f of alias.fallbacks) later.push(f);
    else for (const f of alias.fallbacks) out.push(this.target(f, `models.${name}.fallbacks`));
    return alias.policy;
  }

  /**
   * The ordered plan for a call; NOT_FOUND names what is available when a name is unknown. `req`
   * (for its capability needs) is read only when the model opts into catalog equivalents.
   */
  plan(model: string, fallbacks: readonly string[] = [], req?: ChatRequest): Plan {
    const deployments: Deployment[] = [];
    const alias = this.config.models.get(model);
    const configured: string[] | undefined = alias?.fallbacks.length ? [] : undefined;
    const policy = this.expand(model, "model", deployments, configured);
    const primary = deployments.length;
    for (let i = 0; i < fallbacks.length; i++)
      this.expand(fallbacks[i] ?? "", `fallback_models[${i}]`, deployments);
    if (configured) {
      for (const f of configured) this.expand(f, `models.${model}.fallbacks`, deployments);
    }
    if (policy.equivalents && this.catalog)
      this.addEquivalents(deployments, primary, req ? capabilityNeeds(req) : []);
    const plan: Plan = {
      deployments,
      policy,
      hedgeAfterMs: req?.hedgeAfterMs ?? alias?.hedgeAfterMs,
      reserve: { prompt: 0, total: 0 },
    };
    if (deployments.length > 1) plan.deployments = dedupe(deployments);
    if (req && plan.deployments.some((d) => d.limits)) plan.reserve = this.reserveOf(req);
    return plan;
  }

  /** A Chat's outbound reservation: the same estimate as the inbound one (gateway/pricing.ts chatReserve). */
  private reserveOf(req: ChatRequest): { prompt: number; total: number } {
    const prompt = estimateTokens(req.messages);
    const output = req.maxTokens ?? this.config.file.limits?.default_output_reserve ?? 1024;
    return { prompt, total: prompt + output };
  }

  /** Catalog equivalents of the primary deployments, on enabled providers, that meet the needs. */
  private addEquivalents(out: Deployment[], primary: number, needs: CapabilityName[]): void {
    const catalog = this.catalog;
    if (!catalog) return;
    for (let i = 0; i < primary; i++) {
      const d = out[i] as Deployment;
      const id = catalog.get(d.target) ? d.target : `${d.provider.type}/${d.model}`;
      for (const e of catalog.equivalents(id, needs)) {
        if (this.providers.has(e.provider)) out.push(this.target(e.id, "catalog equivalents"));
      }
    }
  }
}

/** Each target once, first occurrence wins. */
function dedupe(ds: Deployment[]): Deployment[] {
  const seen = new Set<string>();
  return ds.filter((d) => {
    if (seen.has(d.target)) return false;
    seen.add(d.target);
    return true;
  });
}
