// The cache policy of one call: the model's configured policy overridden by the request's CacheControl.
import type { CacheControl } from "../../gen/llmgateway/v1/llm_pb.js";

/** What the cache does for one call (undefined from `resolveCachePolicy` = not consulted at all). */
export interface CachePolicy {
  /** Store this call's answer (false for `no_store` or a TTL <= 0). */
  store: boolean;
  /** Time to live of a stored answer, ms. */
  ttlMs: number;
}

/**
 * The call's policy: `cache.enabled` overrides the model's `enabled` (default off), `ttl_s` overrides its
 * TTL, `no_store` reads without writing. Undefined when the cache is off for this call.
 */
export function resolveCachePolicy(
  model: { enabled: boolean; ttlS: number },
  ctl: CacheControl | undefined,
): CachePolicy | undefined {
  if (!(ctl?.enabled ?? model.enabled)) return undefined;
  const ttlS = ctl?.ttlS ?? model.ttlS;
  return { store: !ctl?.noStore && ttlS > 0, ttlMs: Math.max(0, ttlS) * 1000 };
}
