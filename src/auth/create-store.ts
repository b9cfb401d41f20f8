// Picks where runtime keys live: Redis when the gateway has one, else the keys file
// (`auth.keys_file`, default llmgw-keys.json beside the config file, else in the working directory).
import { dirname, isAbsolute, resolve } from "node:path";
import type { GatewayConfig } from "../config/index.js";
import type { Logger } from "../lib/logger.js";
import type { RedisLink } from "../redis/client.js";
import { KeyStore } from "./store.js";
import { FileKeyBackend } from "./store-file.js";
import { RedisKeyBackend } from "./store-redis.js";

/** The keys file of a config: `auth.keys_file` (relative to the config file's folder) or the default. */
export function keysFilePath(config: Pick<GatewayConfig, "configPath" | "file">): string {
  const base = config.configPath ? dirname(resolve(config.configPath)) : process.cwd();
  const p = config.file.auth?.keys_file || "llmgw-keys.json";
  return isAbsolute(p) ? p : resolve(base, p);
}

/** The process's key store (not started: call `start()`). Create once, share across config reloads. */
export function createKeyStore(config: GatewayConfig, redis: RedisLink | undefined, log: Logger): KeyStore {
  const a = config.file.auth ?? {};
  const backend = redis
    ? new RedisKeyBackend(redis, a.keys_redis_key ?? "llmgw:keys")
    : new FileKeyBackend(keysFilePath(config));
  return new KeyStore(backend, log, a.keys_refresh_ms ?? 1000);
}
