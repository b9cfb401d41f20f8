// Bounded metric label values: a model label is a configured model name, a catalog id or alias, or
// a configured deployment's "provider/model"; anything else is "other". Decisions are cached per string.
import type { Catalog } from "../catalog/index.js";
import type { GatewayConfig } from "../config/index.js";
import { MOCK_MODELS } from "../providers/mock/index.js";

/** The label of every value outside the known set. */
export const OTHER = "other";
/** The label of an empty value (no provider answered, no deployment). */
export const NONE = "none";

/** Distinct strings whose decision is remembered; past it the map starts over (bounded memory). */
const MAX_CACHED = 4096;

/** What the model labels are decided from (a Gateway has all three). */
export interface LabelSource {
  readonly config: GatewayConfig;
  readonly catalog: Catalog;
  readonly providers: ReadonlyMap<string, { readonly type: string }>;
}

/** Maps client-chosen model strings to a bounded set of label values; one per gateway (config). */
export class ModelLabels {
  private readonly known = new Set<string>();
  private readonly cache = new Map<string, string>();

  constructor(private readonly src: LabelSource) {
    for (const [name, m] of src.config.models) {
      this.known.add(name);
      for (const d of m.deployments) this.known.add(d.target);
      for (const f of m.fallbacks) this.known.add(f);
    }
    // The built-in mock's fixed names (its parameterised ones, slow-<ms> etc., stay "other").
    if (src.providers.has("mock")) {
      for (const m of MOCK_MODELS) if (!m.includes("<")) this.known.add(`mock/${m}`);
    }
  }

  /** The label for `model`: itself when known, NONE when empty, else OTHER. A Map lookup once seen. */
  of(model: string): string {
    const hit = this.cache.get(model);
    if (hit !== undefined) return hit;
    const out = this.decide(model);
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(model, out);
    return out;
  }

  private decide(model: string): string {
    if (model === "") return NONE;
    if (this.known.has(model) || this.src.catalog.get(model)) return model;
    // A renamed provider ("work-openai/gpt-4o") of a wire format the catalog knows.
    const slash = model.indexOf("/");
    const p = slash > 0 ? this.src.providers.get(model.slice(0, slash)) : undefined;
    if (p && this.src.catalog.get(`${p.type}${model.slice(slash)}`)) return model;
    return OTHER;
  }
}

/** Keeps at most `max` distinct values of a label (key names); later newcomers become OTHER. */
export class CappedLabels {
  private readonly seen = new Set<string>();

  constructor(private readonly max: number) {}

  /** `value` itself while fewer than `max` distinct values were seen, else OTHER for a new one. */
  of(value: string | undefined): string {
    const v = value || NONE;
    if (this.seen.has(v)) return v;
    if (this.seen.size >= this.max) return OTHER;
    this.seen.add(v);
    return v;
  }
}
