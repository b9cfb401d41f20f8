// compose.yaml and compose.replicas.yaml: valid against the Compose Specification's JSON schema
// (vendored, test/ship/vendor), with health checks and healthy-dependency ordering, and the config
// they mount (deploy/gateway.yaml) accepted by the gateway's own loader with the env they give it.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Ajv } from "ajv";
import addFormatsPlugin from "ajv-formats";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadGatewayConfig, repoPath } from "./support.js";

interface Service {
  build?: unknown;
  image?: string;
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number | string };
  stop_grace_period?: string;
}
interface Compose {
  services: Record<string, Service>;
}

const schema = JSON.parse(readFileSync(repoPath("test/ship/vendor/compose-spec.json"), "utf8")) as {
  $schema: string;
};
const addFormats = addFormatsPlugin as unknown as (ajv: Ajv) => Ajv;
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
// The schema names draft-07 by its https address; Ajv ships that meta-schema under the http one.
const draft7 = createRequire(import.meta.url)("ajv/dist/refs/json-schema-draft-07.json") as Record<
  string,
  unknown
>;
ajv.addMetaSchema({ ...draft7, $id: schema.$schema });
const validate = ajv.compile(schema);
const read = (file: string): Compose => parse(readFileSync(repoPath(file), "utf8")) as Compose;
const files = ["compose.yaml", "compose.replicas.yaml"];

/** A Compose variable reference, ${expr}, as written in the files. */
const compose = (expr: string): string => `\${${expr}}`;

/** Compose's own interpolation for what these files use: ${VAR:-default} with VAR unset. */
function interpolate(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).map(([k, v]) => [k, v.replace(/\$\{\w+:-([^}]*)\}/g, (_m, d: string) => d)]),
  );
}

describe("compose files", () => {
  it("uses the draft-07 schema it vendors", () => {
    expect(schema.$schema).toContain("draft-07");
    expect(existsSync(repoPath("test/ship/vendor/LICENSE"))).toBe(true);
  });

  it.each(files)("%s is valid against the Compose Specification", (file) => {
    const ok = validate(read(file));
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(ok).toBe(true);
  });

  it("the validator is live: a bad condition and an unknown key are refused", () => {
    const bad = read("compose.yaml");
    bad.services["gateway"]!.depends_on = { redis: { condition: "when_ready" } };
    expect(validate(bad)).toBe(false);
    const unknown = { ...read("compose.yaml"), servics: {} };
    expect(validate(unknown)).toBe(false);
  });

  it.each(files)(
    "%s: every service has a health check; the gateway waits for healthy dependencies",
    (file) => {
      const { services } = read(file);
      for (const [name, s] of Object.entries(services))
        expect(s.healthcheck?.test?.[0], `${name} has no healthcheck`).toBe("CMD");
      const gw = services["gateway"]!;
      expect(gw.build).toBe(".");
      expect(gw.healthcheck?.test).toEqual(["CMD", "node", "dist/src/main.js", "health", "--ready"]);
      expect(gw.depends_on).toEqual({
        redis: { condition: "service_healthy" },
        ollama: { condition: "service_healthy" },
      });
      expect(services["redis"]?.healthcheck?.test).toEqual(["CMD", "redis-cli", "ping"]);
      expect(services["ollama"]?.healthcheck?.test.slice(1)).toEqual(["ollama", "list"]);
      // The config file the gateway is told to read is the one mounted from deploy/.
      const env = gw.environment!;
      expect(gw.volumes).toContain(`./deploy/gateway.yaml:${env["LLMGW_CONFIG"]}:ro`);
      // docker stop waits longer than the gateway's drain.
      const grace = Number(interpolate(env)["LLMGW_SHUTDOWN_GRACE_MS"]);
      expect(Number.parseInt(gw.stop_grace_period ?? "10s", 10) * 1000).toBeGreaterThan(grace);
    },
  );

  it("compose.replicas.yaml: N replicas with no host port, behind nginx that waits for them", () => {
    const { services } = read("compose.replicas.yaml");
    const gw = services["gateway"]!;
    expect(gw.deploy?.replicas).toBe(compose("GATEWAY_REPLICAS:-3"));
    expect(gw.ports).toBeUndefined();
    const nginx = services["nginx"]!;
    expect(nginx.volumes).toContain("./deploy/nginx.conf:/etc/nginx/nginx.conf:ro");
    expect(nginx.depends_on).toEqual({ gateway: { condition: "service_healthy" } });
    expect(nginx.ports).toEqual([
      `${compose("GATEWAY_PORT:-8080")}:8080`,
      `${compose("GATEWAY_GRPC_PORT:-8081")}:8081`,
    ]);
  });

  it.each(files)("%s: deploy/gateway.yaml loads with the env the gateway container gets", (file) => {
    const env = interpolate(read(file).services["gateway"]!.environment!);
    const config = loadGatewayConfig({ file: repoPath("deploy/gateway.yaml") }, env);
    expect(config.redisUrl).toBe("redis://redis:6379");
    expect(config.server.host).toBe("0.0.0.0");
    const providers = new Map(config.providers.map((p) => [p.name, p]));
    expect(providers.get("mock")?.type).toBe("mock");
    expect(providers.get("ollama")?.baseUrl).toBe("http://ollama:11434");
    expect(providers.has("openai")).toBe(false); // no key in the env: disabled with a warning
    expect(config.warnings).toContain("provider openai disabled: its api_key resolved empty");
    expect(config.models.get("local")?.fallbacks).toEqual(["mock/echo"]);
    // A key from .env turns its provider on, read through ${VAR}.
    const withKey = loadGatewayConfig(
      { file: repoPath("deploy/gateway.yaml") },
      { ...env, OPENAI_API_KEY: "sk-from-env-file" },
    );
    expect(withKey.providers.find((p) => p.name === "openai")?.apiKey).toBe("sk-from-env-file");
  });
});
