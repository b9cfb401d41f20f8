#!/usr/bin/env -S node --max-semi-space-size=64
// Entry point: operator commands (keys, usage: src/cli), else config -> app -> listen -> graceful
// shutdown on SIGTERM / SIGINT.
import { CatalogError } from "./catalog/index.js";
import { runCli } from "./cli/index.js";
import { ConfigError, loadConfig, watchFile } from "./config/index.js";
import { parseFlags } from "./config/load.js";
import { createLogger } from "./lib/logger.js";
import { implementedTypes, presetInfo } from "./providers/index.js";
import { startApp } from "./server/app.js";
import { runSupervisor } from "./server/cluster.js";
import { installWorker, isWorker, workerSlot } from "./server/cluster-worker.js";

/** The config from the file, LLMGW_* env and flags (at start and on SIGHUP). */
function load(): ReturnType<typeof loadConfig> {
  return loadConfig({ argv: process.argv.slice(2), env: process.env, presets: presetInfo, implementedTypes });
}

/** A start failure the operator can act on, as one line (no stack trace): a port in use, say. */
function startFailure(e: unknown): string | undefined {
  const err = e as { code?: unknown; address?: unknown; port?: unknown; message?: unknown };
  if (typeof err?.code !== "string" || !/^E[A-Z]+$/.test(err.code)) return undefined;
  const where = typeof err.port === "number" ? ` ${String(err.address ?? "")}:${err.port}` : "";
  const what: Record<string, string> = {
    EADDRINUSE: "the address is already in use (another gateway or program listens there)",
    EACCES: "permission denied (ports below 1024 need privileges)",
    EADDRNOTAVAIL: "the address is not available on this machine",
    ENOENT: "a file named in the config does not exist",
  };
  return `llm-gateway: cannot start${where}: ${what[err.code] ?? String(err.message)} (${err.code})`;
}

/**
 * Exits once the asynchronous log stream has written its last lines ("stopped", a worker's
 * farewell); a stream that never reports back does not keep the process: 1 s at most.
 */
function exitAfterLogs(log: ReturnType<typeof createLogger>, code: number): void {
  setTimeout(() => process.exit(code), 1000).unref();
  log.flush(() => process.exit(code));
}

async function main(): Promise<void> {
  // `llm-gateway keys generate | head -2`: a closed pipe ends the output, not in a crash.
  for (const s of [process.stdout, process.stderr]) {
    s.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
  const cli = runCli(process.argv.slice(2), {
    out: (l) => console.log(l),
    err: (l) => console.error(l),
    env: process.env,
  });
  if (cli) {
    process.exitCode = await cli;
    return;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = load();
  } catch (e: unknown) {
    if (e instanceof ConfigError) {
      console.error(`llm-gateway: ${e.message}`);
      process.exit(2);
    }
    throw e;
  }
  const log = createLogger(config.logging.level);
  // --workers N: this process supervises N gateway workers on the one port (src/server/cluster.ts).
  if (config.server.workers > 1 && !isWorker()) {
    exitAfterLogs(log, await runSupervisor({ config, log, load }));
    return;
  }
  if (isWorker()) {
    installWorker();
    log.setBindings({ worker: workerSlot(), pid: process.pid });
  }
  let app: Awaited<ReturnType<typeof startApp>>;
  try {
    app = await startApp(config, log);
  } catch (e: unknown) {
    // A catalog or server.tls file the gateway cannot use (read at start, not by loadConfig).
    if (e instanceof CatalogError || e instanceof ConfigError) {
      console.error(`llm-gateway: invalid configuration: ${e.message}`);
      process.exit(2);
    }
    const line = startFailure(e);
    if (line) {
      console.error(line);
      exitAfterLogs(log, 1);
      return;
    }
    throw e;
  }
  const stop = (signal: string) => {
    log.info({ signal }, "signal received");
    app.shutdown().then(
      () => exitAfterLogs(log, 0),
      (e: unknown) => {
        log.error({ err: e instanceof Error ? e.message : String(e) }, "shutdown failed");
        exitAfterLogs(log, 1);
      },
    );
  };
  // SIGHUP (or, with --watch-config, a change of the file): reload the config the same way it was
  // loaded (file, LLMGW_* env, flags); a bad one is rejected with a log line naming the field and
  // the running config stays.
  const reload = (why: string) => {
    log.info({ config: config.configPath || undefined, why }, "reloading the config");
    let next: ReturnType<typeof loadConfig>;
    try {
      next = load();
    } catch (e: unknown) {
      const msg = e instanceof Error ? e.message : String(e);
      log.error({ err: msg }, "config reload rejected; the running config stays");
      return;
    }
    app.reload(next);
  };
  process.on("SIGHUP", () => reload("SIGHUP"));
  const watching =
    parseFlags(process.argv.slice(2)).get("watch-config") === "true" ||
    process.env["LLMGW_WATCH_CONFIG"] === "1";
  if (watching && config.configPath) watchFile(config.configPath, () => reload("file changed"), log);
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
}

main().catch((e: unknown) => {
  console.error("llm-gateway: failed to start:", e);
  process.exit(1);
});
