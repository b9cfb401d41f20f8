// The Redis response store when Redis is not there: stopped, never reachable, or frozen (accepts,
// never answers). Every call fails fast with RESPONSE_STORE_UNAVAILABLE saying why; never a hang.
// Each test runs its own throwaway redis-server.
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { createLogger } from "../../src/lib/logger.js";
import { implementedTypes, presetInfo } from "../../src/providers/index.js";
import type { RedisLink } from "../../src/redis/client.js";
import { createResponseStore, RedisResponseStore } from "../../src/responses/index.js";
import { connectLink } from "../billing/helpers.js";
import { waitFor } from "../helpers/wait.js";
import { RedisServer } from "../limits/helpers.js";
import { failsWith, rec } from "./helpers.js";

const A = "a".repeat(64);
const MIB = 1024 * 1024;

describe("redis store, Redis down", () => {
  let server: RedisServer | undefined;
  let own: RedisLink | undefined;
  afterEach(async () => {
    await own?.close();
    await server?.kill();
    own = undefined;
    server = undefined;
  });

  const setup = async () => {
    server = await RedisServer.start();
    own = await connectLink(server.url, 200, 300);
    return new RedisResponseStore(own, { maxEntries: 10, maxBytes: MIB, maxRecordBytes: 64 * 1024 });
  };

  it("a stopped server: every call fails at once with RESPONSE_STORE_UNAVAILABLE saying why", async () => {
    const s = await setup();
    await s.put(rec(A, "resp_1"), 60);
    await server?.kill();
    const t0 = Date.now();
    const e = await failsWith(s.get(A, "resp_1"), "RESPONSE_STORE_UNAVAILABLE");
    expect(e.code).toBe("UNAVAILABLE");
    expect(e.message).toMatch(/^the response store is unavailable: redis /);
    await failsWith(s.put(rec(A, "resp_2"), 60), "RESPONSE_STORE_UNAVAILABLE");
    await failsWith(s.delete(A, "resp_1"), "RESPONSE_STORE_UNAVAILABLE");
    // Bounded by the link's command timeout (200 ms here), not ioredis's retries or a TCP timeout.
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it("a Redis that never came up (the store's own link from the config): fails at once, no hang", async () => {
    server = await RedisServer.start();
    const url = server.url;
    await server.kill();
    const config = loadConfig({ argv: [], env: { REDIS_URL: url }, presets: presetInfo, implementedTypes });
    const { store, backend } = createResponseStore(config, createLogger("silent"));
    try {
      expect(backend).toBe("redis");
      const t0 = Date.now();
      const e = await failsWith(store.put(rec(A, "resp_1"), 60), "RESPONSE_STORE_UNAVAILABLE");
      expect(e.message).toContain("redis is not connected");
      await failsWith(store.get(A, "resp_1"), "RESPONSE_STORE_UNAVAILABLE");
      expect(Date.now() - t0).toBeLessThan(1000);
    } finally {
      await store.close();
    }
  });

  it("a frozen server (accepts, never answers): the call fails within the command timeout, then recovers", async () => {
    const s = await setup();
    await s.put(rec(A, "resp_1"), 60);
    server?.freeze();
    const t0 = Date.now();
    const e = await failsWith(s.get(A, "resp_1"), "RESPONSE_STORE_UNAVAILABLE");
    expect(e.message).toMatch(/timed? ?out/i);
    expect(Date.now() - t0).toBeLessThan(2000);
    server?.thaw();
    await waitFor(async () => (await s.get(A, "resp_1"))?.id === "resp_1", {
      what: "the store to answer again after the server thawed",
    });
  });
});
