// `llm-gateway config check`: loads the config exactly as the server would (file, LLMGW_* env,
// provider keys, catalog overrides) and reports the first problem naming the field, without
// starting anything. Secrets are never printed: the summary names providers, not their keys.
import { CatalogError, loadCatalog } from "../catalog/index.js";
import { ConfigError, loadConfig } from "../config/index.js";
import { implementedTypes, presetInfo } from "../providers/index.js";
import { parseArgs, UsageError } from "./args.js";
import type { CliIo } from "./client.js";

export async function configCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== "check")
    throw new UsageError(`unknown config command "${sub ?? ""}" (usage: llm-gateway config check)`);
  const a = parseArgs(rest, [], ["config"]);
  if (a.positionals.length > 0)
    throw new UsageError(`config check takes no argument ("${a.positionals[0]}")`);
  const file = a.flags.get("config");
  try {
    const config = loadConfig({
      argv: file === undefined ? [] : ["--config", file],
      env: io.env,
      presets: presetInfo,
      implementedTypes,
    });
    loadCatalog(config.file.catalog);
    const providers =
      config.providers
        .map((p) => p.name)
        .sort()
        .join(", ") || "none";
    io.out(`config ok: ${config.configPath || "no file (flags and env only)"}`);
    io.out(`  listen ${config.server.host}:${config.server.port}; providers: ${providers}`);
    io.out(
      `  models: ${config.models.size}; keys: ${config.file.keys?.length ?? 0}; redis: ${config.redisUrl ? "yes" : "no"}`,
    );
    return 0;
  } catch (e: unknown) {
    if (e instanceof ConfigError || e instanceof CatalogError) {
      io.err(`llm-gateway: invalid configuration: ${e.message}`);
      return 2;
    }
    throw e;
  }
}
