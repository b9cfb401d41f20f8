// Routing through the whole gateway: hedging (the faster deployment answers, the slower is aborted
// and not counted), racing at 0 ms, least-latency shifting traffic to the faster deployment, and the
// plan's order with catalog equivalents (opt-in, capability-aware).
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChatRequestSchema, ResponseFormat_Type, Role } from "../../gen/llmgateway/v1/llm_pb.js";
import { loadCatalog } from "../../src/catalog/index.js";
import { loadConfig } from "../../src/config/index.js";
import { createProviders, implementedTypes, presetInfo } from "../../src/providers/index.js";
import { Router } from "../../src/routing/index.js";
import type { TestGateway } from "../helpers/gateway.js";
import { chatReq, collect, type LLMClient, Rig } from "./harness.js";

let rig: Rig;
let client: LLMClient;
let gw: TestGateway;

// Weighted order puts the heavy (slow) deployment first in all but ~1e-6 of calls.
const yaml = `
models:
  hedged:
    deployments:
      - { target: "openai/gpt-4o+delay=20000+t=h-slow", weight: 1000000 }
      - { target: "openai/gpt-4o+t=h-fast", weight: 1 }
    hedge_after_ms: 150
  raced:
    deployments:
      - { target: "openai/gpt-4o+delay=20000+t=r-slow", weight: 1000000 }
      - { target: "openai/gpt-4o+delay=100+t=r-fast", weight: 1 }
    hedge_after_ms: 0
  streamed:
    deployments:
      - { target: "openai/gpt-4o+delay=20000+t=hs-slow", weight: 1000000 }
      - { target: "openai/gpt-4o+t=hs-fast", weight: 1 }
    hedge_after_ms: 100
  unhedged:
    deployments:
      - { target: "openai/gpt-4o+delay=20000+t=q-slow", weight: 1000000 }
      - { target: "openai/gpt-4o+t=q-fast", weight: 1 }
  quick:
    deployments:
      - { target: "openai/gpt-4o+delay=150+t=ll-slow" }
      - { target: "openai/gpt-4o+t=ll-fast" }
    strategy: least_latency
`;

beforeAll(async () => {
  rig = await Rig.start();
  ({ gw, client } = await rig.gateway(yaml));
});
afterAll(() => rig.close());

describe("hedging", () => {
  it("hedge_after_ms 150: the faster deployment answers, the slower is aborted and counted neither way", async () => {
    const t0 = performance.now();
    const res = await client.chat(chatReq("hedged"));
    const ms = performance.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(140);
    expect(ms).toBeLessThan(5000); // the fast one's answer, not the slow one's 20 s
    const trail = res.gateway?.attemptTrail.map((a) => [a.deployment, a.outcome]) ?? [];
    expect(trail).toHaveLength(2);
    expect(trail).toEqual(
      expect.arrayContaining([
        ["openai/gpt-4o+t=h-fast", "ok"],
        ["openai/gpt-4o+delay=20000+t=h-slow", "HEDGE_LOST"],
      ]),
    );
    expect(await rig.fake.waitForAbort(rig.indexOf("h-slow"), 5000)).toBe(true);
    const slow = gw.app.gateway.deploymentHealth().find((d) => d.target.endsWith("t=h-slow"));
    expect(slow).toMatchObject({ breaker: "closed", inflight: 0 });
  });

  it("hedge_after_ms 0 races both at once: answered in about the fast one's time", async () => {
    const t0 = performance.now();
    const res = await client.chat(chatReq("raced"));
    expect(performance.now() - t0).toBeLessThan(5000); // the fast one's answer, not the slow one's 20 s
    expect(res.gateway?.attemptTrail.find((a) => a.outcome === "ok")?.deployment).toBe(
      "openai/gpt-4o+delay=100+t=r-fast",
    );
    expect(await rig.fake.waitForAbort(rig.indexOf("r-slow"), 5000)).toBe(true);
  });

  it("hedge_after_ms on the request hedges a model that configures none", async () => {
    const t0 = performance.now();
    const res = await client.chat({ ...chatReq("unhedged"), hedgeAfterMs: 100 });
    const ms = performance.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(90);
    expect(ms).toBeLessThan(5000); // the fast one's answer, not the slow one's 20 s
    expect(res.gateway?.attemptTrail.find((a) => a.outcome === "ok")?.deployment).toBe(
      "openai/gpt-4o+t=q-fast",
    );
    expect(await rig.fake.waitForAbort(rig.indexOf("q-slow"), 5000)).toBe(true);
  });

  it("a hedged stream starts on the faster deployment; the slower upstream is aborted", async () => {
    const { events, error } = await collect(client.chatStream(chatReq("streamed", "one two three")));
    expect(error).toBeUndefined();
    const end = events.at(-1)?.event;
    if (end?.case !== "end") throw new Error("no end");
    const ok = end.value.gateway?.attemptTrail.find((a) => a.outcome === "ok");
    expect(ok?.deployment).toBe("openai/gpt-4o+t=hs-fast");
    expect(await rig.fake.waitForAbort(rig.indexOf("hs-slow"), 5000)).toBe(true);
  });
});

describe("least latency", () => {
  it("shifts traffic to the faster deployment", async () => {
    for (let i = 0; i < 20; i++) await client.chat(chatReq("quick"));
    const fast = rig.requests("ll-fast").length;
    const slow = rig.requests("ll-slow").length;
    expect(fast + slow).toBe(20);
    expect(fast).toBeGreaterThanOrEqual(16);
  });
});

describe("the plan", () => {
  const env = { OPENAI_API_KEY: "k", ANTHROPIC_API_KEY: "k", GEMINI_API_KEY: "k" };
  function router(equivalents: boolean): Router {
    const config = loadConfig({ argv: [], env, presets: presetInfo, implementedTypes });
    config.models.set("smart", {
      name: "smart",
      deployments: [{ target: "openai/gpt-4o", weight: 1 }],
      strategy: "weighted",
      fallbacks: ["openai/gpt-4o-mini"],
      policy: { ...config.defaults, equivalents },
    });
    const providers = createProviders(config.providers, { unsupportedParams: "reject", warn: () => {} });
    return new Router(providers, config, loadCatalog(undefined));
  }

  it("deployments, then the request's fallback_models, then config fallbacks; equivalents only when opted in", () => {
    const off = router(false).plan("smart", ["mock/echo"]);
    expect(off.deployments.map((d) => d.target)).toEqual([
      "openai/gpt-4o",
      "mock/echo",
      "openai/gpt-4o-mini",
    ]);
    const on = router(true).plan("smart", ["mock/echo"]);
    const targets = on.deployments.map((d) => d.target);
    expect(targets.slice(0, 3)).toEqual(["openai/gpt-4o", "mock/echo", "openai/gpt-4o-mini"]);
    const extra = targets.slice(3);
    expect(extra.length).toBeGreaterThan(0);
    for (const t of extra) expect(t.startsWith("openai/")).toBe(false);
  });

  it("equivalents must have the capabilities the request needs", () => {
    const r = router(true);
    const all = r.plan("smart").deployments.length;
    const needy = r.plan(
      "smart",
      [],
      create(ChatRequestSchema, {
        model: "smart",
        tools: [{ name: "f", parametersJson: "{}" }],
        responseFormat: { type: ResponseFormat_Type.JSON_SCHEMA, jsonSchema: "{}" },
        messages: [
          {
            role: Role.USER,
            content: [
              { part: { case: "image", value: { source: { case: "url", value: "https://x/y.png" } } } },
            ],
          },
        ],
      }),
    ).deployments;
    expect(needy.length).toBeLessThanOrEqual(all);
    const catalog = loadCatalog(undefined);
    for (const d of needy.slice(2)) {
      const caps = catalog.get(d.target)?.capabilities ?? [];
      for (const need of ["tools", "vision", "json_schema"] as const) expect(caps).toContain(need);
    }
  });
});
