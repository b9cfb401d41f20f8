// The token-bucket algorithm in memory: the same arithmetic as the Redis script (redis.ts), for a
// gateway without Redis and for fail_open during a Redis outage.
import { type Decision, type Levels, type LimitStore, type Subject, WINDOW_MS } from "./types.js";

interface Bucket {
  v: number;
  t: number;
}

/** Level of a bucket of capacity `cap` at `now`, refilled since it was last written. */
export function levelAt(b: Bucket | undefined, cap: number, now: number): number {
  if (!b) return cap;
  return Math.min(cap, b.v + Math.max(0, now - b.t) * (cap / WINDOW_MS));
}

/** ms until a bucket at `level` holds `need`. */
export function waitFor(level: number, need: number, cap: number): number {
  return level >= need ? 0 : Math.ceil((need - level) / (cap / WINDOW_MS));
}

export function levelsOf(r: number | undefined, rpm: number, k: number | undefined, tpm: number): Levels {
  const out: Levels = {};
  if (r !== undefined && rpm > 0)
    out.requests = { limit: rpm, remaining: Math.max(0, Math.floor(r)), resetMs: waitFor(r, rpm, rpm) };
  if (k !== undefined && tpm > 0)
    out.tokens = { limit: tpm, remaining: Math.max(0, Math.floor(k)), resetMs: waitFor(k, tpm, tpm) };
  return out;
}

/** Buckets in this process. Idle full buckets are dropped by a periodic sweep. */
export class MemoryStore implements LimitStore {
  private readonly req = new Map<string, Bucket>();
  private readonly tok = new Map<string, Bucket>();
  private readonly leases = new Map<string, Map<string, number>>();
  private readonly sweep: NodeJS.Timeout;

  constructor(private readonly now: () => number = Date.now) {
    this.sweep = setInterval(() => this.gc(), WINDOW_MS);
    this.sweep.unref();
  }

  close(): void {
    clearInterval(this.sweep);
  }

  private gc(): void {
    const now = this.now();
    for (const m of [this.req, this.tok]) for (const [k, b] of m) if (now - b.t > WINDOW_MS * 2) m.delete(k);
    for (const [k, l] of this.leases) {
      for (const [id, exp] of l) if (exp <= now) l.delete(id);
      if (l.size === 0) this.leases.delete(k);
    }
  }

  async acquire(s: Subject, tokens: number, leaseId: string, leaseTtlMs: number): Promise<Decision> {
    const now = this.now();
    const rpm = s.spec.rpm ?? 0;
    const tpm = s.spec.tpm ?? 0;
    const conc = s.spec.concurrent ?? 0;
    const r = rpm > 0 ? levelAt(this.req.get(s.id), rpm, now) : undefined;
    const k = tpm > 0 ? levelAt(this.tok.get(s.id), tpm, now) : undefined;
    const levels = levelsOf(r, rpm, k, tpm);
    if (k !== undefined && tokens > tpm) return { ok: false, why: "too_large", waitMs: 0, levels };
    let wait = 0;
    let why: "requests" | "tokens" | undefined;
    if (r !== undefined && r < 1) {
      wait = waitFor(r, 1, rpm);
      why = "requests";
    }
    if (k !== undefined && k < tokens) {
      const w = waitFor(k, tokens, tpm);
      if (w > wait || !why) {
        wait = Math.max(w, wait);
        why = "tokens";
      }
    }
    if (why) return { ok: false, why, waitMs: wait, levels };
    if (conc > 0) {
      const l = this.leases.get(s.id) ?? new Map<string, number>();
      for (const [id, exp] of l) if (exp <= now) l.delete(id);
      if (l.size >= conc) return { ok: false, why: "concurrency", waitMs: 1000, levels };
      l.set(leaseId, now + leaseTtlMs);
      this.leases.set(s.id, l);
    }
    if (r !== undefined) this.req.set(s.id, { v: r - 1, t: now });
    if (k !== undefined) this.tok.set(s.id, { v: k - tokens, t: now });
    return {
      ok: true,
      levels: levelsOf(r === undefined ? r : r - 1, rpm, k === undefined ? k : k - tokens, tpm),
    };
  }

  async settle(s: Subject, refund: number, leaseId: string): Promise<void> {
    const l = this.leases.get(s.id);
    if (l) {
      l.delete(leaseId);
      if (l.size === 0) this.leases.delete(s.id);
    }
    const tpm = s.spec.tpm ?? 0;
    if (tpm > 0 && refund !== 0) {
      const now = this.now();
      const k = levelAt(this.tok.get(s.id), tpm, now);
      this.tok.set(s.id, { v: Math.min(tpm, k + refund), t: now });
    }
  }
}
