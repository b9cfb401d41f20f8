// The command line's own manners: --help / help [command], --version (one version, package.json's,
// which Health reports too), an unknown flag or word refused with the usage instead of starting a
// server, `health` against a live gateway (and plain-HTTP /healthz and /readyz, open without a
// key), `config check`, and start failures as one line. In-process through runCli where that is
// the same code path; as child processes for what only the entry point does (exit codes, EPIPE).
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/index.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { listenLocal } from "../helpers/loopback.js";
import { cli } from "./helpers.js";

const PKG = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
};

async function run(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await (runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l), env }) ??
    Promise.resolve(-1));
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("help, version and unknown arguments", () => {
  it("--version and -V print package.json's version", async () => {
    for (const flag of ["--version", "-V"]) {
      const r = await run([flag]);
      expect(r).toMatchObject({ code: 0, out: `llm-gateway ${PKG.version}` });
    }
  });

  it("--help lists the flags and the commands; help <command> and <command> --help show that command's", async () => {
    const top = await run(["--help"]);
    expect(top.code).toBe(0);
    for (const word of ["--config", "--port", "--host", "health", "config check", "keys", "usage"])
      expect(top.out).toContain(word);
    expect((await run(["help", "keys"])).out).toContain("usage: llm-gateway keys");
    expect((await run(["keys", "--help"])).out).toContain("usage: llm-gateway keys");
    expect((await run(["health", "--help"])).out).toContain("usage: llm-gateway health");
    expect((await run(["help", "config"])).out).toContain("config check");
  });

  it("an unknown flag, a stray word or a flag without its value is exit 2 with the usage, not a server", async () => {
    for (const [argv, msg] of [
      [["--bogus"], "unknown flag --bogus"],
      [["serve"], 'unknown command "serve"'],
      [["--port"], "--port needs a value"],
      [["--port", "8080", "--confg", "x.yaml"], "unknown flag --confg"],
    ] as const) {
      const r = await run([...argv]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(msg);
      expect(r.err).toContain("usage: llm-gateway [flags]");
    }
    expect((await run(["help", "nope"])).code).toBe(2);
  });

  it("the server's own flags are left to the server (runCli answers undefined)", () => {
    const io = { out: () => {}, err: () => {}, env: {} };
    expect(runCli(["--port", "0", "--log-level=warn", "--watch-config"], io)).toBeUndefined();
    expect(runCli([], io)).toBeUndefined();
  });
});

describe("health and the plain-HTTP probes", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    const sha = createHash("sha256").update("llmgw-probe-test-key-0123456789abcdef").digest("hex");
    gw = await startGateway({ yaml: `keys:\n  - { name: team, sha256: ${sha} }\n` });
  });
  afterAll(() => gw.close());

  it("/healthz and /readyz answer 200 SERVING without a key (keys are configured); other methods 405", async () => {
    for (const path of ["/healthz", "/readyz"]) {
      const r = await fetch(`${gw.url}${path}`);
      expect(r.status).toBe(200);
      expect(await r.json()).toEqual({ status: "SERVING" });
      expect(r.headers.get("cache-control")).toBe("no-store");
      expect((await fetch(`${gw.url}${path}`, { method: "POST" })).status).toBe(405);
    }
  });

  it("`health` (readiness) and `health --live` exit 0 and print SERVING", async () => {
    expect(await run(["health", "--url", gw.url])).toMatchObject({ code: 0, out: "SERVING" });
    expect(await run(["health", "--live"], { LLMGW_URL: gw.url })).toMatchObject({ code: 0, out: "SERVING" });
  });

  it("`health` against nothing listening exits 1 naming the failure; bad flags exit 2", async () => {
    const free = createServer();
    const port = await listenLocal(free);
    await new Promise<void>((r) => free.close(() => r()));
    const r = await run(["health"], { LLMGW_PORT: String(port) });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/unreachable: ECONNREFUSED/);
    expect((await run(["health", "--ready", "--live"])).code).toBe(2);
    expect((await run(["health", "--url", "not a url"])).code).toBe(2);
  });

  it("/readyz is 503 NOT_SERVING with the reason while draining, and `health` exits 1 saying why", async () => {
    const other = await startGateway();
    const draining = other.app.shutdown();
    try {
      const r = await fetch(`${other.url}/readyz`).catch(() => undefined);
      // Either the drain already closed the listener (nothing to probe) or readiness says why.
      if (r) {
        expect(r.status).toBe(503);
        expect(await r.json()).toEqual({ status: "NOT_SERVING", detail: "shutting down" });
      }
    } finally {
      await draining;
      await other.close();
    }
  });
});

describe("config check", () => {
  const dir = mkdtempSync(join(tmpdir(), "llmgw-config-check-"));

  it("a valid file: exit 0 with a summary that names providers, never their keys", async () => {
    const file = join(dir, "ok.yaml");
    writeFileSync(file, "models:\n  fast: { deployments: [{ target: mock/echo }] }\n");
    const r = await run(["config", "check", "--config", file], { OPENAI_API_KEY: "sk-config-check-SECRET" });
    expect(r.code).toBe(0);
    expect(r.out).toContain("config ok");
    expect(r.out).toContain("openai");
    expect(r.out).toContain("models: 1");
    expect(r.out + r.err).not.toContain("SECRET");
  });

  it("an invalid file: exit 2 naming the field", async () => {
    const file = join(dir, "bad.yaml");
    writeFileSync(file, "server:\n  port: -3\n");
    const r = await run(["config", "check", "--config", file]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("server.port");
    expect((await run(["config", "lint"])).code).toBe(2);
  });
});

describe("the admin key from a file (LLMGW_ADMIN_KEY_FILE, for Kubernetes Secrets)", () => {
  it("an unreadable file or both variables set is a usage error naming them, never the key", async () => {
    const missing = await run(["keys", "list"], { LLMGW_ADMIN_KEY_FILE: "/nonexistent/admin-key" });
    expect(missing.code).toBe(2);
    expect(missing.err).toContain("LLMGW_ADMIN_KEY_FILE");
    const dir = mkdtempSync(join(tmpdir(), "llmgw-admin-file-"));
    const file = join(dir, "key");
    writeFileSync(file, "llmgw-admin-SECRET-from-file\n");
    const both = await run(["keys", "list"], { LLMGW_ADMIN_KEY: "x", LLMGW_ADMIN_KEY_FILE: file });
    expect(both.code).toBe(2);
    expect(both.err).toContain("both set");
    expect(both.err).not.toContain("SECRET");
  });
});

describe("the entry point", () => {
  it("a port in use is one line and exit 1, no stack trace", async () => {
    const busy = createServer();
    const port = await listenLocal(busy);
    try {
      const r = await cli(["--port", String(port), "--log-level", "silent"]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe(
        `llm-gateway: cannot start 127.0.0.1:${port}: the address is already in use (another gateway or program listens there) (EADDRINUSE)`,
      );
    } finally {
      busy.close();
    }
  });

  it("`keys generate | head -1`: a pipe closed early ends quietly (exit 0, nothing on stderr)", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "keys", "generate"], {
      cwd: new URL("../..", import.meta.url).pathname,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    // Read one chunk, then close the pipe as `head -1` does.
    await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    expect(code).toBe(0);
    expect(stderr).not.toMatch(/EPIPE|Error/);
  });
});
