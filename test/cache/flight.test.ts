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
import { waitFor } from "../helpers/wait.js";
import { chatRequest, chatResponse, fastRedis, streamEvents, streamText, uniquePrefix } from "./helpers.js";

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

/** What a test upstream did: calls started, events yielded, whether it was aborted. */
interface Seen {
  calls: number;
  yielded: number;
  aborted: boolean;
}

/**
 * An upstream stream the test drives: it yields its next event only once `release(n)` allows `n`
 * events, so readers join mid-stream at chosen points however busy the machine is.
 */
function gatedUpstream(events: ChatStreamResponse[], seen: Seen) {
  let allowed = 0;
  let wake: (() => void) | undefined;
  const release = (n: number) => {
    allowed = Math.max(allowed, n);
    wake?.();
  };
  const leader = async function* (signal: AbortSignal): AsyncGenerator<ChatStreamResponse> {
    seen.calls++;
    signal.addEventListener("abort", () => {
      seen.aborted = true;
      wake?.();
    });
    for (const e of events) {
      while (seen.yielded >= allowed && !signal.aborted) await new Promise<void>((r) => (wake = r));
      if (signal.aborted) throw signal.reason;
      seen.yielded++;
      yield e;
    }
  };
  return { leader, release };
}

/** A promise the test resolves: an upstream call that answers when told to. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = () => {};
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

describe("SingleFlight (unary)", () => {
  it("50 concurrent identical runs -> one leader call, 50 values", async () => {
    const sf = new SingleFlight<string>();
    let calls = 0;
    const answer = gate();
    const leader = async () => {
      calls++;
      await answer.promise;
      return "v";
    };
    const runs = Array.from({ length: 50 }, () => sf.run("k", leader));
    answer.open(); // the leader answers only once all 50 have asked
    const all = await Promise.all(runs);
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
    await waitFor(() => leaderSignal !== undefined, { what: "the leader to start" });
    acs[0]?.abort(new Error("client 0 gone"));
    acs[1]?.abort(new Error("client 1 gone"));
    await expect(ps[0]).rejects.toThrow("client 0 gone");
    // Both waiters have left (their calls settled): an abort of the leader would have happened by now.
    await expect(ps[1]).rejects.toThrow("client 1 gone");
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
    const seen: Seen = { calls: 0, yielded: 0, aborted: false };
    const up = gatedUpstream(events, seen);
    const readers: Promise<ChatStreamResponse[]>[] = [];
    for (let i = 0; i < 50; i++) {
      readers.push(drain(flights.join("k", up.leader)));
      if (i % 5 === 4) {
        // later readers join after events have gone by
        const next = seen.yielded + 2;
        up.release(next);
        await waitFor(() => seen.yielded >= next, { what: `upstream event ${next}` });
      }
    }
    up.release(events.length);
    const got = await Promise.all(readers);
    expect(seen.calls).toBe(1);
    for (const g of got) expect(streamText(g)).toBe(streamText(events));
  });

  it("aborts the upstream only when the last reader has gone (abort or early return)", async () => {
    const flights = new StreamFlights<ChatStreamResponse>();
    const seen: Seen = { calls: 0, yielded: 0, aborted: false };
    const up = gatedUpstream(streamEvents(100), seen);
    const a = new AbortController();
    const b = new AbortController();
    const ra = flights.join("k", up.leader, { signal: a.signal });
    const rb = flights.join("k", up.leader, { signal: b.signal });
    const rc = flights.join("k", up.leader);
    up.release(1);
    expect((await ra.next()).done).toBe(false);
    a.abort(new Error("a gone"));
    await expect(ra.next()).rejects.toThrow("a gone");
    await rc.next();
    await rc.return?.();
    // The upstream goes on producing for the one reader left (it would have stopped if aborted).
    up.release(2);
    await waitFor(() => seen.yielded >= 2, { what: "the upstream to yield after two readers left" });
    expect(seen.aborted).toBe(false);
    expect((await rb.next()).done).toBe(false);
    const pending = rb.next().then(() => rb.next());
    b.abort(new Error("b gone"));
    await expect(pending).rejects.toThrow("b gone");
    await waitFor(() => seen.aborted, { what: "the upstream to be aborted" });
    expect(seen.aborted).toBe(true);
    expect(flights.size).toBe(0);
  });

  it("a leader error reaches every reader after the events it produced", async () => {
    const flights = new StreamFlights<ChatStreamResponse>();
    const events = streamEvents(3);
    let open = () => {};
    const gate = new Promise<void>((r) => (open = r));
    async function* failing(): AsyncGenerator<ChatStreamResponse> {
      yield* events.slice(0, 2);
      await gate; // fails only once all five readers have joined
      throw new Error("upstream broke");
    }
    const rs = Array.from({ length: 5 }, () => drain(flights.join("k", failing)));
    open();
    for (const r of rs) await expect(r).rejects.toThrow("upstream broke");
  });
});

describe("CachedCalls single flight", () => {
  it("50 identical Chat misses -> 1 upstream call; the leader stores even when its own client left", async () => {
    const calls = new CachedCalls(new ResponseCache({ redis, prefix }));
    const key = cacheKey(chatRequest({ model: "mock/sf" }), "t");
    let upstream = 0;
    const answer = gate();
    const call = async () => {
      upstream++;
      await answer.promise;
      return chatResponse("shared");
    };
    const policy = { store: true, ttlMs: 60_000 };
    const leaderClient = new AbortController();
    const first = calls.chat(key, policy, leaderClient.signal, call);
    first.catch(() => {});
    const rest = Array.from({ length: 49 }, () =>
      calls.chat(key, policy, new AbortController().signal, call),
    );
    await waitFor(() => upstream > 0, { what: "the upstream call to start" });
    leaderClient.abort(new Error("leader's client went away"));
    await expect(first).rejects.toThrow("went away");
    answer.open(); // the upstream answers after the leader's own client has gone
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
    await waitFor(async () => (await redis.exists(prefix + key)) === 1, { what: "the background L2 write" });
    expect((await new ResponseCache({ redis, prefix }).get(key))?.level).toBe("redis");
  });

  it("a leader error reaches all 20 waiters and nothing is cached", async () => {
    const cache = new ResponseCache({ redis, prefix });
    const calls = new CachedCalls(cache);
    const key = cacheKey(chatRequest({ model: "mock/err" }), "t");
    let upstream = 0;
    let open = () => {};
    const gate = new Promise<void>((r) => (open = r));
    const call = async () => {
      upstream++;
      await gate; // the leader fails only once all 20 wait on its flight (each looked in Redis first)
      throw new Error("provider exploded");
    };
    const policy = { store: true, ttlMs: 60_000 };
    const all = Array.from({ length: 20 }, () => calls.chat(key, policy, undefined, call));
    await waitFor(() => calls.waiting(key) === 20, { what: "all 20 callers to join the flight" });
    open();
    for (const p of all) await expect(p).rejects.toThrow("provider exploded");
    expect(upstream).toBe(1);
    // A write issued after the failure, on the same connection: once it has landed in Redis, a
    // write of the failed answer (issued before) would have landed too.
    const marker = cacheKey(chatRequest({ model: "mock/err-marker" }), "t");
    await cache.set(marker, { kind: "chat", response: chatResponse("marker") }, 60_000);
    expect(await redis.exists(prefix + marker)).toBe(1);
    expect(await cache.get(key)).toBeUndefined();
    expect(await redis.exists(prefix + key)).toBe(0);
  });

  it("50 identical ChatStream misses -> 1 upstream stream, each caller its own full copy; then cached", async () => {
    const calls = new CachedCalls(new ResponseCache({ redis, prefix }));
    const key = cacheKey(chatRequest({ model: "mock/sfs" }), "t", "stream");
    const events = streamEvents(10);
    const seen: Seen = { calls: 0, yielded: 0, aborted: false };
    const up = gatedUpstream(events, seen);
    const policy = { store: true, ttlMs: 60_000 };
    // Callers arrive in five waves, each after two more upstream events: most join mid-stream.
    let joined = 0;
    const outs = Array.from({ length: 50 }, async (_, i) => {
      await waitFor(() => seen.yielded >= (i % 5) * 2, { what: `upstream event ${(i % 5) * 2}` });
      const r = await calls.chatStream(key, policy, new AbortController().signal, up.leader);
      joined++;
      expect(r.status).toBe(CacheStatus.MISS);
      return drain(r.events);
    });
    for (let wave = 1; wave <= 5; wave++) {
      await waitFor(() => joined >= wave * 10, { what: `wave ${wave} of callers to join` });
      up.release(wave * 2);
    }
    up.release(events.length);
    const got = await Promise.all(outs);
    expect(seen.calls).toBe(1);
    for (const g of got) expect(streamText(g)).toBe(streamText(events));
    expect(got[0]?.[0]).not.toBe(got[1]?.[0]);
    const hit = await calls.chatStream(key, policy, undefined, up.leader);
    expect(hit.status).toBe(CacheStatus.HIT_MEMORY);
    expect(streamText(await drain(hit.events))).toBe(streamText(events));
  });
});
