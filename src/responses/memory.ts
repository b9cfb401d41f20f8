// Stored responses in this process: one Map in least-recently-used order (a get moves the record to
// the back), bounded by entries and by bytes (the records' JSON), each record with its own expiry.
// Keyed by owner + id, so a get or delete under another owner never finds the record.
import { decode, encode, storableId, ttlMs } from "./record.js";
import type { ResponseStore, StoredResponse } from "./store.js";

/** Bounds of the memory store (responses.max_entries / max_bytes / max_record_bytes). */
export interface MemoryStoreOptions {
  maxEntries: number;
  /** Total bytes of the records' JSON. */
  maxBytes: number;
  /** One record's JSON; a bigger one is refused (RESPONSE_TOO_LARGE). */
  maxRecordBytes: number;
  /** The clock, ms (tests move it by hand). */
  now?: () => number;
}

interface Entry {
  json: string;
  bytes: number;
  expiresAt: number;
}

/** How often, at most, a put sweeps every expired record out (they also go when read or evicted). */
const SWEEP_MS = 60_000;

/** The in-process ResponseStore: per process, lost on restart, not shared by replicas. */
export class MemoryResponseStore implements ResponseStore {
  private readonly map = new Map<string, Entry>();
  private total = 0;
  private lastSweep: number;
  private readonly now: () => number;

  constructor(private readonly opts: MemoryStoreOptions) {
    if (opts.maxRecordBytes > opts.maxBytes || opts.maxEntries < 1)
      throw new Error("response store: max_record_bytes must fit in max_bytes, max_entries at least 1");
    this.now = opts.now ?? Date.now;
    this.lastSweep = this.now();
  }

  /** Records held (expired ones not yet swept included). */
  get size(): number {
    return this.map.size;
  }

  /** Bytes held. */
  get bytes(): number {
    return this.total;
  }

  async put(rec: StoredResponse, ttlS: number): Promise<void> {
    const { json, bytes } = encode(rec, this.opts.maxRecordBytes);
    const now = this.now();
    const key = keyOf(rec.owner, rec.id);
    this.drop(key);
    if (now - this.lastSweep >= SWEEP_MS) this.sweep(now);
    // Least recently used first; the new record always fits (maxRecordBytes <= maxBytes, checked at load).
    for (const [k] of this.map) {
      if (this.map.size < this.opts.maxEntries && this.total + bytes <= this.opts.maxBytes) break;
      this.drop(k);
    }
    this.map.set(key, { json, bytes, expiresAt: now + ttlMs(ttlS) });
    this.total += bytes;
  }

  async get(owner: string, id: string): Promise<StoredResponse | undefined> {
    if (!storableId(id)) return undefined;
    const key = keyOf(owner, id);
    const e = this.map.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt <= this.now()) {
      this.drop(key);
      return undefined;
    }
    this.map.delete(key); // to the back: most recently used
    this.map.set(key, e);
    return decode(e.json, owner, id);
  }

  async delete(owner: string, id: string): Promise<boolean> {
    if (!storableId(id)) return false;
    const key = keyOf(owner, id);
    const e = this.map.get(key);
    if (e === undefined) return false;
    this.drop(key);
    return e.expiresAt > this.now();
  }

  async close(): Promise<void> {
    this.map.clear();
    this.total = 0;
  }

  private drop(key: string): void {
    const e = this.map.get(key);
    if (e === undefined) return;
    this.map.delete(key);
    this.total -= e.bytes;
  }

  private sweep(now: number): void {
    this.lastSweep = now;
    for (const [k, e] of this.map) if (e.expiresAt <= now) this.drop(k);
  }
}

/** Owner and id joined by a character neither can contain (ids are [A-Za-z0-9_-]). */
function keyOf(owner: string, id: string): string {
  return `${id}\u0000${owner}`;
}
