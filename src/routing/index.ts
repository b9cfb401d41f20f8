// Routing: turns a requested model name into an ordered plan of deployments (provider + upstream
// model): a config alias's deployments (heaviest first), its fallbacks, then the request's fallbacks.
import type { Catalog } from "../catalog/index.js";
import type { GatewayConfig, ModelPolicy } from "../config/index.js";
import { GatewayError } from "../gateway/errors.js";
import type { Provider } from "../providers/types.js";

/** One place a call can be sent. */
export interface Deployment {
  provider: Provider;
  /** Upstream model name. */
  model: string;
  /** "provider/model", as clients and logs see it. */
  target: string;
}

/** The deployments to try, in order, and the policy of the requested model. */
export interface Plan {
  deployments: Deployment[];
  policy: ModelPolicy;
}

/** Resolves model names against the enabled providers and the config's aliases. */
export class Router {
  constructor(
    private readonly providers: ReadonlyMap<string, Provider>,
    private readonly config: GatewayConfig,
    private readonly catalog?: Catalog,
  ) {}

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
    return { provider, model: name.slice(slash + 1), target: name };
  }

  private expand(name: string, field: string, out: Deployment[]): ModelPolicy {
    const alias = this.config.models.get(name);
    if (!alias) {
      out.push(this.target(name, field));
      return this.config.defaults;
    }
    const sorted = [...alias.deployments].sort((a, b) => b.weight - a.weight);
    for (const d of sorted) out.push(this.target(d.target, `models.${name}.deployments`));
    for (const f of alias.fallbacks) out.push(this.target(f, `models.${name}.fallbacks`));
    return alias.policy;
  }

  /** The ordered plan for a call; NOT_FOUND names what is available when a name is unknown. */
  plan(model: string, fallbacks: readonly string[] = []): Plan {
    const deployments: Deployment[] = [];
    const policy = this.expand(model, "model", deployments);
    for (let i = 0; i < fallbacks.length; i++)
      this.expand(fallbacks[i] ?? "", `fallback_models[${i}]`, deployments);
    return { deployments, policy };
  }
}
