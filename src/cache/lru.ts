// The in-process level (L1): a least-recently-used map of byte buffers bounded by their total size,
// with an expiry time per entry. (lru-cache is not among the installed packages; this is the part we use.)

/** Bytes charged per entry on top of its value and key: Map slot, entry object, bookkeeping. */
const ENTRY_OVERHEAD = 96;

interface Slot {
  value: Uint8Array;
  expiresAt: number;
  size: number;
}

/** Size-bounded LRU with per-entry expiry; a Map keeps recency order (oldest first). */
export class ByteLru {
  private readonly map = new Map<string, Slot>();
  private total = 0;

  /**
   * @param maxBytes upper bound of the charged size of all entries (values + keys + overhead).
   * @param now clock in ms (wall clock by default), injectable for tests.
   */
  constructor(
    readonly maxBytes: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Charged size of every live entry, bytes. */
  get bytes(): number {
    return this.total;
  }

  /** Number of entries held (expired ones included until they are touched or evicted). */
  get size(): number {
    return this.map.size;
  }

  /** The value, made most recent; undefined when absent or expired (an expired entry is dropped). */
  get(key: string): Uint8Array | undefined {
    const slot = this.map.get(key);
    if (!slot) return undefined;
    this.map.delete(key);
    if (slot.expiresAt <= this.now()) {
      this.total -= slot.size;
      return undefined;
    }
    this.map.set(key, slot);
    return slot.value;
  }

  /** Stores a value until `expiresAt` (ms, same clock); evicts the least recent entries to fit. */
  set(key: string, value: Uint8Array, expiresAt: number): void {
    this.delete(key);
    const size = value.byteLength + key.length * 2 + ENTRY_OVERHEAD;
    if (size > this.maxBytes || expiresAt <= this.now()) return;
    this.map.set(key, { value, expiresAt, size });
    this.total += size;
    for (const [k, s] of this.map) {
      if (this.total <= this.maxBytes) break;
      this.map.delete(k);
      this.total -= s.size;
    }
  }

  /** Removes an entry; true when it was there. */
  delete(key: string): boolean {
    const slot = this.map.get(key);
    if (!slot) return false;
    this.map.delete(key);
    this.total -= slot.size;
    return true;
  }

  /** Removes every entry. */
  clear(): void {
    this.map.clear();
    this.total = 0;
  }
}
