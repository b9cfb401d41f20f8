// The keys in force: those of the config file, minus the ones a stored tombstone revokes, plus the
// live keys created at run time. One function, used by the call guard and by AdminService alike.
import { type ConfigKey, configKeyEntry, type KeyEntry } from "./keys.js";
import type { RuntimeKey } from "./store.js";

/** Live keys, and whether the gateway is keyed (any key configured or ever created at run time). */
export interface MergedKeys {
  live: KeyEntry[];
  /**
   * True when the config lists keys or the runtime store holds any record (revoked ones included):
   * once a key has been created at run time the gateway stays keyed even if every key is revoked.
   */
  keyed: boolean;
}

/** Merges the config's keys with the runtime store's records. */
export function mergeKeys(
  configKeys: readonly ConfigKey[] | undefined,
  records: ReadonlyMap<string, RuntimeKey>,
): MergedKeys {
  const live: KeyEntry[] = [];
  for (const c of configKeys ?? []) {
    const k = configKeyEntry(c);
    const r = records.get(k.sha256);
    if (r?.kind === "tombstone" && r.revoked) continue;
    live.push(k);
  }
  for (const r of records.values()) {
    if (r.kind !== "key" || r.revoked) continue;
    live.push({
      name: r.name,
      sha256: r.sha256,
      models: r.models,
      limits: r.limits,
      budget: r.budget,
      source: "runtime",
    });
  }
  return { live, keyed: (configKeys?.length ?? 0) > 0 || records.size > 0 };
}
