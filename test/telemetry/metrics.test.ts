// GET /metrics through a real gateway and the OpenAI fake: a known mix of calls (successes, a stream,
// upstream errors, cache hits, rate-limited calls, a retry + fallback), then one scrape where every
// counter has exactly the expected value and every histogram the expected count; 1,000 bogus model
// names keep the label sets bounded.
import { createHash } from "node:crypto";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChatResponse, LLMService } from "../../gen/llmgateway/v1/llm_pb.js";
import { ClientConnections } from "../e2e/helpers.js";
import { type OpenAIFake, startOpenAIFake } from "../fakes/openai.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { chatReq, collect } from "../resilience/harness.js";
import { type Sample, samplesOf, sampleValue, scrape, seriesMap } from "./helpers.js";

const UPSTREAM_KEY = "sk-test-telemetry-0123456789";
const TEAM = "llmgw-telemetry-team-aaaaaaaaaaaaaaaaaaaa";
const LIMITED = "llmgw-telemetry-limited-bbbbbbbbbbbbbbbbb";
const sha = (k: string) => createHash("sha256").update(k).digest("hex");
const MINI = "openai/gpt-4o-mini";
const FLAKY = "openai/gpt-4o+status=503+t=metrics-fb";

let fake: OpenAIFake;
let gw: TestGateway;
const conns = new ClientConnections();
const client = (key: string) =>
  createClient(
    LLMService,
    createConnectTransport({
      baseUrl: gw.url,
      httpVersion: "2",
      sessionManager: conns.h2(gw.url),
      interceptors: [
        (next) => (req) => {
          req.header.set("authorization", `Bearer ${key}`);
          return next(req);
        },
      ],
    }),
  );

beforeAll(async () => {
  fake = await startOpenAIFake({ apiKey: UPSTREAM_KEY });
  gw = await startGateway({
    env: { OPENAI_API_KEY: UPSTREAM_KEY, OPENAI_BASE_URL: fake.url },
    yaml: `
telemetry: { metrics_key_labels: true }
defaults:
  retries: { base_ms: 1, max_ms: 5 }
  breaker: { min_calls: 1000 }
models:
  cached:
    deployments: [{ target: ${MINI} }]
    cache: { enabled: true, ttl_s: 300 }
  safe:
    deployments: [{ target: "${FLAKY}" }]
    fallbacks: [${MINI}]
    retries: { max_attempts: 2 }
keys:
  - { name: team, sha256: ${sha(TEAM)} }
  - { name: limited, sha256: ${sha(LIMITED)}, limits: { rpm: 2 } }
`,
  });
});

afterAll(async () => {
  conns.close();
  await gw?.close();
  await fake?.close();
});

async function failure(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (e: unknown) {
    return ConnectError.from(e);
  }
  throw new Error("expected the call to fail");
}

/** Sums what the client was told it used and paid, for calls that went upstream themselves. */
class Spent {
  input = 0;
  output = 0;
  usd = 0;
  add(res: Pick<ChatResponse, "usage" | "gateway">): void {
    this.input += res.usage?.inputTokens ?? 0;
    this.output += res.usage?.outputTokens ?? 0;
    this.usd += res.gateway?.costUsd ?? 0;
  }
}

describe("GET /metrics after a known mix of calls", () => {
  let m: Sample[];
  const spent = new Spent();
  let deltas = 0;
  let fallbackOutcomes: string[] = [];

  beforeAll(async () => {
    const team = client(TEAM);
    // 3 successes.
    for (let i = 0; i < 3; i++) spent.add(await team.chat(chatReq(MINI, `hello ${i}`)));
    // 1 stream.
    const s = await collect(team.chatStream(chatReq(MINI, "stream me please")));
    expect(s.error).toBeUndefined();
    deltas = s.events.filter((e) => e.event.case === "delta").length;
    const end = s.events.at(-1)?.event;
    if (end?.case !== "end") throw new Error("the stream did not end");
    spent.add(end.value);
    // 2 upstream errors (400: never retried, no fallback).
    for (let i = 0; i < 2; i++) {
      const err = await failure(team.chat(chatReq(`openai/gpt-4o+status=400+t=m400-${i}`)));
      expect(err.code).toBe(Code.InvalidArgument);
    }
    // The cache: a miss, then 2 hits (memory).
    for (let i = 0; i < 3; i++) {
      const res = await team.chat(chatReq("cached", "same question"));
      if (i === 0) spent.add(res);
    }
    // Rate limits: rpm 2 -> the 3rd call is refused.
    const limited = client(LIMITED);
    for (let i = 0; i < 2; i++) spent.add(await limited.chat(chatReq(MINI, `limited ${i}`)));
    const refused = await failure(limited.chat(chatReq(MINI, "limited 2")));
    expect(refused.code).toBe(Code.ResourceExhausted);
    // A retry and a fallback: "safe" = a 503 twice (max_attempts 2), then gpt-4o-mini answers.
    const fb = await team.chat(chatReq("safe", "fall back"));
    expect(fb.provider).toBe("openai");
    fallbackOutcomes = (fb.gateway?.attemptTrail ?? []).map((a) => a.outcome);
    expect(fallbackOutcomes).toHaveLength(3);
    spent.add(fb);
    m = await scrape(gw.url);
  });

  it("llmgw_calls_total: exactly one series per (rpc, model, provider, code, key) with its count", () => {
    expect(seriesMap(m, "llmgw_calls_total")).toEqual({
      [`code=OK,key=team,model=${MINI},provider=openai,rpc=Chat`]: 3,
      [`code=OK,key=team,model=${MINI},provider=openai,rpc=ChatStream`]: 1,
      "code=INVALID_ARGUMENT,key=team,model=other,provider=none,rpc=Chat": 2,
      "code=OK,key=team,model=cached,provider=openai,rpc=Chat": 1,
      "code=OK,key=team,model=cached,provider=none,rpc=Chat": 2, // cache hits: nothing upstream
      [`code=OK,key=limited,model=${MINI},provider=openai,rpc=Chat`]: 2,
      [`code=RESOURCE_EXHAUSTED,key=limited,model=${MINI},provider=none,rpc=Chat`]: 1,
      "code=OK,key=team,model=safe,provider=openai,rpc=Chat": 1,
    });
  });

  it("latency histograms: one observation per call (upstream only for calls that went upstream)", () => {
    const count = (name: string, labels: Record<string, string>) => sampleValue(m, `${name}_count`, labels);
    const dur = "llmgw_call_duration_seconds";
    expect(count(dur, { rpc: "Chat", model: MINI, provider: "openai" })).toBe(5);
    expect(count(dur, { rpc: "ChatStream", model: MINI, provider: "openai" })).toBe(1);
    expect(count(dur, { rpc: "Chat", model: "other", provider: "none" })).toBe(2);
    expect(count(dur, { rpc: "Chat", model: "cached", provider: "openai" })).toBe(1);
    expect(count(dur, { rpc: "Chat", model: "cached", provider: "none" })).toBe(2);
    expect(count(dur, { rpc: "Chat", model: MINI, provider: "none" })).toBe(1);
    expect(count(dur, { rpc: "Chat", model: "safe", provider: "openai" })).toBe(1);
    const up = "llmgw_upstream_duration_seconds";
    expect(count(up, { rpc: "Chat", model: MINI, provider: "openai" })).toBe(5);
    expect(count(up, { rpc: "Chat", model: "other", provider: "none" })).toBe(2); // failed attempts
    expect(count(up, { rpc: "Chat", model: "cached", provider: "openai" })).toBe(1);
    expect(count(up, { rpc: "Chat", model: "cached", provider: "none" })).toBeUndefined(); // hits
    expect(count(up, { rpc: "Chat", model: MINI, provider: "none" })).toBeUndefined(); // refused
    expect(samplesOf(m, "llmgw_upstream_duration_seconds_count").map((s) => s.value)).toHaveLength(5);
    expect(count("llmgw_gateway_overhead_seconds", { rpc: "Chat" })).toBe(12);
    expect(count("llmgw_gateway_overhead_seconds", { rpc: "ChatStream" })).toBe(1);
    expect(count("llmgw_time_to_first_token_seconds", { model: MINI, provider: "openai" })).toBe(1);
    expect(deltas).toBeGreaterThan(1);
    expect(count("llmgw_stream_chunk_gap_seconds", {})).toBe(deltas);
    // Buckets are cumulative and end at the count.
    const buckets = samplesOf(m, `${dur}_bucket`, { rpc: "Chat", model: MINI, provider: "openai" });
    expect(buckets.at(-1)?.labels["le"]).toBe("+Inf");
    expect(buckets.at(-1)?.value).toBe(5);
    for (let i = 1; i < buckets.length; i++) {
      expect(buckets[i]?.value).toBeGreaterThanOrEqual(buckets[i - 1]?.value ?? 0);
    }
  });

  it("tokens and cost: what providers billed (the client's usage and cost_usd), cache hits add none", () => {
    const sum = (name: string, where: Record<string, string>) =>
      samplesOf(m, name, where).reduce((n, s) => n + s.value, 0);
    expect(spent.input).toBeGreaterThan(0);
    expect(sum("llmgw_tokens_total", { type: "input" })).toBe(spent.input);
    expect(sum("llmgw_tokens_total", { type: "output" })).toBe(spent.output);
    expect(
      sampleValue(m, "llmgw_tokens_total", {
        model: "cached",
        provider: "openai",
        type: "input",
        key: "team",
      }),
    ).toBeGreaterThan(0);
    expect(samplesOf(m, "llmgw_tokens_total", { provider: "none" })).toEqual([]);
    expect(spent.usd).toBeGreaterThan(0);
    expect(sum("llmgw_cost_usd_total", {})).toBeCloseTo(spent.usd, 9);
  });

  it("cache hits by level and misses; attempts, retries, fallbacks; limiter rejections", () => {
    expect(seriesMap(m, "llmgw_cache_hits_total")).toEqual({ "level=memory,rpc=Chat": 2 });
    expect(seriesMap(m, "llmgw_cache_misses_total")).toEqual({ "rpc=Chat": 1 });
    expect(seriesMap(m, "llmgw_cache_coalesced_total")).toEqual({});
    const [first, second, third] = fallbackOutcomes;
    expect(first).toBe(second);
    expect(third).toBe("ok");
    expect(seriesMap(m, "llmgw_upstream_attempts_total")).toEqual({
      [`deployment=${MINI},outcome=ok`]: 3 + 1 + 1 + 2 + 1,
      "deployment=other,outcome=UPSTREAM_BAD_REQUEST": 2,
      [`deployment=${FLAKY},outcome=${first}`]: 2,
    });
    expect(seriesMap(m, "llmgw_retries_total")).toEqual({ "model=safe,rpc=Chat": 1 });
    expect(seriesMap(m, "llmgw_fallbacks_total")).toEqual({ "model=safe,rpc=Chat": 1 });
    expect(seriesMap(m, "llmgw_hedges_total")).toEqual({});
    expect(seriesMap(m, "llmgw_limiter_rejections_total")).toEqual({ "reason=RATE_LIMITED": 1 });
  });

  it("scrape-time gauges (in flight, breakers) and the process metrics", () => {
    expect(sampleValue(m, "llmgw_inflight_calls")).toBe(0);
    expect(sampleValue(m, "llmgw_inflight_streams")).toBe(0);
    expect(sampleValue(m, "llmgw_breaker_state", { deployment: MINI, provider: "openai" })).toBe(0);
    expect(sampleValue(m, "llmgw_breaker_state", { deployment: FLAKY, provider: "openai" })).toBe(0);
    expect(sampleValue(m, "llmgw_redis_up")).toBeUndefined(); // no Redis configured
    for (const name of [
      "nodejs_eventloop_lag_seconds",
      "nodejs_heap_size_used_bytes",
      "process_cpu_seconds_total",
    ]) {
      expect(samplesOf(m, name).length, name).toBeGreaterThan(0);
    }
  });
});

describe("label cardinality", () => {
  it("1,000 distinct bogus model names: one 'other' series, no new label values", async () => {
    const before = await scrape(gw.url);
    // A series: the metric name and its labels, `le` aside (a histogram's buckets are one series).
    const series = (all: Sample[]) =>
      new Set(
        all
          .filter((s) => s.name.startsWith("llmgw_"))
          .map(
            (s) => `${s.name.replace(/_(bucket|sum|count)$/, "")}${JSON.stringify({ ...s.labels, le: 0 })}`,
          ),
      );
    const call = (i: number) =>
      fetch(`${gw.url}/llmgateway.v1.LLMService/Chat`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${TEAM}` },
        body: JSON.stringify({
          model: i % 2 ? `bogus-model-${i}` : `mock/bogus-${i}-${"x".repeat(i % 7)}`,
          messages: [{ role: "ROLE_USER", content: [{ text: "hi" }] }],
        }),
      }).then((r) => r.text());
    for (let i = 0; i < 1000; i += 50) await Promise.all(Array.from({ length: 50 }, (_x, j) => call(i + j)));
    const after = await scrape(gw.url);
    const models = new Set(samplesOf(after, "llmgw_calls_total").map((s) => s.labels["model"]));
    expect([...models].sort()).toEqual(["cached", "openai/gpt-4o-mini", "other", "safe"]);
    const other = samplesOf(after, "llmgw_calls_total", { model: "other" }).reduce((n, s) => n + s.value, 0);
    expect(other).toBe(2 + 1000);
    const deployments = new Set(samplesOf(after, "llmgw_breaker_state").map((s) => s.labels["deployment"]));
    expect(deployments.size).toBeLessThanOrEqual(3);
    // New series: at most a handful (the 'other' tuples of these calls' codes and providers), not 1,000.
    const known = series(before);
    const grown = [...series(after)].filter((l) => !known.has(l));
    expect(grown.length).toBeLessThan(20);
  });

  it("no key label unless telemetry.metrics_key_labels (a gateway without it)", async () => {
    const plain = await startGateway();
    try {
      await fetch(`${plain.url}/llmgateway.v1.LLMService/Chat`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          model: "mock/echo",
          messages: [{ role: "ROLE_USER", content: [{ text: "hi" }] }],
        }),
      });
      const all = await scrape(plain.url);
      expect(seriesMap(all, "llmgw_calls_total")).toEqual({
        "code=OK,model=mock/echo,provider=mock,rpc=Chat": 1,
      });
    } finally {
      await plain.close();
    }
  });

  it("telemetry.metrics: false -> no /metrics route (the REST door's 404)", async () => {
    const off = await startGateway({ yaml: "telemetry: { metrics: false }\n" });
    try {
      const res = await fetch(`${off.url}/metrics`);
      expect(res.status).toBe(404);
      expect(await res.text()).toContain("no route");
    } finally {
      await off.close();
    }
  });
});

describe("hedges", () => {
  it("a raced call (hedge_after_ms: 0): one hedge, the loser's attempt counted as HEDGE_LOST", async () => {
    const g = await startGateway({
      yaml: `
models:
  raced:
    deployments: [{ target: mock/slow-300 }, { target: mock/echo }]
    hedge_after_ms: 0
`,
    });
    try {
      const res = await fetch(`${g.url}/llmgateway.v1.LLMService/Chat`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          model: "raced",
          messages: [{ role: "ROLE_USER", content: [{ text: "hi" }] }],
        }),
      });
      expect(res.status).toBe(200);
      const all = await scrape(g.url);
      expect(seriesMap(all, "llmgw_hedges_total")).toEqual({ "model=raced,rpc=Chat": 1 });
      expect(seriesMap(all, "llmgw_upstream_attempts_total")).toEqual({
        "deployment=mock/echo,outcome=ok": 1,
        "deployment=mock/slow-300,outcome=HEDGE_LOST": 1,
      });
      expect(seriesMap(all, "llmgw_retries_total")).toEqual({});
      expect(seriesMap(all, "llmgw_fallbacks_total")).toEqual({});
    } finally {
      await g.close();
    }
  });
});
