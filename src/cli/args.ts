// Command-line arguments of the operator commands: positionals, `--flag value` / `--flag=value`, and
// boolean switches that never take a value (so `--json NAME` keeps NAME a positional).
/** Parsed arguments. */
export interface Args {
  positionals: string[];
  flags: Map<string, string>;
}

/** Thrown for a usage mistake: the CLI prints it and exits 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Parses `argv`; `switches` are flags without a value, `valued` those with one. Anything else is an error. */
export function parseArgs(
  argv: readonly string[],
  switches: readonly string[],
  valued: readonly string[],
): Args {
  const positionals: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (!arg.startsWith("--")) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    if (switches.includes(name)) {
      if (eq > 0) throw new UsageError(`--${name} takes no value`);
      flags.set(name, "true");
    } else if (valued.includes(name)) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      flags.set(name, value);
    } else throw new UsageError(`unknown flag --${name}`);
  }
  return { positionals, flags };
}

/** A whole number >= 0 from a flag, or undefined when the flag is absent. */
export function intFlag(a: Args, name: string): number | undefined {
  const v = a.flags.get(name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name}: "${v}" is not a whole number`);
  return Number(v);
}

/** A positive number from a flag, or undefined when the flag is absent. */
export function numberFlag(a: Args, name: string): number | undefined {
  const v = a.flags.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n <= 0)
    throw new UsageError(`--${name}: "${v}" is not a number > 0`);
  return n;
}

/** A comma-separated list from a flag ("a,b"), or undefined when the flag is absent. */
export function listFlag(a: Args, name: string): string[] | undefined {
  const v = a.flags.get(name);
  if (v === undefined) return undefined;
  return v
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}
