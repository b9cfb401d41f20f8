// `llm-gateway keys ...`: create, list, revoke and update gateway keys through AdminService, plus two
// offline helpers: `generate` (a key and the config entry to paste) and `admin-key`.
import { toJson } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import {
  BudgetPeriod,
  CreateKeyResponseSchema,
  type KeyInfo,
  KeyInfoSchema,
  KeySource,
  ListKeysResponseSchema,
  UpdateKeyRequestSchema,
} from "../../gen/llmgateway/v1/admin_pb.js";
import { newKey } from "../auth/index.js";
import { create } from "../lib/create.js";
import { type Args, intFlag, listFlag, numberFlag, parseArgs, UsageError } from "./args.js";
import { adminClient, CLIENT_FLAGS, type CliIo, DEFAULT_URL } from "./client.js";
import { table } from "./table.js";

export const KEYS_USAGE = [
  "usage: llm-gateway keys <command> [flags]",
  "  keys create --name NAME [--models a,b] [--rpm N] [--tpm N] [--concurrent N]",
  "              [--budget-usd USD --budget-period day|week|month]",
  "                                  prints the new key once",
  "  keys list [--include-revoked]",
  "  keys revoke NAME",
  "  keys update NAME [--models a,b] [--rpm N] [--tpm N] [--concurrent N]",
  "              [--budget-usd USD] [--budget-period day|week|month] [--clear-budget]",
  "                                  only the given fields change; 0 removes a limit",
  "  keys generate [--name NAME]     offline: a key and the config entry to paste (no server)",
  "  keys admin-key                  offline: a new admin key and its sha256 for auth.admin_sha256",
  "server commands talk to AdminService:",
  `  --url URL          the gateway (default: $LLMGW_URL, else ${DEFAULT_URL})`,
  "  --admin-key KEY    the admin key (default: $LLMGW_ADMIN_KEY, preferred: flags show in ps)",
  "  --json             machine-readable output (protobuf JSON)",
];

const LIMIT_FLAGS = ["models", "rpm", "tpm", "concurrent", "budget-usd", "budget-period"] as const;

const PERIODS: Record<string, BudgetPeriod> = {
  day: BudgetPeriod.DAY,
  week: BudgetPeriod.WEEK,
  month: BudgetPeriod.MONTH,
};

const PERIOD_NAMES: Record<BudgetPeriod, string> = {
  [BudgetPeriod.UNSPECIFIED]: "?",
  [BudgetPeriod.DAY]: "day",
  [BudgetPeriod.WEEK]: "week",
  [BudgetPeriod.MONTH]: "month",
};

function period(a: Args): BudgetPeriod | undefined {
  const p = a.flags.get("budget-period");
  if (p === undefined) return undefined;
  const v = PERIODS[p.toLowerCase()];
  if (v === undefined) throw new UsageError(`--budget-period: "${p}" is not day, week or month`);
  return v;
}

/** USD for people: cents for larger sums, up to micro-dollars for small ones. */
export function usd(n: number): string {
  return n >= 100 ? `$${n.toFixed(2)}` : `$${Number(n.toFixed(6))}`;
}

const day = (t: Parameters<typeof timestampDate>[0] | undefined) =>
  t ? timestampDate(t).toISOString().slice(0, 10) : "-";

function limitsText(k: KeyInfo): string {
  const l = k.limits;
  const parts = [
    l?.rpm ? `rpm=${l.rpm}` : "",
    l?.tpm ? `tpm=${l.tpm}` : "",
    l?.concurrent ? `concurrent=${l.concurrent}` : "",
  ];
  return parts.filter((p) => p).join(" ") || "-";
}

function budgetText(k: KeyInfo): string {
  if (!k.budget) return "-";
  return `${usd(k.budget.usd)}/${PERIOD_NAMES[k.budget.period]}`;
}

/** The key table: one row per key. */
export function keyTable(keys: readonly KeyInfo[]): string[] {
  const rows = [["NAME", "SOURCE", "DIGEST", "MODELS", "LIMITS", "BUDGET", "SPENT", "STATUS", "CREATED"]];
  for (const k of keys) {
    rows.push([
      k.name,
      k.source === KeySource.CONFIG ? "config" : "runtime",
      k.digestPrefix,
      k.models.length ? k.models.join(",") : "*",
      limitsText(k),
      budgetText(k),
      k.spend ? usd(k.spend.spentUsd) : "-",
      k.revoked ? `revoked ${day(k.revokeTime)}` : "live",
      day(k.createTime),
    ]);
  }
  return table(rows);
}

const json = (io: CliIo, v: unknown) => io.out(JSON.stringify(v, null, 2));

/** `keys generate`: offline, the old `keys create`. */
function generate(a: Args, io: CliIo): number {
  const name = a.flags.get("name") ?? "my-service";
  const k = newKey();
  io.out(`key:    ${k.key}`);
  io.out(`sha256: ${k.sha256}`);
  io.out("");
  io.out("The key is shown only now; the gateway stores and needs only its digest. Add to the config:");
  io.out("keys:");
  io.out(`  - name: ${name}`);
  io.out(`    sha256: ${k.sha256}`);
  io.out(`    models: ["*"]`);
  io.out("    limits: { rpm: 600, tpm: 200000, concurrent: 20 }");
  return 0;
}

/** `keys admin-key`: offline, a new admin key and the digest for auth.admin_sha256. */
function adminKey(io: CliIo): number {
  const k = newKey();
  io.out(`admin key: ${k.key}`);
  io.out(`sha256:    ${k.sha256}`);
  io.out("");
  io.out("The admin key is shown only now. Give it to operators (LLMGW_ADMIN_KEY) and set in the config:");
  io.out("auth:");
  io.out(`  admin_sha256: ${k.sha256}   # or LLMGW_ADMIN_KEY_SHA256=${k.sha256}`);
  return 0;
}

async function createKey(a: Args, io: CliIo): Promise<number> {
  const name = a.flags.get("name") ?? a.positionals[0];
  if (!name) throw new UsageError("keys create: --name is required");
  const usdLimit = numberFlag(a, "budget-usd");
  const p = period(a);
  if ((usdLimit === undefined) !== (p === undefined))
    throw new UsageError("keys create: --budget-usd and --budget-period go together");
  const res = await adminClient(a, io).createKey({
    name,
    models: listFlag(a, "models") ?? [],
    limits: {
      rpm: intFlag(a, "rpm") ?? 0,
      tpm: intFlag(a, "tpm") ?? 0,
      concurrent: intFlag(a, "concurrent") ?? 0,
    },
    budget: usdLimit !== undefined && p !== undefined ? { usd: usdLimit, period: p } : undefined,
  });
  if (a.flags.has("json")) {
    json(io, toJson(CreateKeyResponseSchema, res));
    return 0;
  }
  io.out(`key: ${res.key}`);
  io.out("Shown only now: store it. The gateway keeps only its digest.");
  io.out("");
  for (const l of keyTable(res.info ? [res.info] : [])) io.out(l);
  return 0;
}

async function listKeys(a: Args, io: CliIo): Promise<number> {
  const res = await adminClient(a, io).listKeys({ includeRevoked: a.flags.has("include-revoked") });
  if (a.flags.has("json")) json(io, toJson(ListKeysResponseSchema, res));
  else for (const l of keyTable(res.keys)) io.out(l);
  return 0;
}

function one(a: Args, io: CliIo, info: KeyInfo | undefined): number {
  const k = info ?? create(KeyInfoSchema);
  if (a.flags.has("json")) json(io, toJson(KeyInfoSchema, k));
  else for (const l of keyTable([k])) io.out(l);
  return 0;
}

async function revokeKey(a: Args, io: CliIo): Promise<number> {
  const name = a.positionals[0];
  if (!name) throw new UsageError("keys revoke: NAME is required");
  const res = await adminClient(a, io).revokeKey({ name });
  return one(a, io, res.info);
}

async function updateKey(a: Args, io: CliIo): Promise<number> {
  const name = a.positionals[0];
  if (!name) throw new UsageError("keys update: NAME is required");
  const req = create(UpdateKeyRequestSchema, { name, updateMask: { paths: [] }, limits: {}, budget: {} });
  const paths = req.updateMask?.paths ?? [];
  const models = listFlag(a, "models");
  if (models !== undefined) {
    req.models = models;
    paths.push("models");
  }
  for (const f of ["rpm", "tpm", "concurrent"] as const) {
    const n = intFlag(a, f);
    if (n === undefined || !req.limits) continue;
    req.limits[f] = n;
    paths.push(`limits.${f}`);
  }
  const usdLimit = numberFlag(a, "budget-usd");
  const p = period(a);
  if (a.flags.has("clear-budget")) {
    if (usdLimit !== undefined || p !== undefined)
      throw new UsageError("keys update: --clear-budget goes alone, without --budget-usd / --budget-period");
    req.budget = undefined;
    paths.push("budget");
  } else if (req.budget) {
    if (usdLimit !== undefined) req.budget.usd = usdLimit;
    if (p !== undefined) req.budget.period = p;
    if (usdLimit !== undefined && p !== undefined) paths.push("budget");
    else if (usdLimit !== undefined) paths.push("budget.usd");
    else if (p !== undefined) paths.push("budget.period");
  }
  if (paths.length === 0)
    throw new UsageError(`keys update: nothing to change (--${LIMIT_FLAGS.join(", --")}, --clear-budget)`);
  const res = await adminClient(a, io).updateKey(req);
  return one(a, io, res.info);
}

/** Runs `llm-gateway keys ...`; resolves to the process exit code. */
export async function keysCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  const serverFlags = [...CLIENT_FLAGS];
  switch (sub) {
    case "generate":
      return generate(parseArgs(rest, [], ["name"]), io);
    case "admin-key":
      return adminKey(io);
    case "create":
      return await createKey(parseArgs(rest, ["json"], ["name", ...LIMIT_FLAGS, ...serverFlags]), io);
    case "list":
      return await listKeys(parseArgs(rest, ["json", "include-revoked"], serverFlags), io);
    case "revoke":
      return await revokeKey(parseArgs(rest, ["json"], serverFlags), io);
    case "update":
      return await updateKey(parseArgs(rest, ["json", "clear-budget"], [...LIMIT_FLAGS, ...serverFlags]), io);
    default:
      for (const l of KEYS_USAGE) io.err(l);
      return 2;
  }
}
