// providers.<name>.proxy / tls / http2 / max_connections / keep-alive keys: validated and read at load
// (TLS files relative to the config file; a bad one stops the load naming its key), handed to the
// provider's transport, and the start log says where each provider's calls go.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { createProviders, implementedTypes, presetInfo } from "../../src/providers/index.js";
import { thrown } from "./helpers.js";

function load(yaml: string, files: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "llmgw-upstream-cfg-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const file = join(dir, "config.yaml");
  writeFileSync(file, yaml);
  return loadConfig({ argv: ["--config", file], env: {}, presets: presetInfo, implementedTypes });
}

const provider = (keys: string) =>
  `providers:\n  corp:\n    type: openai\n    base_url: https://llm.corp.example/v1\n    api_key: k\n${keys}`;

describe("provider transport config", () => {
  it("every key reaches the provider's transport; TLS files are read relative to the config file", () => {
    const cfg = load(
      provider(
        [
          "    proxy: http://user:pw@proxy.corp.example:3128",
          "    http2: true",
          "    max_connections: 32",
          "    keep_alive_timeout_ms: 4000",
          "    keep_alive_max_timeout_ms: 9000",
          "    connect_timeout_ms: 2500",
          "    tls:",
          "      ca_file: ca.pem",
          "      cert_file: client.pem",
          "      key_file: client.key",
          "      server_name: llm.internal",
          "",
        ].join("\n"),
      ),
      { "ca.pem": "CA-PEM", "client.pem": "CERT-PEM", "client.key": "KEY-PEM" },
    );
    const corp = cfg.providers.find((p) => p.name === "corp");
    expect(corp?.transport).toEqual({
      proxy: "http://user:pw@proxy.corp.example:3128",
      http2: true,
      maxConnections: 32,
      keepAliveTimeoutMs: 4000,
      keepAliveMaxTimeoutMs: 9000,
      connectTimeoutMs: 2500,
      tls: { ca: "CA-PEM", cert: "CERT-PEM", key: "KEY-PEM", serverName: "llm.internal" },
    });
  });

  it("a missing TLS file, a bad proxy URL, a cert without its key, a zero pool: the load stops naming the key", () => {
    const cases: [string, RegExp][] = [
      ["    tls:\n      ca_file: nowhere.pem\n", /providers\.corp\.tls\.ca_file: cannot read nowhere\.pem/],
      ["    proxy: socks://proxy:1080\n", /providers\.corp\.proxy.*http:\/\/ or https:\/\/ proxy URL/s],
      ["    tls:\n      cert_file: c.pem\n", /providers\.corp\.tls.*cert_file and key_file go together/s],
      ["    max_connections: 0\n", /providers\.corp\.max_connections/],
      ["    tls:\n      verify: false\n", /providers\.corp\.tls.*verify/s],
    ];
    for (const [keys, message] of cases) {
      const e = thrown(() => load(provider(keys)));
      expect((e as Error).message).toMatch(message);
    }
  });

  it("the start log names each provider's route (proxy without credentials) and warns about insecure_skip_verify", async () => {
    const cfg = load(
      provider(
        "    proxy: http://user:pw@proxy.corp.example:3128\n    tls:\n      insecure_skip_verify: true\n",
      ),
    );
    const info: string[] = [];
    const warn: string[] = [];
    const providers = createProviders(cfg.providers, {
      unsupportedParams: "reject",
      warn: (m) => warn.push(m),
      info: (m) => info.push(m),
    });
    try {
      expect(info).toEqual([
        "provider corp: upstream https://llm.corp.example via proxy http://proxy.corp.example:3128 (providers.corp.proxy)",
      ]);
      expect(warn).toHaveLength(1);
      expect(warn[0]).toContain("provider corp: tls.insecure_skip_verify is on");
      expect([...info, ...warn].join("\n")).not.toContain("pw@");
    } finally {
      await Promise.all([...providers.values()].map((p) => p.close()));
    }
  });
});
