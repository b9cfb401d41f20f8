// AdminService (proto/llmgateway/v1/admin.proto): gateway keys at run time and usage reports, behind
// the admin key. Thin: check the admin key, convert messages, call src/auth (KeyAdmin) or the ledgers.

import { type Timestamp, timestampFromDate, timestampMs } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import {
  AdminService,
  type Budget,
  BudgetPeriod,
  BudgetSpendSchema,
  type GetUsageRequest,
  GetUsageResponseSchema,
  type KeyInfo,
  KeyInfoSchema,
  KeySource,
  type UpdateKeyRequest,
  UsageRowSchema,
  UsageTotalsSchema,
} from "../../gen/llmgateway/v1/admin_pb.js";
import { KeyAdmin, type KeyStore, type KeyUpdate, type KeyView, presentedKey } from "../auth/index.js";
import type { BudgetLedger, BudgetSpec, BudgetPeriod as Period, UsageLedger } from "../billing/types.js";
import { addTotals, type UsageTotals, zeroTotals } from "../billing/usage-rows.js";
import { GatewayError } from "../errors.js";
import type { Gateway } from "../gateway/gateway.js";
import { create } from "../lib/create.js";
import { toConnectError } from "./errors.js";
import { requestIdFrom } from "./request-id.js";

/** What AdminService needs; getters follow config reloads. */
export interface AdminDeps {
  /** The current generation: its config holds the admin digest and the config-file keys. */
  gateway: () => Gateway;
  /** The process's runtime key store (one per process, shared by every generation). */
  store: KeyStore;
  /** Usage counters for GetUsage; absent = GetUsage fails UNIMPLEMENTED / USAGE_UNAVAILABLE. */
  usage?: () => UsageLedger | undefined;
  /** Budget counters: ListKeys shows each budgeted key's spend this period when given. */
  budgets?: () => BudgetLedger | undefined;
}

const TO_PERIOD: Record<BudgetPeriod, Period | undefined> = {
  [BudgetPeriod.UNSPECIFIED]: undefined,
  [BudgetPeriod.DAY]: "day",
  [BudgetPeriod.WEEK]: "week",
  [BudgetPeriod.MONTH]: "month",
};
const FROM_PERIOD: Record<Period, BudgetPeriod> = {
  day: BudgetPeriod.DAY,
  week: BudgetPeriod.WEEK,
  month: BudgetPeriod.MONTH,
};

/** A request's budget, or undefined when unset. Its checks happen in KeyAdmin. */
function budgetOf(b: Budget | undefined): { usd: number; period: Period } | undefined {
  return b ? { usd: b.usd, period: TO_PERIOD[b.period] as Period } : undefined;
}

const time = (iso: string | undefined): Timestamp | undefined =>
  iso ? timestampFromDate(new Date(iso)) : undefined;

async function infoOf(v: KeyView, budgets: BudgetLedger | undefined): Promise<KeyInfo> {
  const info = create(KeyInfoSchema, {
    name: v.name,
    digestPrefix: v.digestHex.slice(0, 12),
    source: v.source === "config" ? KeySource.CONFIG : KeySource.RUNTIME,
    models: v.models ? [...v.models] : [],
    limits: { rpm: v.limits.rpm ?? 0, tpm: v.limits.tpm ?? 0, concurrent: v.limits.concurrent ?? 0 },
    budget: v.budget ? { usd: v.budget.usd, period: FROM_PERIOD[v.budget.period] } : undefined,
    revoked: v.revoked,
    createTime: time(v.createdAt),
    updateTime: time(v.updatedAt),
    revokeTime: time(v.revokedAt),
  });
  if (budgets && v.budget && !v.revoked) info.spend = await spendOf(budgets, v.digestHex, v.budget);
  return info;
}

/** Where a key stands in its period; undefined when the ledger cannot tell now (Redis down). */
async function spendOf(budgets: BudgetLedger, keyId: string, spec: BudgetSpec) {
  try {
    const s = await budgets.status(keyId, spec);
    return create(BudgetSpendSchema, {
      spentUsd: s.spentMicros / 1e6,
      reservedUsd: s.reservedMicros / 1e6,
      remainingUsd: Math.max(0, s.limitMicros - s.spentMicros - s.reservedMicros) / 1e6,
      periodStartTime: timestampFromDate(s.periodStart),
      resetTime: timestampFromDate(s.resetAt),
    });
  } catch {
    return undefined;
  }
}

const UPDATE_PATHS = new Set([
  "models",
  "limits",
  "limits.rpm",
  "limits.tpm",
  "limits.concurrent",
  "budget",
  "budget.usd",
  "budget.period",
]);

/** UpdateKeyRequest -> the fields to change (FieldMask semantics: a named, unset field is cleared). */
export function updateOf(req: UpdateKeyRequest): KeyUpdate {
  const paths = req.updateMask?.paths ?? [];
  const u: KeyUpdate = {};
  for (const p of paths) {
    if (!UPDATE_PATHS.has(p)) {
      throw new GatewayError("INVALID_ARGUMENT", "INVALID_REQUEST", `update_mask: unknown path "${p}"`, {
        violations: [
          { field: "update_mask", description: `"${p}" is not one of ${[...UPDATE_PATHS].join(", ")}` },
        ],
      });
    }
    const l = req.limits;
    if (p === "models") u.models = [...req.models];
    if (p === "limits" || p === "limits.rpm") u.rpm = l?.rpm ?? 0;
    if (p === "limits" || p === "limits.tpm") u.tpm = l?.tpm ?? 0;
    if (p === "limits" || p === "limits.concurrent") u.concurrent = l?.concurrent ?? 0;
    if (p === "budget") u.budget = budgetOf(req.budget) ?? null;
    if (p === "budget.usd") u.budgetUsd = req.budget?.usd ?? 0;
    if (p === "budget.period")
      u.budgetPeriod = TO_PERIOD[req.budget?.period ?? BudgetPeriod.UNSPECIFIED] as Period;
  }
  return u;
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A YYYY-MM-DD day (UTC) as epoch ms, or INVALID_REQUEST naming `field`. */
function dayMs(field: string, s: string): number {
  const m = DAY.exec(s);
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : Number.NaN;
  if (!m || Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== s) {
    throw new GatewayError(
      "INVALID_ARGUMENT",
      "INVALID_REQUEST",
      `${field}: "${s}" is not a YYYY-MM-DD day`,
      {
        violations: [{ field, description: "a calendar day, YYYY-MM-DD (UTC)" }],
      },
    );
  }
  return ms;
}

const DAY_MS = 86_400_000;

/** The days a request selects; no `from` = as far back as usage is kept (`retentionDays`). */
function rangeOf(req: GetUsageRequest, retentionDays: number): { fromMs: number; toMs: number | undefined } {
  const f = req.from;
  const t = req.to;
  const fromMs =
    f.case === "fromTime"
      ? timestampMs(f.value)
      : f.case === "fromDay"
        ? dayMs("from_day", f.value)
        : undefined;
  const toMs =
    t.case === "toTime" ? timestampMs(t.value) : t.case === "toDay" ? dayMs("to_day", t.value) : undefined;
  if (fromMs !== undefined && toMs !== undefined && Math.floor(fromMs / DAY_MS) > Math.floor(toMs / DAY_MS)) {
    throw new GatewayError("INVALID_ARGUMENT", "INVALID_REQUEST", "the range ends before it starts", {
      violations: [{ field: "to", description: "must not be before from" }],
    });
  }
  return { fromMs: fromMs ?? Date.now() - retentionDays * DAY_MS, toMs };
}

/** A row's or the totals' counters as the contract has them (64-bit counts, cost in USD too). */
function counts(t: UsageTotals) {
  return {
    calls: BigInt(t.calls),
    errors: BigInt(t.errors),
    cacheHits: BigInt(t.cacheHits),
    inputTokens: BigInt(t.inputTokens),
    outputTokens: BigInt(t.outputTokens),
    cachedInputTokens: BigInt(t.cachedInputTokens),
    cacheWriteTokens: BigInt(t.cacheWriteTokens),
    reasoningTokens: BigInt(t.reasoningTokens),
    costUsd: t.costMicros / 1e6,
    costMicros: BigInt(t.costMicros),
  };
}

async function usageReport(ledger: UsageLedger | undefined, req: GetUsageRequest, retentionDays: number) {
  if (!ledger) {
    throw new GatewayError("UNIMPLEMENTED", "USAGE_UNAVAILABLE", "this gateway keeps no usage counters");
  }
  const { fromMs, toMs } = rangeOf(req, retentionDays);
  const rows = await ledger.query({ key: req.key || undefined, model: req.model || undefined, fromMs, toMs });
  const t = zeroTotals();
  const out = create(GetUsageResponseSchema);
  for (const r of rows) {
    addTotals(t, r);
    out.rows.push(create(UsageRowSchema, { key: r.key, model: r.model, day: r.day, ...counts(r) }));
  }
  out.totals = create(UsageTotalsSchema, counts(t));
  return out;
}

/** Registers AdminService on `router`. */
export function registerAdmin(router: ConnectRouter, deps: AdminDeps): void {
  const keys = new KeyAdmin(deps.store, () => deps.gateway().config.file.keys);
  /** Checks the admin key, runs `fn`, logs one line (never a key), maps errors. */
  const guarded = async <T>(
    ctx: HandlerContext,
    method: string,
    name: string,
    fn: () => Promise<T>,
  ): Promise<T> => {
    const gw = deps.gateway();
    const h = ctx.requestHeader;
    const rid = requestIdFrom(h.get("x-request-id"));
    ctx.responseHeader.set("x-request-id", rid);
    const line = { admin: method, key_name: name || undefined, rid };
    try {
      gw.guard.admin.check(
        presentedKey(h.get("authorization") ?? undefined, h.get("x-api-key") ?? undefined),
      );
      const out = await fn();
      gw.log.info(line, "admin call");
      return out;
    } catch (e: unknown) {
      const reason = e instanceof GatewayError ? e.reason : "INTERNAL";
      gw.log.warn({ ...line, reason }, "admin call failed");
      throw toConnectError(e);
    }
  };
  const budgets = () => deps.budgets?.();
  router.service(AdminService, {
    createKey: (req, ctx) =>
      guarded(ctx, "CreateKey", req.name, async () => {
        const l = req.limits;
        const { key, view } = await keys.create({
          name: req.name,
          models: req.models,
          limits: l ? { rpm: l.rpm, tpm: l.tpm, concurrent: l.concurrent } : undefined,
          budget: budgetOf(req.budget),
        });
        return { key, info: await infoOf(view, budgets()) };
      }),
    revokeKey: (req, ctx) =>
      guarded(ctx, "RevokeKey", req.name, async () => ({
        info: await infoOf(await keys.revoke(req.name), budgets()),
      })),
    updateKey: (req, ctx) =>
      guarded(ctx, "UpdateKey", req.name, async () => ({
        info: await infoOf(await keys.update(req.name, updateOf(req)), budgets()),
      })),
    listKeys: (req, ctx) =>
      guarded(ctx, "ListKeys", "", async () => {
        const b = budgets();
        const views = await keys.list(req.includeRevoked);
        return { keys: await Promise.all(views.map((v) => infoOf(v, b))) };
      }),
    getUsage: (req, ctx) =>
      guarded(ctx, "GetUsage", req.key, () =>
        usageReport(deps.usage?.(), req, deps.gateway().config.file.usage?.retention_days ?? 90),
      ),
  });
}
