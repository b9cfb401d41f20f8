// The response cache's public surface: keys, the two-level cache, single flight, the per-call policy,
// and CachedCalls (what the pipeline wires in).
export { Broadcast } from "./broadcast.js";
export { type CacheHit, type CacheLevel, ResponseCache, type ResponseCacheOptions } from "./cache.js";
export { CachedCalls, type CacheOutcome } from "./calls.js";
export { type CachedValue, type DecodedEntry, decodeEntry, encodeEntry } from "./entry.js";
export { FlightAbandoned, type RunOptions, SingleFlight } from "./flight.js";
export { type CacheKeyMode, cacheKey, canonicalJson } from "./key.js";
export { cacheRedisOver } from "./link.js";
export { ByteLru } from "./lru.js";
export { type CachePolicy, resolveCachePolicy } from "./policy.js";
export {
  type CacheRedis,
  type Guarded,
  RedisGuard,
  type RedisGuardOptions,
  type RedisState,
} from "./redis-guard.js";
export { type JoinOptions, StreamFlights } from "./stream-flight.js";
