// Stored responses in Redis, shared by every replica, over a fail-fast link (src/redis; create.ts
// opens one of its own, so megabyte records neither queue the limiter's commands behind them nor,
// when one is slow, mark Redis down for the limiter and the cache): a command that cannot run at
// once or within responses.redis_timeout_ms fails with RESPONSE_STORE_UNAVAILABLE naming why.
//
// Keys, all under the owner's hash tag (one slot per owner on Cluster, so the Lua below is legal):
//   <prefix>{<owner>}:r:<id>   the record's JSON, SET PX ttl (Redis drops it on time by itself)
//   <prefix>{<owner>}:i        sorted set id -> expiry (ms, Redis time): what the owner holds
//   <prefix>{<owner>}:s        hash id -> bytes, "#" -> the owner's total
// The owner is part of every key, so a caller can never even name another owner's record.
//
// Bounds, decided: per owner, responses.max_entries records and responses.max_bytes bytes (the
// soonest to expire, i.e. the oldest, go first), each record at most responses.max_record_bytes,
// everything with a TTL. Owners are gateway keys (plus "anonymous"), so the total is bounded by
// keys x max_bytes. Redis maxmemory alone is not relied on: this Redis also holds the limiter's
// buckets and the runtime keys, which an eviction policy must never drop for stored prompts, and
// with the default noeviction a full Redis would refuse every write of the gateway.
import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import { RedisDownError, type RedisLink } from "../redis/client.js";
import { storeUnavailable } from "./errors.js";
import { decode, encode, storableId, ttlMs } from "./record.js";
import type { ResponseStore, StoredResponse } from "./store.js";

/**
 * KEYS: record, index, sizes. ARGV: id, json, ttl ms, max entries, max bytes, record key prefix.
 * Drops the same id, then expired ids, then the soonest to expire until the record fits; keeps it.
 * Returns how many records were evicted for room (expired ones not counted).
 */
const PUT = `
local id, val, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local maxE, maxB, pre = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local size = string.len(val)
local function drop(rid)
  local s = tonumber(redis.call('HGET', KEYS[3], rid) or '0')
  redis.call('HDEL', KEYS[3], rid)
  redis.call('HINCRBY', KEYS[3], '#', -s)
  redis.call('ZREM', KEYS[2], rid)
  redis.call('DEL', pre .. rid)
end
if redis.call('ZSCORE', KEYS[2], id) then drop(id) end
for _, rid in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)) do drop(rid) end
local evicted = 0
while redis.call('ZCARD', KEYS[2]) >= maxE or tonumber(redis.call('HGET', KEYS[3], '#') or '0') + size > maxB do
  local first = redis.call('ZRANGE', KEYS[2], 0, 0)
  if #first == 0 then break end
  drop(first[1])
  evicted = evicted + 1
end
redis.call('SET', KEYS[1], val, 'PX', ttl)
redis.call('ZADD', KEYS[2], now + ttl, id)
redis.call('HSET', KEYS[3], id, size)
redis.call('HINCRBY', KEYS[3], '#', size)
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
local keep = math.max(1, tonumber(last[2]) - now)
redis.call('PEXPIRE', KEYS[2], keep)
redis.call('PEXPIRE', KEYS[3], keep)
return evicted
`;

/** KEYS: record, index, sizes. ARGV: id. 1 when a live record was deleted. */
const DELETE = `
local n = redis.call('DEL', KEYS[1])
local s = redis.call('HGET', KEYS[3], ARGV[1])
if s then
  redis.call('HDEL', KEYS[3], ARGV[1])
  redis.call('HINCRBY', KEYS[3], '#', -tonumber(s))
end
redis.call('ZREM', KEYS[2], ARGV[1])
return n
`;

const SCRIPTS = [
  { name: "llmgwRespPut", lua: PUT, numberOfKeys: 3 },
  { name: "llmgwRespDelete", lua: DELETE, numberOfKeys: 3 },
];

type Scripted = {
  llmgwRespPut(...args: (string | number)[]): Promise<number>;
  llmgwRespDelete(...args: string[]): Promise<number>;
};

/** Bounds of the Redis store (responses.*); entries and bytes are per owner. */
export interface RedisStoreOptions {
  maxEntries: number;
  maxBytes: number;
  maxRecordBytes: number;
  /** Prefix of every key (default "llmgw:resp:"). */
  prefix?: string;
  /** The link is the store's own connection: close() closes it. */
  ownsLink?: boolean;
}

/** An owner as a key segment: itself when plain (key digests, "anonymous"), else "~" + its SHA-256. */
function ownerSegment(owner: string): string {
  return /^[A-Za-z0-9_.-]{1,128}$/.test(owner)
    ? owner
    : `~${createHash("sha256").update(owner).digest("hex")}`;
}

/** The Redis ResponseStore: shared by every replica, survives restarts (as far as Redis persists). */
export class RedisResponseStore implements ResponseStore {
  private readonly prefix: string;

  constructor(
    private readonly link: RedisLink,
    private readonly opts: RedisStoreOptions,
  ) {
    this.prefix = opts.prefix ?? "llmgw:resp:";
    link.define(SCRIPTS);
  }

  /** The three keys of one record (the index and sizes are the owner's). */
  private keys(owner: string, id: string): { record: string; index: string; sizes: string; pre: string } {
    const base = `${this.prefix}{${ownerSegment(owner)}}:`;
    return { record: `${base}r:${id}`, index: `${base}i`, sizes: `${base}s`, pre: `${base}r:` };
  }

  async put(rec: StoredResponse, ttlS: number): Promise<void> {
    const { json } = encode(rec, this.opts.maxRecordBytes);
    const k = this.keys(rec.owner, rec.id);
    const args = [rec.id, json, ttlMs(ttlS), this.opts.maxEntries, this.opts.maxBytes, k.pre];
    await this.run((c) => (c as unknown as Scripted).llmgwRespPut(k.record, k.index, k.sizes, ...args));
  }

  async get(owner: string, id: string): Promise<StoredResponse | undefined> {
    if (!storableId(id)) return undefined;
    const json = await this.run((c) => (c as Redis).get(this.keys(owner, id).record));
    return json === null ? undefined : decode(json, owner, id);
  }

  async delete(owner: string, id: string): Promise<boolean> {
    if (!storableId(id)) return false;
    const k = this.keys(owner, id);
    const n = await this.run((c) =>
      (c as unknown as Scripted).llmgwRespDelete(k.record, k.index, k.sizes, id),
    );
    return Number(n) === 1;
  }

  async close(): Promise<void> {
    if (this.opts.ownsLink) await this.link.close();
  }

  /** One command through the link; every failure becomes RESPONSE_STORE_UNAVAILABLE saying why. */
  private async run<T>(fn: (c: RedisLink["client"]) => Promise<T>): Promise<T> {
    try {
      return await this.link.run(fn);
    } catch (e: unknown) {
      const msg = e instanceof Error ? e.message : String(e);
      throw storeUnavailable(e instanceof RedisDownError ? msg : `redis refused the command: ${msg}`, e);
    }
  }
}
