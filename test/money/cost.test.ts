// Cost accounting through a real gateway (in process, memory ledgers) and the OpenAI fake: the price
// of the model that actually answered (a fallback), a cache hit costs 0, a stream cut after it
// started is billed for the usage it consumed (estimated, flagged), and usage rows (AdminService
// GetUsage) equal the per-response figures exactly.
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LLMService } from "../../gen/llmgateway/v1/llm_pb.js";
import { newKey } from "../../src/auth/keys.js";
import { loadCatalog } from "../../src/catalog/index.js";
import { chatReq } from "../e2e/helpers.js";
import { type OpenAIFake, startOpenAIFake } from "../fakes/openai.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";

const catalog = loadCatalog();
const key = newKey();
const admin = newKey();
const broke = newKey();

function micros(model: string, input: number, output: number): number {
  const c = catalog.costMicros(model, {
    inputTokens: input,
    outputTokens: output,
    cachedInputTokens: 0,
    cacheWriteTokens: 0,
  });
  if (c === undefined) throw new Error(`no price for ${model}`);
  return c;
}

describe("cost accounting", () => {
  let fake: OpenAIFake;
  let gw: TestGateway;
  let client: ReturnType<typeof createClient<typeof LLMService>>;
  const headers = { authorization: `Bearer ${key.key}` };

  beforeAll(async () => {
    fake = await startOpenAIFake({ apiKey: "sk-cost" });
    gw = await startGateway({
      yaml: `
providers:
  openai: { base_url: "${fake.url}", api_key: sk-cost }
auth: { admin_sha256: ${admin.sha256} }
defaults: { retries: { max_attempts: 1 } }
models:
  cached: { deployments: [{ target: openai/gpt-4o-mini }], cache: { enabled: true, ttl_s: 60 } }
catalog:
  # The fault-injecting model name (the fake cuts the stream after 4 chunks), priced like gpt-4o.
  "openai/gpt-4o+drop=4":
    provider: openai
    upstream: "gpt-4o+drop=4"
    family: gpt-4o
    tokenizer: o200k
    capabilities: [chat, stream]
    context_window: 128000
    max_output_tokens: 16384
    aliases: []
    price: { input: 2.5, output: 10 }
keys:
  - { name: billed, sha256: ${key.sha256}, budget: { usd: 5, period: month } }
  - { name: broke, sha256: ${broke.sha256}, budget: { usd: 0.000001, period: week } }
`,
    });
    client = createClient(LLMService, createConnectTransport({ baseUrl: gw.url, httpVersion: "1.1" }));
  }, 30_000);
  afterAll(async () => {
    await gw?.close();
    await fake?.close();
  });

  const seen = { calls: 0, errors: 0, cacheHits: 0, input: 0, output: 0, cost: 0 };

  it("prices the model that answered: a fallback is billed at its own prices", async () => {
    const req = chatReq("openai/gpt-4o+status=500", "fallback please", {
      fallbackModels: ["openai/gpt-4o-mini"],
    });
    const res = await client.chat(req, { headers });
    expect(res.provider).toBe("openai");
    expect(res.model).toBe("openai/gpt-4o-mini");
    const u = res.usage;
    expect(u && u.inputTokens > 0 && u.outputTokens > 0).toBe(true);
    const want = micros("openai/gpt-4o-mini", u?.inputTokens ?? 0, u?.outputTokens ?? 0);
    expect(Math.round((res.gateway?.costUsd ?? 0) * 1e6)).toBe(want);
    expect(want).not.toBe(micros("openai/gpt-4o", u?.inputTokens ?? 0, u?.outputTokens ?? 0));
    seen.calls++;
    seen.input += u?.inputTokens ?? 0;
    seen.output += u?.outputTokens ?? 0;
    seen.cost += want;
  });

  it("a cache hit costs 0", async () => {
    const req = chatReq("cached", "the same question");
    const first = await client.chat(req, { headers });
    const second = await client.chat(req, { headers });
    const paid = Math.round((first.gateway?.costUsd ?? 0) * 1e6);
    expect(paid).toBeGreaterThan(0);
    expect(second.gateway?.cacheAgeS).toBeGreaterThanOrEqual(0);
    expect(second.gateway?.costUsd ?? 0).toBe(0);
    for (const r of [first, second]) {
      seen.calls++;
      seen.input += r.usage?.inputTokens ?? 0;
      seen.output += r.usage?.outputTokens ?? 0;
    }
    seen.cost += paid;
    seen.cacheHits++;
  });

  it("a stream cut after it started is billed for what it consumed (estimated) and counted as an error", async () => {
    const text = "one two three four five six seven eight nine ten";
    const events: string[] = [];
    let failed = false;
    try {
      for await (const ev of client.chatStream(chatReq("openai/gpt-4o+drop=4", text), { headers })) {
        events.push(ev.event.case ?? "");
      }
    } catch {
      failed = true;
    }
    expect(failed).toBe(true);
    expect(events[0]).toBe("start");
    expect(events).not.toContain("end");
    // The call's log line flags the usage as the gateway's estimate and carries its cost.
    const line = gw.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l["method"] === "ChatStream" && l["reason"] === "UPSTREAM_STREAM_INTERRUPTED");
    expect(line?.["usage_estimated"]).toBe(true);
    expect(line?.["cost_usd"]).toBeGreaterThan(0);
    expect(line?.["tokens_out"]).toBeGreaterThan(0);
    seen.calls++;
    seen.errors++;
  });

  it("usage equals the per-response figures; the cut stream's estimate is in it", async () => {
    const r = await fetch(`${gw.url}/llmgateway.v1.AdminService/GetUsage`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${admin.key}` },
      body: JSON.stringify({ key: "billed" }),
    });
    expect(r.status).toBe(200);
    const j = (await r.json()) as {
      rows: {
        model: string;
        calls: string;
        errors?: string;
        inputTokens: string;
        outputTokens?: string;
        costMicros?: string;
      }[];
      totals: { calls: string; errors?: string; cacheHits?: string; costMicros?: string };
    };
    const cut = j.rows.find((row) => row.model === "openai/gpt-4o+drop=4" && Number(row.errors ?? 0) === 1);
    expect(cut).toBeDefined();
    // Billed: the prompt estimate and the streamed text, at gpt-4o prices.
    const cutCost = Number(cut?.costMicros ?? 0);
    expect(cutCost).toBeGreaterThan(0);
    expect(cutCost).toBe(micros("openai/gpt-4o", Number(cut?.inputTokens), Number(cut?.outputTokens ?? 0)));
    expect(Number(cut?.outputTokens ?? 0)).toBeGreaterThan(0);
    expect(Number(j.totals.calls)).toBe(seen.calls);
    expect(Number(j.totals.errors ?? 0)).toBe(seen.errors);
    expect(Number(j.totals.cacheHits ?? 0)).toBe(seen.cacheHits);
    expect(Number(j.totals.costMicros ?? 0)).toBe(seen.cost + cutCost);

    // The budget was charged the same amount (this period's spend in ListKeys).
    const lk = await fetch(`${gw.url}/llmgateway.v1.AdminService/ListKeys`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${admin.key}` },
      body: "{}",
    });
    const keys = (await lk.json()) as { keys: { name: string; spend?: { spentUsd?: number } }[] };
    const billed = keys.keys.find((k) => k.name === "billed");
    expect(Math.round((billed?.spend?.spentUsd ?? 0) * 1e6)).toBe(seen.cost + cutCost);
  });

  it("REST: over budget is 429 insufficient_quota / budget_exceeded, x-should-retry false, no Retry-After", async () => {
    // The reservation (prompt + max_tokens at gpt-4o prices) exceeds a one-micro-dollar budget.
    const r = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${broke.key}` },
      body: JSON.stringify({
        model: "openai/gpt-4o",
        max_tokens: 50,
        messages: [{ role: "user", content: "hello" }],
      }),
    });
    expect(r.status).toBe(429);
    expect(r.headers.get("retry-after")).toBeNull();
    expect(r.headers.get("x-should-retry")).toBe("false");
    const body = (await r.json()) as { error: { type: string; code: string; message: string } };
    expect(body.error.type).toBe("insufficient_quota");
    expect(body.error.code).toBe("budget_exceeded");
    expect(body.error.message).toContain("per week");
    expect(body.error.message).not.toContain(broke.key);
  });
});
