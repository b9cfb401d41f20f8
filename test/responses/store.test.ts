// The response stores, memory and Redis, against one contract: put / get / delete, owner scoping both
// ways, replacement, expiry, eviction by entries and bytes, refusal of a record too large; then what
// only Redis has: keys under the owner's hash tag and per-owner bookkeeping (outages: store-outage.test.ts).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedisLink } from "../../src/redis/client.js";
import { MemoryResponseStore, RedisResponseStore, type ResponseStore } from "../../src/responses/index.js";
import { connectLink, dropPrefix, plainClient, sharedRedis, uniquePrefix } from "../billing/helpers.js";
import { waitFor } from "../helpers/wait.js";
import { failsWith, rec, sizeOf } from "./helpers.js";

const A = "a".repeat(64);
const B = "b".repeat(64);
const MIB = 1024 * 1024;

interface Backend {
  name: string;
  make(o: { maxEntries?: number; maxBytes?: number; maxRecordBytes?: number }): ResponseStore;
}

let redisUrl = "";
let stopRedis: () => Promise<void> = async () => {};
let link: RedisLink | undefined;
const prefixes: string[] = [];

beforeAll(async () => {
  const r = await sharedRedis();
  redisUrl = r.url;
  stopRedis = r.stop;
  link = await connectLink(redisUrl);
});

afterAll(async () => {
  await link?.close();
  for (const p of prefixes) await dropPrefix(redisUrl, p);
  await stopRedis();
});

const backends: Backend[] = [
  {
    name: "memory",
    make: (o) =>
      new MemoryResponseStore({
        maxEntries: o.maxEntries ?? 100,
        maxBytes: o.maxBytes ?? 64 * MIB,
        maxRecordBytes: o.maxRecordBytes ?? 4 * MIB,
      }),
  },
  {
    name: "redis",
    make: (o) => {
      if (!link) throw new Error("redis link not ready");
      const prefix = uniquePrefix("resp");
      prefixes.push(prefix);
      return new RedisResponseStore(link, {
        maxEntries: o.maxEntries ?? 100,
        maxBytes: o.maxBytes ?? 64 * MIB,
        maxRecordBytes: o.maxRecordBytes ?? 4 * MIB,
        prefix,
      });
    },
  },
];

describe.each(backends)("$name store", (b) => {
  it("puts, gets (an equal copy) and deletes a record", async () => {
    const s = b.make({});
    const r = rec(A, "resp_1", 0, "héllo ✓");
    await s.put(r, 60);
    const got = await s.get(A, "resp_1");
    expect(got).toEqual(r);
    expect(got).not.toBe(r);
    expect(await s.delete(A, "resp_1")).toBe(true);
    expect(await s.get(A, "resp_1")).toBeUndefined();
    expect(await s.delete(A, "resp_1")).toBe(false);
  });

  it("scopes by owner both ways: another owner neither reads, deletes nor overwrites a record", async () => {
    const s = b.make({});
    await s.put(rec(A, "resp_x", 0, "from A"), 60);
    expect(await s.get(B, "resp_x")).toBeUndefined();
    expect(await s.delete(B, "resp_x")).toBe(false);
    expect((await s.get(A, "resp_x"))?.owner).toBe(A);
    // B storing the same id keeps its own record; A's stays A's.
    await s.put(rec(B, "resp_x", 0, "from B"), 60);
    expect((await s.get(A, "resp_x"))?.input).toEqual(rec(A, "resp_x", 0, "from A").input);
    expect((await s.get(B, "resp_x"))?.input).toEqual(rec(B, "resp_x", 0, "from B").input);
    expect(await s.delete(A, "resp_x")).toBe(true);
    expect(await s.get(A, "resp_x")).toBeUndefined();
    expect((await s.get(B, "resp_x"))?.owner).toBe(B);
  });

  it("a second put of the same id replaces the record", async () => {
    const s = b.make({ maxEntries: 2 });
    await s.put(rec(A, "resp_r", 0, "one"), 60);
    await s.put(rec(A, "resp_r", 0, "two"), 60);
    await s.put(rec(A, "resp_other"), 60);
    expect((await s.get(A, "resp_r"))?.input).toEqual(rec(A, "resp_r", 0, "two").input);
    expect(await s.get(A, "resp_other")).toBeDefined();
  });

  it("ids that can never have been stored are a miss; a put with one is a bug", async () => {
    const s = b.make({});
    expect(await s.get(A, "../etc")).toBeUndefined();
    expect(await s.get(A, "")).toBeUndefined();
    expect(await s.delete(A, "a b")).toBe(false);
    await expect(s.put(rec(A, "resp:1"), 60)).rejects.toThrow(/invalid id/);
  });

  it("refuses a record above max_record_bytes with RESPONSE_TOO_LARGE, storing nothing", async () => {
    const s = b.make({ maxRecordBytes: 1000, maxBytes: 10_000 });
    const big = rec(A, "resp_big", 1000);
    const e = await failsWith(s.put(big, 60), "RESPONSE_TOO_LARGE");
    expect(e.code).toBe("INVALID_ARGUMENT");
    expect(e.message).toContain(`${sizeOf(big)} bytes`);
    expect(e.message).toContain("responses.max_record_bytes (1000)");
    expect(await s.get(A, "resp_big")).toBeUndefined();
    await s.put(rec(A, "resp_small", 500), 60); // just under the cap: kept
    expect(await s.get(A, "resp_small")).toBeDefined();
  });

  it("bounds the entries: the oldest goes first", async () => {
    const s = b.make({ maxEntries: 3 });
    for (const id of ["resp_1", "resp_2", "resp_3", "resp_4"]) await s.put(rec(A, id), 60);
    expect(await s.get(A, "resp_1")).toBeUndefined();
    for (const id of ["resp_2", "resp_3", "resp_4"]) expect(await s.get(A, id), id).toBeDefined();
  });

  it("bounds the bytes: older records go until the new one fits", async () => {
    const one = sizeOf(rec(A, "resp_1", 300));
    const s = b.make({ maxBytes: one * 2 + 10, maxRecordBytes: one * 2 });
    await s.put(rec(A, "resp_1", 300), 60);
    await s.put(rec(A, "resp_2", 300), 60);
    await s.put(rec(A, "resp_3", 300), 60);
    expect(await s.get(A, "resp_1")).toBeUndefined();
    expect(await s.get(A, "resp_2")).toBeDefined();
    expect(await s.get(A, "resp_3")).toBeDefined();
    // A record twice the size pushes both out.
    const wide = rec(A, "resp_4", one + 250);
    expect(sizeOf(wide)).toBeLessThanOrEqual(one * 2);
    await s.put(wide, 60);
    expect(await s.get(A, "resp_2")).toBeUndefined();
    expect(await s.get(A, "resp_3")).toBeUndefined();
    expect(await s.get(A, "resp_4")).toBeDefined();
  });
});

describe("memory store", () => {
  const make = (o: { maxEntries?: number; maxBytes?: number }, now: () => number) =>
    new MemoryResponseStore({
      maxEntries: o.maxEntries ?? 100,
      maxBytes: o.maxBytes ?? MIB,
      maxRecordBytes: 64 * 1024,
      now,
    });

  it("expires each record at its own TTL (clock moved by hand)", async () => {
    let t = 1_000_000;
    const s = make({}, () => t);
    await s.put(rec(A, "resp_short"), 10);
    await s.put(rec(A, "resp_long"), 3600);
    t += 9_999;
    expect(await s.get(A, "resp_short")).toBeDefined();
    t += 1;
    expect(await s.get(A, "resp_short")).toBeUndefined();
    expect(await s.delete(A, "resp_short")).toBe(false);
    expect(await s.get(A, "resp_long")).toBeDefined();
    t += 3_600_000;
    expect(await s.get(A, "resp_long")).toBeUndefined();
    expect(s.size).toBe(0);
    expect(s.bytes).toBe(0);
  });

  it("expired records are swept by a later put, so they stop counting", async () => {
    let t = 0;
    const s = make({}, () => t);
    for (let i = 0; i < 5; i++) await s.put(rec(A, `resp_${i}`), 1);
    expect(s.size).toBe(5);
    t += 61_000;
    await s.put(rec(A, "resp_new"), 3600);
    expect(s.size).toBe(1);
    expect(s.bytes).toBe(sizeOf(rec(A, "resp_new")));
  });

  it("is least-recently-used: a get keeps a record over a newer unread one", async () => {
    const s = make({ maxEntries: 3 }, Date.now);
    for (const id of ["resp_1", "resp_2", "resp_3"]) await s.put(rec(A, id), 60);
    expect(await s.get(A, "resp_1")).toBeDefined();
    await s.put(rec(A, "resp_4"), 60);
    expect(await s.get(A, "resp_1")).toBeDefined();
    expect(await s.get(A, "resp_2")).toBeUndefined();
  });

  it("bounds count every owner together (one process total)", async () => {
    const s = make({ maxEntries: 2 }, Date.now);
    await s.put(rec(A, "resp_1"), 60);
    await s.put(rec(B, "resp_2"), 60);
    await s.put(rec(B, "resp_3"), 60);
    expect(await s.get(A, "resp_1")).toBeUndefined();
    expect(s.size).toBe(2);
  });

  it("refuses bounds where one record could not fit", () => {
    expect(() => new MemoryResponseStore({ maxEntries: 1, maxBytes: 10, maxRecordBytes: 11 })).toThrow(
      /max_record_bytes/,
    );
  });
});

describe("redis store", () => {
  const store = (o: { maxEntries?: number; maxBytes?: number; maxRecordBytes?: number } = {}) => {
    if (!link) throw new Error("redis link not ready");
    const prefix = uniquePrefix("resp");
    prefixes.push(prefix);
    const s = new RedisResponseStore(link, {
      maxEntries: o.maxEntries ?? 100,
      maxBytes: o.maxBytes ?? MIB,
      maxRecordBytes: o.maxRecordBytes ?? 64 * 1024,
      prefix,
    });
    return { s, prefix };
  };

  it("keeps records under the owner's hash tag with a TTL; an owner that is not plain is hashed", async () => {
    const { s, prefix } = store();
    await s.put(rec(A, "resp_k"), 60);
    await s.put(rec("team x/{y}", "resp_k"), 60);
    const c = plainClient(redisUrl);
    try {
      const keys = (await c.keys(`${prefix}*`)).sort();
      expect(keys).toContain(`${prefix}{${A}}:r:resp_k`);
      expect(keys).toContain(`${prefix}{${A}}:i`);
      expect(keys).toContain(`${prefix}{${A}}:s`);
      expect(keys.filter((k) => /\{~[0-9a-f]{64}\}:r:resp_k$/.test(k))).toHaveLength(1);
      expect(keys.some((k) => k.includes("team x"))).toBe(false);
      const ttl = await c.pttl(`${prefix}{${A}}:r:resp_k`);
      expect(ttl).toBeGreaterThan(50_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
      expect(await c.pttl(`${prefix}{${A}}:i`)).toBeGreaterThan(50_000);
    } finally {
      c.disconnect();
    }
    expect((await s.get("team x/{y}", "resp_k"))?.owner).toBe("team x/{y}");
  });

  it("expires a record on its TTL (Redis PX), and a later put drops it from the owner's books", async () => {
    const { s, prefix } = store();
    await s.put(rec(A, "resp_gone"), 0.3);
    await s.put(rec(A, "resp_kept"), 60);
    await waitFor(async () => (await s.get(A, "resp_gone")) === undefined, { what: "resp_gone to expire" });
    expect(await s.delete(A, "resp_gone")).toBe(false);
    expect(await s.get(A, "resp_kept")).toBeDefined();
    await s.put(rec(A, "resp_next"), 60);
    const c = plainClient(redisUrl);
    try {
      expect((await c.zrange(`${prefix}{${A}}:i`, "0", "-1")).sort()).toEqual(["resp_kept", "resp_next"]);
      const sizes = await c.hgetall(`${prefix}{${A}}:s`);
      expect(Number(sizes["#"])).toBe(sizeOf(rec(A, "resp_kept")) + sizeOf(rec(A, "resp_next")));
    } finally {
      c.disconnect();
    }
  });

  it("bounds apply per owner: one owner's records never push out another's", async () => {
    const { s, prefix } = store({ maxEntries: 2 });
    await s.put(rec(A, "resp_1"), 60);
    await s.put(rec(A, "resp_2"), 60);
    for (const id of ["resp_3", "resp_4", "resp_5"]) await s.put(rec(B, id), 60);
    expect(await s.get(A, "resp_1")).toBeDefined();
    expect(await s.get(A, "resp_2")).toBeDefined();
    expect(await s.get(B, "resp_3")).toBeUndefined();
    // delete keeps the books: the owner's total is the sum of what it holds.
    expect(await s.delete(B, "resp_4")).toBe(true);
    const c = plainClient(redisUrl);
    try {
      const sizes = await c.hgetall(`${prefix}{${B}}:s`);
      expect(sizes).toEqual({
        "#": String(sizeOf(rec(B, "resp_5"))),
        resp_5: String(sizeOf(rec(B, "resp_5"))),
      });
      expect(await c.exists(`${prefix}{${B}}:r:resp_3`)).toBe(0);
    } finally {
      c.disconnect();
    }
  });

  it("a record that is not one of ours (bytes written by hand) reads as a miss, not a crash", async () => {
    const { s, prefix } = store();
    const c = plainClient(redisUrl);
    try {
      await c.set(`${prefix}{${A}}:r:resp_bad`, "{not json", "PX", 60_000);
      await c.set(`${prefix}{${A}}:r:resp_other`, JSON.stringify(rec(B, "resp_other")), "PX", 60_000);
    } finally {
      c.disconnect();
    }
    expect(await s.get(A, "resp_bad")).toBeUndefined();
    expect(await s.get(A, "resp_other")).toBeUndefined();
  });
});
