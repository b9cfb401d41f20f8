// How a call's cache verdict is named in log lines, trace attributes and the REST door's
// x-llmgw-cache header, and what counts as a hit (metrics, usage accounting).
import { CacheStatus } from "../../gen/llmgateway/v1/llm_pb.js";

const LABELS: Readonly<Record<CacheStatus, string | undefined>> = {
  [CacheStatus.UNSPECIFIED]: undefined,
  [CacheStatus.MISS]: "miss",
  [CacheStatus.HIT_MEMORY]: "hit-memory",
  [CacheStatus.HIT_REDIS]: "hit-redis",
};

/** "miss", "hit-memory", "hit-redis"; undefined when the cache was not consulted. */
export function cacheLabel(status: CacheStatus): string | undefined {
  return LABELS[status];
}

/** True when the answer came from the cache (memory or Redis). */
export function isCacheHit(status: CacheStatus | undefined): boolean {
  return status === CacheStatus.HIT_MEMORY || status === CacheStatus.HIT_REDIS;
}
