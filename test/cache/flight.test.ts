// Single flight: identical concurrent misses make one upstream call; every waiter gets the answer (for
// streams, the whole sequence even when joining mid-stream); the shared call is aborted only when its
// last waiter has gone; a leader error reaches every waiter and nothing is cached.
import { afterAll, describe, expect, it } from "vitest";
import { CacheStatus, type ChatStreamResponse } from "../../gen/llmgateway/v1/llm_pb.js";
import {
  CachedCalls,
  cacheKey,
  FlightAbandoned,
  ResponseCache,
  SingleFlight,
  StreamFlights,
} from "../../src/cache/index.js";
import {
  chatRequest,
  chatResponse,
  fastRedis,
  sleep,
  streamEvents,
  streamText,
  uniquePrefix,
} from "./helpers.js";

const redis = fastRedis();
const prefix = uniquePrefix();

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

async function drain<E>(it: AsyncIterable<E>): Promise<E[]> {
  const out: E[] = [];
  for await (const e of it) out.push(e);
  return out;
}

/** An upstream stream that yields one event every `gapMs` and records whether it was aborted. */
function slowUpstream(
  events: ChatStreamResponse[],
  gapMs: number,
  seen: { calls: number; aborted: boolean },
) {
  return async function* (signal: AbortSignal): AsyncGenerator<ChatStreamResponse> {
    seen.calls++;
    signal.addEventListener("abort", () => {
      seen.aborted = true;
    });
    for (const e of events) {
      await sleep(gapMs);
      if (signal.aborted) throw signal.reason;
      yield e;
    }
  };
}

describe("SingleFlight (unary)", () => {
  it("50 concurrent identical runs -> one leader call, 50 values", async () => {
    const sf = new SingleFlight<string>();
    let calls = 0;
    const leader = async () => {
      calls++;
      await sleep(30);
      return "v";
    };
    const all = await Promise.all(Array.from({ length: 50 }, () => sf.run("k", leader)));
    expect(calls).toBe(1);
    expect(all).toEqual(Array(50).fill("v"));
    expect(sf.size).toBe(0);
  });

  it("aborts the leader only when the last waiter has gone", async () => {
    const sf = new SingleFlight<string>();
    let leaderSignal: AbortSignal | undefined;
    const leader = (signal: AbortSignal) => {
      leaderSignal = signal;
      return new Promise<string>((_, reject) =>
        signal.addEventListener("abort", () => reject(signal.reason)),
      );
    };
    const acs = [new AbortController(), new AbortController(), new AbortController()];
    const ps = acs.map((ac) => sf.run("k", leader, { signal: ac.signal }));
    for (const p of ps) p.catch(() => {});
    await sleep(5);
    acs[0]?.abort(new Error("client 0 gone"));
    acs[1]?.abort(new Error("client 1 gone"));
    await expect(ps[0]).rejects.toThrow("client 0 gone");
    await sleep(5);
    expect(leaderSignal?.aborted).toBe(false);
    acs[2]?.abort(new Error("client 2 gone"));
    await expect(ps[2]).rejects.toThrow("client 2 gone");
    expect(leaderSignal?.aborted).toBe(true);
    expect(leaderSignal?.reason).toBeInstanceOf(FlightAbandoned);
    expect(sf.has("k")).toBe(false);
  });
});

describe("StreamFlights", () => {
  it("50 readers joining mid-stream each get the complete sequence from one upstream stream", async () => {
    const flights = new StreamFlights<ChatStreamResponse>();
    const events = streamEvents(20);
    const seen = { calls: 0, aborted: false };
    const up = slowUpstream(events, 5, seen);
    const readers: Promise<ChatStreamResponse[]>[] = [];
    for (let i = 0; i < 50; i++) {
      readers.push(drain(flights.join("k", up)));
      if (i % 5 === 4) await sleep(9); // later readers join after events have gone by
    }
    const got = await Promise.all(readers);
    expect(seen.calls).toBe(1);
    for (const g of got) expect(streamText(g)).toBe(streamText(events));
  });

  it("aborts the upstream only when the last reader has gone (abort or early return)", async () => {
    const flights = new StreamFlights<ChatStreamResponse>();
    const seen = { calls: 0, aborted: false };
    const up = slowUpstream(streamEvents(100), 5, seen);
    const a = new AbortController();
    const b = new AbortController();
    const ra = flights.join("k", up, { signal: a.signal });
    const rb = flights.join("k", up, { signal: b.signal });
    const rc = flights.join("k", up);
    expect((await ra.next()).done).toBe(false);
    a.abort(new Error("a gone"));
    await expect(ra.next()).rejects.toThrow("a gone");
    await rc.next();
    await rc.return?.();
    await sleep(20);
    expect(seen.aborted).toBe(false);
    expect((await rb.next()).done).toBe(false);
    const pending = rb.next().then(() => rb.next());
    b.abort(new Error("b gone"));
    await expect(pending).rejects.toThrow("b gone");
    await sleep(10);
    expect(seen.aborted).toBe(true);
    expect(flights.size).toBe(0);
  });

  it("a leader error reaches every reader after the events it produced", async () => {
    const flights = new StreamFlights<ChatStreamResponse>();
    const events = streamEvents(3);
    async function* failing(): AsyncGenerator<ChatStreamResponse> {
      yield* events.slice(0, 2);
      await sleep(10);
      throw new Error("upstream broke");
    }
    const rs = Array.from({ length: 5 }, () => drain(flights.join("k", failing)));
    for (const r of rs) await expect(r).rejects.toThrow("upstream broke");
  });
});

describe("CachedCalls single flight", () => {
  it("50 identical Chat misses -> 1 upstream call; the leader stores even when its own client left", async () => {
    const calls = new CachedCalls(new ResponseCache({ redis, prefix }));
    const key = cacheKey(chatRequest({ model: "mock/sf" }), "t");
    let upstream = 0;
    const call = async () => {
      upstream++;
      await sleep(30);
      return chatResponse("shared");
    };
    const policy = { store: true, ttlMs: 60_000 };
    const leaderClient = new AbortController();
    const first = calls.chat(key, policy, leaderClient.signal, call);
    first.catch(() => {});
    const rest = Array.from({ length: 49 }, () =>
      calls.chat(key, policy, new AbortController().signal, call),
    );
    await sleep(5);
    leaderClient.abort(new Error("leader's client went away"));
    await expect(first).rejects.toThrow("went away");
    const got = await Promise.all(rest);
    expect(upstream).toBe(1);
    expect(
      got.every(
        (r) => r.status === CacheStatus.MISS && r.response.message?.content[0]?.part.value === "shared",
      ),
    ).toBe(true);
    expect(got.every((r) => r.shared)).toBe(true); // the leader was the first caller
    // Each caller has its own copy.
    expect(new Set(got.map((r) => r.response)).size).toBe(49);
    await sleep(50);
    expect((await new ResponseCache({ redis, prefix }).get(key))?.level).toBe("redis");
  });

  it("a leader error reaches all 20 waiters and nothing is cached", async () => {
    const cache = new ResponseCache({ redis, prefix });
    const calls = new CachedCalls(cache);
    const key = cacheKey(chatRequest({ model: "mock/err" }), "t");
    let upstream = 0;
    const call = async () => {
      upstream++;
      await sleep(20);
      throw new Error("provider exploded");
    };
    const policy = { store: true, ttlMs: 60_000 };
    const all = Array.from({ length: 20 }, () => calls.chat(key, policy, undefined, call));
    for (const p of all) await expect(p).rejects.toThrow("provider exploded");
    expect(upstream).toBe(1);
    await sleep(30);
    expect(await cache.get(key)).toBeUndefined();
    expect(await redis.exists(prefix + key)).toBe(0);
  });

  it("50 identical ChatStream misses -> 1 upstream stream, each caller its own full copy; then cached", async () => {
    const calls = new CachedCalls(new ResponseCache({ redis, prefix }));
    const key = cacheKey(chatRequest({ model: "mock/sfs" }), "t", "stream");
    const events = streamEvents(10);
    const seen = { calls: 0, aborted: false };
    const up = slowUpstream(events, 10, seen);
    const policy = { store: true, ttlMs: 60_000 };
    // Callers arrive over ~40 ms while the upstream stream takes ~110 ms: most join mid-stream.
    const outs = Array.from({ length: 50 }, async (_, i) => {
      await sleep((i % 5) * 10);
      const r = await calls.chatStream(key, policy, new AbortController().signal, up);
      expect(r.status).toBe(CacheStatus.MISS);
      return drain(r.events);
    });
    const got = await Promise.all(outs);
    expect(seen.calls).toBe(1);
    for (const g of got) expect(streamText(g)).toBe(streamText(events));
    expect(got[0]?.[0]).not.toBe(got[1]?.[0]);
    const hit = await calls.chatStream(key, policy, undefined, up);
    expect(hit.status).toBe(CacheStatus.HIT_MEMORY);
    expect(streamText(await drain(hit.events))).toBe(streamText(events));
  });
});
