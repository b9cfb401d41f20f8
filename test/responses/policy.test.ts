// Who stores and under which owner, with callers identified by a real gateway's key guard: a key's
// records are its digest's; keyless callers store only with responses.allow_anonymous_store (owner
// "anonymous"); store omitted follows responses.store_default; a store that cannot be honoured is
// answered "disabled", and lookups are refused naming the setting. Plus the app's wiring: which store
// it builds, what it says at start, and the policy following a reload.
import { createHash } from "node:crypto";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { createLogger } from "../../src/lib/logger.js";
import { implementedTypes, presetInfo } from "../../src/providers/index.js";
import {
  ANONYMOUS_OWNER,
  createResponseStore,
  MemoryResponseStore,
  RedisResponseStore,
  ResponsePolicy,
  responsesDeps,
} from "../../src/responses/index.js";
import { sharedRedis } from "../billing/helpers.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { waitFor } from "../helpers/wait.js";
import { failsWith } from "./helpers.js";

const KEY_A = "sk-gw-alpha-0123456789";
const KEY_B = "sk-gw-beta-0123456789";
const sha = (k: string) => createHash("sha256").update(k).digest("hex");

const started: TestGateway[] = [];
afterEach(async () => {
  for (const g of started.splice(0)) await g.close();
});

async function gateway(yaml: string): Promise<TestGateway> {
  const g = await startGateway({ yaml });
  started.push(g);
  return g;
}

const keyed = (responses: string) =>
  [
    "auth: { allow_anonymous: true }",
    "keys:",
    `  - { name: a, sha256: ${sha(KEY_A)} }`,
    `  - { name: b, sha256: ${sha(KEY_B)} }`,
    `responses: ${responses}`,
  ].join("\n");

describe("ResponsePolicy", () => {
  it("with keys: the owner is the key's id (its SHA-256), distinct per key; store omitted follows store_default (false)", async () => {
    const g = await gateway(keyed("{ ttl_s: 120 }"));
    const p = new ResponsePolicy(g.app.config.responses);
    const a = g.app.gateway.guard.identify({ apiKey: KEY_A });
    const b = g.app.gateway.guard.identify({ apiKey: KEY_B });
    expect(p.decide(a, true)).toEqual({
      store: true,
      owner: sha(KEY_A),
      ttlS: 120,
      outcome: "stored",
      explicit: true,
    });
    expect(p.decide(b, true).owner).toBe(sha(KEY_B));
    expect(p.decide(a, undefined)).toMatchObject({ store: false, outcome: "off", explicit: false });
    expect(p.decide(a, false)).toMatchObject({ store: false, outcome: "off" });
    expect(p.requireOwner(a, "previous_response_id")).toBe(sha(KEY_A));
  });

  it("store_default: true stores a call that omits store; store: false still opts out", async () => {
    const g = await gateway(keyed("{ store_default: true }"));
    const p = new ResponsePolicy(g.app.config.responses);
    const a = g.app.gateway.guard.identify({ apiKey: KEY_A });
    expect(p.decide(a, undefined)).toMatchObject({
      store: true,
      outcome: "stored",
      explicit: false,
      ttlS: 3600,
    });
    expect(p.decide(a, false)).toMatchObject({ store: false, outcome: "off" });
  });

  it("a keyless caller on a keyed gateway: store is 'disabled' (answered, not kept), lookups name the setting", async () => {
    const g = await gateway(keyed("{}"));
    const p = new ResponsePolicy(g.app.config.responses);
    const anon = g.app.gateway.guard.identify({});
    const d = p.decide(anon, true);
    expect(d).toMatchObject({ store: false, owner: undefined, outcome: "disabled", explicit: true });
    expect(d.why).toContain("this call carries no gateway key");
    expect(d.why).toContain("responses.allow_anonymous_store: true");
    const e = await failsWith(
      Promise.resolve().then(() => p.requireOwner(anon, "GET /v1/responses/{id}")),
      "RESPONSE_STORAGE_DISABLED",
    );
    expect(e.code).toBe("FAILED_PRECONDITION");
    expect(e.message).toMatch(/^GET \/v1\/responses\/\{id\}: stored responses are disabled/);
    expect(e.details.metadata).toEqual({ setting: "responses.allow_anonymous_store" });
  });

  it("no keys configured: storing is off unless allow_anonymous_store, then everyone shares 'anonymous'", async () => {
    const off = await gateway("models: {}\n");
    const open = off.app.gateway.guard.identify({});
    const p = new ResponsePolicy(off.app.config.responses);
    expect(p.decide(open, true)).toMatchObject({ store: false, outcome: "disabled" });
    expect(p.decide(open, true).why).toContain("no gateway keys are configured");
    expect(p.decide(open, undefined)).toMatchObject({ store: false, outcome: "off" });
    await failsWith(
      Promise.resolve().then(() => p.requireOwner(open, "previous_response_id")),
      "RESPONSE_STORAGE_DISABLED",
    );

    const on = await gateway("responses: { allow_anonymous_store: true }\n");
    const q = new ResponsePolicy(on.app.config.responses);
    const caller = on.app.gateway.guard.identify({});
    expect(q.decide(caller, true)).toMatchObject({ store: true, owner: ANONYMOUS_OWNER, outcome: "stored" });
    expect(q.requireOwner(caller, "DELETE /v1/responses/{id}")).toBe("anonymous");
  });

  it("allow_anonymous_store never changes a keyed caller's owner", async () => {
    const g = await gateway(keyed("{ allow_anonymous_store: true }"));
    const p = new ResponsePolicy(g.app.config.responses);
    expect(p.decide(g.app.gateway.guard.identify({ apiKey: KEY_A }), true).owner).toBe(sha(KEY_A));
    expect(p.decide(g.app.gateway.guard.identify({}), true).owner).toBe("anonymous");
  });
});

describe("wiring", () => {
  /** A logger whose lines land in `lines`. */
  const capture = () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString("utf8").split("\n")) if (l) lines.push(l);
        cb();
      },
    });
    return { lines, log: createLogger("info", sink) };
  };
  const config = (redisUrl?: string) =>
    loadConfig({
      argv: [],
      env: redisUrl ? { REDIS_URL: redisUrl } : {},
      presets: presetInfo,
      implementedTypes,
    });

  it("without Redis: a memory store, and the start log says it is per process", async () => {
    const { lines, log } = capture();
    const { store, backend } = createResponseStore(config(), log);
    expect(backend).toBe("memory");
    expect(store).toBeInstanceOf(MemoryResponseStore);
    await waitLogged(lines, "stored responses: in memory, per process");
    const line = JSON.parse(lines.find((l) => l.includes("stored responses")) ?? "{}") as Record<
      string,
      unknown
    >;
    expect(line).toMatchObject({ backend: "memory", store_default: false, max_entries: 10_000 });
    expect(line["msg"]).toContain("set redis.url to share them");
  });

  it("with Redis: a Redis store on a connection of its own, shared by every replica", async () => {
    const r = await sharedRedis();
    const { lines, log } = capture();
    const { store, backend } = createResponseStore(config(r.url), log);
    try {
      expect(backend).toBe("redis");
      expect(store).toBeInstanceOf(RedisResponseStore);
      await waitLogged(lines, "stored responses: in Redis, shared by every replica");
      expect(lines.some((l) => l.includes('"redis_timeout_ms":2000'))).toBe(true);
      // Its own link comes up and serves (the gateway's shared link is untouched by it).
      await waitLogged(lines, "redis ready");
      const rec = { id: "resp_wired", owner: "o", createdAt: 1, input: [], response: { id: "resp_wired" } };
      await waitFor(
        async () => {
          await store.put(rec, 5);
          return (await store.get("o", "resp_wired"))?.id === "resp_wired";
        },
        { what: "the store's own Redis link to serve" },
      );
      expect(await store.delete("o", "resp_wired")).toBe(true);
    } finally {
      await store.close();
      await r.stop();
    }
  });

  it("the app logs its store at start; responsesDeps follows the config in force and keeps the store", async () => {
    const g = await gateway("responses: { ttl_s: 60 }\n");
    expect(g.logs.some((l) => l.includes("stored responses: in memory, per process"))).toBe(true);
    let current = g.app.config;
    const store = new MemoryResponseStore({ maxEntries: 1, maxBytes: 1000, maxRecordBytes: 1000 });
    const deps = responsesDeps(store, () => current);
    const first = deps();
    expect(first.policy.ttlS).toBe(60);
    expect(deps()).toBe(first);
    current = { ...current, responses: { ...current.responses, ttlS: 90 } };
    expect(deps().policy.ttlS).toBe(90);
    expect(deps().store).toBe(store);
  });
});

async function waitLogged(lines: string[], text: string): Promise<void> {
  await waitFor(() => lines.some((l) => l.includes(text)), { what: `a log line "${text}"` });
}
