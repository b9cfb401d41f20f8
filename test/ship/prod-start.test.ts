// The image's build steps, done for real in a temp folder: package*.json + `npm ci --omit=dev`
// (from the npm cache), the compiled dist/, then `node --max-semi-space-size=64 dist/src/main.js`
// as an unprivileged user with the image's env. It must serve, answer a chat call, pass its own
// `health --ready` probe, and exit 0 on SIGTERM — with no compiler or test tool installed.
import { spawn } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../helpers/wait.js";
import { collect, freePort, type Ran, REPO, run } from "./support.js";

const NOBODY = 65534;
const asNobody = ["--reuid=65534", "--regid=65534", "--clear-groups"];
let dir = "";
let port = 0;
let gateway: ReturnType<typeof collect> | undefined;
let pid = 0;

function imageEnv(): NodeJS.ProcessEnv {
  // The Dockerfile's ENV plus what any container has; nothing of this process's env (no keys).
  return {
    PATH: process.env["PATH"] ?? "/usr/bin:/bin",
    HOME: "/tmp",
    NODE_ENV: "production",
    LLMGW_HOST: "0.0.0.0",
    LLMGW_PORT: String(port),
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "llmgw-prod-"));
  chmodSync(dir, 0o755); // readable by the unprivileged user, like the image's root-owned /app
  for (const f of ["package.json", "package-lock.json"]) copyFileSync(join(REPO, f), join(dir, f));
  const [ci, tsc] = await Promise.all([
    run("npm", ["ci", "--omit=dev", "--prefer-offline", "--no-audit", "--no-fund"], { cwd: dir }),
    // The build stage's `npm run build` (tsconfig.build.json), written into the temp folder; the
    // emit only (--noCheck): type errors are `npm run typecheck`'s job, and checking costs a minute.
    run(join(REPO, "node_modules/.bin/tsc"), [
      "-p",
      "tsconfig.build.json",
      "--noCheck",
      "--outDir",
      join(dir, "dist"),
    ]),
  ]);
  expect(ci.code, `npm ci --omit=dev failed:\n${ci.stderr}`).toBe(0);
  expect(tsc.code, `tsc failed:\n${tsc.stdout}${tsc.stderr}`).toBe(0);
}, 480_000);

afterAll(async () => {
  if (gateway && gateway.out().code === null && gateway.out().signal === null) {
    process.kill(pid, "SIGKILL");
    await gateway.exited;
  }
  if (dir) await rm(dir, { recursive: true, force: true });
}, 120_000);

async function health(): Promise<Ran> {
  return run("setpriv", [...asNobody, process.execPath, "dist/src/main.js", "health", "--ready"], {
    cwd: dir,
    env: imageEnv(),
  });
}

describe("production start (the image's steps, without Docker)", () => {
  it("installs production dependencies only", () => {
    const modules = join(dir, "node_modules");
    for (const dev of ["typescript", "vitest", "@biomejs/biome", "dockerfile-ast", "openai"])
      expect(existsSync(join(modules, dev)), `${dev} is a devDependency`).toBe(false);
    for (const dep of ["@connectrpc/connect-node", "pino", "ioredis", "undici"])
      expect(existsSync(join(modules, dep, "package.json")), `${dep} is needed at run time`).toBe(true);
    expect(existsSync(join(dir, "dist/src/main.js"))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, "dist/package.json"), "utf8")).version).toMatch(
      /^\d+\.\d+\.\d+/,
    );
  });

  it("starts as an unprivileged user, serves a call, passes its health probe, and exits 0 on SIGTERM", async () => {
    port = await freePort();
    const child = spawn(
      "setpriv",
      [...asNobody, process.execPath, "--max-semi-space-size=64", "dist/src/main.js"],
      { cwd: dir, env: imageEnv(), stdio: ["ignore", "pipe", "pipe"] },
    );
    gateway = collect(child);
    pid = child.pid ?? 0;
    const base = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, {
      what: `GET /readyz on the production start (stderr: ${gateway.out().stderr.slice(0, 500)})`,
      timeoutMs: 60_000,
      everyMs: 50,
    });

    // setpriv execs node: the serving process itself runs as nobody.
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    expect(status).toMatch(new RegExp(`^Uid:\\s+${NOBODY}\\s+${NOBODY}`, "m"));
    // LLMGW_HOST=0.0.0.0: bound on every interface, as a container needs.
    expect(gateway.out().stdout).toMatch(/"msg":"listening"|listening/);
    expect(gateway.out().stdout).toContain("0.0.0.0");

    const res = await fetch(`${base}/llmgateway.v1.LLMService/Chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "mock/echo",
        messages: [{ role: "ROLE_USER", content: [{ text: "hello" }] }],
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { provider: string; message: { content: { text: string }[] } };
    expect(body.provider).toBe("mock");
    expect(body.message.content[0]?.text).toBe("echo: hello");

    const probe = await health(); // what the image's HEALTHCHECK runs
    expect(probe.code, probe.stderr).toBe(0);
    expect(probe.stdout.trim()).toBe("SERVING");

    process.kill(pid, "SIGTERM");
    const end = await gateway.exited;
    expect(end.signal).toBeNull();
    expect(end.code).toBe(0);
    const after = await health();
    expect(after.code).toBe(1);
    expect(after.stderr).toContain("unreachable");
  }, 120_000);
});
