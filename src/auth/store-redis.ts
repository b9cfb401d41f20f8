// Runtime keys in Redis: one hash (`auth.keys_redis_key`, default "llmgw:keys") whose field
// "version" counts changes and whose other fields are key digests (hex) -> JSON records. One key,
// so it works unchanged on Cluster; writes are compare-and-set on the version, in Lua.
import type { Redis } from "ioredis";
import type { RedisLink } from "../redis/client.js";
import type { RuntimeKey, StoreBackend, StoredSet } from "./store.js";

/** HSET the records if the version is still ARGV[1]; the new version, or -1 on a conflict. */
const COMMIT = `
local v = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if v ~= tonumber(ARGV[1]) then return -1 end
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return redis.call('HINCRBY', KEYS[1], 'version', 1)
`;

/** The commit script as a command on the link (EVALSHA, reloaded on NOSCRIPT), like every script here. */
const SCRIPTS = [{ name: "llmgwKeysCommit", lua: COMMIT, numberOfKeys: 1 }];

type Scripted = { llmgwKeysCommit(...args: string[]): Promise<number> };

const DIGEST = /^[0-9a-f]{64}$/;

export class RedisKeyBackend implements StoreBackend {
  readonly where: string;

  constructor(
    private readonly link: RedisLink,
    private readonly hashKey: string,
  ) {
    this.where = `redis hash ${hashKey}`;
    link.define(SCRIPTS);
  }

  ready(ms: number): Promise<void> {
    const client = this.link.client;
    if (client.status === "ready") return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        client.off("ready", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      client.once("ready", done);
    });
  }

  async version(): Promise<number> {
    const v = await this.link.run((c) => (c as Redis).hget(this.hashKey, "version"));
    return Number(v ?? 0);
  }

  async load(): Promise<StoredSet> {
    const h = await this.link.run((c) => (c as Redis).hgetall(this.hashKey));
    const raw = new Map<string, unknown>();
    for (const [field, value] of Object.entries(h)) {
      if (!DIGEST.test(field)) continue;
      try {
        raw.set(field, JSON.parse(value));
      } catch {
        raw.set(field, undefined); // reported as malformed by the store
      }
    }
    return { version: Number(h["version"] ?? 0), raw };
  }

  async commit(expected: number, records: readonly RuntimeKey[]): Promise<number | undefined> {
    const args: string[] = [String(expected)];
    for (const r of records) args.push(r.sha256, JSON.stringify(r));
    const out = await this.link.run((c) => (c as unknown as Scripted).llmgwKeysCommit(this.hashKey, ...args));
    const n = Number(out);
    return n < 0 ? undefined : n;
  }

  close(): void {
    // the link belongs to the app
  }
}
