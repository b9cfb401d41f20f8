// Circuit breakers, the retry budget and load shedding through the whole gateway: a breaker opens
// after failures and answers CIRCUIT_OPEN with RetryInfo, half-open sends exactly one probe and
// recovers, a cancelled probe re-opens it; shed calls never reach a breaker; the budget holds under
// total failure; Health shows it.
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import type { TestGateway } from "../helpers/gateway.js";
import { waitFor } from "../helpers/wait.js";
import { chatReq, failure, type LLMClient, Rig, reasonOf } from "./harness.js";

let rig: Rig;
let client: LLMClient;
let gw: TestGateway;

beforeAll(async () => {
  rig = await Rig.start();
  ({ gw, client } = await rig.gateway(
    [
      "server: { max_inflight: 4 }",
      "defaults:",
      "  retries: { max_attempts: 1 }",
      // reset_ms 3 s: a busy machine still sees "open" before it half-opens.
      "  breaker: { error_threshold_pct: 50, min_calls: 4, window_ms: 10000, reset_ms: 3000 }",
      "",
    ].join("\n"),
  ));
});
afterAll(() => rig.close());

const o = (model: string) => `openai/gpt-4o+${model}`;

function breakerOf(target: string) {
  return gw.app.gateway.deploymentHealth().find((d) => d.target === target);
}

describe("circuit breaker per deployment", () => {
  it("opens after failures (CIRCUIT_OPEN + RetryInfo, nothing sent), half-open sends exactly one probe, then recovers", async () => {
    // The first 5 upstream calls fail (4 open the breaker, the 5th is the first probe), then it is healthy.
    const target = o("status=503+fail_times=5+delay=200+t=brk");
    for (let i = 0; i < 4; i++) {
      const err = await failure(client.chat(chatReq(target)));
      expect(reasonOf(err)).toBe("UPSTREAM_UNAVAILABLE");
    }
    expect(breakerOf(target)?.breaker).toBe("open");
    expect(breakerOf(target)?.msUntilHalfOpen).toBeGreaterThan(0);
    const open = await failure(client.chat(chatReq(target)));
    expect(open.code).toBe(Code.Unavailable);
    expect(reasonOf(open)).toBe("CIRCUIT_OPEN");
    const retry = open.findDetails(RetryInfoSchema)[0]?.retryDelay;
    expect(Number(retry?.seconds ?? 0n) * 1000 + (retry?.nanos ?? 0) / 1e6).toBeGreaterThanOrEqual(500);
    expect(rig.requests("brk")).toHaveLength(4);

    // Half-open: of 4 concurrent calls exactly one reaches the upstream (and fails: it re-opens).
    await waitFor(() => breakerOf(target)?.breaker === "half_open", { what: "the breaker to half-open" });
    expect(breakerOf(target)?.breaker).toBe("half_open");
    const probes = await Promise.allSettled([1, 2, 3, 4].map(() => client.chat(chatReq(target))));
    expect(probes.every((p) => p.status === "rejected")).toBe(true);
    expect(rig.requests("brk")).toHaveLength(5);
    expect(breakerOf(target)?.breaker).toBe("open");

    // Next half-open: the probe succeeds and the breaker closes; traffic flows again.
    await waitFor(() => breakerOf(target)?.breaker === "half_open", {
      what: "the breaker to half-open again",
    });
    const ok = await client.chat(chatReq(target));
    expect(ok.provider).toBe("openai");
    expect(breakerOf(target)?.breaker).toBe("closed");
    await client.chat(chatReq(target));
    expect(rig.requests("brk")).toHaveLength(7);
  });

  it("a half-open probe the client cancels before any answer re-opens the breaker; the next probe closes it", async () => {
    const { gw: g, client: c } = await rig.gateway(
      [
        "defaults:",
        "  retries: { max_attempts: 1 }",
        "  breaker: { error_threshold_pct: 50, min_calls: 4, window_ms: 10000, reset_ms: 1500 }",
        "",
      ].join("\n"),
    );
    const state = () => g.app.gateway.deploymentHealth().find((d) => d.target === target);
    // Every answer takes 800 ms; the first 4 are 503s, then it is healthy.
    const target = o("status=503+fail_times=4+delay=800+t=probecancel");
    await Promise.all([1, 2, 3, 4].map(() => failure(c.chat(chatReq(target)))));
    expect(state()?.breaker).toBe("open");
    await waitFor(() => state()?.breaker === "half_open", { what: "the breaker to half-open" });
    const ac = new AbortController();
    const probe = failure(c.chat(chatReq(target), { signal: ac.signal }));
    await waitFor(() => rig.requests("probecancel").length === 5, {
      what: "the probe to reach the upstream",
    });
    ac.abort();
    expect((await probe).code).toBe(Code.Canceled);
    // No answer proved nothing: open again for another reset_ms (not closed, not left half-open).
    await waitFor(() => state()?.breaker === "open", { what: "the breaker to re-open" });
    expect(state()?.msUntilHalfOpen).toBeGreaterThan(0);
    expect(reasonOf(await failure(c.chat(chatReq(target))))).toBe("CIRCUIT_OPEN");
    await waitFor(() => state()?.breaker === "half_open", { what: "the breaker to half-open again" });
    expect((await c.chat(chatReq(target))).provider).toBe("openai");
    expect(state()?.breaker).toBe("closed");
    expect(rig.requests("probecancel")).toHaveLength(6);
  });

  it("an open breaker with a fallback skips to the fallback without calling the upstream", async () => {
    const target = o("status=500+t=brk2");
    for (let i = 0; i < 4; i++) await failure(client.chat(chatReq(target)));
    const res = await client.chat(chatReq(target, "hi", ["mock/echo"]));
    expect(res.provider).toBe("mock");
    expect(rig.requests("brk2")).toHaveLength(4);
  });

  it("client errors, rate limits and cancels never open a breaker", async () => {
    const bad = o("status=400+t=neutral");
    const limited = o("status=429+t=neutral2");
    for (let i = 0; i < 8; i++) {
      await failure(client.chat(chatReq(bad)));
      await failure(client.chat(chatReq(limited)));
    }
    const slow = o("delay=3000+t=neutral3");
    for (let i = 0; i < 6; i++) {
      const ac = new AbortController();
      const p = failure(client.chat(chatReq(slow), { signal: ac.signal }));
      // Cancel once the call has reached the upstream (a cancel the breaker could have counted).
      await waitFor(() => rig.requests("neutral3").length === i + 1, {
        what: `call ${i} to reach the upstream`,
      });
      ac.abort();
      expect((await p).code).toBe(Code.Canceled);
    }
    expect(breakerOf(slow)?.breaker).toBe("closed");
    expect(breakerOf(bad)?.breaker).toBe("closed");
    expect(breakerOf(limited)?.breaker).toBe("closed");
    expect(rig.requests("neutral")).toHaveLength(8);
  });
});

describe("load shedding", () => {
  it("beyond max_inflight calls are shed at once (OVERLOADED), and shed calls never open a breaker", async () => {
    const target = o("delay=4000+t=shed");
    const slow = [1, 2, 3, 4].map(() => client.chat(chatReq(target)));
    await waitFor(() => rig.requests("shed").length === 4, {
      what: "the 4 slow calls to reach the upstream",
    });
    const t0 = performance.now();
    const shed = await Promise.allSettled([...Array(10)].map(() => client.chat(chatReq(target))));
    // At once: well before the slow calls answer (they are still in flight below).
    expect(performance.now() - t0).toBeLessThan(3000);
    for (const s of shed) {
      expect(s.status).toBe("rejected");
      if (s.status === "rejected")
        expect(reasonOf(await failure(Promise.reject(s.reason)))).toBe("OVERLOADED");
    }
    const h = breakerOf(target);
    expect(h?.inflight).toBe(4);
    await Promise.all(slow);
    expect(breakerOf(target)?.breaker).toBe("closed");
    expect(rig.requests("shed")).toHaveLength(4);
  });
});

describe("retry budget", () => {
  it("under 100% failure the upstream sees <= 1.2x the first attempts (budget_pct 20)", async () => {
    const { client: c } = await rig.gateway(
      [
        "defaults:",
        "  retries: { max_attempts: 3, base_ms: 1, max_ms: 5, budget_pct: 20 }",
        "  breaker: { min_calls: 100000 }",
        "",
      ].join("\n"),
    );
    const calls = 60;
    for (let i = 0; i < calls; i += 6) {
      await Promise.allSettled([...Array(6)].map(() => c.chat(chatReq(o("status=503+t=budget")))));
    }
    const sent = rig.requests("budget").length;
    expect(sent).toBeGreaterThan(calls);
    expect(sent).toBeLessThanOrEqual(calls * 1.2);
  });
});

describe("visibility", () => {
  it("Health lists deployments with breaker state, in-flight count and EWMA latency; the log line has attempts", async () => {
    const target = o("delay=50+t=health");
    const res = await client.chat(chatReq(target));
    const h = await client.health({});
    const d = h.deployments.find((x) => x.target === target);
    expect(d).toMatchObject({ provider: "openai", breaker: "closed", inflight: 0 });
    expect(d?.ewmaLatencyMs).toBeGreaterThanOrEqual(40);
    const open = h.deployments.find((x) => x.target === o("status=500+t=brk2"));
    expect(["open", "half_open"]).toContain(open?.breaker);
    const line = gw.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l["rid"] === res.gateway?.requestId && l["msg"] === "call");
    expect(line?.["attempts"]).toBe(1);
    expect(line?.["deployment"]).toBe(target);
  });
});
