// What the "listening" line says besides host and port: the key stores and how many keys each holds,
// and where Redis is (host:port only — never the URL's user, password or path).
import type { KeyStore } from "../auth/index.js";
import type { GatewayConfig } from "../config/index.js";

/** host:port of a redis:// URL, without credentials; "(unparsable url)" rather than the URL. */
export function redisHost(url: string): string {
  try {
    return new URL(url).host || "(no host)";
  } catch {
    return "(unparsable url)";
  }
}

/** Where Redis is, as the start line shows it: false when the gateway runs without one. */
function redisWhere(config: GatewayConfig): string | false {
  const r = config.file.redis;
  if (config.redisUrl) return redisHost(config.redisUrl);
  if (r?.sentinels?.length) return `sentinels ${r.sentinels.map((s) => `${s.host}:${s.port}`).join(",")}`;
  if (r?.cluster_nodes?.length)
    return `cluster ${r.cluster_nodes.map((n) => `${n.host}:${n.port}`).join(",")}`;
  return false;
}

/** The start line's key and Redis fields. */
export function startLineFields(config: GatewayConfig, keyStore: KeyStore): Record<string, unknown> {
  let runtime = 0;
  for (const k of keyStore.records.values()) if (k.kind === "key" && !k.revoked) runtime++;
  return {
    keys: { config: config.file.keys?.length ?? 0, runtime, runtimeStore: keyStore.where },
    redis: redisWhere(config),
  };
}
