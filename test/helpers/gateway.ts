// Test harness: starts a real gateway (in this process, on port 0) from env / YAML, with every
// log line captured for assertions (secret scans, one line per call).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { loadConfig } from "../../src/config/index.js";
import { createLogger } from "../../src/lib/logger.js";
import { implementedTypes, presetInfo } from "../../src/providers/index.js";
import { type App, startApp } from "../../src/server/app.js";

/** A started gateway and its captured logs. */
export interface TestGateway {
  app: App;
  url: string;
  port: number;
  /** Every log line written so far, raw JSON text. */
  logs: string[];
  close(): Promise<void>;
}

/** Starts a gateway. `yaml` becomes a config file; `env` replaces the process environment. */
export async function startGateway(
  opts: { env?: Record<string, string>; yaml?: string; argv?: string[] } = {},
): Promise<TestGateway> {
  const argv = ["--port", "0", ...(opts.argv ?? [])];
  if (opts.yaml !== undefined) {
    const dir = mkdtempSync(join(tmpdir(), "llmgw-"));
    const file = join(dir, "config.yaml");
    writeFileSync(file, opts.yaml);
    argv.push("--config", file);
  }
  const config = loadConfig({ argv, env: opts.env ?? {}, presets: presetInfo, implementedTypes });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString("utf8").split("\n")) if (line) logs.push(line);
      cb();
    },
  });
  const log = createLogger("debug", sink);
  const app = await startApp(config, log);
  return { app, url: app.url, port: app.port, logs, close: () => app.shutdown(2000) };
}
