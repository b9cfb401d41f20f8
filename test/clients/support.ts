// Shared by the client tests: a real gateway with one API key (limited to a few requests per
// minute, so a client can show RetryInfo), and a runner for a client process that prints one JSON
// object as its last stdout line.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startGateway, type TestGateway } from "../helpers/gateway.js";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const CLIENT_KEY = "llmgw-clients-test-key-cccccccccccccccccc";
const run = promisify(execFile);

/** A gateway whose only key is CLIENT_KEY with `rpm` requests per minute. */
export function clientGateway(rpm = 8): Promise<TestGateway> {
  const sha = createHash("sha256").update(CLIENT_KEY).digest("hex");
  return startGateway({ yaml: `keys:\n  - { name: client, sha256: ${sha}, limits: { rpm: ${rpm} } }\n` });
}

/** Throws, naming the Debian packages to install, when a tool is missing (tests fail, never skip). */
export function requireTools(tools: Record<string, string>): void {
  const missing = Object.entries(tools).filter(([path]) => !existsSync(path));
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map(([, pkg]) => pkg))].join(" ");
    throw new Error(`missing ${missing.map(([p]) => p).join(", ")} — run \`apt-get install -y ${pkgs}\``);
  }
}

export interface Ran {
  json: unknown;
  stdout: string;
  stderr: string;
}

/** Runs a command; its last stdout line must be a JSON object. A failure carries both outputs. */
export async function runJson(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Ran> {
  const out = await run(cmd, args, {
    cwd: opts.cwd ?? ROOT,
    timeout: opts.timeoutMs ?? 60_000,
    env: { PATH: "/usr/bin:/bin", LANG: "C.UTF-8", ...opts.env },
    maxBuffer: 16 * 1024 * 1024,
  }).catch((e: unknown) => {
    const err = e as { message?: string; stdout?: string; stderr?: string };
    throw new Error(
      `${cmd} failed: ${err.message ?? String(e)}\nstdout: ${err.stdout}\nstderr: ${err.stderr}`,
    );
  });
  const last = out.stdout.trim().split("\n").at(-1) ?? "";
  let json: unknown;
  try {
    json = JSON.parse(last);
  } catch {
    throw new Error(`${cmd}: last stdout line is not JSON:\n${out.stdout}\nstderr: ${out.stderr}`);
  }
  return { json, stdout: out.stdout, stderr: out.stderr };
}
