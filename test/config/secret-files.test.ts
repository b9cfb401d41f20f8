// Secrets from files (NAME_FILE env vars, <key>_file YAML keys), LLMGW_ADMIN_KEY_SHA256 read directly,
// and the start line's providers / key stores / Redis host.
import { createHash } from "node:crypto";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/index.js";
import { implementedTypes, presetInfo } from "../../src/providers/index.js";
import { startGateway } from "../helpers/gateway.js";

const dir = mkdtempSync(join(tmpdir(), "llmgw-secret-files-"));
let n = 0;
function put(content: string, name = `f${n++}`): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}
function load(env: Record<string, string>, yaml?: string) {
  const argv = yaml === undefined ? [] : ["--config", put(yaml, `c${n++}.yaml`)];
  return loadConfig({ argv, env, presets: presetInfo, implementedTypes });
}
function errorOf(f: () => unknown): ConfigError {
  try {
    f();
  } catch (e: unknown) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("no ConfigError");
}
const SECRET = "sk-very-secret-value-123";
const digest = (s: string) => createHash("sha256").update(s).digest("hex");

describe("env NAME_FILE", () => {
  it("reads every provider key variable from its file, trailing newline trimmed", () => {
    const c = load({
      OPENAI_API_KEY_FILE: put(`${SECRET}\n`),
      ANTHROPIC_API_KEY_FILE: put("sk-ant\r\n"),
      HF_TOKEN_FILE: put("hf-tok"),
      GROQ_API_KEY_FILE: put("gsk\n\n"),
    });
    const key = (name: string) => c.providers.find((p) => p.name === name)?.apiKey;
    expect(key("openai")).toBe(SECRET);
    expect(key("anthropic")).toBe("sk-ant");
    expect(key("huggingface")).toBe("hf-tok");
    expect(key("groq")).toBe("gsk");
  });

  it("feeds ${VAR} substitution in the YAML and REDIS_URL", () => {
    const c = load(
      { OPENAI_API_KEY_FILE: put(SECRET), REDIS_URL_FILE: put("redis://:pw@127.0.0.1:6379/0\n") },
      "providers:\n  openai:\n    api_key: ${OPENAI_API_KEY}\n",
    );
    expect(c.providers.find((p) => p.name === "openai")?.apiKey).toBe(SECRET);
    expect(c.redisUrl).toBe("redis://:pw@127.0.0.1:6379/0");
  });

  it("both the value and the _FILE set: an error naming both, without the secret", () => {
    const e = errorOf(() => load({ OPENAI_API_KEY: SECRET, OPENAI_API_KEY_FILE: put(SECRET) }));
    expect(e.message).toContain("OPENAI_API_KEY and OPENAI_API_KEY_FILE");
    expect(e.message).not.toContain(SECRET);
  });

  it("an unreadable file: an error naming the variable and the path, never the content", () => {
    const missing = join(dir, "nope");
    const e = errorOf(() => load({ REDIS_URL_FILE: missing }));
    expect(e.message).toContain("REDIS_URL_FILE");
    expect(e.message).toContain(missing);
    if (process.getuid?.() !== 0) {
      const locked = put(SECRET);
      chmodSync(locked, 0o000);
      const e2 = errorOf(() => load({ ANTHROPIC_API_KEY_FILE: locked }));
      expect(e2.message).toContain("ANTHROPIC_API_KEY_FILE");
      expect(e2.message).not.toContain(SECRET);
    }
  });
});

describe("YAML <key>_file", () => {
  it("reads providers.<name>.api_key_file, redis.url_file and auth.admin_sha256_file (relative to the config)", () => {
    put(`${SECRET}\n`, "openai.key");
    const c = load(
      {},
      [
        "providers:",
        "  openai:",
        "    api_key_file: openai.key",
        "redis:",
        `  url_file: ${put("redis://u:p@10.0.0.7:6380\n")}`,
        "auth:",
        `  admin_sha256_file: ${put(`${digest("adm")}\n`)}`,
      ].join("\n"),
    );
    expect(c.providers.find((p) => p.name === "openai")?.apiKey).toBe(SECRET);
    expect(c.redisUrl).toBe("redis://u:p@10.0.0.7:6380");
    expect(c.file.auth?.admin_sha256).toBe(digest("adm"));
  });

  it("both set or unreadable: errors naming the keys and the path, never the secret", () => {
    const both = errorOf(() =>
      load({}, `providers:\n  openai:\n    api_key: ${SECRET}\n    api_key_file: ${put(SECRET)}\n`),
    );
    expect(both.message).toContain("providers.openai.api_key and providers.openai.api_key_file");
    expect(both.message).not.toContain(SECRET);
    const missing = join(dir, "missing-url");
    const gone = errorOf(() => load({}, `redis:\n  url_file: ${missing}\n`));
    expect(gone.message).toContain("redis.url_file");
    expect(gone.message).toContain(missing);
  });
});

describe("LLMGW_ADMIN_KEY_SHA256", () => {
  it("is read directly as the admin digest (and from its _FILE), over the file's", () => {
    expect(load({ LLMGW_ADMIN_KEY_SHA256: digest("a") }).file.auth?.admin_sha256).toBe(digest("a"));
    expect(load({ LLMGW_ADMIN_KEY_SHA256_FILE: put(`${digest("b")}\n`) }).file.auth?.admin_sha256).toBe(
      digest("b"),
    );
    const over = load({ LLMGW_ADMIN_KEY_SHA256: digest("c") }, `auth:\n  admin_sha256: ${digest("d")}\n`);
    expect(over.file.auth?.admin_sha256).toBe(digest("c"));
    // It satisfies telemetry.metrics_auth: admin like auth.admin_sha256 does.
    expect(() =>
      load({ LLMGW_ADMIN_KEY_SHA256: digest("e") }, "telemetry:\n  metrics_auth: admin\n"),
    ).not.toThrow();
    expect(errorOf(() => load({ LLMGW_ADMIN_KEY_SHA256: "xyz" })).message).toContain(
      "LLMGW_ADMIN_KEY_SHA256",
    );
  });

  it("guards the admin endpoints of a running gateway", async () => {
    const gw = await startGateway({ env: { LLMGW_ADMIN_KEY_SHA256: digest("the-admin-key") } });
    try {
      const call = (key: string) =>
        fetch(`${gw.url}/llmgateway.v1.AdminService/ListKeys`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
          body: "{}",
        });
      expect((await call("the-admin-key")).status).toBe(200);
      expect((await call("wrong")).status).not.toBe(200);
    } finally {
      await gw.close();
    }
  });
});

describe("the start line", () => {
  it("names the providers, the key stores with their counts and the Redis host, no credentials", async () => {
    const gw = await startGateway({
      env: { OPENAI_API_KEY_FILE: put(SECRET), OPENAI_BASE_URL: "http://127.0.0.1:9/v1" },
      yaml: `keys:\n  - name: k1\n    sha256: ${digest("k1")}\nredis:\n  url: redis://user:hunter2@127.0.0.1:9/0\n`,
    });
    try {
      const line = gw.logs.find((l) => l.includes('"listening"'));
      expect(line).toBeDefined();
      const o = JSON.parse(line ?? "{}") as Record<string, unknown>;
      expect(o["providers"]).toEqual(expect.arrayContaining(["mock", "openai"]));
      expect(o["keys"]).toMatchObject({ config: 1, runtime: expect.any(Number) });
      expect(String((o["keys"] as { runtimeStore: string }).runtimeStore)).toMatch(/^redis hash /);
      expect(o["redis"]).toBe("127.0.0.1:9");
      expect(line).not.toContain("hunter2");
      expect(line).not.toContain(SECRET);
    } finally {
      await gw.close();
    }
  });
});
