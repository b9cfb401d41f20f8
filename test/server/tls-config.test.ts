// server.tls and keys[].client_cert as configuration: what is refused (with the field named), how
// a certificate's names are read and matched to keys, and certificate files the gateway cannot use.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { configKeyEntry, KeyRing, newKey } from "../../src/auth/keys.js";
import { ConfigError, loadConfig } from "../../src/config/index.js";
import { createLogger } from "../../src/lib/logger.js";
import { implementedTypes, presetInfo } from "../../src/providers/index.js";
import { type App, startApp } from "../../src/server/app.js";
import { certNames, sanNames } from "../../src/server/tls.js";
import { TestPki } from "../helpers/pki.js";

const pki = new TestPki();
const ca = pki.ca("ca", "Test CA");
const server = pki.server("server", "ca");
const other = pki.server("other", "ca");

/** Loads `yaml` as a config file in a fresh folder (relative paths resolve from there). */
function load(yaml: string, dir = mkdtempSync(join(tmpdir(), "llmgw-tlscfg-"))) {
  const file = join(dir, "config.yaml");
  writeFileSync(file, yaml);
  return loadConfig({
    argv: ["--port", "0", "--config", file],
    env: {},
    presets: presetInfo,
    implementedTypes,
  });
}

const loadError = (yaml: string): string => {
  try {
    load(yaml);
  } catch (e: unknown) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error("the config loaded; expected a ConfigError");
};

describe("config", () => {
  const tls = (extra: string) => `server:\n  tls: { cert_file: a.crt, key_file: a.key${extra} }\n`;

  it("refuses client_auth without a CA, a CA without client_auth, and unknown modes, naming the field", () => {
    expect(loadError(tls(", client_auth: require"))).toMatch(
      /server\.tls\.client_ca_file: required with client_auth: require/,
    );
    expect(loadError(tls(", client_ca_file: ca.crt"))).toMatch(
      /server\.tls\.client_auth: client_ca_file is set/,
    );
    expect(loadError(tls(", client_ca_file: ca.crt, client_auth: maybe"))).toMatch(
      /server\.tls\.client_auth/,
    );
    expect(loadError("server:\n  tls: { cert_file: a.crt }\n")).toMatch(/server\.tls\.key_file/);
  });

  it("keys need sha256 or client_cert; client_cert is a typed name, used by one key only", () => {
    const { sha256 } = newKey();
    expect(loadError("keys:\n  - { name: a }\n")).toMatch(
      /keys\.0: a key needs sha256.*client_cert, or both/,
    );
    expect(loadError('keys:\n  - { name: a, client_cert: "billing" }\n')).toMatch(
      /keys\.0\.client_cert: a certificate name/,
    );
    expect(loadError('keys:\n  - { name: a, client_cert: "CN:billing" }\n')).toMatch(/keys\.0\.client_cert/);
    expect(
      loadError(
        `keys:\n  - { name: a, client_cert: "CN=x" }\n  - { name: b, sha256: ${sha256}, client_cert: "CN=x" }\n`,
      ),
    ).toMatch(/keys\.1\.client_cert: same as keys\.0\.client_cert/);
  });

  it("resolves relative paths from the config's folder; warns of client_cert keys nobody can use", () => {
    const dir = mkdtempSync(join(tmpdir(), "llmgw-tlscfg-"));
    const c = load(`${tls(", client_ca_file: certs/ca.crt, client_auth: optional")}`, dir);
    expect(c.server.tls).toEqual({
      certFile: join(dir, "a.crt"),
      keyFile: join(dir, "a.key"),
      clientCaFile: join(dir, "certs/ca.crt"),
      clientAuth: "optional",
    });
    expect(load("").server.tls).toBeUndefined();
    const unused = load(`${tls("")}keys:\n  - { name: svc, client_cert: "URI:spiffe://x/svc" }\n`);
    expect(unused.server.tls?.clientAuth).toBe("none");
    expect(unused.warnings.join("\n")).toMatch(/keys\.0\.client_cert \(key "svc"\) is unused/);
  });
});

it("the commented TLS lines of config.example.yaml load once uncommented", () => {
  const example = readFileSync(new URL("../../config.example.yaml", import.meta.url), "utf8");
  const tlsLine =
    /^ {2}# ( *(tls:|cert_file:|key_file:|client_ca_file:|client_auth:|- name: billing-batch|client_cert:|limits: \{ rpm: 120 \}))/;
  const text = example
    .split("\n")
    .map((l) => l.replace(tlsLine, "  $1"))
    .join("\n");
  const c = load(text);
  expect(c.server.tls?.clientAuth).toBe("require");
  expect(c.file.keys?.find((k) => k.name === "billing-batch")?.client_cert).toBe(
    "URI:spiffe://corp.example/billing",
  );
});

describe("certificate names and keys", () => {
  it("reads the subject CN and the SAN entries (quoted values included)", () => {
    expect(
      sanNames("DNS:a.example, IP Address:10.0.0.7, URI:spiffe://corp/billing, email:ops@corp.example"),
    ).toEqual(["DNS:a.example", "IP:10.0.0.7", "URI:spiffe://corp/billing", "email:ops@corp.example"]);
    expect(sanNames('DNS:"a, b", DirName:"CN=x", URI:u:1')).toEqual(["DNS:a, b", "URI:u:1"]);
    expect(sanNames(undefined)).toEqual([]);
    const names = certNames({
      subject: { CN: "billing", O: "Corp" },
      subjectaltname: "URI:spiffe://corp/billing",
    } as unknown as Parameters<typeof certNames>[0]);
    expect(names).toEqual(["CN=billing", "URI:spiffe://corp/billing"]);
  });

  it("a certificate-only key is found by its names, never by a bearer key; two keys named at once: ambiguous", () => {
    const certOnly = configKeyEntry({ name: "svc", client_cert: "URI:spiffe://corp/svc" });
    expect(certOnly.bearer).toBe(false);
    const ring = new KeyRing([certOnly, configKeyEntry({ name: "ops", client_cert: "CN=ops" })]);
    expect(ring.findByCert(["CN=svc", "URI:spiffe://corp/svc"])).toMatchObject({ name: "svc" });
    expect(ring.findByCert(["CN=nobody"])).toBeUndefined();
    expect(ring.findByCert(["CN=ops", "URI:spiffe://corp/svc"])).toBe("ambiguous");
    // Its digest is derived from the name: presenting the derivation's input as a bearer key finds nothing.
    expect(ring.find("llmgw-client-cert\nURI:spiffe://corp/svc")).toBeUndefined();
  });
});

describe("certificate files the gateway cannot use", () => {
  const apps: App[] = [];
  afterAll(async () => {
    for (const a of apps) await a.shutdown(100);
  });
  const start = async (yaml: string): Promise<string> => {
    try {
      apps.push(await startApp(load(yaml), createLogger("silent")));
    } catch (e: unknown) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as Error).message;
    }
    throw new Error("the gateway started; expected a ConfigError");
  };

  it("a missing file or a key that does not match the certificate stops the start, naming the setting", async () => {
    const dir = mkdtempSync(join(tmpdir(), "llmgw-tlscfg-"));
    copyFileSync(server.certFile, join(dir, "s.crt"));
    copyFileSync(other.keyFile, join(dir, "s.key"));
    expect(await start(`server:\n  tls: { cert_file: ${dir}/nope.crt, key_file: ${dir}/s.key }\n`)).toMatch(
      /server\.tls\.cert_file: cannot read .*nope\.crt/,
    );
    expect(await start(`server:\n  tls: { cert_file: ${dir}/s.crt, key_file: ${dir}/s.key }\n`)).toMatch(
      /server\.tls: .*s\.crt with .*s\.key: .*key values mismatch/,
    );
    const ok = load(
      `server:\n  tls: { cert_file: ${server.certFile}, key_file: ${server.keyFile}, client_ca_file: ${ca.certFile}, client_auth: require }\n`,
    );
    const app = await startApp(ok, createLogger("silent"));
    apps.push(app);
    expect(app.url).toMatch(/^https:/);
  });
});

describe("a handshake that never finishes", () => {
  it("is dropped after server.first_bytes_timeout_ms, even while bytes dribble in", async () => {
    const c = load(
      `server:\n  first_bytes_timeout_ms: 400\n  tls: { cert_file: ${server.certFile}, key_file: ${server.keyFile} }\n`,
    );
    const app = await startApp(c, createLogger("silent"));
    try {
      const t0 = performance.now();
      const sock = net.connect(app.port, "127.0.0.1");
      // The server may end it with a reset (a drip write racing the close): that is the drop too.
      sock.on("error", () => {});
      // A TLS record header, then one byte every 100 ms: never a whole ClientHello.
      sock.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]));
      const drip = setInterval(() => sock.write(Buffer.from([0x01])), 100);
      await new Promise((resolve) => sock.once("close", resolve));
      clearInterval(drip);
      const ms = performance.now() - t0;
      expect(ms).toBeGreaterThanOrEqual(350);
      expect(ms).toBeLessThan(5000);
    } finally {
      await app.shutdown(100);
    }
  });
});
