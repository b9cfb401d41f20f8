// `llm-gateway --help` / `help [command]`, `--version`, and the check of the server's own flags:
// an unknown command or flag is a usage error with the usage, never a server started by accident.
import { VERSION } from "../version.js";
import { UsageError } from "./args.js";
import { KEYS_USAGE } from "./keys.js";
import { USAGE_USAGE } from "./usage.js";

export const SERVER_USAGE = [
  "usage: llm-gateway [flags]            run the gateway",
  "       llm-gateway <command> [flags]  run an operator command",
  "",
  "flags (each also an LLMGW_* variable; flags win):",
  "  --config FILE            YAML config (LLMGW_CONFIG)",
  "  --host HOST              listen address, default 127.0.0.1 (LLMGW_HOST; the image sets 0.0.0.0)",
  "  --port N                 listen port, default 8080 (LLMGW_PORT)",
  "  --log-level LEVEL        trace|debug|info|warn|error|fatal|silent, default info (LLMGW_LOG_LEVEL)",
  "  --shutdown-grace-ms N    drain time on SIGTERM (LLMGW_SHUTDOWN_GRACE_MS)",
  "  --workers N|auto         gateway processes on the one port, default 1 (LLMGW_WORKERS)",
  "  --watch-config           reload when the config file changes (as on SIGHUP)",
  "  --help, -h               this help;  --version, -V  the version",
  "",
  "commands:",
  "  health [--ready|--live] [--url URL]   probe a running gateway (exit 0 = ok)",
  "  config check [--config FILE]          validate a config and the env it reads, then exit",
  "  keys ...                              gateway keys (llm-gateway help keys)",
  "  usage ...                             usage and spend (llm-gateway help usage)",
  "  help [command]                        help for a command",
];

export const HEALTH_USAGE = [
  "usage: llm-gateway health [--ready|--live] [--url URL] [--timeout-ms N]",
  "  Asks a running gateway GET /readyz (--ready, the default) or /healthz (--live).",
  "  Prints SERVING, or NOT_SERVING and why; exit 0 when serving, 1 when not or unreachable.",
  "  --url  the gateway, default LLMGW_URL, else http://127.0.0.1 on LLMGW_PORT (default 8080)",
];

export const CONFIG_USAGE = [
  "usage: llm-gateway config check [--config FILE]",
  "  Loads the config as the server would (file, LLMGW_* env, provider keys, the catalog) and",
  "  prints a summary, or the first problem naming the field; exit 0 when valid, 2 when not.",
];

const PER_COMMAND: Record<string, readonly string[]> = {
  keys: KEYS_USAGE,
  usage: USAGE_USAGE,
  health: HEALTH_USAGE,
  config: CONFIG_USAGE,
};

/** The help text for `command` (the server's when none); a UsageError for an unknown one. */
export function helpText(command: string | undefined): readonly string[] {
  if (command === undefined || command === "help") return SERVER_USAGE;
  const usage = PER_COMMAND[command];
  if (!usage) throw new UsageError(`unknown command "${command}" (llm-gateway --help lists them)`);
  return usage;
}

export const VERSION_LINE = `llm-gateway ${VERSION}`;

/** The server's flags: valued ones, and switches that never take a value. */
const SERVER_VALUED = ["config", "host", "port", "log-level", "shutdown-grace-ms", "workers"];
const SERVER_SWITCHES = ["watch-config"];

/** Throws a UsageError for anything in `argv` the server does not take (it then never starts). */
export function checkServerArgs(argv: readonly string[]): void {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (!arg.startsWith("--"))
      throw new UsageError(`unknown command "${arg}" (llm-gateway --help lists them)`);
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    if (SERVER_SWITCHES.includes(name)) {
      const next = argv[i + 1];
      // `--watch-config true|false` is accepted as the loader reads it.
      if (eq < 0 && (next === "true" || next === "false")) i++;
      continue;
    }
    if (!SERVER_VALUED.includes(name))
      throw new UsageError(`unknown flag --${name} (llm-gateway --help lists them)`);
    if (eq < 0) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("--")) throw new UsageError(`--${name} needs a value`);
      i++;
    }
  }
}
