// Builds the process's response store from the config: Redis when the gateway has one (shared by
// every replica), else memory (per process), and says at start which one it is.
import type { GatewayConfig } from "../config/index.js";
import type { Logger } from "../lib/logger.js";
import { createRedisLink } from "../redis/client.js";
import { MemoryResponseStore } from "./memory.js";
import { ResponsePolicy, type ResponsesDeps } from "./policy.js";
import { RedisResponseStore } from "./redis.js";
import type { ResponseStore } from "./store.js";

/** The store and where it keeps records. */
export interface CreatedStore {
  store: ResponseStore;
  backend: "memory" | "redis";
}

/**
 * The response store for this process; fixed for its life (a reload that changes it needs a restart).
 * With Redis it opens a connection of its own (same redis.* settings, command timeout
 * responses.redis_timeout_ms): records of megabytes must not hold up the limiter's small commands
 * on the shared connection, nor trip its short timeout and make Redis "down" for everyone.
 */
export function createResponseStore(config: GatewayConfig, log: Logger): CreatedStore {
  const r = config.responses;
  const bounds = { maxEntries: r.maxEntries, maxBytes: r.maxBytes, maxRecordBytes: r.maxRecordBytes };
  const fields = {
    store_default: r.storeDefault,
    allow_anonymous_store: r.allowAnonymousStore,
    ttl_s: r.ttlS,
    max_entries: r.maxEntries,
    max_bytes: r.maxBytes,
    max_record_bytes: r.maxRecordBytes,
  };
  const file = { ...config.file, redis: { ...config.file.redis, command_timeout_ms: r.redisTimeoutMs } };
  const link = createRedisLink(file, config.redisUrl, log.child({ part: "responses" }));
  if (link) {
    log.info(
      { ...fields, redis_timeout_ms: r.redisTimeoutMs, backend: "redis" },
      "stored responses: in Redis, shared by every replica (limits per owner)",
    );
    return { store: new RedisResponseStore(link, { ...bounds, ownsLink: true }), backend: "redis" };
  }
  log.info(
    { ...fields, backend: "memory" },
    "stored responses: in memory, per process — another worker or replica cannot read them and a restart loses them; set redis.url to share them",
  );
  return { store: new MemoryResponseStore(bounds), backend: "memory" };
}

/** RestDeps.responses: the store, with the policy of the config in force (rebuilt when it changes). */
export function responsesDeps(store: ResponseStore, config: () => GatewayConfig): () => ResponsesDeps {
  let seen: GatewayConfig | undefined;
  let deps: ResponsesDeps | undefined;
  return () => {
    const c = config();
    if (c !== seen || deps === undefined) {
      seen = c;
      deps = { store, policy: new ResponsePolicy(c.responses) };
    }
    return deps;
  };
}
