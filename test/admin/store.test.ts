// The runtime key store's backends under contention: compare-and-set writes from several stores at
// once (a real Redis and a shared keys file) all land, every store converges by polling, and a
// malformed record is skipped (and reported) instead of breaking the set.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeyAdmin } from "../../src/auth/manage.js";
import { KeyStore, type StoreBackend } from "../../src/auth/store.js";
import { FileKeyBackend } from "../../src/auth/store-file.js";
import { RedisKeyBackend } from "../../src/auth/store-redis.js";
import { createLogger } from "../../src/lib/logger.js";
import { createRedisLink, type RedisLink } from "../../src/redis/client.js";
import { RedisServer } from "../limits/helpers.js";
import { within } from "./helpers.js";

const logs: string[] = [];
const log = createLogger(
  "debug",
  new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString("utf8"));
      cb();
    },
  }),
);

/** Three stores on one backend kind create 10 keys each, concurrently; all 30 land everywhere. */
async function contend(backends: StoreBackend[]): Promise<void> {
  const stores = backends.map((b) => new KeyStore(b, log, 50));
  try {
    await Promise.all(stores.map((s) => s.start()));
    const admins = stores.map((s) => new KeyAdmin(s, () => []));
    const created = await Promise.all(
      admins.map((a, i) =>
        Promise.all(Array.from({ length: 10 }, (_, j) => a.create({ name: `k-${i}-${j}` }))),
      ),
    );
    expect(created.flat()).toHaveLength(30);
    for (const s of stores) {
      await within(5000, "every store sees all 30 keys", async () => s.records.size === 30);
      expect(new Set([...s.records.values()].map((r) => r.name)).size).toBe(30);
    }
    // Names stay unique under contention: the same name from every store at once -> one winner.
    const same = await Promise.allSettled(admins.map((a) => a.create({ name: "contested" })));
    expect(same.filter((r) => r.status === "fulfilled")).toHaveLength(1);
  } finally {
    for (const s of stores) s.close();
  }
}

describe("Redis backend", () => {
  let redis: RedisServer;
  const links: RedisLink[] = [];
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    for (const l of links) await l.close();
    await redis?.kill();
  });
  const link = (): RedisLink => {
    const l = createRedisLink({}, redis.url, log);
    if (!l) throw new Error("no link");
    links.push(l);
    return l;
  };

  it("concurrent writers from three stores: every key lands once, the version counts each change", async () => {
    await contend([1, 2, 3].map(() => new RedisKeyBackend(link(), "t1:keys")));
    expect(await redis.client().hget("t1:keys", "version")).toBe("31");
  });

  it("a malformed record is skipped and reported; the others stay in force", async () => {
    const c = redis.client();
    await c.hset(
      "t2:keys",
      "a".repeat(64),
      "{not json",
      "b".repeat(64),
      JSON.stringify({ kind: "key" }),
      "version",
      "2",
    );
    const store = new KeyStore(new RedisKeyBackend(link(), "t2:keys"), log, 50);
    try {
      await store.start();
      await new KeyAdmin(store, () => []).create({ name: "fine" });
      expect([...store.records.values()].map((r) => r.name)).toEqual(["fine"]);
      expect(logs.join("").match(/ignoring a malformed runtime key/g)).toHaveLength(2);
    } finally {
      store.close();
      c.disconnect();
    }
  });
});

describe("file backend", () => {
  it("three stores on one keys file: concurrent writes all land (lock + compare-and-set)", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "llmgw-store-")), "keys.json");
    await contend([1, 2, 3].map(() => new FileKeyBackend(file)));
  });

  it("an unreadable keys file keeps the last known keys and refuses changes", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "llmgw-store-")), "keys.json");
    const store = new KeyStore(new FileKeyBackend(file), log, 30);
    try {
      await store.start();
      await new KeyAdmin(store, () => []).create({ name: "kept" });
      writeFileSync(file, "{ truncated");
      await within(5000, "the outage is logged", async () => logs.join("").includes("key store unreachable"));
      expect([...store.records.values()].map((r) => r.name)).toEqual(["kept"]);
      await expect(new KeyAdmin(store, () => []).create({ name: "x" })).rejects.toMatchObject({
        reason: "KEY_STORE_UNAVAILABLE",
      });
    } finally {
      store.close();
    }
  });
});
