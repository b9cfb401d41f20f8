// The command line: operator commands (`keys`, `usage`, `health`, `config check`), `--help` /
// `help [command]` and `--version`, dispatched from argv; anything else is the server's flags,
// checked before it starts (an unknown flag or word is a usage error, never a server on 8080).
import { UsageError } from "./args.js";
import { type CliIo, errorLine } from "./client.js";
import { configCommand } from "./config-check.js";
import { healthCommand } from "./health.js";
import { checkServerArgs, helpText, SERVER_USAGE, VERSION_LINE } from "./help.js";
import { keysCommand } from "./keys.js";
import { usageCommand } from "./usage.js";

export type { CliIo } from "./client.js";

type Command = (argv: readonly string[], io: CliIo) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  keys: keysCommand,
  usage: usageCommand,
  health: healthCommand,
  config: configCommand,
  help: async (argv, io) => {
    for (const l of helpText(argv[0])) io.out(l);
    return 0;
  },
};

/** Whether argv asks for help or the version anywhere (`llm-gateway --port 1 --help` helps too). */
function meta(argv: readonly string[]): "help" | "version" | undefined {
  if (argv.some((a) => a === "--help" || a === "-h")) return "help";
  if (argv.some((a) => a === "--version" || a === "-V" || a === "-v")) return "version";
  return undefined;
}

/**
 * Runs the command `argv` names (argv without node and the script); undefined when argv is the
 * server's own flags (the caller starts the server). A failure is one line on stderr and exit code
 * 2 for bad usage (with the usage for an unknown flag or command), 1 for anything else.
 */
export function runCli(argv: readonly string[], io: CliIo): Promise<number> | undefined {
  const [cmd, ...rest] = argv;
  const command = cmd === undefined ? undefined : COMMANDS[cmd];
  const asked = meta(argv);
  if (command && asked === "help") return COMMANDS.help?.([cmd ?? ""], io);
  if (!command && asked === "help") return COMMANDS.help?.([], io);
  if (asked === "version") {
    io.out(VERSION_LINE);
    return Promise.resolve(0);
  }
  if (!command) {
    try {
      checkServerArgs(argv);
    } catch (e: unknown) {
      io.err(errorLine(e));
      for (const l of SERVER_USAGE) io.err(l);
      return Promise.resolve(2);
    }
    return undefined;
  }
  return command(rest, io).catch((e: unknown) => {
    io.err(errorLine(e));
    return e instanceof UsageError ? 2 : 1;
  });
}
