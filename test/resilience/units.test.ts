// The resilience pieces on their own: the outcome table with x-should-retry, full-jitter backoff and
// Retry-After, the retry budget under total failure, and the load-balancing strategies (the breaker:
// breaker.test.ts).

import { describe, expect, it } from "vitest";
import { UpstreamError } from "../../src/errors.js";
import {
  backoffMs,
  decide,
  outcomeFor,
  RetryBudget,
  retryWaitMs,
  signalsIllHealth,
} from "../../src/resilience/index.js";
import { balance } from "../../src/routing/index.js";

const up = (kind: ConstructorParameters<typeof UpstreamError>[0], shouldRetry?: boolean) =>
  new UpstreamError(kind, "x", "p", shouldRetry === undefined ? {} : { shouldRetry });

describe("outcome table", () => {
  it("retry / fallback / return by kind, as the README says", () => {
    for (const k of ["rate_limited", "overloaded", "unavailable", "timeout", "network"] as const)
      expect(outcomeFor(k)).toBe("retry");
    for (const k of ["not_found", "quota", "auth", "permission", "protocol"] as const)
      expect(outcomeFor(k)).toBe("fallback");
    for (const k of ["bad_request", "context_length", "content_filter"] as const)
      expect(outcomeFor(k)).toBe("return");
  });

  it("x-should-retry: false turns a retry into a fallback; true a fallback into a retry; never a return", () => {
    expect(decide(up("unavailable", false))).toBe("fallback");
    expect(decide(up("not_found", true))).toBe("retry");
    expect(decide(up("bad_request", true))).toBe("return");
    expect(decide(up("unavailable"))).toBe("retry");
  });

  it("only ill health counts for breakers", () => {
    expect(signalsIllHealth("unavailable")).toBe(true);
    expect(signalsIllHealth("timeout")).toBe(true);
    for (const k of ["rate_limited", "quota", "bad_request", "auth", "context_length"] as const)
      expect(signalsIllHealth(k)).toBe(false);
  });
});

describe("backoff", () => {
  it("full jitter stays within [0, min(max, base * 2^(n-1))]", () => {
    for (let n = 1; n <= 8; n++) {
      for (let i = 0; i < 200; i++) {
        const w = backoffMs(n, 100, 1000);
        expect(w).toBeGreaterThanOrEqual(0);
        expect(w).toBeLessThanOrEqual(Math.min(1000, 100 * 2 ** (n - 1)));
      }
    }
    expect(backoffMs(3, 100, 1000, () => 0.999)).toBe(399);
  });

  it("Retry-After is never undercut; beyond max_ms or the time left -> fall back at once (-1)", () => {
    const p = { baseMs: 100, maxMs: 5000 };
    for (let i = 0; i < 100; i++) expect(retryWaitMs(1, p, 2000, 60_000)).toBeGreaterThanOrEqual(2000);
    expect(retryWaitMs(1, p, 6000, 60_000)).toBe(-1);
    expect(retryWaitMs(1, p, 2000, 1500)).toBe(-1);
    expect(retryWaitMs(1, p, undefined, 60_000)).toBeLessThanOrEqual(100);
  });
});

describe("retry budget", () => {
  it("under 100% failure, attempts stay <= 1.2x the first attempts (budget_pct 20)", () => {
    const b = new RetryBudget(20, 10_000);
    let sent = 0;
    const calls = 500;
    for (let c = 0; c < calls; c++) {
      b.first(1000);
      sent++;
      for (let r = 0; r < 2 && b.tryRetry(1000); r++) sent++;
    }
    expect(sent).toBeLessThanOrEqual(calls * 1.2);
    expect(sent).toBeGreaterThan(calls);
  });

  it("a lone call on a quiet deployment still gets its retries; the window forgets", () => {
    const b = new RetryBudget(20, 1000);
    b.first(0);
    expect(b.tryRetry(0)).toBe(true);
    expect(b.tryRetry(0)).toBe(true);
    expect(b.tryRetry(0)).toBe(false);
    expect(b.tryRetry(5000)).toBe(true); // a new window
    expect(b.counts(5000)).toEqual({ firsts: 0, retries: 1 });
  });
});

describe("balancing", () => {
  const items = ["a", "b"];
  it("weighted random follows the weights", () => {
    let a = 0;
    for (let i = 0; i < 2000; i++)
      if (
        balance(
          items,
          "weighted",
          (t) => (t === "a" ? 3 : 1),
          () => undefined,
        )[0] === "a"
      )
        a++;
    expect(a / 2000).toBeGreaterThan(0.65);
    expect(a / 2000).toBeLessThan(0.85);
  });

  it("least_inflight and least_latency pick the idler / faster one", () => {
    const stats = (t: string) => (t === "a" ? { inflight: 5, ewmaMs: 300 } : { inflight: 1, ewmaMs: 20 });
    expect(balance(items, "least_inflight", () => 1, stats)[0]).toBe("b");
    let b = 0;
    for (let i = 0; i < 200; i++) if (balance(items, "least_latency", () => 1, stats)[0] === "b") b++;
    expect(b).toBeGreaterThan(180); // a few explore
  });
});
