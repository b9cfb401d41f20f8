// `--workers N` at start: the flag / env / file and their checks, a port in use (one line, exit 1, no
// restart loop), and workers that crash in a loop (restarted with a doubling backoff, then the
// supervisor gives up with exit 1).
import { spawn } from "node:child_process";
import net from "node:net";
import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { checkServerArgs } from "../../src/cli/help.js";
import { ConfigError, loadConfig } from "../../src/config/index.js";
import { implementedTypes, presetInfo } from "../../src/providers/index.js";
import { ROOT } from "../e2e/helpers.js";
import { configFile, freePort } from "../limits/helpers.js";
import { Group, STARTUP_MS } from "./workers-group.js";

describe("--workers 2 start failures", () => {
  it(
    "workers that crash in a loop are restarted with a backoff, then the supervisor gives up (exit 1)",
    async () => {
      const proc = spawn(process.execPath, ["--import", "tsx", "test/server/workers-crash.fixture.ts"], {
        cwd: ROOT,
        env: { PATH: process.env["PATH"] ?? "", PORT: String(await freePort()) },
        stdio: ["ignore", "pipe", "pipe"],
      });
      const g = new Group(proc, "");
      expect(await g.exited).toBe(1);
      const restarts = g.lines("worker exited unexpectedly: restarting it");
      expect(restarts).toHaveLength(5);
      // The backoff doubles: 250, 500, 1000, 2000, 4000 ms.
      expect(restarts.map((l) => l["restart_in_ms"])).toEqual([250, 500, 1000, 2000, 4000]);
      expect(restarts.every((l) => l["code"] === 3)).toBe(true);
      const gaveUp = g.lines("workers crash in a loop: giving up (no more restarts); stopping");
      expect(gaveUp).toHaveLength(1);
      expect(gaveUp[0]?.["exits"]).toBe(6);
      expect(g.lines("every worker has exited")).toHaveLength(1);
    },
    STARTUP_MS,
  );

  it(
    "a port in use stops the start: one line, exit 1, no restart loop",
    async () => {
      const blocker = net.createServer();
      const port = await new Promise<number>((r) =>
        blocker.listen(0, "127.0.0.1", () => r((blocker.address() as net.AddressInfo).port)),
      );
      try {
        const g = Group.start(port, configFile("logging: { level: info }\n"));
        expect(await g.exited).toBe(1);
        expect(g.out).toContain("address is already in use");
        expect(g.lines("a worker failed to start: stopping").length).toBeGreaterThan(0);
        expect(g.lines("worker exited unexpectedly: restarting it")).toHaveLength(0);
      } finally {
        blocker.close();
      }
    },
    STARTUP_MS,
  );
});

describe("server.workers / --workers / LLMGW_WORKERS", () => {
  const workers = (argv: string[], env: Record<string, string> = {}, yaml?: string) =>
    loadConfig({
      argv: yaml ? [...argv, "--config", configFile(yaml)] : argv,
      env,
      presets: presetInfo,
      implementedTypes,
    }).server.workers;

  it("defaults to 1; the flag wins over the env, the env over the file; auto is one per core", () => {
    expect(workers([])).toBe(1);
    expect(workers([], {}, "server: { workers: 3 }\n")).toBe(3);
    expect(workers([], { LLMGW_WORKERS: "4" }, "server: { workers: 3 }\n")).toBe(4);
    expect(workers(["--workers", "2"], { LLMGW_WORKERS: "4" })).toBe(2);
    expect(workers(["--workers=auto"])).toBe(availableParallelism());
    expect(workers([], {}, "server: { workers: auto }\n")).toBe(availableParallelism());
    expect(() => checkServerArgs(["--workers", "2", "--port", "1"])).not.toThrow();
  });

  it("rejects a count that is not 1..256 or auto, naming the field", () => {
    for (const bad of ["0", "-1", "1.5", "many", "257"])
      expect(() => workers(["--workers", bad])).toThrow(/server\.workers/);
    expect(() => workers([], {}, "server: { workers: 0 }\n")).toThrow(ConfigError);
    expect(() => checkServerArgs(["--workers"])).toThrow(/--workers needs a value/);
  });
});
