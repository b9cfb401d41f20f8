// The config loader: precedence (flags > LLMGW_* env > file), ${VAR} substitution, zero config,
// providers disabled on an empty key, and errors that name the field.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/index.js";
import { implementedTypes, presetInfo } from "../../src/providers/index.js";

function file(yaml: string): string {
  const p = join(mkdtempSync(join(tmpdir(), "llmgw-cfg-")), "gw.yaml");
  writeFileSync(p, yaml);
  return p;
}

function load(argv: string[], env: Record<string, string> = {}) {
  return loadConfig({ argv, env, presets: presetInfo, implementedTypes });
}

describe("config", () => {
  it("zero config: mock plus every preset whose key is in the env, BASE_URL overriding", () => {
    const c = load([], {
      GROQ_API_KEY: "gsk_x",
      OPENAI_API_KEY: "sk-y",
      OPENAI_BASE_URL: "http://127.0.0.1:9/v1",
    });
    const names = c.providers.map((p) => p.name).sort();
    expect(names).toEqual(["groq", "mock", "openai"]);
    expect(c.providers.find((p) => p.name === "openai")?.baseUrl).toBe("http://127.0.0.1:9/v1");
    expect(c.providers.find((p) => p.name === "groq")?.baseUrl).toBe("https://api.groq.com/openai/v1");
    expect(c.server).toMatchObject({ host: "127.0.0.1", port: 8080, maxRequestBytes: 32 * 1024 * 1024 });
    expect(c.defaults.timeouts.requestMs).toBe(120_000);
  });

  it("precedence: flags over LLMGW_* env over the file", () => {
    const p = file("server: { port: 1111, host: 0.0.0.0 }\n");
    expect(load(["--config", p]).server.port).toBe(1111);
    expect(load(["--config", p], { LLMGW_PORT: "2222" }).server.port).toBe(2222);
    expect(load(["--config", p, "--port=3333"], { LLMGW_PORT: "2222" }).server.port).toBe(3333);
    expect(load([], { LLMGW_CONFIG: p, LLMGW_HOST: "::1" }).server.host).toBe("::1");
  });

  it("substitutes ${VAR} and ${VAR:-default}; an empty key disables the provider with a warning", () => {
    const p = file(
      [
        "providers:",
        "  openai: { api_key: '${MY_KEY}' }",
        "  groq: { api_key: '${NOPE}' }",
        "  local: { type: openai, base_url: '${LOCAL_URL:-http://127.0.0.1:4000/v1}', api_key: k }",
        "  anthropic: { api_key: x }",
        "  ollama: { base_url: '${NO_OLLAMA}' }",
      ].join("\n"),
    );
    const c = load(["--config", p], { MY_KEY: "sk-from-env" });
    expect(c.providers.find((x) => x.name === "openai")?.apiKey).toBe("sk-from-env");
    expect(c.providers.find((x) => x.name === "local")?.baseUrl).toBe("http://127.0.0.1:4000/v1");
    expect(c.providers.some((x) => x.name === "groq")).toBe(false);
    expect(c.warnings.join("\n")).toMatch(/groq disabled: its api_key resolved empty/);
    expect(c.providers.find((x) => x.name === "anthropic")?.type).toBe("anthropic");
    expect(c.warnings.join("\n")).toMatch(/ollama disabled: its base_url resolved empty/);
  });

  it("models deep-merge over defaults", () => {
    const p = file(
      [
        "defaults: { timeouts: { attempt_ms: 5000 } }",
        "models:",
        "  fast:",
        "    deployments: [{ target: mock/echo }]",
        "    fallbacks: [mock/embed]",
        "    timeouts: { idle_ms: 700 }",
      ].join("\n"),
    );
    const m = load(["--config", p]).models.get("fast");
    expect(m?.policy.timeouts).toMatchObject({ attemptMs: 5000, idleMs: 700, requestMs: 120_000 });
    expect(m?.fallbacks).toEqual(["mock/embed"]);
  });

  it.each([
    ["server: { port: x }\n", /server\.port/],
    ["server: { prot: 1 }\n", /server.*prot/],
    ["providers: { weird: { base_url: 'http://x' } }\n", /providers\.weird\.type/],
    ["defaults: { unsupported_params: maybe }\n", /defaults\.unsupported_params/],
    ["models: { a: { deployments: [] } }\n", /models\.a\.deployments/],
    ["keys: [{ name: k, sha256: nothex }]\n", /keys\.0\.sha256/],
    ["server: [unclosed\n", /not valid YAML/],
    [
      `providers: { openai: { headers: { "x-a": "1\\r\\nx-b: 2" } } }\n`,
      /providers\.openai\.headers\.x-a.*line break/,
    ],
    [
      "providers: { openai: { headers: { connection: close } } }\n",
      /providers\.openai\.headers\.connection.*HTTP client/,
    ],
    [
      'providers: { openai: { headers: { "bad name": x } } }\n',
      /providers\.openai\.headers\.bad name.*invalid header name/,
    ],
  ])("a bad file stops with a message naming the field: %s", (yaml, re) => {
    expect(() => load(["--config", file(yaml)])).toThrow(ConfigError);
    expect(() => load(["--config", file(yaml)])).toThrow(re);
  });

  it("a bad flag or a missing file is named", () => {
    expect(() => load(["--port", "99999"])).toThrow(/--port/);
    expect(() => load(["--config", "/nonexistent/gw.yaml"])).toThrow(/cannot read config file/);
    expect(() => load(["--log-level", "loud"])).toThrow(/logging\.level/);
  });

  it("accepts the documented example file", () => {
    const example = new URL("../../config.example.yaml", import.meta.url).pathname;
    const c = load(["--config", example], { OPENAI_API_KEY: "sk-a", OPENAI_EU_API_KEY: "sk-b" });
    expect(c.models.get("smart")?.deployments.length).toBe(2);
    expect(c.providers.map((p) => p.name)).toContain("openai-eu");
  });
});

describe("native provider presets", () => {
  it("zero config enables each native provider from its env var; Ollama from OLLAMA_HOST without a key", () => {
    const c = load([], {
      ANTHROPIC_API_KEY: "a",
      GEMINI_API_KEY: "g",
      HF_TOKEN: "h",
      OLLAMA_HOST: "127.0.0.1:11434",
    });
    const by = (n: string) => c.providers.find((p) => p.name === n);
    expect(by("anthropic")).toMatchObject({ type: "anthropic", baseUrl: "https://api.anthropic.com" });
    expect(by("gemini")).toMatchObject({
      type: "gemini",
      baseUrl: "https://generativelanguage.googleapis.com",
    });
    expect(by("huggingface")).toMatchObject({
      type: "huggingface",
      baseUrl: "https://router.huggingface.co/v1",
    });
    expect(by("ollama")).toMatchObject({ type: "ollama", baseUrl: "http://127.0.0.1:11434", apiKey: "" });
    expect(load([], {}).providers.map((p) => p.name)).toEqual(["mock"]);
  });
});
