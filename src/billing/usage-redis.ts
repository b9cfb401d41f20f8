// Usage counters in Redis, shared by every replica: batched writes off the call path, retried through
// outages without double counting, and the query over a range of days.
import { randomBytes } from "node:crypto";
import type { Logger } from "../lib/logger.js";
import type { RedisLink, ScriptDef } from "../redis/client.js";
import { DayNames, dayStart } from "./period.js";
import type { UsageEvent, UsageFilter, UsageLedger, UsageRow } from "./types.js";
import {
  addEvent,
  expiryOf,
  queryDays,
  sortRows,
  toRow,
  USAGE_COUNTERS,
  type UsageCounter,
  type UsageTotals,
  zeroTotals,
} from "./usage-rows.js";

/** KEYS: the usage hash. ARGV: writer, seq, expire-at ms, then field / increment pairs. */
const ADD = `
local w = 'w:' .. ARGV[1]
if tonumber(ARGV[2]) <= tonumber(redis.call('HGET', KEYS[1], w) or '0') then return 0 end
for i = 4, #ARGV, 2 do redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('HSET', KEYS[1], w, ARGV[2])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
return 1
`;

/** KEYS: a day's index. ARGV: expire-at ms, then the keys. */
const INDEX = `
for i = 2, #ARGV do redis.call('SADD', KEYS[1], ARGV[i]) end
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return 1
`;

export const USAGE_SCRIPTS: ScriptDef[] = [
  { name: "llmgwUsageAdd", lua: ADD, numberOfKeys: 1 },
  { name: "llmgwUsageIndex", lua: INDEX, numberOfKeys: 1 },
];

type Scripted = {
  llmgwUsageAdd(...args: (string | number)[]): Promise<number>;
  llmgwUsageIndex(...args: (string | number)[]): Promise<number>;
  smembers(key: string): Promise<string[]>;
  hgetall(key: string): Promise<Record<string, string>>;
};

/** Options of the Redis usage ledger. */
export interface RedisUsageOptions {
  retentionDays: number;
  /** Prefix of every Redis key (default "llmgw:"). */
  prefix?: string;
  /** How long events gather before a write (default 100 ms). */
  flushMs?: number;
  /** Most (day, key, model) rows waiting for Redis; events needing more are dropped (default 100 000). */
  maxPendingRows?: number;
  now?: () => number;
}

/** A batch on its way to Redis: sent, and resent unchanged, until Redis answers. */
interface Batch {
  seq: number;
  args: string[];
  rows: number;
  /** The group's `recorded` when the batch was sealed. */
  upTo: number;
}

/** Usage of one key on one day, as it waits for Redis. */
interface Group {
  hash: string;
  day: string;
  key: string;
  expireAt: number;
  open: Map<string, UsageTotals> | undefined;
  sending: Batch | undefined;
  indexed: boolean;
  recorded: number;
  stored: number;
}

/** Counters of the writer, for tests and logs. */
export interface UsageWriterStats {
  pendingRows: number;
  dropped: number;
  writes: number;
  failedWrites: number;
  /** Resent batches Redis had stored already (a timed-out write that landed late): not counted again. */
  duplicates: number;
}

const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * Usage in Redis: `<prefix>usage:<day>:{<key>}` hashes (fields `<model>|<counter>`) and a per-day
 * index `<prefix>usage:<day>:keys`, both expiring `retentionDays` after the day. record() only adds to
 * an in-memory batch; a timer writes the batches (one script call per day and key, sent together) and
 * resends one Redis missed until it lands. A batch carries this writer's sequence number, so a resent
 * batch that had landed after all (a frozen Redis thawing) is not counted twice. During an outage
 * memory grows per (day, key, model) row, not per event; beyond `maxPendingRows` rows, events that need
 * a new row are dropped and counted (`stats.dropped`, a warning every 10 000).
 */
export class RedisUsageLedger implements UsageLedger {
  private readonly prefix: string;
  private readonly flushMs: number;
  private readonly maxRows: number;
  private readonly now: () => number;
  private readonly writer = randomBytes(6).toString("hex");
  private seq = 0;
  private readonly groups = new Map<string, Group>();
  private readonly days = new DayNames();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private closed = false;
  private readonly counts: UsageWriterStats = {
    pendingRows: 0,
    dropped: 0,
    writes: 0,
    failedWrites: 0,
    duplicates: 0,
  };

  constructor(
    private readonly link: RedisLink,
    private readonly log: Logger,
    private readonly opts: RedisUsageOptions,
  ) {
    this.prefix = opts.prefix ?? "llmgw:";
    this.flushMs = opts.flushMs ?? 100;
    this.maxRows = opts.maxPendingRows ?? 100_000;
    this.now = opts.now ?? Date.now;
    link.define(USAGE_SCRIPTS);
  }

  get stats(): UsageWriterStats {
    return { ...this.counts };
  }

  private hashOf(day: string, key: string): string {
    return `${this.prefix}usage:${day}:{${key}}`;
  }

  private indexOf(day: string): string {
    return `${this.prefix}usage:${day}:keys`;
  }

  record(e: UsageEvent): void {
    try {
      const at = Number.isFinite(e.atMs) ? e.atMs : this.now();
      const day = this.days.of(at);
      const hash = this.hashOf(day, e.key);
      let g = this.groups.get(hash);
      if (!g) {
        const expireAt = expiryOf(at, this.opts.retentionDays);
        g = {
          hash,
          day,
          key: e.key,
          expireAt,
          open: undefined,
          sending: undefined,
          indexed: false,
          recorded: 0,
          stored: 0,
        };
        this.groups.set(hash, g);
      }
      g.open ??= new Map();
      let t = g.open.get(e.model);
      if (!t) {
        if (this.counts.pendingRows >= this.maxRows) {
          this.drop();
          return;
        }
        t = zeroTotals();
        g.open.set(e.model, t);
        this.counts.pendingRows++;
      }
      addEvent(t, e);
      g.recorded++;
      this.schedule(this.flushMs);
    } catch {
      // never throws into a call
    }
  }

  private drop(): void {
    if (this.counts.dropped++ % 10_000 === 0) {
      this.log.warn({ dropped: this.counts.dropped }, "usage events dropped: Redis has been down too long");
    }
  }

  private schedule(ms: number): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.writeOut();
    }, ms);
    this.timer.unref();
  }

  /** One write of everything pending (joins the write in progress, if any). Never rejects. */
  private writeOut(): Promise<void> {
    this.writing ??= this.write().finally(() => {
      this.writing = undefined;
    });
    return this.writing;
  }

  private seal(g: Group): void {
    if (g.sending || !g.open) return;
    const args = [this.writer, String(++this.seq), String(g.expireAt)];
    for (const [model, t] of g.open) {
      for (const c of USAGE_COUNTERS) if (t[c] !== 0) args.push(`${model}|${c}`, String(t[c]));
    }
    g.sending = { seq: this.seq, args, rows: g.open.size, upTo: g.recorded };
    g.open = undefined;
  }

  private async write(): Promise<void> {
    const todo: [Group, Batch][] = [];
    const index = new Map<string, Group[]>();
    for (const g of this.groups.values()) {
      this.seal(g);
      if (g.sending) todo.push([g, g.sending]);
      if (g.indexed) continue;
      const sameDay = index.get(g.day);
      if (sameDay) sameDay.push(g);
      else index.set(g.day, [g]);
    }
    if (todo.length === 0 && index.size === 0) return;
    try {
      await this.link.run(async (client) => {
        const c = client as unknown as Scripted;
        const sends = todo.map(([g, b]) =>
          c.llmgwUsageAdd(g.hash, ...b.args).then((fresh) => this.stored(g, b, fresh === 1)),
        );
        const indexes = [...index].map(([day, gs]) => {
          const expireAt = Math.max(...gs.map((g) => g.expireAt));
          return c.llmgwUsageIndex(this.indexOf(day), expireAt, ...gs.map((g) => g.key)).then(() => {
            for (const g of gs) g.indexed = true;
          });
        });
        const failed = (await Promise.allSettled([...sends, ...indexes])).find(
          (r) => r.status === "rejected",
        );
        if (failed) throw failed.reason;
      });
    } catch (e: unknown) {
      this.counts.failedWrites++;
      this.log.debug({ err: errText(e) }, "usage write failed; will retry");
    }
    this.tidy();
  }

  private stored(g: Group, b: Batch, fresh: boolean): void {
    if (!fresh) this.counts.duplicates++;
    if (g.sending !== b) return;
    g.sending = undefined;
    g.stored = b.upTo;
    this.counts.pendingRows -= b.rows;
    this.counts.writes++;
  }

  /** Forgets finished groups of past days; schedules the next write when something is left. */
  private tidy(): void {
    const today = dayStart(this.now());
    let left = false;
    for (const [hash, g] of this.groups) {
      const done = !g.open && !g.sending && g.indexed;
      if (done && Date.parse(g.day) < today) this.groups.delete(hash);
      else if (!done) left = true;
    }
    if (left) this.schedule(this.link.usable ? this.flushMs : this.link.opts.downMs);
  }

  /** Resolves when every event recorded before the call is stored; rejects if the ledger is closed first. */
  async flush(): Promise<void> {
    const targets = [...this.groups.values()].map((g) => [g, g.recorded] as const);
    const done = () => targets.every(([g, n]) => g.stored >= n && g.indexed);
    while (!done()) {
      if (this.closed) throw new Error("usage ledger closed before its events were stored");
      await this.writeOut();
      if (!done()) await new Promise((r) => setTimeout(r, this.link.usable ? 10 : this.link.opts.downMs));
    }
  }

  /**
   * Rows from Redis (after trying to write what is pending); rejects with RedisDownError while Redis
   * is down (usage recorded meanwhile is kept and written later).
   */
  async query(f: UsageFilter): Promise<UsageRow[]> {
    await this.writeOut();
    const days = queryDays(f, this.now(), this.opts.retentionDays);
    const rows: UsageRow[] = [];
    await this.link.run(async (client) => {
      const c = client as unknown as Scripted;
      const keysByDay = await Promise.all(
        days.map((d) => (f.key !== undefined ? Promise.resolve([f.key]) : c.smembers(this.indexOf(d)))),
      );
      const reads = days.flatMap((day, i) =>
        (keysByDay[i] ?? []).map(async (key) => ({ day, key, h: await c.hgetall(this.hashOf(day, key)) })),
      );
      for (const { day, key, h } of await Promise.all(reads)) rows.push(...parseHash(day, key, h, f.model));
    });
    return sortRows(rows);
  }

  /** Stops the timer; usage not yet stored is dropped (call flush first). */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

const COUNTER_SET = new Set<string>(USAGE_COUNTERS);
const isCounter = (s: string): s is UsageCounter => COUNTER_SET.has(s);

/** The rows of one usage hash (fields `<model>|<counter>`; writer marks `w:<id>` are skipped). */
function parseHash(day: string, key: string, h: Record<string, string>, model?: string): UsageRow[] {
  const byModel = new Map<string, UsageTotals>();
  for (const [field, value] of Object.entries(h)) {
    const bar = field.lastIndexOf("|");
    if (bar < 0) continue;
    const m = field.slice(0, bar);
    const counter = field.slice(bar + 1);
    if ((model !== undefined && m !== model) || !isCounter(counter)) continue;
    let t = byModel.get(m);
    if (!t) {
      t = zeroTotals();
      byModel.set(m, t);
    }
    t[counter] = Number(value);
  }
  return [...byModel].map(([m, t]) => toRow(day, key, m, t));
}
