// Child processes for the benchmark: pinned to a core with taskset, stdout/stderr forwarded to
// our stderr (stdout is reserved for the result JSON), all killed when this process exits.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

const children = new Set<ChildProcess>();

/** Kills every child still running (SIGKILL: the benchmark needs no graceful drain). */
export function killAll(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  children.clear();
}

process.on("exit", killAll);
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
}

/** Pins this process (all its threads) to `core`; threads created later inherit it. */
export function pinSelf(core: number): void {
  execFileSync("taskset", ["-a", "-cp", String(core), String(process.pid)], { stdio: "ignore" });
}

/** A free loopback port (tiny race between closing and the child binding; fine on a bench box). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** A started child and a promise that rejects if it dies early. */
export interface Child {
  name: string;
  proc: ChildProcess;
  died: Promise<never>;
}

/**
 * The V8 flags `npm start` runs the gateway with (package.json). Every Node process the bench
 * compares gets the same ones, so the figures compare code, not runtime settings.
 */
export const RUNTIME_FLAGS: readonly string[] = (() => {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    scripts: { start: string };
  };
  const m = /\bnode ((?:--\S+ )*)dist\/src\/main\.js/.exec(pkg.scripts.start);
  return m?.[1] ? m[1].trim().split(" ") : [];
})();

/** Starts `node <script> ...args` pinned to `core` (through tsx for a .ts script), with RUNTIME_FLAGS. */
export function startPinned(
  name: string,
  core: number,
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Child {
  const loader = script.endsWith(".ts") ? ["--import", "tsx"] : [];
  const node = [process.execPath, ...RUNTIME_FLAGS, ...loader];
  const proc = spawn("taskset", ["-c", String(core), ...node, script, ...args], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(proc);
  const tail: string[] = [];
  const forward = (buf: Buffer) => {
    const text = buf.toString("utf8");
    tail.push(text);
    if (tail.length > 20) tail.shift();
    if (text.trim() !== "ready") process.stderr.write(`[${name}] ${text}`);
  };
  proc.stdout?.on("data", forward);
  proc.stderr?.on("data", forward);
  const died = new Promise<never>((_, reject) => {
    proc.once("exit", (code, signal) => {
      children.delete(proc);
      reject(new Error(`${name} exited (${signal ?? code}):\n${tail.join("")}`));
    });
  });
  died.catch(() => {}); // observed by waitReady; avoid an unhandled rejection at normal shutdown
  return { name, proc, died };
}

/** Polls `probe` until it resolves true (or the child dies, or `timeoutMs` passes). */
export async function waitReady(
  child: Child,
  probe: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const poll = async (): Promise<void> => {
    while (Date.now() < deadline) {
      if (await probe().catch(() => false)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${child.name} not ready after ${timeoutMs} ms`);
  };
  await Promise.race([poll(), child.died]);
}
