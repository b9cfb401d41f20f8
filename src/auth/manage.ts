// Key administration behind AdminService: create (the plaintext is returned once and never kept),
// revoke (config keys by a stored tombstone), update (runtime keys only) and list. Transport-free:
// the Connect service (src/server/admin.ts) only converts messages.
import type { BudgetPeriod, BudgetSpec } from "../billing/types.js";
import { GatewayError, invalid } from "../errors.js";
import {
  type ConfigKey,
  configKeyEntry,
  type KeyEntry,
  type KeyLimits,
  type KeySource,
  newKey,
} from "./keys.js";
import type { KeyStore, RuntimeKey } from "./store.js";

/** A key as AdminService shows it (never the plaintext; the digest stays server-side). */
export interface KeyView {
  name: string;
  /** Full hex digest: the budget ledger's key id. Only a prefix ever leaves the gateway. */
  digestHex: string;
  source: KeySource;
  /** undefined = every model. */
  models: readonly string[] | undefined;
  limits: KeyLimits;
  budget: BudgetSpec | undefined;
  revoked: boolean;
  createdAt?: string | undefined;
  updatedAt?: string | undefined;
  revokedAt?: string | undefined;
}

/** What CreateKey asks for. */
export interface NewKeySpec {
  name: string;
  /** Empty or undefined = every model. */
  models?: readonly string[] | undefined;
  /** 0 or undefined = no limit. */
  limits?: KeyLimits | undefined;
  budget?: BudgetSpec | undefined;
}

/** What UpdateKey changes: a present property is set (undefined-valued ones too), absent ones stay. */
export interface KeyUpdate {
  /** Empty = every model. */
  models?: readonly string[];
  /** 0 = no limit. */
  rpm?: number;
  tpm?: number;
  concurrent?: number;
  /** A new budget, or null to remove it. */
  budget?: BudgetSpec | null;
  /** Change one part of the existing budget. */
  budgetUsd?: number;
  budgetPeriod?: BudgetPeriod;
}

/** Names keyless callers appear under in logs and usage; no key may take them. */
const RESERVED = new Set(["anonymous", "open"]);
const PERIODS: readonly string[] = ["day", "week", "month"];

function checkName(name: string): void {
  if (name.length === 0 || name.length > 128) throw invalid("name", "must be 1 to 128 characters");
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(name)) throw invalid("name", "must not contain control characters");
  if (name.trim() !== name) throw invalid("name", "must not start or end with white space");
  if (RESERVED.has(name)) throw invalid("name", `"${name}" is reserved for keyless callers`);
}

function checkModels(models: readonly string[] | undefined): string[] | undefined {
  if (!models || models.length === 0) return undefined;
  if (models.length > 1000) throw invalid("models", "at most 1000 patterns");
  for (const m of models)
    if (m.length === 0 || m.length > 256 || /\s/.test(m))
      throw invalid("models", `"${m}" is not a model pattern (1 to 256 characters, no white space)`);
  return [...new Set(models)];
}

function checkLimit(field: string, n: number | undefined): number | undefined {
  if (n === undefined || n === 0) return undefined;
  if (!Number.isInteger(n) || n < 0 || n > 2 ** 31) throw invalid(field, "must be a whole number >= 0");
  return n;
}

function checkLimits(l: KeyLimits | undefined): KeyLimits | undefined {
  const out: KeyLimits = {
    rpm: checkLimit("limits.rpm", l?.rpm),
    tpm: checkLimit("limits.tpm", l?.tpm),
    concurrent: checkLimit("limits.concurrent", l?.concurrent),
  };
  return compactLimits(out);
}

function compactLimits(l: KeyLimits): KeyLimits | undefined {
  const out: KeyLimits = {};
  if (l.rpm) out.rpm = l.rpm;
  if (l.tpm) out.tpm = l.tpm;
  if (l.concurrent) out.concurrent = l.concurrent;
  return Object.keys(out).length ? out : undefined;
}

function checkBudget(b: { usd?: number | undefined; period?: string | undefined }): BudgetSpec {
  if (b.usd === undefined || !Number.isFinite(b.usd) || b.usd <= 0)
    throw invalid("budget.usd", "must be a number of USD > 0");
  if (b.period === undefined || !PERIODS.includes(b.period))
    throw invalid("budget.period", "must be day, week or month");
  return { usd: b.usd, period: b.period as BudgetPeriod };
}

/** Operations on gateway keys; the config's keys come from the current config generation. */
export class KeyAdmin {
  constructor(
    readonly store: KeyStore,
    private readonly fileKeys: () => readonly ConfigKey[] | undefined,
  ) {}

  /** The current config's keys (certificate-only ones with their derived digest). */
  private configKeys(): KeyEntry[] {
    return (this.fileKeys() ?? []).map(configKeyEntry);
  }

  /** Config and runtime keys, sorted by name (live only unless `includeRevoked`). */
  async list(includeRevoked: boolean): Promise<KeyView[]> {
    await this.store.refresh();
    const records = this.store.records;
    const out: KeyView[] = [];
    const configDigests = new Set<string>();
    for (const k of this.configKeys()) {
      configDigests.add(k.sha256);
      const t = records.get(k.sha256);
      const revoked = t?.kind === "tombstone" && t.revoked;
      if (revoked && !includeRevoked) continue;
      out.push({
        name: k.name,
        digestHex: k.sha256,
        source: "config",
        models: k.models,
        limits: compactLimits(k.limits ?? {}) ?? {},
        budget: k.budget,
        revoked,
        revokedAt: revoked ? t.revokedAt : undefined,
      });
    }
    for (const r of records.values()) {
      if (r.kind === "tombstone" && configDigests.has(r.sha256)) continue;
      if (r.revoked && !includeRevoked) continue;
      out.push(viewOf(r));
    }
    return out.sort((a, b) => a.name.localeCompare(b.name) || a.source.localeCompare(b.source));
  }

  /** Creates a key; the plaintext is in the result and nowhere else. */
  async create(spec: NewKeySpec): Promise<{ key: string; view: KeyView }> {
    checkName(spec.name);
    const models = checkModels(spec.models);
    const limits = checkLimits(spec.limits);
    const budget = spec.budget ? checkBudget(spec.budget) : undefined;
    const k = newKey();
    const record: RuntimeKey = {
      kind: "key",
      name: spec.name,
      sha256: k.sha256,
      models,
      limits,
      budget,
      createdAt: new Date().toISOString(),
      revoked: false,
    };
    await this.store.mutate((current) => {
      if (this.liveConfigKey(spec.name, current) || liveRuntimeKey(spec.name, current)) {
        throw new GatewayError("ALREADY_EXISTS", "KEY_EXISTS", `a live key is already named "${spec.name}"`, {
          metadata: { name: spec.name },
        });
      }
      return { write: [record], result: undefined };
    });
    return { key: k.key, view: viewOf(record) };
  }

  /** Revokes the live key named `name` (a runtime key first, else a config key by tombstone). */
  async revoke(name: string): Promise<KeyView> {
    return this.store.mutate((current) => {
      const now = new Date().toISOString();
      const r = liveRuntimeKey(name, current);
      if (r) {
        const next: RuntimeKey = { ...r, revoked: true, revokedAt: now };
        return { write: [next], result: viewOf(next) };
      }
      const c = this.liveConfigKey(name, current);
      if (!c) throw notFound(name);
      const tomb: RuntimeKey = {
        kind: "tombstone",
        name: c.name,
        sha256: c.sha256,
        createdAt: now,
        revoked: true,
        revokedAt: now,
      };
      const view: KeyView = {
        name: c.name,
        digestHex: c.sha256,
        source: "config",
        models: c.models,
        limits: compactLimits(c.limits ?? {}) ?? {},
        budget: c.budget,
        revoked: true,
        revokedAt: now,
      };
      return { write: [tomb], result: view };
    });
  }

  /** Changes a live runtime key. Config keys are changed in the config file (KEY_FROM_CONFIG). */
  async update(name: string, change: KeyUpdate): Promise<KeyView> {
    if (Object.keys(change).length === 0) throw invalid("update_mask", "names no field to change");
    const models = "models" in change ? checkModels(change.models) : undefined;
    const next = { ...change };
    if ("budget" in change && change.budget !== null && change.budget !== undefined)
      next.budget = checkBudget(change.budget);
    return this.store.mutate((current) => {
      const r = liveRuntimeKey(name, current);
      if (!r) {
        if (this.liveConfigKey(name, current)) {
          throw new GatewayError(
            "FAILED_PRECONDITION",
            "KEY_FROM_CONFIG",
            `key "${name}" is defined in the config file: change it there (it can be revoked here)`,
            { metadata: { name } },
          );
        }
        throw notFound(name);
      }
      const u: RuntimeKey = { ...r, updatedAt: new Date().toISOString() };
      if ("models" in next) u.models = models;
      const limits: KeyLimits = { ...r.limits };
      if ("rpm" in next) limits.rpm = checkLimit("limits.rpm", next.rpm);
      if ("tpm" in next) limits.tpm = checkLimit("limits.tpm", next.tpm);
      if ("concurrent" in next) limits.concurrent = checkLimit("limits.concurrent", next.concurrent);
      u.limits = compactLimits(limits);
      if ("budget" in next) u.budget = next.budget ?? undefined;
      if ("budgetUsd" in next || "budgetPeriod" in next) {
        const base = u.budget;
        if (!base && !("budgetUsd" in next && "budgetPeriod" in next))
          throw invalid("budget", "the key has no budget: set budget.usd and budget.period together");
        u.budget = checkBudget({
          usd: "budgetUsd" in next ? next.budgetUsd : base?.usd,
          period: "budgetPeriod" in next ? next.budgetPeriod : base?.period,
        });
      }
      return { write: [u], result: viewOf(u) };
    });
  }

  private liveConfigKey(name: string, records: ReadonlyMap<string, RuntimeKey>): KeyEntry | undefined {
    return this.configKeys().find((k) => {
      const t = records.get(k.sha256);
      return k.name === name && !(t?.kind === "tombstone" && t.revoked);
    });
  }
}

function liveRuntimeKey(name: string, records: ReadonlyMap<string, RuntimeKey>): RuntimeKey | undefined {
  for (const r of records.values()) if (r.kind === "key" && !r.revoked && r.name === name) return r;
  return undefined;
}

function notFound(name: string): GatewayError {
  return new GatewayError("NOT_FOUND", "KEY_NOT_FOUND", `no live key is named "${name}"`, {
    metadata: { name },
  });
}

function viewOf(r: RuntimeKey): KeyView {
  return {
    name: r.name,
    digestHex: r.sha256,
    source: r.kind === "key" ? "runtime" : "config",
    models: r.models,
    limits: r.limits ?? {},
    budget: r.budget,
    revoked: r.revoked,
    createdAt: r.kind === "key" ? r.createdAt : undefined,
    updatedAt: r.updatedAt,
    revokedAt: r.revokedAt,
  };
}
