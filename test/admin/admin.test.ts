// AdminService against real gateways (in this process, keys file store): the admin guard, keys
// created / updated / revoked at run time and used on Chat at once, tombstones for config keys, the
// open -> keyed switch, the keys file across a restart, reflection, and no secret in any log line.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path, { join } from "node:path";
import { promisify } from "node:util";
import { Code } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BudgetPeriod, KeySource } from "../../gen/llmgateway/v1/admin_pb.js";
import { keysFilePath } from "../../src/auth/create-store.js";
import { loadConfig } from "../../src/config/index.js";
import { implementedTypes, presetInfo } from "../../src/providers/index.js";
import { grpcStatusDetails, ROOT } from "../e2e/helpers.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { chat, freePort } from "../limits/helpers.js";
import { admin, adminPair, closeClients, failure } from "./helpers.js";

const sha = (k: string) => createHash("sha256").update(k).digest("hex");
const ADMIN = adminPair();
const CFG = "llmgw-admin-test-config-key-aaaaaaaaaaaaaaaa";
const CFG2 = "llmgw-admin-test-config-key-bbbbbbbbbbbbbbbb";
/** Every secret the suite handles: none may reach a log line. */
const secrets: string[] = [ADMIN.key, CFG, CFG2];
const bearer = (k: string) => ({ authorization: `Bearer ${k}` });

/** A config file in its own folder (the keys file lands beside it). */
function configIn(dir: string, yaml: string): string {
  const file = join(dir, "config.yaml");
  writeFileSync(file, yaml);
  return file;
}

async function gatewayAt(file: string): Promise<TestGateway> {
  return startGateway({ argv: ["--config", file] });
}

describe("AdminService on a gateway with config keys", () => {
  let gw: TestGateway;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "llmgw-admin-"));
    gw = await gatewayAt(
      configIn(
        dir,
        `
auth: { admin_sha256: ${ADMIN.sha256} }
keys:
  - { name: cfg, sha256: ${sha(CFG)}, models: [mock/echo], limits: { rpm: 1000 }, budget: { usd: 5, period: month } }
  - { name: cfg-two, sha256: ${sha(CFG2)} }
`,
      ),
    );
  });
  afterAll(async () => {
    closeClients();
    await gw?.close();
  });

  it("admin guard: no key or a wrong one -> UNAUTHENTICATED / API_KEY_INVALID; gateway keys are not admin", async () => {
    for (const key of [undefined, "llmgw-not-the-admin-key", CFG]) {
      const e = await failure(admin(gw.url, key).listKeys({}));
      expect(e.code).toBe(Code.Unauthenticated);
      expect(e.reason).toBe("API_KEY_INVALID");
      if (key) expect(e.message).not.toContain(key);
    }
    const ok = await admin(gw.url, ADMIN.key).listKeys({});
    expect(ok.keys.map((k) => k.name)).toEqual(["cfg", "cfg-two"]);
    // x-api-key works too.
    const viaHeader = await admin(gw.url, undefined).listKeys({}, { headers: { "x-api-key": ADMIN.key } });
    expect(viaHeader.keys).toHaveLength(2);
  });

  it("the admin key is not a gateway key", async () => {
    const r = await chat(gw.url, "mock/echo", bearer(ADMIN.key));
    expect(r.status).toBe(401);
    expect(r.reason).toBe("API_KEY_INVALID");
  });

  it("gRPC (grpc-js): a wrong admin key fails UNAUTHENTICATED with ErrorInfo API_KEY_INVALID", async () => {
    const def = protoLoader.loadSync("llmgateway/v1/admin.proto", {
      includeDirs: [path.join(ROOT, "proto")],
      enums: String,
      longs: String,
      defaults: true,
    });
    type Cb = (err: grpc.ServiceError | null, res?: { keys: { name: string }[] }) => void;
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      llmgateway: {
        v1: {
          AdminService: new (
            addr: string,
            creds: grpc.ChannelCredentials,
          ) => grpc.Client & { ListKeys(req: object, md: grpc.Metadata, cb: Cb): void };
        };
      };
    };
    const client = new pkg.llmgateway.v1.AdminService(
      `127.0.0.1:${gw.port}`,
      grpc.credentials.createInsecure(),
    );
    try {
      const call = (key: string) =>
        new Promise<{ err: grpc.ServiceError | null; res?: { keys: { name: string }[] } }>((resolve) => {
          const md = new grpc.Metadata();
          md.set("authorization", `Bearer ${key}`);
          client.ListKeys({}, md, (err, res) => resolve({ err, res }));
        });
      const bad = await call("llmgw-wrong-admin-key");
      expect(bad.err?.code).toBe(grpc.status.UNAUTHENTICATED);
      const bin = bad.err?.metadata.get("grpc-status-details-bin")[0];
      expect(grpcStatusDetails(bin as Buffer).errorInfo?.reason).toBe("API_KEY_INVALID");
      const good = await call(ADMIN.key);
      expect(good.err).toBeNull();
      expect(good.res?.keys.map((k) => k.name)).toContain("cfg");
    } finally {
      client.close();
    }
  });

  it("CreateKey returns the key once; it works on Chat at once; ListKeys never shows it or its digest", async () => {
    const a = admin(gw.url, ADMIN.key);
    const res = await a.createKey({
      name: "svc-new",
      models: ["mock/*"],
      limits: { rpm: 100, concurrent: 5 },
      budget: { usd: 2.5, period: BudgetPeriod.WEEK },
    });
    secrets.push(res.key);
    expect(res.key).toMatch(/^llmgw-[A-Za-z0-9_-]{43}$/);
    expect(res.info?.digestPrefix).toBe(sha(res.key).slice(0, 12));
    expect(res.info?.source).toBe(KeySource.RUNTIME);
    expect(res.info?.budget).toMatchObject({ usd: 2.5, period: BudgetPeriod.WEEK });
    expect(res.info?.createTime).toBeDefined();
    const ok = await chat(gw.url, "mock/echo", bearer(res.key));
    expect(ok.status).toBe(200);
    expect(ok.headers["x-ratelimit-limit-requests"]).toBe("100");
    const list = await a.listKeys({ includeRevoked: true });
    const text = JSON.stringify(list, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v));
    expect(text).not.toContain(res.key);
    expect(text).not.toContain(sha(res.key));
    expect(text).not.toContain(sha(CFG));
    const mine = list.keys.find((k) => k.name === "svc-new");
    expect(mine?.models).toEqual(["mock/*"]);
    expect(mine?.limits).toMatchObject({ rpm: 100, tpm: 0, concurrent: 5 });
    const cfg = list.keys.find((k) => k.name === "cfg");
    expect(cfg?.source).toBe(KeySource.CONFIG);
    expect(cfg?.budget).toMatchObject({ usd: 5, period: BudgetPeriod.MONTH });
  });

  it("names are unique among live keys (config and runtime): ALREADY_EXISTS / KEY_EXISTS", async () => {
    const a = admin(gw.url, ADMIN.key);
    for (const name of ["cfg", "svc-new"]) {
      const e = await failure(a.createKey({ name }));
      expect(e.code).toBe(Code.AlreadyExists);
      expect(e.reason).toBe("KEY_EXISTS");
    }
    const first = await a.createKey({ name: "reused" });
    secrets.push(first.key);
    await a.revokeKey({ name: "reused" });
    const second = await a.createKey({ name: "reused" }); // a revoked key's name is free again
    secrets.push(second.key);
    expect(second.key).not.toBe(first.key);
    expect((await chat(gw.url, "mock/echo", bearer(first.key))).status).toBe(401);
    expect((await chat(gw.url, "mock/echo", bearer(second.key))).status).toBe(200);
  });

  it("UpdateKey: models -> MODEL_NOT_ALLOWED, limits, budget set / change / clear; config keys refused", async () => {
    const a = admin(gw.url, ADMIN.key);
    const { key } = await a.createKey({ name: "upd", budget: { usd: 1, period: BudgetPeriod.DAY } });
    secrets.push(key);
    expect((await chat(gw.url, "mock/slow-10", bearer(key))).status).toBe(200);
    const u1 = await a.updateKey({ name: "upd", models: ["mock/echo"], updateMask: { paths: ["models"] } });
    expect(u1.info?.models).toEqual(["mock/echo"]);
    expect(u1.info?.budget?.usd).toBe(1); // untouched
    const refused = await chat(gw.url, "mock/slow-10", bearer(key));
    expect(refused.status).toBe(403);
    expect(refused.reason).toBe("MODEL_NOT_ALLOWED");
    expect((await chat(gw.url, "mock/echo", bearer(key))).status).toBe(200);

    const u2 = await a.updateKey({ name: "upd", limits: { rpm: 1 }, updateMask: { paths: ["limits.rpm"] } });
    expect(u2.info?.limits?.rpm).toBe(1);
    expect((await chat(gw.url, "mock/echo", bearer(key))).status).toBe(200);
    const limited = await chat(gw.url, "mock/echo", bearer(key));
    expect(limited.status).toBe(429);
    expect(limited.reason).toBe("RATE_LIMITED");

    const u3 = await a.updateKey({ name: "upd", budget: { usd: 7 }, updateMask: { paths: ["budget.usd"] } });
    expect(u3.info?.budget).toMatchObject({ usd: 7, period: BudgetPeriod.DAY });
    const u4 = await a.updateKey({ name: "upd", updateMask: { paths: ["budget", "limits", "models"] } });
    expect(u4.info?.budget).toBeUndefined();
    expect(u4.info?.models).toEqual([]);
    expect(u4.info?.limits).toMatchObject({ rpm: 0, tpm: 0, concurrent: 0 });
    expect(u4.info?.updateTime).toBeDefined();
    expect((await chat(gw.url, "mock/slow-10", bearer(key))).status).toBe(200);

    const noBudget = await failure(
      a.updateKey({ name: "upd", budget: { usd: 3 }, updateMask: { paths: ["budget.usd"] } }),
    );
    expect(noBudget.code).toBe(Code.InvalidArgument);
    const cfg = await failure(a.updateKey({ name: "cfg", models: [], updateMask: { paths: ["models"] } }));
    expect(cfg.code).toBe(Code.FailedPrecondition);
    expect(cfg.reason).toBe("KEY_FROM_CONFIG");
    const missing = await failure(a.updateKey({ name: "nope", updateMask: { paths: ["models"] } }));
    expect(missing.code).toBe(Code.NotFound);
    expect(missing.reason).toBe("KEY_NOT_FOUND");
  });

  it("RevokeKey: a runtime key is refused at once; a config key is revoked by a tombstone", async () => {
    const a = admin(gw.url, ADMIN.key);
    const { key } = await a.createKey({ name: "short-lived" });
    secrets.push(key);
    expect((await chat(gw.url, "mock/echo", bearer(key))).status).toBe(200);
    const r = await a.revokeKey({ name: "short-lived" });
    expect(r.info?.revoked).toBe(true);
    expect(r.info?.revokeTime).toBeDefined();
    const refused = await chat(gw.url, "mock/echo", bearer(key));
    expect(refused.status).toBe(401);
    expect(refused.reason).toBe("API_KEY_INVALID");

    expect((await chat(gw.url, "mock/echo", bearer(CFG2))).status).toBe(200);
    const t = await a.revokeKey({ name: "cfg-two" });
    expect(t.info?.source).toBe(KeySource.CONFIG);
    expect((await chat(gw.url, "mock/echo", bearer(CFG2))).status).toBe(401);
    expect((await chat(gw.url, "mock/echo", bearer(CFG))).status).toBe(200); // the other config key

    const again = await failure(a.revokeKey({ name: "cfg-two" }));
    expect(again.code).toBe(Code.NotFound);
    const live = (await a.listKeys({})).keys.map((k) => k.name);
    expect(live).not.toContain("cfg-two");
    expect(live).not.toContain("short-lived");
    const all = await a.listKeys({ includeRevoked: true });
    const tomb = all.keys.find((k) => k.name === "cfg-two");
    expect(tomb).toMatchObject({ revoked: true, source: KeySource.CONFIG });
  });

  it("invalid requests -> INVALID_ARGUMENT / INVALID_REQUEST", async () => {
    const a = admin(gw.url, ADMIN.key);
    const cases = [
      a.createKey({ name: "" }),
      a.createKey({ name: "anonymous" }),
      a.createKey({ name: "bad\nname" }),
      a.createKey({ name: "no-period", budget: { usd: 3 } }),
      a.createKey({ name: "neg", budget: { usd: -1, period: BudgetPeriod.DAY } }),
      a.createKey({ name: "sp", models: ["has space"] }),
      a.updateKey({ name: "svc-new" }),
      a.updateKey({ name: "svc-new", updateMask: { paths: ["name"] } }),
    ];
    for (const p of cases) {
      const e = await failure(p);
      expect(e.code).toBe(Code.InvalidArgument);
      expect(e.reason).toBe("INVALID_REQUEST");
    }
  });

  it("reflection serves AdminService: buf curl lists it and calls ListKeys with the schema it got", async () => {
    const run = promisify(execFile);
    const buf = path.join(ROOT, "node_modules/.bin/buf");
    const url = `http://127.0.0.1:${gw.port}`;
    const base = ["curl", "--http2-prior-knowledge", "--protocol", "grpc"];
    const methods = (await run(buf, [...base, "--list-methods", url], { timeout: 20_000 })).stdout;
    for (const m of ["CreateKey", "RevokeKey", "UpdateKey", "ListKeys", "GetUsage"])
      expect(methods).toContain(`llmgateway.v1.AdminService/${m}`);
    const out = await run(
      buf,
      [
        ...base,
        "-H",
        `authorization: Bearer ${ADMIN.key}`,
        "-d",
        "{}",
        `${url}/llmgateway.v1.AdminService/ListKeys`,
      ],
      { timeout: 20_000 },
    );
    expect(JSON.parse(out.stdout).keys.map((k: { name: string }) => k.name)).toContain("cfg");
  });

  it("the keys file holds digests only, mode 0600", () => {
    const file = join(dir, "llmgw-keys.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, "utf8");
    for (const s of secrets) expect(text).not.toContain(s);
    expect(text).toContain(sha(CFG2)); // the tombstone
  });

  it("no plaintext key and no admin key in any log line", () => {
    const all = gw.logs.join("\n");
    expect(all).toContain('"admin":"CreateKey"');
    expect(all).toContain('"reason":"API_KEY_INVALID"');
    for (const s of secrets) expect(all).not.toContain(s);
  });
});

describe("AdminService disabled", () => {
  it("no auth.admin_sha256: every call fails PERMISSION_DENIED / ADMIN_DISABLED, saying how to enable it", async () => {
    const gw = await startGateway({ yaml: "models: {}\n" });
    try {
      for (const key of [undefined, ADMIN.key]) {
        const e = await failure(admin(gw.url, key).createKey({ name: "x" }));
        expect(e.code).toBe(Code.PermissionDenied);
        expect(e.reason).toBe("ADMIN_DISABLED");
        expect(e.message).toContain("auth.admin_sha256");
      }
    } finally {
      closeClients();
      await gw.close();
    }
  });
});

describe("runtime keys without Redis", () => {
  it("an open gateway becomes keyed when a key is created; the keys file survives a restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "llmgw-admin-open-"));
    const file = configIn(dir, `auth: { admin_sha256: ${ADMIN.sha256}, keys_file: state/keys.json }\n`);
    let gw = await gatewayAt(file);
    let key: string;
    try {
      expect((await chat(gw.url, "mock/echo")).status).toBe(200); // open
      expect(gw.logs.join("\n")).toContain("no gateway keys configured");
      key = (await admin(gw.url, ADMIN.key).createKey({ name: "first" })).key;
      const anon = await chat(gw.url, "mock/echo");
      expect(anon.status).toBe(401); // keyed now: keyless callers need auth.allow_anonymous
      expect((await chat(gw.url, "mock/echo", bearer(key))).status).toBe(200);
      // Keyed for good: revoking the last key does not reopen the gateway.
      const { key: other } = await admin(gw.url, ADMIN.key).createKey({ name: "second" });
      await admin(gw.url, ADMIN.key).revokeKey({ name: "second" });
      expect((await chat(gw.url, "mock/echo", bearer(other))).status).toBe(401);
    } finally {
      closeClients();
      await gw.close();
    }
    const stored = readFileSync(join(dir, "state/keys.json"), "utf8");
    expect(stored).toContain(sha(key));
    expect(stored).not.toContain(key);
    gw = await gatewayAt(file);
    try {
      expect((await chat(gw.url, "mock/echo", bearer(key))).status).toBe(200);
      expect((await chat(gw.url, "mock/echo")).status).toBe(401);
      expect(gw.logs.join("\n")).not.toContain("no gateway keys configured");
      const names = (await admin(gw.url, ADMIN.key).listKeys({ includeRevoked: true })).keys.map(
        (k) => k.name,
      );
      expect(names).toEqual(["first", "second"]);
    } finally {
      closeClients();
      await gw.close();
    }
  });

  it("the keys file: llmgw-keys.json beside the config file; a relative keys_file is relative to it", () => {
    const dir = mkdtempSync(join(tmpdir(), "llmgw-admin-path-"));
    const at = (yaml: string | undefined) => {
      const argv = yaml === undefined ? [] : ["--config", configIn(dir, yaml)];
      return keysFilePath(loadConfig({ argv, env: {}, presets: presetInfo, implementedTypes }));
    };
    expect(at("models: {}\n")).toBe(join(dir, "llmgw-keys.json"));
    expect(at("auth: { keys_file: s/k.json }\n")).toBe(join(dir, "s/k.json"));
    expect(at("auth: { keys_file: /var/lib/llmgw/k.json }\n")).toBe("/var/lib/llmgw/k.json");
    expect(at(undefined)).toBe(join(process.cwd(), "llmgw-keys.json"));
  });
});

describe("runtime keys unknown (Redis unreachable since start)", () => {
  it("config keys work; an unknown key is UNAVAILABLE / KEY_STORE_UNAVAILABLE (retryable), not let in", async () => {
    const port = await freePort(); // nothing listens there
    const gw = await startGateway({
      yaml: `redis: { url: "redis://127.0.0.1:${port}" }\nkeys: [{ name: cfg, sha256: ${sha(CFG)} }]\n`,
    });
    try {
      expect((await chat(gw.url, "mock/echo", bearer(CFG))).status).toBe(200);
      const unknown = await chat(gw.url, "mock/echo", bearer("llmgw-maybe-a-runtime-key"));
      expect(unknown.status).toBe(503);
      expect(unknown.reason).toBe("KEY_STORE_UNAVAILABLE");
      expect(unknown.retryMs).toBeGreaterThan(0);
      expect(gw.logs.join("\n")).toContain("runtime keys not loaded yet");
    } finally {
      await gw.close();
    }
  });

  it("no config keys: fail_open serves callers as open; fail_closed refuses until the store is read", async () => {
    const port = await freePort();
    for (const policy of ["fail_open", "fail_closed"] as const) {
      const gw = await startGateway({
        yaml: `redis: { url: "redis://127.0.0.1:${port}", on_outage: ${policy} }\n`,
      });
      try {
        const r = await chat(gw.url, "mock/echo");
        if (policy === "fail_open") expect(r.status).toBe(200);
        else {
          expect(r.status).toBe(503);
          expect(r.reason).toBe("KEY_STORE_UNAVAILABLE");
        }
      } finally {
        await gw.close();
      }
    }
  });
});
