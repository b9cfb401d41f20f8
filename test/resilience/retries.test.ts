// Retries, fallbacks and deadlines through the whole gateway against the OpenAI fake: Retry-After
// honoured, bounded attempts, what is never retried, x-should-retry, silent upstreams, the deadline
// bounding everything, streams before and after the commit point, and cancel reaching the upstream.
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { elapse, waitFor } from "../helpers/wait.js";
import { chatReq, collect, failure, type LLMClient, Rig, reasonOf } from "./harness.js";

let rig: Rig;
let client: LLMClient;
/** attempt_ms 300, idle_ms 300, first_token_ms 300. */
let tight: LLMClient;
/** attempt_ms 4000: room to place one call's attempt timeout inside another call's answer. */
let roomy: LLMClient;

beforeAll(async () => {
  rig = await Rig.start();
  client = (await rig.gateway()).client;
  tight = (
    await rig.gateway("defaults:\n  timeouts: { attempt_ms: 300, idle_ms: 300, first_token_ms: 300 }\n")
  ).client;
  roomy = (await rig.gateway("defaults:\n  timeouts: { attempt_ms: 4000 }\n")).client;
});
afterAll(() => rig.close());

const o = (model: string) => `openai/gpt-4o+${model}`;

describe("retries", () => {
  it("429 with Retry-After: 2 -> the next attempt comes >= 1.8 s later, and succeeds", async () => {
    const t0 = performance.now();
    const res = await client.chat(chatReq(o("status=429+retry_after=2+fail_times=1+t=ra2")));
    const ms = performance.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(1800);
    expect(rig.requests("ra2")).toHaveLength(2);
    const trail = res.gateway?.attemptTrail ?? [];
    expect(trail.map((a) => a.outcome)).toEqual(["UPSTREAM_RATE_LIMITED", "ok"]);
  });

  it("persistent 429 -> bounded attempts (max_attempts 3) then the fallback answers", async () => {
    const res = await client.chat(chatReq(o("status=429+retry_after_ms=50+t=p429"), "hi", ["mock/echo"]));
    expect(rig.requests("p429")).toHaveLength(3);
    expect(res.provider).toBe("mock");
    expect(res.gateway?.attempts).toBe(4);
  });

  it("persistent 429 with nothing to fall back to -> RESOURCE_EXHAUSTED with RetryInfo after 3 attempts", async () => {
    const err = await failure(client.chat(chatReq(o("status=429+retry_after_ms=50+t=p429b"))));
    expect(err.code).toBe(Code.ResourceExhausted);
    expect(reasonOf(err)).toBe("UPSTREAM_RATE_LIMITED");
    expect(err.findDetails(RetryInfoSchema)).toHaveLength(1);
    expect(rig.requests("p429b")).toHaveLength(3);
  });

  it("Retry-After beyond max_ms (5 s) -> falls back at once instead of sleeping", async () => {
    const t0 = performance.now();
    const res = await client.chat(chatReq(o("status=429+retry_after=30+t=ra30"), "hi", ["mock/echo"]));
    expect(performance.now() - t0).toBeLessThan(4000); // below max_ms: it did not wait even that long
    expect(rig.requests("ra30")).toHaveLength(1);
    expect(res.provider).toBe("mock");
  });

  it("quota 429 -> exactly one attempt, then the fallback", async () => {
    const res = await client.chat(chatReq(o("quota+t=quota"), "hi", ["mock/echo"]));
    expect(rig.requests("quota")).toHaveLength(1);
    expect(res.provider).toBe("mock");
  });

  it("400 and context length -> exactly one attempt, the fallback never called", async () => {
    for (const [d, tag, reason] of [
      ["status=400", "r400", "UPSTREAM_BAD_REQUEST"],
      ["context_length", "rctx", "CONTEXT_LENGTH_EXCEEDED"],
    ] as const) {
      const err = await failure(client.chat(chatReq(o(`${d}+t=${tag}`), "hi", [o(`t=${tag}-fb`)])));
      expect(err.code).toBe(Code.InvalidArgument);
      expect(reasonOf(err)).toBe(reason);
      expect(rig.requests(tag)).toHaveLength(1);
      expect(rig.requests(`${tag}-fb`)).toHaveLength(0);
    }
  });

  it("x-should-retry: false -> no retry (fall back); true on a 404 -> retried", async () => {
    await client.chat(chatReq(o("status=503+should_retry=false+t=sr0"), "hi", ["mock/echo"]));
    expect(rig.requests("sr0")).toHaveLength(1);
    await failure(client.chat(chatReq(o("status=404+should_retry=true+t=sr1"))));
    expect(rig.requests("sr1")).toHaveLength(3);
  });
});

describe("timeouts and deadlines", () => {
  it("silent upstream -> falls back after the attempt timeout, well within the deadline", async () => {
    const t0 = performance.now();
    const res = await tight.chat(chatReq(o("stall+t=silent"), "hi", ["mock/echo"]), { timeoutMs: 5000 });
    const ms = performance.now() - t0;
    expect(res.provider).toBe("mock");
    expect(ms).toBeGreaterThanOrEqual(250);
    expect(ms).toBeLessThan(4000);
    const trail = res.gateway?.attemptTrail ?? [];
    expect(trail.at(0)?.outcome).toBe("UPSTREAM_TIMEOUT");
    expect(trail.at(-1)?.outcome).toBe("ok");
  });

  it("deadline 2 s against a silent upstream with retries and fallbacks -> DEADLINE_EXCEEDED, wall 2 s + a busy machine's margin", async () => {
    const t0 = performance.now();
    const err = await failure(
      client.chat(chatReq(o("delay=20000+t=dl2"), "hi", [o("delay=20000+t=dl2b")]), {
        headers: { "connect-timeout-ms": "2000" },
      }),
    );
    const ms = performance.now() - t0;
    expect(reasonOf(err)).toBe("DEADLINE_EXCEEDED");
    expect(ms).toBeGreaterThanOrEqual(1900);
    expect(ms).toBeLessThan(5000); // not the 20 s upstreams, nor their retries and fallback
    expect(await rig.fake.waitForAbort(rig.indexOf("dl2"), 5000)).toBe(true);
  });

  it("a timeout on one call does not abort another call in flight", async () => {
    // attempt_ms 4000: A times out 4 s after it started while B (started 2 s after A reached the
    // upstream, answering 3 s later) is in flight; a busy machine may delay B's start by up to 2 s.
    const a = failure(roomy.chat(chatReq(o("delay=20000+t=iso-a")), { timeoutMs: 6000 }));
    await waitFor(() => rig.requests("iso-a").length === 1, { what: "call A to reach the upstream" });
    await elapse(2000); // places B's answer across A's attempt timeout (the scenario, not a wait for work)
    const bp = roomy.chat(chatReq(o("delay=3000+t=iso-b")));
    // A's first attempt times out: the gateway aborts its upstream request.
    expect(await rig.fake.waitForAbort(rig.indexOf("iso-a"), 10_000)).toBe(true);
    // B was in flight then: the overlap this test is about really happened.
    expect(rig.requests("iso-b")).toHaveLength(1);
    expect(rig.requests("iso-b")[0]?.finished).toBe(false);
    const b = await bp;
    expect(b.provider).toBe("openai");
    const errA = await a;
    expect([Code.Unavailable, Code.DeadlineExceeded]).toContain(errA.code);
    const recB = rig.requests("iso-b");
    expect(recB).toHaveLength(1);
    expect(recB[0]?.finished).toBe(true);
    expect(recB[0]?.aborted).toBe(false);
  });

  it("client cancel on a unary call -> the fake sees the abort", async () => {
    const ac = new AbortController();
    const p = failure(client.chat(chatReq(o("delay=20000+t=ucancel")), { signal: ac.signal }));
    await waitFor(() => rig.requests("ucancel").length === 1, { what: "the call to reach the upstream" });
    ac.abort();
    const err = await p;
    expect(err.code).toBe(Code.Canceled);
    expect(await rig.fake.waitForAbort(rig.indexOf("ucancel"), 5000)).toBe(true);
  });
});

describe("streams", () => {
  it("cut mid-answer -> an error after the content, never a truncated success, and no fallback", async () => {
    const { events, error } = await collect(
      client.chatStream(chatReq(o("drop=2+t=scut"), "one two three four", ["mock/echo"])),
    );
    expect(error?.code).toBe(Code.Unavailable);
    expect(error && reasonOf(error)).toBe("UPSTREAM_STREAM_INTERRUPTED");
    expect(events.some((e) => e.event.case === "end")).toBe(false);
    expect(events[0]?.event.case === "start" && events[0].event.value.provider).toBe("openai");
    expect(rig.requests("scut")).toHaveLength(1);
  });

  it("reset before any content -> retried, then the stream starts on the fallback", async () => {
    const { events, error } = await collect(
      client.chatStream(chatReq(o("reset+t=sreset"), "hi", ["mock/echo"])),
    );
    expect(error).toBeUndefined();
    expect(events[0]?.event.case === "start" && events[0].event.value.provider).toBe("mock");
    expect(rig.requests("sreset")).toHaveLength(3);
  });

  it("stall after content -> an error within the idle timeout (300 ms), no end", async () => {
    const t0 = performance.now();
    const { events, error } = await collect(tight.chatStream(chatReq(o("stall+t=sstall"), "one two three")));
    const ms = performance.now() - t0;
    expect(error?.code).toBe(Code.Unavailable);
    expect(events.some((e) => e.event.case === "end")).toBe(false);
    expect(ms).toBeLessThan(3000);
  });
});
