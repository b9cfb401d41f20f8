// Shared by the test/ship suites: repo paths, a free port, a child process's exit, and the
// gateway's own config loader run on the deploy files (so they are checked as the gateway reads them).
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type GatewayConfig, loadConfig } from "../../src/config/index.js";
import { implementedTypes, presetInfo } from "../../src/providers/index.js";
import { listenLocal } from "../helpers/loopback.js";

export const REPO = fileURLToPath(new URL("../..", import.meta.url));
export const repoPath = (rel: string): string => join(REPO, rel);

/** A port free right now on this machine (the kernel's pick, released at once). */
export async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listenLocal(server);
  server.close();
  await once(server, "close");
  return port;
}

/** Loads a config file (or YAML text) with the gateway's own loader and the given env only. */
export function loadGatewayConfig(
  source: { file: string } | { text: string },
  env: Record<string, string>,
): GatewayConfig {
  let file: string;
  if ("file" in source) file = source.file;
  else {
    file = join(mkdtempSync(join(tmpdir(), "llmgw-ship-")), "gateway.yaml");
    writeFileSync(file, source.text);
  }
  return loadConfig({ argv: ["--config", file], env, presets: presetInfo, implementedTypes });
}

export interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Collects a child's output; `exited` resolves when it ends. */
export function collect(child: ChildProcess): { out: () => Ran; exited: Promise<Ran> } {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (b: Buffer) => {
    stdout += b.toString("utf8");
  });
  child.stderr?.on("data", (b: Buffer) => {
    stderr += b.toString("utf8");
  });
  const out = (): Ran => ({ code: child.exitCode, signal: child.signalCode, stdout, stderr });
  const exited = once(child, "close").then(() => out());
  return { out, exited };
}

/** Runs a command to its end (no shell). */
export function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Ran> {
  const child = spawn(cmd, args, {
    cwd: opts.cwd ?? REPO,
    env: opts.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  return collect(child).exited;
}
