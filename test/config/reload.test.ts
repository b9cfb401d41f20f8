// Config reload on SIGHUP, in a real gateway process: new models / keys apply at once, calls in
// flight finish on the config they started with, no call is dropped under load, and a broken config
// is rejected with a log line naming the field while the old config keeps serving.
import { writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newKey } from "../../src/auth/keys.js";
import { waitFor, waitForValue } from "../helpers/wait.js";
import { type CallResult, chat, GatewayProcess } from "../limits/helpers.js";

const V1 = `
models:
  smart: { deployments: [{ target: mock/slow-4000 }] }
  quick: { deployments: [{ target: mock/echo }] }
`;
const V2 = `
models:
  smart2: { deployments: [{ target: mock/echo }] }
  quick: { deployments: [{ target: mock/echo }] }
`;
const BROKEN = `
models:
  quick: { deployments: [{ target: mock/echo }] }
defaults:
  retries: { max_attempts: -1 }
`;

const until = (check: () => boolean, timeoutMs: number, what: string) => waitFor(check, { timeoutMs, what });

/** The gateway's in-flight calls gauge, read from /metrics. */
async function inflight(url: string): Promise<number> {
  const m = /^llmgw_inflight_calls (\d+)$/m.exec(await (await fetch(`${url}/metrics`)).text());
  return Number(m?.[1] ?? Number.NaN);
}

describe("config reload (SIGHUP)", () => {
  let gw: GatewayProcess;
  const logCount = (s: string) => gw.logs.join("").split(s).length - 1;

  beforeAll(async () => {
    gw = await GatewayProcess.start(V1);
  }, 90_000);
  afterAll(async () => {
    await gw?.stop();
  });

  it("swaps models under load without dropping a call; the call in flight finishes on the old config", async () => {
    expect((await chat(gw.url, "smart2")).reason).toBe("MODEL_NOT_FOUND");
    // A slow call on a model the new config removes, in flight across the reload.
    // (4 s: long enough to outlast the reload and the load around it on a busy machine.)
    const inFlight = chat(gw.url, "smart", {}, "started before");
    await waitFor(async () => (await inflight(gw.url)) === 1, { what: "the slow call to be in flight" });
    // Load: 8 callers in a loop until the reload has been seen and calls have run after it.
    let stop = false;
    const results: CallResult[] = [];
    const loops = Array.from({ length: 8 }, async () => {
      while (!stop) results.push(await chat(gw.url, "quick"));
    });
    await waitFor(() => results.length >= 10, { what: "10 calls under load before the reload" });
    writeFileSync(gw.configPath, V2);
    const before = logCount('"config reloaded"');
    gw.proc.kill("SIGHUP");
    await until(() => logCount('"config reloaded"') > before, 10_000, "the reload");
    const atReload = results.length;
    await waitFor(() => results.length >= atReload + 15, { what: "15 calls under load after the reload" });
    stop = true;
    await Promise.all(loops);
    // The slow call is still in flight on the old generation: the gauge counts it (and only it,
    // once the load's last calls have been accounted).
    expect(
      await waitForValue(
        () => inflight(gw.url),
        (n) => n === 1,
        { what: "the gauge to count the slow call only" },
      ),
    ).toBe(1);

    const slow = await inFlight;
    expect(slow.status).toBe(200);
    expect(slow.body).toContain("started before");
    expect(results.length).toBeGreaterThan(20);
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    expect((await chat(gw.url, "smart2")).status).toBe(200);
    expect((await chat(gw.url, "smart")).reason).toBe("MODEL_NOT_FOUND");
  }, 30_000);

  it("rejects a broken config with a log line naming the field; the old config keeps serving", async () => {
    writeFileSync(gw.configPath, BROKEN);
    const before = logCount("config reload rejected");
    gw.proc.kill("SIGHUP");
    await until(() => logCount("config reload rejected") > before, 10_000, "the rejection");
    const line = gw.logs
      .join("")
      .split("\n")
      .find((l) => l.includes("config reload rejected"));
    expect(line).toContain("defaults.retries.max_attempts");
    expect((await chat(gw.url, "smart2")).status).toBe(200);
    expect(gw.proc.exitCode).toBeNull();
  }, 20_000);

  it("applies keys and limits from the new config", async () => {
    const k = newKey();
    writeFileSync(
      gw.configPath,
      `${V2}
keys:
  - { name: reloaded, sha256: ${k.sha256}, models: [quick], limits: { rpm: 2 } }
`,
    );
    const before = logCount('"config reloaded"');
    gw.proc.kill("SIGHUP");
    await until(() => logCount('"config reloaded"') > before, 10_000, "the reload");
    expect((await chat(gw.url, "quick")).reason).toBe("API_KEY_INVALID");
    const auth = { authorization: `Bearer ${k.key}` };
    expect((await chat(gw.url, "quick", auth)).status).toBe(200);
    expect((await chat(gw.url, "smart2", auth)).reason).toBe("MODEL_NOT_ALLOWED");
    expect((await chat(gw.url, "quick", auth)).status).toBe(200);
    expect((await chat(gw.url, "quick", auth)).reason).toBe("RATE_LIMITED");
    // The key never reaches a log line.
    expect(gw.logs.join("")).not.toContain(k.key);
  }, 20_000);
});

describe("config reload on a file change (LLMGW_WATCH_CONFIG=1 / --watch-config)", () => {
  let gw: GatewayProcess;
  beforeAll(async () => {
    gw = await GatewayProcess.start(V1, { LLMGW_WATCH_CONFIG: "1" });
  }, 90_000);
  afterAll(async () => {
    await gw?.stop();
  });

  it("picks up a rewritten file without a signal; a broken one is rejected", async () => {
    const count = (s: string) => gw.logs.join("").split(s).length - 1;
    expect((await chat(gw.url, "smart2")).reason).toBe("MODEL_NOT_FOUND");
    writeFileSync(gw.configPath, V2);
    await until(() => count('"config reloaded"') > 0, 10_000, "the reload");
    expect((await chat(gw.url, "smart2")).status).toBe(200);
    writeFileSync(gw.configPath, BROKEN);
    await until(() => count("config reload rejected") > 0, 10_000, "the rejection");
    expect((await chat(gw.url, "smart2")).status).toBe(200);
  }, 30_000);
});
