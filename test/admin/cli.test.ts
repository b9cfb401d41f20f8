// The operator CLI end to end, as child processes (`node --import tsx src/main.ts keys ...`) against a
// gateway process: admin-key, create (table and --json), list, update, revoke, errors as one line
// with a non-zero exit, and the offline `keys generate`. Keys never appear where they should not.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chat, GatewayProcess } from "../limits/helpers.js";
import { cli } from "./helpers.js";

const sha = (k: string) => createHash("sha256").update(k).digest("hex");
const bearer = (k: string) => ({ authorization: `Bearer ${k}` });

// Each CLI run starts Node + tsx: about 1 s on a quiet machine, up to 20 s on a busy one; a test makes
// up to five runs.
describe("llm-gateway keys / usage CLI", { timeout: 180_000 }, () => {
  let gw: GatewayProcess;
  let adminKey = "";
  let env: Record<string, string> = {};
  const secrets: string[] = [];

  beforeAll(async () => {
    const made = await cli(["keys", "admin-key"]);
    expect(made.code).toBe(0);
    adminKey = /^admin key: (\S+)$/m.exec(made.stdout)?.[1] ?? "";
    const digest = /^sha256:\s+([0-9a-f]{64})$/m.exec(made.stdout)?.[1] ?? "";
    expect(digest).toBe(sha(adminKey));
    secrets.push(adminKey);
    gw = await GatewayProcess.start(
      `auth: { admin_sha256: ${digest} }\nkeys: [{ name: cfg, sha256: ${sha("llmgw-cli-test-config-key")} }]\n`,
    );
    env = { LLMGW_URL: gw.url, LLMGW_ADMIN_KEY: adminKey };
  }, 180_000);
  afterAll(async () => {
    await gw?.stop();
  });

  it("keys create --json: the key once, working on Chat within its models", async () => {
    const r = await cli(
      ["keys", "create", "--name", "cli-svc", "--models", "mock/echo", "--rpm", "50", "--json"],
      env,
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      key: string;
      info: { name: string; digestPrefix: string; limits: { rpm: number } };
    };
    secrets.push(out.key);
    expect(out.info).toMatchObject({
      name: "cli-svc",
      digestPrefix: sha(out.key).slice(0, 12),
      limits: { rpm: 50 },
    });
    expect((await chat(gw.url, "mock/echo", bearer(out.key))).status).toBe(200);
    const other = await chat(gw.url, "mock/slow-5", bearer(out.key));
    expect(other.reason).toBe("MODEL_NOT_ALLOWED");
  });

  it("keys create (table), list, update, revoke", async () => {
    const c = await cli(
      [
        "keys",
        "create",
        "--name",
        "cli-table",
        "--tpm",
        "9000",
        "--budget-usd",
        "3",
        "--budget-period",
        "week",
      ],
      env,
    );
    expect(c.code).toBe(0);
    const key = /^key: (\S+)$/m.exec(c.stdout)?.[1] ?? "";
    secrets.push(key);
    expect(key).toMatch(/^llmgw-/);
    expect(c.stdout).toMatch(/cli-table\s+runtime\s+[0-9a-f]{12}\s+\*\s+tpm=9000\s+\$3\/week/);

    const l = await cli(["keys", "list"], env);
    expect(l.code).toBe(0);
    const lines = l.stdout.trim().split("\n");
    expect(lines[0]).toMatch(
      /^NAME\s+SOURCE\s+DIGEST\s+MODELS\s+LIMITS\s+BUDGET\s+SPENT\s+STATUS\s+CREATED$/,
    );
    expect(lines.slice(1).map((x) => x.split(/\s+/)[0])).toEqual(["cfg", "cli-svc", "cli-table"]);
    for (const s of secrets) expect(l.stdout).not.toContain(s);
    const lj = JSON.parse((await cli(["keys", "list", "--json"], env)).stdout) as {
      keys: { name: string }[];
    };
    expect(lj.keys.map((k) => k.name)).toEqual(["cfg", "cli-svc", "cli-table"]);

    const u = await cli(
      ["keys", "update", "cli-table", "--models", "mock/echo", "--rpm", "7", "--clear-budget", "--json"],
      env,
    );
    expect(u.code).toBe(0);
    const info = JSON.parse(u.stdout) as {
      models: string[];
      limits: { rpm: number; tpm: number };
      budget?: unknown;
    };
    expect(info).toMatchObject({ models: ["mock/echo"], limits: { rpm: 7, tpm: 9000 } });
    expect(info.budget).toBeUndefined();
    expect((await chat(gw.url, "mock/slow-5", bearer(key))).reason).toBe("MODEL_NOT_ALLOWED");

    const rv = await cli(["keys", "revoke", "cli-table"], env);
    expect(rv.code).toBe(0);
    expect(rv.stdout).toMatch(/cli-table\s.*revoked \d{4}-\d{2}-\d{2}/);
    expect((await chat(gw.url, "mock/echo", bearer(key))).status).toBe(401);
    const all = await cli(["keys", "list", "--include-revoked"], env);
    expect(all.stdout).toContain("cli-table");
    expect((await cli(["keys", "list"], env)).stdout).not.toContain("cli-table");
  });

  it("errors: one line with code and reason, non-zero exit, no key echoed", async () => {
    const dup = await cli(["keys", "create", "--name", "cli-svc"], env);
    expect(dup.code).toBe(1);
    expect(dup.stdout).toBe("");
    expect(dup.stderr.trim().split("\n")).toEqual([
      `llm-gateway: already_exists KEY_EXISTS: a live key is already named "cli-svc"`,
    ]);

    const wrong = "llmgw-cli-wrong-admin-key-zzzzzzzz";
    const bad = await cli(["keys", "list"], { ...env, LLMGW_ADMIN_KEY: wrong });
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe(
      "llm-gateway: unauthenticated API_KEY_INVALID: the admin key is not valid",
    );
    expect(bad.stderr + bad.stdout).not.toContain(wrong);
    const flag = await cli(["keys", "revoke", "nope", "--admin-key", adminKey, "--url", gw.url]);
    expect(flag.code).toBe(1);
    expect(flag.stderr.trim()).toBe('llm-gateway: not_found KEY_NOT_FOUND: no live key is named "nope"');
    expect(flag.stderr).not.toContain(adminKey);

    const none = await cli(["keys", "list"], { LLMGW_URL: gw.url });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("LLMGW_ADMIN_KEY");
    const down = await cli(["keys", "list", "--url", "http://127.0.0.1:1"], env);
    expect(down.code).toBe(1);
    expect(down.stderr.trim().split("\n")).toHaveLength(1);
    expect(down.stderr).toMatch(/^llm-gateway: unavailable/);
    const usage = await cli(["keys", "frobnicate"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("keys create --name NAME");
    const noName = await cli(["keys", "create"], env);
    expect(noName.code).toBe(2);
  });

  it("keys generate: offline, a key and the config entry with its digest", async () => {
    const g = await cli(["keys", "generate", "--name", "offline-svc"]);
    expect(g.code).toBe(0);
    const key = /^key:\s+(\S+)$/m.exec(g.stdout)?.[1] ?? "";
    expect(key).toMatch(/^llmgw-[A-Za-z0-9_-]{43}$/);
    expect(g.stdout).toContain(`sha256: ${sha(key)}`);
    expect(g.stdout).toContain("- name: offline-svc");
  });

  it("the gateway never logged a key", () => {
    const logs = gw.logs.join("");
    expect(logs).toContain('"admin":"CreateKey"');
    for (const s of secrets) expect(logs).not.toContain(s);
  });
});
