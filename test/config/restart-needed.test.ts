// Which config changes a reload cannot apply (restartNeeded): the listening socket, Redis, storage,
// telemetry and every key-store setting under auth; allow_anonymous and admin_sha256 do apply.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { implementedTypes, presetInfo } from "../../src/providers/index.js";
import { restartNeeded } from "../../src/server/reload.js";

function config(yaml: string) {
  const p = join(mkdtempSync(join(tmpdir(), "llmgw-restart-")), "gw.yaml");
  writeFileSync(p, yaml);
  return loadConfig({ argv: ["--config", p], env: {}, presets: presetInfo, implementedTypes });
}

describe("restartNeeded", () => {
  it("names every key-store setting under auth that changed, and none a generation applies", () => {
    const old = config("auth:\n  allow_anonymous: false\n  keys_refresh_ms: 1000\n");
    const next = config(
      [
        "auth:",
        "  allow_anonymous: true",
        `  admin_sha256: ${"a".repeat(64)}`,
        "  keys_refresh_ms: 5000",
        "  keys_redis_key: other:keys",
        "  keys_file: /tmp/k.json",
      ].join("\n"),
    );
    expect(restartNeeded(old, next).sort()).toEqual([
      "auth.keys_file",
      "auth.keys_redis_key",
      "auth.keys_refresh_ms",
    ]);
    expect(restartNeeded(old, old)).toEqual([]);
  });

  it("the listening port", () => {
    expect(restartNeeded(config("server:\n  port: 8080\n"), config("server:\n  port: 8081\n"))).toEqual([
      "server.port",
    ]);
  });
});
