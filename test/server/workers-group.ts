// A gateway started as `node --import tsx src/main.ts --workers 2 ...` (or any script), its output
// collected and its JSON log lines searchable: for test/server/workers*.test.ts.
import { type ChildProcess, spawn } from "node:child_process";
import { ROOT } from "../e2e/helpers.js";

/** How long a group of workers may take to start on a loaded machine (tsx compiles per process). */
export const STARTUP_MS = 120_000;

/** A primary started with --workers 2, its output collected. */
export class Group {
  out = "";
  readonly exited: Promise<number | null>;
  constructor(
    readonly proc: ChildProcess,
    readonly url: string,
  ) {
    for (const s of [proc.stdout, proc.stderr])
      s?.on("data", (b: Buffer) => (this.out += b.toString("utf8")));
    this.exited = new Promise((r) => proc.once("exit", (code) => r(code)));
  }
  static start(port: number, config: string): Group {
    const proc = spawn(
      process.execPath,
      ["--import", "tsx", "src/main.ts", "--workers", "2", "--port", String(port), "--config", config],
      { cwd: ROOT, env: { PATH: process.env["PATH"] ?? "" }, stdio: ["ignore", "pipe", "pipe"] },
    );
    return new Group(proc, `http://127.0.0.1:${port}`);
  }
  /** Log lines (JSON) with this msg. */
  lines(msg: string): Record<string, unknown>[] {
    return this.out
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l["msg"] === msg);
  }
}
