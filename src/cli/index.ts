// The operator commands (`llm-gateway keys ...`, `llm-gateway usage ...`): dispatch from argv.
import type { CliIo } from "./client.js";
import { keysCommand } from "./keys.js";
import { usageCommand } from "./usage.js";

export type { CliIo } from "./client.js";

/** Runs the command `argv` names (argv without node and the script); undefined when it names none. */
export function runCli(argv: readonly string[], io: CliIo): Promise<number> | undefined {
  const [cmd, ...rest] = argv;
  if (cmd === "keys") return keysCommand(rest, io);
  if (cmd === "usage") return usageCommand(rest, io);
  return undefined;
}
