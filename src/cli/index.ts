// The operator commands (`llm-gateway keys ...`, `llm-gateway usage ...`): dispatch from argv.
import { UsageError } from "./args.js";
import { type CliIo, errorLine } from "./client.js";
import { keysCommand } from "./keys.js";
import { usageCommand } from "./usage.js";

export type { CliIo } from "./client.js";

/**
 * Runs the command `argv` names (argv without node and the script); undefined when it names none.
 * A failure is one line on stderr and exit code 2 for bad usage, 1 for anything else.
 */
export function runCli(argv: readonly string[], io: CliIo): Promise<number> | undefined {
  const [cmd, ...rest] = argv;
  const command = cmd === "keys" ? keysCommand : cmd === "usage" ? usageCommand : undefined;
  return command?.(rest, io).catch((e: unknown) => {
    io.err(errorLine(e));
    return e instanceof UsageError ? 2 : 1;
  });
}
