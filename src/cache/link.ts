// The cache's L2 over the gateway's one Redis link (src/redis): the same fail-fast client and the same
// "down" memory as the limiter, so Redis health is shared — a cache command that fails marks Redis down
// for the limiter too, and while it is down cache commands fail at once (a miss, a memory-only write).
import type { Redis } from "ioredis";
import type { RedisLink } from "../redis/client.js";
import type { CacheRedis } from "./redis-guard.js";

/** A CacheRedis whose every command goes through `link.run`. */
export function cacheRedisOver(link: RedisLink): CacheRedis {
  return {
    getBuffer: (key) => link.run((c) => (c as Redis).getBuffer(key)),
    set: (key, value, mode, ms) => link.run((c) => (c as Redis).set(key, value, mode, ms)),
  };
}
