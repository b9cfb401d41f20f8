// `llm-gateway usage`: usage per key, model and UTC day from AdminService.GetUsage, with totals.
import { toJson } from "@bufbuild/protobuf";
import { GetUsageResponseSchema } from "../../gen/llmgateway/v1/admin_pb.js";
import { parseArgs, UsageError } from "./args.js";
import { adminClient, CLIENT_FLAGS, type CliIo, DEFAULT_URL } from "./client.js";
import { usd } from "./keys.js";
import { table } from "./table.js";

export const USAGE_USAGE = [
  "usage: llm-gateway usage [--key NAME] [--model PROVIDER/MODEL] [--from YYYY-MM-DD] [--to YYYY-MM-DD]",
  "                         [--json] [--url URL] [--admin-key KEY]",
  "  per key, model and UTC day: calls, errors, cache hits, tokens, cost; --from / --to are UTC days, included",
  `  --url (default: $LLMGW_URL, else ${DEFAULT_URL}); the admin key from $LLMGW_ADMIN_KEY or --admin-key`,
];

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Runs `llm-gateway usage ...`; resolves to the process exit code. */
export async function usageCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const a = parseArgs(argv, ["json", "help"], ["key", "model", "from", "to", ...CLIENT_FLAGS]);
  if (a.flags.has("help") || a.positionals.length > 0) {
    for (const l of USAGE_USAGE) io.err(l);
    return 2;
  }
  const from = a.flags.get("from");
  const to = a.flags.get("to");
  for (const [f, v] of [
    ["from", from],
    ["to", to],
  ] as const)
    if (v !== undefined && !DAY.test(v)) throw new UsageError(`--${f}: "${v}" is not YYYY-MM-DD`);
  const res = await adminClient(a, io).getUsage({
    key: a.flags.get("key") ?? "",
    model: a.flags.get("model") ?? "",
    from: from ? { case: "fromDay", value: from } : { case: undefined },
    to: to ? { case: "toDay", value: to } : { case: undefined },
  });
  if (a.flags.has("json")) {
    io.out(JSON.stringify(toJson(GetUsageResponseSchema, res), null, 2));
    return 0;
  }
  const rows = [["DAY", "KEY", "MODEL", "CALLS", "ERRORS", "CACHE_HITS", "INPUT", "OUTPUT", "COST"]];
  for (const r of res.rows) {
    rows.push([
      r.day,
      r.key,
      r.model,
      String(r.calls),
      String(r.errors),
      String(r.cacheHits),
      String(r.inputTokens),
      String(r.outputTokens),
      usd(r.costUsd),
    ]);
  }
  const t = res.totals;
  if (t) {
    rows.push([
      "TOTAL",
      "",
      "",
      String(t.calls),
      String(t.errors),
      String(t.cacheHits),
      String(t.inputTokens),
      String(t.outputTokens),
      usd(t.costUsd),
    ]);
  }
  for (const l of table(rows)) io.out(l);
  return 0;
}
