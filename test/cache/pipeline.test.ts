// The response cache wired into the pipeline, end to end: real gateways on a real Redis
// (127.0.0.1:6379, a unique key prefix per run) in front of the OpenAI fake, which counts upstream
// requests. Tenants never share entries; L1 then L2 hits; single flight for unary calls and streams;
// no_store; off by default; hits cost nothing (cost and rate-limit tokens); a cancelled reader of a
// coalesced stream does not hurt the others; REST shows x-llmgw-cache.
import { createHash } from "node:crypto";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { type Client, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CacheControlSchema,
  CacheStatus,
  type ChatRequest,
  type ChatStreamResponse,
  EmbedRequestSchema,
  LLMService,
} from "../../gen/llmgateway/v1/llm_pb.js";
import { redisKeys } from "../../src/limits/redis.js";
import { ClientConnections, chatReq, collect, deltaText, post, textOf } from "../e2e/helpers.js";
import { type OpenAIFake, startOpenAIFake } from "../fakes/openai.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { waitFor } from "../helpers/wait.js";
import { uniquePrefix } from "./helpers.js";

const UPSTREAM_KEY = "sk-cache-pipeline-test";
const KEY_A = "llmgw-cache-test-tenant-a-aaaaaaaaaaaaaaaa";
const KEY_B = "llmgw-cache-test-tenant-b-bbbbbbbbbbbbbbbb";
const sha = (k: string) => createHash("sha256").update(k).digest("hex");
const prefix = uniquePrefix();

const yaml = `
# 2 s: the default 100 ms times out on a busy machine (an L2 write or a refund then goes missing).
redis: { url: "redis://127.0.0.1:6379", command_timeout_ms: 2000 }
cache: { redis_prefix: "${prefix}" }
models:
  cached: { deployments: [{ target: openai/gpt-4o-mini }], cache: { enabled: true, ttl_s: 60 } }
  slow: { deployments: [{ target: "openai/gpt-4o-mini+delay=300" }], cache: { enabled: true, ttl_s: 60 } }
  # Slow enough that 50 concurrent streams all join the one upstream stream on a busy machine.
  drip: { deployments: [{ target: "openai/gpt-4o-mini+chunk_delay=100" }], cache: { enabled: true, ttl_s: 60 } }
  plain: { deployments: [{ target: openai/gpt-4o-mini }] }
keys:
  - { name: tenant-a, sha256: ${sha(KEY_A)}, limits: { rpm: 100000, tpm: 100000 } }
  - { name: tenant-b, sha256: ${sha(KEY_B)} }
`;

let fake: OpenAIFake;
let gw: TestGateway;
let gw2: TestGateway | undefined;
let redis: Redis;
const conns = new ClientConnections();

function client(g: TestGateway): Client<typeof LLMService> {
  return createClient(
    LLMService,
    createConnectTransport({ baseUrl: g.url, httpVersion: "2", sessionManager: conns.h2(g.url) }),
  );
}

const as = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });

/** Upstream chat requests whose last user message is `text`. */
function upstreamCalls(text: string): number {
  return fake.requests.filter((r) => JSON.stringify(r.body ?? "").includes(JSON.stringify(text).slice(1, -1)))
    .length;
}

function req(
  model: string,
  text: string,
  cache?: Omit<MessageInitShape<typeof CacheControlSchema>, "$typeName">,
): ChatRequest {
  const r = chatReq(model, text);
  if (cache) r.cache = create(CacheControlSchema, cache);
  return r;
}

/** Waits until a gateway's Redis link says it is ready. */
async function redisReady(g: TestGateway): Promise<void> {
  await waitFor(() => g.logs.some((l) => l.includes("redis ready")), { what: "the gateway's Redis link" });
}

/** How many cache entries in Redis hold `text` (the fake echoes the prompt into its answer). */
async function storedWith(text: string): Promise<number> {
  let n = 0;
  for (const k of await redis.keys(`${prefix}*`)) {
    if ((await redis.getBuffer(k))?.includes(text)) n++;
  }
  return n;
}

/** Log lines of calls (the per-call line), parsed. */
function callLines(g: TestGateway): Record<string, unknown>[] {
  return g.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l["msg"] === "call");
}

beforeAll(async () => {
  fake = await startOpenAIFake({ apiKey: UPSTREAM_KEY });
  const env = { OPENAI_API_KEY: UPSTREAM_KEY, OPENAI_BASE_URL: fake.url };
  gw = await startGateway({ env, yaml });
  redis = new Redis("redis://127.0.0.1:6379", { maxRetriesPerRequest: 0 });
  redis.on("error", () => {});
  // The gateway's Redis link must be ready before the L2 assertions.
  await redisReady(gw);
});

afterAll(async () => {
  conns.close();
  await gw?.close();
  await gw2?.close();
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  await fake?.close();
});

describe("cache through the pipeline", () => {
  it("tenant A's answer is never served to tenant B; A's second call is an L1 hit, free", async () => {
    const c = client(gw);
    const text = "tenants never share";
    const a1 = await c.chat(req("cached", text), as(KEY_A));
    expect(a1.gateway?.cache).toBe(CacheStatus.MISS);
    expect(a1.gateway?.attempts).toBe(1);
    expect(a1.gateway?.costUsd).toBeGreaterThan(0);
    expect(upstreamCalls(text)).toBe(1);

    const b1 = await c.chat(req("cached", text), as(KEY_B));
    expect(b1.gateway?.cache).toBe(CacheStatus.MISS); // B's own entry, from upstream
    expect(upstreamCalls(text)).toBe(2);

    const a2 = await c.chat(req("cached", text), as(KEY_A));
    expect(a2.gateway?.cache).toBe(CacheStatus.HIT_MEMORY);
    expect(a2.gateway?.cacheAgeS).toBeGreaterThanOrEqual(0);
    expect(a2.gateway?.attempts).toBe(0);
    expect(a2.gateway?.attemptTrail).toHaveLength(0);
    expect(a2.gateway?.costUsd).toBe(0);
    expect(a2.usage?.inputTokens).toBe(a1.usage?.inputTokens); // tokens still reported
    expect(a2.usage?.outputTokens).toBe(a1.usage?.outputTokens);
    expect(textOf(a2.message?.content)).toBe(textOf(a1.message?.content));
    expect(a2.model).toBe(a1.model);
    expect(a2.provider).toBe("openai");
    expect(a2.gateway?.requestId).not.toBe(a1.gateway?.requestId);
    expect(upstreamCalls(text)).toBe(2);

    // One log line per call, hits counted apart; the key never appears.
    const lines = callLines(gw).filter((l) => l["model"] === "cached");
    expect(lines.map((l) => l["cache"])).toEqual(expect.arrayContaining(["miss", "hit-memory"]));
    expect(gw.logs.join("\n")).not.toContain(KEY_A);
    // Redis holds digests only (once both tenants' background writes have landed).
    await waitFor(async () => (await storedWith(text)) >= 2, { what: "both tenants' L2 writes" });
    const keys = await redis.keys(`${prefix}*`);
    expect(keys.length).toBeGreaterThanOrEqual(2);
    for (const k of keys) expect(k.slice(prefix.length)).toMatch(/^[0-9a-f]{64}$/);
  });

  it("a fresh gateway on the same Redis hits L2 (HIT_REDIS), then L1", async () => {
    const text = "shared across processes";
    const first = await client(gw).chat(req("cached", text), as(KEY_A));
    expect(first.gateway?.cache).toBe(CacheStatus.MISS);
    // Wait for the background L2 write: an entry holding this answer's text.
    await waitFor(async () => (await storedWith(text)) > 0, { what: "the background L2 write" });
    gw2 = await startGateway({ env: { OPENAI_API_KEY: UPSTREAM_KEY, OPENAI_BASE_URL: fake.url }, yaml });
    await redisReady(gw2);
    const c2 = client(gw2);
    const r1 = await c2.chat(req("cached", text), as(KEY_A));
    expect(r1.gateway?.cache).toBe(CacheStatus.HIT_REDIS);
    expect(r1.gateway?.cacheAgeS).toBeGreaterThanOrEqual(0);
    expect(r1.gateway?.costUsd).toBe(0);
    expect(r1.gateway?.attempts).toBe(0);
    expect(textOf(r1.message?.content)).toBe(textOf(first.message?.content));
    const r2 = await c2.chat(req("cached", text), as(KEY_A));
    expect(r2.gateway?.cache).toBe(CacheStatus.HIT_MEMORY);
    // Tenant B on the fresh gateway still goes upstream.
    const b = await c2.chat(req("cached", text), as(KEY_B));
    expect(b.gateway?.cache).toBe(CacheStatus.MISS);
    expect(upstreamCalls(text)).toBe(2);
    expect(callLines(gw2).map((l) => l["cache"])).toEqual(expect.arrayContaining(["hit-redis"]));
  });

  it("single flight: 50 identical concurrent unary calls -> 1 upstream call, 50 correct answers", async () => {
    const c = client(gw);
    const text = "fifty at once";
    const all = await Promise.all(Array.from({ length: 50 }, () => c.chat(req("slow", text), as(KEY_A))));
    expect(upstreamCalls(text)).toBe(1);
    for (const r of all) expect(textOf(r.message?.content)).toBe(`echo: ${text}`);
    const statuses = all.map((r) => r.gateway?.cache);
    expect(statuses.every((s) => s === CacheStatus.MISS || s === CacheStatus.HIT_MEMORY)).toBe(true);
    // Exactly one caller made the upstream call (and pays for it); the others were coalesced or hits.
    expect(all.filter((r) => (r.gateway?.attempts ?? 0) > 0)).toHaveLength(1);
    const lines = callLines(gw).filter((l) => l["model"] === "slow");
    expect(lines.filter((l) => l["coalesced"] === true).length).toBeGreaterThan(0);
  });

  it("single flight for streams: 50 identical concurrent streams -> 1 upstream stream, each complete", async () => {
    const c = client(gw);
    const text = "fifty streams at once";
    const all = await Promise.all(
      Array.from({ length: 50 }, () => collect(c.chatStream(req("drip", text), as(KEY_A)))),
    );
    expect(upstreamCalls(text)).toBe(1);
    for (const s of all) {
      expect(s.error).toBeUndefined();
      expect(s.events[0]?.event.case).toBe("start");
      expect(deltaText(s.events)).toBe(`echo: ${text}`);
      const end = s.events.at(-1)?.event;
      expect(end?.case).toBe("end");
      if (end?.case === "end") {
        expect(end.value.gateway?.cache).toBe(CacheStatus.MISS);
        expect(end.value.usage?.outputTokens).toBeGreaterThan(0);
      }
    }
    const ends = all.map((s) => s.events.at(-1)?.event).filter((e) => e?.case === "end");
    expect(ends.filter((e) => (e.value.gateway?.attempts ?? 0) > 0)).toHaveLength(1);

    // A later identical stream is replayed from the cache, with fresh gateway info and zero cost.
    const hit = await collect(c.chatStream(req("drip", text), as(KEY_A)));
    expect(hit.error).toBeUndefined();
    expect(deltaText(hit.events)).toBe(`echo: ${text}`);
    const end = hit.events.at(-1)?.event;
    expect(end?.case === "end" && end.value.gateway?.cache).toBe(CacheStatus.HIT_MEMORY);
    if (end?.case === "end") {
      expect(end.value.gateway?.attempts).toBe(0);
      expect(end.value.gateway?.costUsd).toBe(0);
      expect(end.value.gateway?.requestId).toBeTruthy();
    }
    expect(upstreamCalls(text)).toBe(1);
  });

  it("one client cancelling a coalesced stream does not break the others", async () => {
    const c = client(gw);
    const text = "one reader leaves early";
    const quitter = new AbortController();
    const quit = (async () => {
      const events: ChatStreamResponse[] = [];
      try {
        for await (const ev of c.chatStream(req("drip", text), { ...as(KEY_A), signal: quitter.signal })) {
          events.push(ev);
          if (ev.event.case === "delta") quitter.abort();
        }
      } catch {
        // cancelled
      }
      return events;
    })();
    const stayers = Array.from({ length: 5 }, () => collect(c.chatStream(req("drip", text), as(KEY_A))));
    const gone = await quit;
    expect(gone.some((e) => e.event.case === "end")).toBe(false);
    for (const s of await Promise.all(stayers)) {
      expect(s.error).toBeUndefined();
      expect(deltaText(s.events)).toBe(`echo: ${text}`);
      expect(s.events.at(-1)?.event.case).toBe("end");
    }
    expect(upstreamCalls(text)).toBe(1);
    expect(fake.requests.filter((r) => JSON.stringify(r.body).includes(text)).every((r) => !r.aborted)).toBe(
      true,
    );
  });

  it("no_store reads but never writes; cache.enabled turns it on for one call", async () => {
    const c = client(gw);
    const text = "do not keep this";
    const n1 = await c.chat(req("cached", text, { noStore: true }), as(KEY_A));
    expect(n1.gateway?.cache).toBe(CacheStatus.MISS);
    const n2 = await c.chat(req("cached", text), as(KEY_A));
    expect(n2.gateway?.cache).toBe(CacheStatus.MISS); // the first answer was not written
    expect(upstreamCalls(text)).toBe(2);
    const n3 = await c.chat(req("cached", text, { noStore: true }), as(KEY_A));
    expect(n3.gateway?.cache).toBe(CacheStatus.HIT_MEMORY); // no_store still reads
    expect(upstreamCalls(text)).toBe(2);

    const on = "cache on per request";
    await c.chat(req("plain", on, { enabled: true }), as(KEY_A));
    const again = await c.chat(req("plain", on, { enabled: true }), as(KEY_A));
    expect(again.gateway?.cache).toBe(CacheStatus.HIT_MEMORY);
    expect(upstreamCalls(on)).toBe(1);
  });

  it("off by default: no cache config -> UNSPECIFIED, every call reaches upstream", async () => {
    const c = client(gw);
    for (const model of ["plain", "openai/gpt-4o-mini"]) {
      const text = `no cache for ${model}`;
      for (let i = 0; i < 3; i++) {
        const r = await c.chat(req(model, text), as(KEY_A));
        expect(r.gateway?.cache).toBe(CacheStatus.UNSPECIFIED);
        expect(r.gateway?.attempts).toBe(1);
      }
      expect(upstreamCalls(text)).toBe(3);
      const s = await collect(c.chatStream(req(model, text), as(KEY_A)));
      const end = s.events.at(-1)?.event;
      expect(end?.case === "end" && end.value.gateway?.cache).toBe(CacheStatus.UNSPECIFIED);
      expect(upstreamCalls(text)).toBe(4);
    }
  });

  it("a hit refunds its rate-limit token reservation", async () => {
    const c = client(gw);
    const text = "tokens are refunded on a hit";
    await c.chat(req("cached", text), as(KEY_A));
    const remaining = async () => {
      const h: Record<string, string> = {};
      await c.chat(req("cached", text), {
        ...as(KEY_A),
        onHeader: (hs: Headers) => {
          for (const [k, v] of hs) h[k] = v;
        },
      });
      return Number(h["x-ratelimit-remaining-tokens"]);
    };
    // Every hit reserves (max_tokens default reserve) and gives it all back: the level does not sink.
    const levels: number[] = [];
    const reserve = 1024; // limits.default_output_reserve
    const bucket = `${redisKeys(`k:${sha(KEY_A)}`).t}`;
    for (let i = 0; i < 5; i++) {
      const level = await remaining();
      levels.push(level);
      // The refund is settled in the background: wait until the tenant's bucket in Redis holds it
      // (the reservation left `level`; the refund puts the reserve back on top).
      await waitFor(async () => Number(await redis.hget(bucket, "v")) >= level + reserve / 2, {
        what: `hit ${i}'s token refund in Redis`,
      });
    }
    expect(levels[4] as number).toBeGreaterThan((levels[0] as number) - reserve);
  });

  it("Embed is cached too; REST shows x-llmgw-cache for chat, streams and embeddings", async () => {
    const c = client(gw);
    const e = create(EmbedRequestSchema, {
      model: "openai/text-embedding-3-small",
      inputs: ["embed me once"],
      cache: { enabled: true },
    });
    const e1 = await c.embed(e, as(KEY_A));
    const e2 = await c.embed(e, as(KEY_A));
    expect(e1.gateway?.cache).toBe(CacheStatus.MISS);
    expect(e2.gateway?.cache).toBe(CacheStatus.HIT_MEMORY);
    expect(e2.gateway?.costUsd).toBe(0);
    expect(e2.embeddings[0]?.values).toEqual(e1.embeddings[0]?.values);
    expect(upstreamCalls("embed me once")).toBe(1);

    const h = { "content-type": "application/json", authorization: `Bearer ${KEY_A}` };
    const body = (stream: boolean) =>
      JSON.stringify({ model: "cached", messages: [{ role: "user", content: "rest door" }], stream });
    const r1 = await post(gw.url, "/v1/chat/completions", body(false), h);
    const r2 = await post(gw.url, "/v1/chat/completions", body(false), h);
    expect(r1.headers["x-llmgw-cache"]).toBe("miss");
    expect(r2.headers["x-llmgw-cache"]).toBe("hit-memory");
    expect(r2.headers["x-llmgw-attempts"]).toBe("0");
    const s1 = await post(gw.url, "/v1/chat/completions", body(true), h);
    const s2 = await post(gw.url, "/v1/chat/completions", body(true), h);
    expect(s1.headers["x-llmgw-cache"]).toBe("miss");
    expect(s2.headers["x-llmgw-cache"]).toBe("hit-memory");
    expect(s2.body).toContain('"door"');
    expect(s2.body).toContain("[DONE]");
    const emb = JSON.stringify({ model: "openai/text-embedding-3-small", input: "embed me once" });
    const p1 = await post(gw.url, "/v1/embeddings", emb, h);
    expect(p1.status).toBe(200);
    expect(p1.headers["x-llmgw-cache"]).toBe("none"); // the REST body carries no CacheControl
    const plain = await post(
      gw.url,
      "/v1/chat/completions",
      JSON.stringify({ model: "plain", messages: [{ role: "user", content: "rest door" }] }),
      h,
    );
    expect(plain.headers["x-llmgw-cache"]).toBe("none");
  });
});
