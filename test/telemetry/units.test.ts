// The telemetry's pure parts: retries / fallbacks / hedges read from attempt trails, bounded model
// labels, and the cells' exposition as prom-client formats it (parsed back by the suites' parser).
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { loadCatalog } from "../../src/catalog/index.js";
import type { GatewayConfig } from "../../src/config/index.js";
import { classifyTrail, type TrailCounts } from "../../src/telemetry/call-metrics.js";
import { CellHistogram, cellCounter } from "../../src/telemetry/cells.js";
import { CappedLabels, type LabelSource, ModelLabels, OTHER } from "../../src/telemetry/labels.js";
import type { AttemptRecord } from "../../src/telemetry/observer.js";
import { parseMetrics, sampleValue } from "./helpers.js";

/** An attempt on `deployment` from `start` to `start + ms`. */
const at = (deployment: string, outcome: string, start: number, ms: number): AttemptRecord => ({
  deployment,
  outcome,
  durationMs: Math.round(ms),
  startedAt: start,
  ms,
});
const classify = (trail: AttemptRecord[]): TrailCounts =>
  classifyTrail(trail, { retries: 0, fallbacks: 0, hedged: false });

describe("classifyTrail", () => {
  it("one attempt: nothing", () => {
    expect(classify([at("a/x", "ok", 0, 5)])).toEqual({ retries: 0, fallbacks: 0, hedged: false });
  });

  it("retries on one deployment, then a fallback to another", () => {
    const trail = [
      at("a/x", "UPSTREAM_UNAVAILABLE", 0, 5),
      at("a/x", "UPSTREAM_UNAVAILABLE", 10, 5),
      at("b/y", "ok", 20, 5),
    ];
    expect(classify(trail)).toEqual({ retries: 1, fallbacks: 1, hedged: false });
  });

  it("a hedge: the second lane started while the first was in flight; the loser is HEDGE_LOST", () => {
    // Lanes finish in any order: the winner enters the trail first.
    const trail = [at("b/y", "ok", 50, 10), at("a/x", "HEDGE_LOST", 0, 60)];
    expect(classify(trail)).toEqual({ retries: 0, fallbacks: 0, hedged: true });
  });

  it("a hedge lane that failed before the second lane started: a fallback, not a hedge", () => {
    const trail = [at("a/x", "UPSTREAM_UNAVAILABLE", 0, 5), at("b/y", "ok", 6, 5)];
    expect(classify(trail)).toEqual({ retries: 0, fallbacks: 1, hedged: false });
  });

  it("OUTBOUND_LIMITED sent nothing: neither a retry nor a fallback source", () => {
    const trail = [at("a/x", "OUTBOUND_LIMITED", 0, 0), at("b/y", "ok", 1, 5)];
    expect(classify(trail)).toEqual({ retries: 0, fallbacks: 0, hedged: false });
    expect(classify([at("a/x", "OUTBOUND_LIMITED", 0, 0), at("a/x", "ok", 100, 5)]).retries).toBe(0);
  });
});

describe("model labels", () => {
  // ModelLabels reads only the configured models' names, deployments and fallbacks.
  const config = {
    models: new Map([["fast", { deployments: [{ target: "mock/echo" }], fallbacks: ["openai/gpt-4o"] }]]),
  } as unknown as GatewayConfig;
  const src: LabelSource = {
    config,
    catalog: loadCatalog(),
    providers: new Map([
      ["openai", { type: "openai" }],
      ["work", { type: "openai" }],
    ]),
  };

  it("configured names, deployments and fallbacks, catalog ids and aliases, renamed providers; else other", () => {
    const l = new ModelLabels(src);
    expect(l.of("fast")).toBe("fast");
    expect(l.of("mock/echo")).toBe("mock/echo");
    expect(l.of("openai/gpt-4o")).toBe("openai/gpt-4o");
    expect(l.of("openai/gpt-4o-mini")).toBe("openai/gpt-4o-mini");
    expect(l.of("work/gpt-4o-mini")).toBe("work/gpt-4o-mini");
    expect(l.of("")).toBe("none");
    expect(l.of("mock/slow-5")).toBe(OTHER);
    expect(l.of("openai/gpt-4o+status=503")).toBe(OTHER);
    expect(l.of("nobody/gpt-4o-mini")).toBe(OTHER);
  });

  it("bounded: 10,000 distinct strings keep the decision map bounded and stay 'other'", () => {
    const l = new ModelLabels(src);
    for (let i = 0; i < 10_000; i++) expect(l.of(`bogus-${i}`)).toBe(OTHER);
    expect(l.of("fast")).toBe("fast");
    const cache = (l as unknown as { cache: Map<string, string> }).cache;
    expect(cache.size).toBeLessThanOrEqual(4096);
  });

  it("capped key names: the first N kept, then other", () => {
    const k = new CappedLabels(2);
    expect([k.of("a"), k.of("b"), k.of("c"), k.of("a"), k.of(undefined)]).toEqual([
      "a",
      "b",
      OTHER,
      "a",
      OTHER,
    ]);
  });
});

describe("cells", () => {
  it("counters and histograms expose what was recorded, in the Prometheus text format", async () => {
    const reg = new Registry();
    const make = cellCounter(reg, "t_total", "help", ["a"]);
    const c = make(["x"]);
    c.inc();
    c.inc(2.5);
    const h = new CellHistogram(reg, "t_seconds", "help", ["a"], [0.1, 1]);
    const cell = h.cell(['q"uote']);
    for (const v of [0.05, 0.1, 0.5, 3]) cell.observe(v);
    let all = parseMetrics(await reg.metrics());
    expect(sampleValue(all, "t_total", { a: "x" })).toBe(3.5);
    expect(sampleValue(all, "t_seconds_bucket", { a: 'q"uote', le: "0.1" })).toBe(2);
    expect(sampleValue(all, "t_seconds_bucket", { a: 'q"uote', le: "1" })).toBe(3);
    expect(sampleValue(all, "t_seconds_bucket", { a: 'q"uote', le: "+Inf" })).toBe(4);
    expect(sampleValue(all, "t_seconds_count", { a: 'q"uote' })).toBe(4);
    expect(sampleValue(all, "t_seconds_sum", { a: 'q"uote' })).toBeCloseTo(3.65, 10);
    // A second scrape adds only what came since.
    c.inc();
    all = parseMetrics(await reg.metrics());
    expect(sampleValue(all, "t_total", { a: "x" })).toBe(4.5);
    const json = await reg.getMetricsAsJSON();
    expect(json.find((m) => m.name === "t_seconds")?.values).toHaveLength(5); // 2 buckets, +Inf, sum, count
  });
});
