// Usage counters in this process (a gateway without Redis): per UTC day, key and model, with days
// beyond the retention window pruned as new days begin.
import { DayNames } from "./period.js";
import type { UsageEvent, UsageFilter, UsageLedger, UsageRow } from "./types.js";
import {
  addEvent,
  oldestKept,
  queryDays,
  sortRows,
  toRow,
  type UsageTotals,
  zeroTotals,
} from "./usage-rows.js";

/** Usage in memory: exact for this process, lost on restart. */
export class MemoryUsageLedger implements UsageLedger {
  /** day -> key -> model -> totals. */
  private readonly days = new Map<string, Map<string, Map<string, UsageTotals>>>();
  private readonly names = new DayNames();

  constructor(
    private readonly retentionDays: number,
    private readonly now: () => number = Date.now,
  ) {}

  record(e: UsageEvent): void {
    try {
      const day = this.names.of(Number.isFinite(e.atMs) ? e.atMs : this.now());
      let keys = this.days.get(day);
      if (!keys) {
        this.prune();
        keys = new Map();
        this.days.set(day, keys);
      }
      let models = keys.get(e.key);
      if (!models) {
        models = new Map();
        keys.set(e.key, models);
      }
      let t = models.get(e.model);
      if (!t) {
        t = zeroTotals();
        models.set(e.model, t);
      }
      addEvent(t, e);
    } catch {
      // never throws into a call
    }
  }

  /** Drops the days the retention window no longer keeps. */
  private prune(): void {
    const oldest = oldestKept(this.now(), this.retentionDays);
    for (const day of this.days.keys()) if (Date.parse(day) < oldest) this.days.delete(day);
  }

  async query(f: UsageFilter): Promise<UsageRow[]> {
    this.prune();
    const rows: UsageRow[] = [];
    for (const day of queryDays(f, this.now(), this.retentionDays)) {
      const keys = this.days.get(day);
      if (!keys) continue;
      for (const [key, models] of keys) {
        if (f.key !== undefined && key !== f.key) continue;
        for (const [model, t] of models) {
          if (f.model !== undefined && model !== f.model) continue;
          rows.push(toRow(day, key, model, { ...t }));
        }
      }
    }
    return sortRows(rows);
  }

  async flush(): Promise<void> {}

  close(): void {}
}
