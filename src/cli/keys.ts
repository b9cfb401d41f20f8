// `llm-gateway keys create [--name NAME]`: makes a new gateway key, prints it ONCE with its SHA-256
// digest and the `keys:` entry to paste into the config (which holds only the digest).
import { newKey } from "../auth/keys.js";
import { parseFlags } from "../config/load.js";

/** Runs a `keys` subcommand; returns the process exit code. */
export function keysCommand(args: readonly string[], out: (line: string) => void): number {
  const [sub, ...rest] = args;
  if (sub !== "create") {
    out("usage: llm-gateway keys create [--name NAME]");
    return 2;
  }
  const name = parseFlags(rest).get("name") ?? "my-service";
  const k = newKey();
  out(`key:    ${k.key}`);
  out(`sha256: ${k.sha256}`);
  out("");
  out("The key is shown only now; the gateway stores and needs only its digest. Add to the config:");
  out("keys:");
  out(`  - name: ${name}`);
  out(`    sha256: ${k.sha256}`);
  out(`    models: ["*"]`);
  out("    limits: { rpm: 600, tpm: 200000, concurrent: 20 }");
  return 0;
}
