// The two-level response cache: L1 in process (byte-bounded LRU), L2 in Redis (shared by every
// gateway process), a TTL per entry, and the age of a hit. Redis trouble never throws out of here:
// a failed or slow Redis is a miss (reads) or a memory-only write, and is skipped for a while.
import { type CachedValue, decodeEntry, encodeEntry } from "./entry.js";
import { ByteLru } from "./lru.js";
import { type CacheRedis, RedisGuard, type RedisGuardOptions, type RedisState } from "./redis-guard.js";

/** Where a hit came from. */
export type CacheLevel = "memory" | "redis";

/** A cache hit: the answer (fresh objects), its level and its age in whole seconds. */
export interface CacheHit {
  value: CachedValue;
  level: CacheLevel;
  ageS: number;
}

/** Options of the response cache. */
export interface ResponseCacheOptions extends RedisGuardOptions {
  /** The shared level; omit to run on memory only. */
  redis?: CacheRedis;
  /** Prefix of every Redis key (default "llmgw:cache:"); tests use a unique one per run. */
  prefix?: string;
  /** Upper bound of L1, bytes (default 64 MiB). */
  maxBytes?: number;
  /** Wall clock, epoch ms (default Date.now); stored-at times are compared across processes. */
  now?: () => number;
}

/** Two-level exact-match cache of answers, keyed by `cacheKey()`. */
export class ResponseCache {
  /** The in-process level (exposed for stats and tests). */
  readonly l1: ByteLru;
  private readonly guard: RedisGuard;
  private readonly redis: CacheRedis | undefined;
  private readonly prefix: string;
  private readonly now: () => number;
  private readonly onError: ((err: unknown, op: string) => void) | undefined;

  constructor(opts: ResponseCacheOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.l1 = new ByteLru(opts.maxBytes ?? 64 * 1024 * 1024, this.now);
    this.guard = new RedisGuard(opts);
    this.redis = opts.redis;
    this.prefix = opts.prefix ?? "llmgw:cache:";
    this.onError = opts.onError;
  }

  /** Redis as the cache sees it: "none" without a client, else "up" or "down" (skipped until a probe). */
  get redisState(): RedisState | "none" {
    return this.redis ? this.guard.state : "none";
  }

  /** Looks a key up in memory only (synchronous; no Redis round trip). */
  getMemory(key: string): CacheHit | undefined {
    const mem = this.l1.get(key);
    return mem ? this.decodeAt(key, mem, "memory") : undefined;
  }

  /** Looks a key up in memory, then in Redis (filling memory on a Redis hit). Never rejects. */
  async get(key: string): Promise<CacheHit | undefined> {
    const mem = this.l1.get(key);
    if (mem) {
      const hit = this.decodeAt(key, mem, "memory");
      if (hit) return hit;
    }
    const redis = this.redis;
    if (!redis) return undefined;
    const r = await this.guard.run("get", () => redis.getBuffer(this.prefix + key));
    if (!r.ok || !r.value) return undefined;
    return this.decodeAt(key, r.value, "redis");
  }

  private decodeAt(key: string, bytes: Uint8Array, level: CacheLevel): CacheHit | undefined {
    try {
      const e = decodeEntry(bytes);
      const now = this.now();
      if (e.expiresAt <= now) {
        if (level === "memory") this.l1.delete(key);
        return undefined;
      }
      if (level === "redis") this.l1.set(key, bytes, e.expiresAt);
      return { value: e.value, level, ageS: Math.max(0, Math.floor((now - e.storedAt) / 1000)) };
    } catch (err: unknown) {
      if (level === "memory") this.l1.delete(key);
      this.onError?.(err, "decode");
      return undefined;
    }
  }

  /**
   * Stores an answer for `ttlMs`: in memory at once (synchronously, so a call right after hits), in
   * Redis in the background. The promise resolves when Redis has it, failed, or was skipped; never rejects.
   */
  set(key: string, value: CachedValue, ttlMs: number): Promise<void> {
    if (!(ttlMs > 0)) return Promise.resolve();
    const storedAt = this.now();
    const bytes = encodeEntry(value, storedAt, storedAt + ttlMs);
    this.l1.set(key, bytes, storedAt + ttlMs);
    const redis = this.redis;
    if (!redis) return Promise.resolve();
    const ms = Math.max(1, Math.round(ttlMs));
    return this.guard.run("set", () => redis.set(this.prefix + key, bytes, "PX", ms)).then(() => undefined);
  }
}
