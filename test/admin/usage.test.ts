// GetUsage and ListKeys spend: AdminService served with the billing ledgers (src/billing, in memory)
// on its own Connect server, read through a Connect client and through the `usage` CLI.
import { mkdtempSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BudgetPeriod } from "../../gen/llmgateway/v1/admin_pb.js";
import { sha256 } from "../../src/auth/keys.js";
import { KeyStore } from "../../src/auth/store.js";
import { FileKeyBackend } from "../../src/auth/store-file.js";
import {
  createBudgetLedger,
  dayName,
  MemoryUsageLedger,
  type UsageEvent,
  type UsageLedger,
} from "../../src/billing/index.js";
import { createLogger } from "../../src/lib/logger.js";
import { registerAdmin } from "../../src/server/admin.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { admin, adminPair, cli, closeClients, failure } from "./helpers.js";

const ADMIN = adminPair();
const DAY = 86_400_000;
const now = Date.now();
const today = dayName(now);
const yesterday = dayName(now - DAY);

function event(key: string, model: string, atMs: number, over: Partial<UsageEvent> = {}): UsageEvent {
  return {
    key,
    model,
    atMs,
    inputTokens: 100,
    outputTokens: 20,
    cachedInputTokens: 10,
    cacheWriteTokens: 5,
    reasoningTokens: 3,
    costMicros: 1234,
    cacheHit: false,
    error: false,
    ...over,
  };
}

describe("GetUsage and spend, from the billing ledgers", () => {
  let gw: TestGateway;
  let server: http.Server;
  let url = "";
  const log = createLogger("silent");
  const usage = new MemoryUsageLedger(90);
  const budgets = createBudgetLedger(undefined, "fail_open", log);
  let ledger: UsageLedger | undefined = usage;
  const store = new KeyStore(
    new FileKeyBackend(join(mkdtempSync(join(tmpdir(), "llmgw-usage-")), "keys.json")),
    log,
    1000,
  );

  beforeAll(async () => {
    gw = await startGateway({ yaml: `auth: { admin_sha256: ${ADMIN.sha256} }\n` });
    await store.start();
    usage.record(event("svc-a", "mock/echo", now - DAY));
    usage.record(event("svc-a", "mock/echo", now - DAY, { costMicros: 766, error: true }));
    usage.record(event("svc-a", "openai/gpt-4o", now, { costMicros: 2_000_000 }));
    usage.record(event("svc-b", "mock/echo", now, { cacheHit: true, costMicros: 0 }));
    server = http.createServer(
      connectNodeAdapter({
        routes: (router) =>
          registerAdmin(router, {
            gateway: () => gw.app.gateway,
            store,
            usage: () => ledger,
            budgets: () => budgets,
          }),
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    closeClients();
    store.close();
    budgets.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await gw?.close();
  });

  it("rows and totals are what the ledger holds; cost in USD and exact micros", async () => {
    const res = await admin(url, ADMIN.key).getUsage({});
    expect(res.rows.map((r) => [r.day, r.key, r.model])).toEqual([
      [yesterday, "svc-a", "mock/echo"],
      [today, "svc-a", "openai/gpt-4o"],
      [today, "svc-b", "mock/echo"],
    ]);
    const first = res.rows[0];
    expect(first).toMatchObject({
      calls: 2n,
      errors: 1n,
      cacheHits: 0n,
      inputTokens: 200n,
      outputTokens: 40n,
      cachedInputTokens: 20n,
      cacheWriteTokens: 10n,
      reasoningTokens: 6n,
      costMicros: 2000n,
      costUsd: 0.002,
    });
    expect(res.totals).toMatchObject({
      calls: 4n,
      errors: 1n,
      cacheHits: 1n,
      inputTokens: 400n,
      outputTokens: 80n,
      costMicros: 2_002_000n,
      costUsd: 2.002,
    });
    expect(res.rows[2]?.cacheHits).toBe(1n);
  });

  it("filters: key, model, days (YYYY-MM-DD) and timestamps", async () => {
    const a = admin(url, ADMIN.key);
    const byKey = await a.getUsage({ key: "svc-b" });
    expect(byKey.rows.map((r) => r.key)).toEqual(["svc-b"]);
    const byModel = await a.getUsage({ model: "mock/echo" });
    expect(byModel.rows.map((r) => r.key)).toEqual(["svc-a", "svc-b"]);
    expect(byModel.totals?.calls).toBe(3n);
    const days = await a.getUsage({
      from: { case: "fromDay", value: yesterday },
      to: { case: "toDay", value: yesterday },
    });
    expect(days.rows.map((r) => r.day)).toEqual([yesterday]);
    const times = await a.getUsage({
      from: { case: "fromTime", value: timestampFromDate(new Date(now)) },
      to: { case: "toTime", value: timestampFromDate(new Date(now)) },
    });
    expect(times.rows.map((r) => r.day)).toEqual([today, today]);
    expect(times.totals?.costMicros).toBe(2_000_000n);
  });

  it("bad ranges -> INVALID_ARGUMENT; no ledger -> UNIMPLEMENTED / USAGE_UNAVAILABLE", async () => {
    const a = admin(url, ADMIN.key);
    for (const bad of ["2026-02-30", "yesterday", "2026-1-01"]) {
      const e = await failure(a.getUsage({ from: { case: "fromDay", value: bad } }));
      expect(e.code).toBe(Code.InvalidArgument);
      expect(e.reason).toBe("INVALID_REQUEST");
    }
    const reversed = await failure(
      a.getUsage({ from: { case: "fromDay", value: today }, to: { case: "toDay", value: yesterday } }),
    );
    expect(reversed.code).toBe(Code.InvalidArgument);
    ledger = undefined;
    try {
      const e = await failure(a.getUsage({}));
      expect(e.code).toBe(Code.Unimplemented);
      expect(e.reason).toBe("USAGE_UNAVAILABLE");
    } finally {
      ledger = usage;
    }
    const guard = await failure(admin(url, "llmgw-wrong").getUsage({}));
    expect(guard.reason).toBe("API_KEY_INVALID");
  });

  it("ListKeys shows a budgeted key's spend this period from the BudgetLedger", async () => {
    const a = admin(url, ADMIN.key);
    const { key } = await a.createKey({ name: "budgeted", budget: { usd: 1, period: BudgetPeriod.DAY } });
    const keyId = sha256(key).toString("hex");
    const spec = { usd: 1, period: "day" as const };
    (await budgets.reserve(keyId, spec, 250_000, 60_000)).settle(200_000);
    const held = await budgets.reserve(keyId, spec, 100_000, 60_000);
    const info = (await a.listKeys({})).keys.find((k) => k.name === "budgeted");
    expect(info?.spend).toMatchObject({ spentUsd: 0.2, reservedUsd: 0.1, remainingUsd: 0.7 });
    const reset = info?.spend?.resetTime;
    expect(reset && timestampDate(reset).toISOString()).toBe(new Date(Date.parse(today) + DAY).toISOString());
    held.settle(0);
  });

  it("the usage CLI prints the same report (--json) and a table with totals", async () => {
    const env = { LLMGW_URL: url, LLMGW_ADMIN_KEY: ADMIN.key };
    const j = await cli(["usage", "--json", "--key", "svc-a", "--from", yesterday, "--to", today], env);
    expect(j.stderr).toBe("");
    expect(j.code).toBe(0);
    const parsed = JSON.parse(j.stdout) as {
      rows: { model: string; costMicros: string }[];
      totals: { calls: string };
    };
    expect(parsed.rows.map((r) => r.model)).toEqual(["mock/echo", "openai/gpt-4o"]);
    expect(parsed.totals.calls).toBe("3");
    const t = await cli(["usage", "--model", "openai/gpt-4o"], env);
    expect(t.code).toBe(0);
    const lines = t.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^DAY\s+KEY\s+MODEL\s+CALLS/);
    expect(lines[1]).toContain("openai/gpt-4o");
    expect(lines[1]).toContain("$2");
    expect(lines.at(-1)).toMatch(/^TOTAL\s+1\s/);
    const bad = await cli(["usage", "--from", "2026-13"], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
  }, 180_000); // three CLI runs, each up to 20 s on a busy machine
});
