// Issue 7's proof, end to end: three gateway processes on one Redis, a key with a $0.01 daily
// budget, parallel priced calls (the OpenAI fake, gpt-4o catalog prices). Total spend never exceeds
// the budget; later calls get BUDGET_EXCEEDED on every replica; usage (AdminService GetUsage) equals
// the sum of the per-response costs and tokens exactly; a key created through the CLI on one replica
// works on every replica.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newKey } from "../../src/auth/keys.js";
import { cli } from "../admin/helpers.js";
import { connectJsonError, post } from "../e2e/helpers.js";
import { type OpenAIFake, startOpenAIFake } from "../fakes/openai.js";
import { waitForValue } from "../helpers/wait.js";
import { chat, GatewayProcess, RedisServer } from "../limits/helpers.js";

const BUDGET_USD = 0.01;
const key = newKey();
const admin = newKey();

interface Outcome {
  status: number;
  costMicros?: number;
  inputTokens?: number;
  outputTokens?: number;
  reason?: string;
  metadata?: Record<string, string>;
  retryInfo?: unknown;
}

async function pricedCall(url: string, text: string): Promise<Outcome> {
  const body = JSON.stringify({
    model: "openai/gpt-4o",
    maxTokens: 100,
    messages: [{ role: "ROLE_USER", content: [{ text }] }],
  });
  const r = await post(url, "/llmgateway.v1.LLMService/Chat", body, {
    "content-type": "application/json",
    authorization: `Bearer ${key.key}`,
  });
  if (r.status !== 200) {
    const e = connectJsonError(r.body);
    return {
      status: r.status,
      reason: e.errorInfo?.reason,
      metadata: e.errorInfo?.metadata,
      retryInfo: e.retryInfo,
    };
  }
  const j = JSON.parse(r.body) as {
    usage: { inputTokens?: number; outputTokens?: number };
    gateway: { costUsd?: number };
  };
  return {
    status: 200,
    costMicros: Math.round((j.gateway.costUsd ?? 0) * 1e6),
    inputTokens: j.usage.inputTokens ?? 0,
    outputTokens: j.usage.outputTokens ?? 0,
  };
}

describe("budgets across replicas (3 processes, one Redis)", () => {
  let redis: RedisServer;
  let fake: OpenAIFake;
  const gws: GatewayProcess[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    fake = await startOpenAIFake({ apiKey: "sk-budget-test" });
    const yaml = `
providers:
  openai: { base_url: "${fake.url}", api_key: sk-budget-test }
# 2 s: the default 100 ms times out on a busy machine, and fail_open then decides per process (overspending).
redis: { url: "${redis.url}", command_timeout_ms: 2000 }
auth: { admin_sha256: ${admin.sha256} }
keys:
  - name: metered
    sha256: ${key.sha256}
    budget: { usd: ${BUDGET_USD}, period: day }
`;
    for (let i = 0; i < 3; i++) gws.push(await GatewayProcess.start(yaml));
  }, 180_000);

  afterAll(async () => {
    await Promise.all(gws.map((g) => g.stop()));
    await fake?.close();
    await redis?.kill();
  });

  it("never spends more than the budget; then every replica refuses with BUDGET_EXCEEDED", async () => {
    // ~60 words each: about $0.0008 a call at gpt-4o prices, so roughly a dozen fit in $0.01.
    const text = Array.from({ length: 60 }, (_, i) => `word${i}`).join(" ");
    const calls = Array.from({ length: 45 }, (_, i) => pricedCall((gws[i % 3] as GatewayProcess).url, text));
    const out = await Promise.all(calls);
    // Holds of calls in flight refuse some of the wave early; sequential calls then use up the rest.
    for (let i = 0; out.at(-1)?.status === 200 || i < 3; i++) {
      out.push(await pricedCall((gws[i % 3] as GatewayProcess).url, text));
      if (i > 50) break;
    }
    const ok = out.filter((o) => o.status === 200);
    const refused = out.filter((o) => o.status !== 200);
    expect(ok.length).toBeGreaterThan(3);
    expect(refused.length).toBeGreaterThan(0);
    expect(new Set(refused.map((o) => o.reason))).toEqual(new Set(["BUDGET_EXCEEDED"]));
    const spent = ok.reduce((s, o) => s + (o.costMicros ?? 0), 0);
    expect(spent).toBeGreaterThan(0);
    expect(spent).toBeLessThanOrEqual(BUDGET_USD * 1e6);
    // What is left is less than one call's hold (prompt at $2.50/M + 100 output tokens at $10/M).
    const maxInput = Math.max(...ok.map((o) => o.inputTokens ?? 0));
    expect(BUDGET_USD * 1e6 - spent).toBeLessThan(1000 + maxInput * 2.5 + 100);

    for (const g of gws) {
      const o = await pricedCall(g.url, text);
      expect(o.status).toBe(429); // Connect's HTTP for RESOURCE_EXHAUSTED
      expect(o.reason).toBe("BUDGET_EXCEEDED");
      expect(o.retryInfo).toBeUndefined();
      expect(o.metadata?.["period"]).toBe("day");
      expect(o.metadata?.["budget_usd"]).toBe("0.01");
      const reset = new Date(o.metadata?.["reset_at"] ?? "");
      const tomorrow = new Date();
      tomorrow.setUTCHours(24, 0, 0, 0);
      expect(reset.toISOString()).toBe(tomorrow.toISOString());
    }

    // Usage on any replica equals the per-response figures exactly (after the writers flushed).
    const want = {
      calls: ok.length,
      cost: spent,
      input: ok.reduce((s, o) => s + (o.inputTokens ?? 0), 0),
      output: ok.reduce((s, o) => s + (o.outputTokens ?? 0), 0),
    };
    const readUsage = async () => {
      const r = await post(
        (gws[2] as GatewayProcess).url,
        "/llmgateway.v1.AdminService/GetUsage",
        JSON.stringify({ key: "metered" }),
        { "content-type": "application/json", authorization: `Bearer ${admin.key}` },
      );
      expect(r.status).toBe(200);
      const j = JSON.parse(r.body) as {
        totals?: {
          calls?: string;
          errors?: string;
          inputTokens?: string;
          outputTokens?: string;
          costMicros?: string;
        };
      };
      const t = j.totals ?? {};
      return {
        calls: Number(t.calls ?? 0) - Number(t.errors ?? 0),
        errors: Number(t.errors ?? 0),
        cost: Number(t.costMicros ?? 0),
        input: Number(t.inputTokens ?? 0),
        output: Number(t.outputTokens ?? 0),
      };
    };
    const got = await waitForValue(readUsage, (u) => u.errors >= refused.length + 3, {
      what: "every replica's usage writer to flush the refused calls",
      timeoutMs: 20_000,
    });
    expect(got.errors).toBe(refused.length + 3);
    expect({ calls: got.calls, cost: got.cost, input: got.input, output: got.output }).toEqual(want);
  }, 60_000);

  it("a key created through the CLI (on replica 1) works on every replica", async () => {
    const env = { LLMGW_URL: (gws[0] as GatewayProcess).url, LLMGW_ADMIN_KEY: admin.key };
    const r = await cli(["keys", "create", "--name", "from-cli", "--models", "openai/*", "--json"], env);
    expect(r.code).toBe(0);
    const made = JSON.parse(r.stdout) as { key: string };
    const auth = { authorization: `Bearer ${made.key}` };
    for (const g of gws) {
      const res = await waitForValue(
        () => chat(g.url, "openai/gpt-4o-mini", auth),
        (x) => x.status === 200,
        { what: `the new key to work on ${g.url}`, everyMs: 100 },
      );
      expect(res.status).toBe(200);
      expect((await chat(g.url, "mock/echo", auth)).reason).toBe("MODEL_NOT_ALLOWED");
    }
    for (const g of gws) expect(g.logs.join("")).not.toContain(made.key);
  }, 120_000); // a CLI run: up to 20 s on a busy machine
});
