// responses.* in the config: defaults, every key, errors that name the field, and which changes a
// reload cannot apply (the store's bounds) versus those it does (store_default, anonymous, TTL).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/index.js";
import { implementedTypes, presetInfo } from "../../src/providers/index.js";
import { restartNeeded } from "../../src/server/reload.js";

function load(yaml: string) {
  const p = join(mkdtempSync(join(tmpdir(), "llmgw-resp-cfg-")), "gw.yaml");
  writeFileSync(p, yaml);
  return loadConfig({ argv: ["--config", p], env: {}, presets: presetInfo, implementedTypes });
}

const MIB = 1024 * 1024;

describe("responses config", () => {
  it("defaults: not stored unless asked, no anonymous storage, 1 h, 10000 records, 64 MiB, 4 MiB a record", () => {
    const c = loadConfig({ argv: [], env: {}, presets: presetInfo, implementedTypes });
    expect(c.responses).toEqual({
      storeDefault: false,
      allowAnonymousStore: false,
      ttlS: 3600,
      maxEntries: 10_000,
      maxBytes: 64 * MIB,
      maxRecordBytes: 4 * MIB,
      redisTimeoutMs: 2000,
    });
  });

  it("reads every key", () => {
    const c = load(
      [
        "responses:",
        "  store_default: true",
        "  allow_anonymous_store: true",
        "  ttl_s: 2592000",
        "  max_entries: 50",
        "  max_bytes: 1048576",
        "  max_record_bytes: 1048576",
        "  redis_timeout_ms: 500",
      ].join("\n"),
    );
    expect(c.responses).toEqual({
      storeDefault: true,
      allowAnonymousStore: true,
      ttlS: 2_592_000,
      maxEntries: 50,
      maxBytes: MIB,
      maxRecordBytes: MIB,
      redisTimeoutMs: 500,
    });
  });

  it.each([
    ["responses: { ttl_s: 2592001 }", /responses\.ttl_s: at most 2592000 \(30 days\)/],
    ["responses: { ttl_s: 0 }", /responses\.ttl_s/],
    ["responses: { max_entries: -1 }", /responses\.max_entries/],
    ["responses: { max_bytes: 1.5 }", /responses\.max_bytes/],
    ["responses: { store_default: yes please }", /responses\.store_default/],
    [
      "responses: { max_bytes: 1000 }",
      /responses\.max_record_bytes: max_record_bytes must not exceed max_bytes/,
    ],
    ["responses: { max_bytes: 1000, max_record_bytes: 1001 }", /responses\.max_record_bytes/],
    ["responses: { ttl: 5 }", /responses: Unrecognized key.*"ttl"/],
    ["responses: { redis_timeout_ms: 60001 }", /responses\.redis_timeout_ms/],
  ])("%s is refused naming the field", (yaml, msg) => {
    expect(() => load(`${yaml}\n`)).toThrow(ConfigError);
    expect(() => load(`${yaml}\n`)).toThrow(msg);
  });

  it("a reload applies store_default, allow_anonymous_store and ttl_s; the store's bounds need a restart", () => {
    const old = load("responses: { ttl_s: 60 }\n");
    const policy = load("responses: { ttl_s: 120, store_default: true, allow_anonymous_store: true }\n");
    expect(restartNeeded(old, policy)).toEqual([]);
    const bounds = load(
      "responses: { ttl_s: 60, max_entries: 5, max_bytes: 9000000, max_record_bytes: 1000, redis_timeout_ms: 9 }\n",
    );
    expect(restartNeeded(old, bounds)).toEqual([
      "responses.max_entries",
      "responses.max_bytes",
      "responses.max_record_bytes",
      "responses.redis_timeout_ms",
    ]);
    // The backend follows redis: memory <-> Redis is the redis restart the reload already names.
    expect(
      restartNeeded(old, load("responses: { ttl_s: 60 }\nredis: { url: redis://127.0.0.1:6379 }\n")),
    ).toEqual(["redis"]);
  });
});
