// Three gateway processes sharing one Redis behave as one gateway: one key limited to 10 requests
// per window admits exactly 10 across all three; 20 parallel calls never overspend a TPM limit;
// the plaintext key appears neither in any process's logs nor anywhere in Redis.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../helpers/wait.js";
import { chat, dumpRedis, GatewayProcess, RedisServer } from "./helpers.js";

const KEY = "llmgw-replica-test-key-0123456789abcdef";
const TPM_KEY = "llmgw-tpm-test-key-fedcba9876543210";
const digest = (k: string) => createHash("sha256").update(k).digest("hex");

describe("three replicas, one Redis", () => {
  let redis: RedisServer;
  const gws: GatewayProcess[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    const yaml = `
redis: { url: ${redis.url}, command_timeout_ms: 2000 }
keys:
  - { name: ten, sha256: ${digest(KEY)}, limits: { rpm: 10 } }
  - { name: tpm, sha256: ${digest(TPM_KEY)}, limits: { tpm: 1000 } }
limits: { default_output_reserve: 100 }
logging: { level: debug }
`;
    gws.push(...(await Promise.all([0, 1, 2].map(() => GatewayProcess.start(yaml)))));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(gws.map((g) => g.stop()));
    await redis?.kill();
  });

  it("exactly 10 of 45 concurrent calls across the three succeed; the rest are RATE_LIMITED with RetryInfo", async () => {
    const calls = Array.from({ length: 45 }, (_, i) =>
      chat((gws[i % 3] as GatewayProcess).url, "mock/echo", { authorization: `Bearer ${KEY}` }),
    );
    const results = await Promise.all(calls);
    const ok = results.filter((r) => r.status === 200);
    const limited = results.filter((r) => r.status !== 200);
    expect(ok).toHaveLength(10);
    for (const r of limited) {
      expect(r.code).toBe("resource_exhausted");
      expect(r.reason).toBe("RATE_LIMITED");
      expect(r.retryMs).toBeGreaterThan(0);
      expect(r.retryMs).toBeLessThanOrEqual(6000); // one request refills in 60 s / 10
      expect(r.headers["x-ratelimit-limit-requests"]).toBe("10");
      expect(r.headers["x-ratelimit-remaining-requests"]).toBe("0");
    }
    for (const r of ok) {
      expect(r.headers["x-ratelimit-limit-requests"]).toBe("10");
      expect(Number(r.headers["x-ratelimit-remaining-requests"])).toBeLessThan(10);
    }
    // The ten successes saw ten distinct remaining counts (one atomic decision each): 9..0.
    const remaining = ok
      .map((r) => Number(r.headers["x-ratelimit-remaining-requests"]))
      .sort((a, b) => a - b);
    expect(remaining).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("20 parallel calls against tpm 1000 admit no more tokens than the limit; usage is reconciled after", async () => {
    // Slow upstream: all 20 are in flight together, so no refund can arrive before the last decision
    // (3 s: room for a busy machine to spread the 20 decisions out).
    const calls = Array.from({ length: 20 }, (_, i) =>
      chat((gws[i % 3] as GatewayProcess).url, "mock/slow-3000", { "x-api-key": TPM_KEY }, "hello"),
    );
    const results = await Promise.all(calls);
    const ok = results.filter((r) => r.status === 200);
    // Each call reserves its prompt estimate (ceil(5/4) + 4 = 6) + default_output_reserve 100 = 106.
    expect(ok.length * 106).toBeLessThanOrEqual(1000);
    expect(ok).toHaveLength(9);
    for (const r of results.filter((x) => x.status !== 200)) {
      expect(r.reason).toBe("RATE_LIMITED");
      expect(r.retryMs).toBeGreaterThan(0);
      expect(r.headers["x-ratelimit-limit-tokens"]).toBe("1000");
    }
    // Reconciled: the calls used far fewer tokens (mock: 2 in + 2 out) than reserved, so the
    // refunds let a new call in at once, and the remaining count shows the refunds.
    // Refunds settle in the background: wait until the key's bucket in Redis shows enough of them for
    // a new call to leave more than 800 (the refill alone would take about a minute).
    const bucket = `{rl:k:${digest(TPM_KEY)}}:t`;
    const c = redis.client();
    try {
      await waitFor(async () => Number(await c.hget(bucket, "v")) > 906, { what: "the refunds in Redis" });
    } finally {
      c.disconnect();
    }
    const after = await chat((gws[0] as GatewayProcess).url, "mock/echo", { "x-api-key": TPM_KEY }, "hello");
    expect(after.status).toBe(200);
    expect(Number(after.headers["x-ratelimit-remaining-tokens"])).toBeGreaterThan(1000 - 10 * 106);
    expect(Number(after.headers["x-ratelimit-remaining-tokens"])).toBeGreaterThan(800);
  });

  it("keys appear in no log and nowhere in Redis (only digests)", async () => {
    const c = redis.client();
    try {
      const dump = await dumpRedis(c);
      expect(dump).toContain(`{rl:k:${digest(KEY)}}`);
      expect(dump).not.toContain(KEY);
      expect(dump).not.toContain(TPM_KEY);
    } finally {
      c.disconnect();
    }
    const logs = gws.map((g) => g.logs.join("")).join("\n");
    expect(logs).toContain('"caller":"ten"');
    expect(logs).not.toContain(KEY);
    expect(logs).not.toContain(TPM_KEY);
  });
});
