// Cache bench: hit latency from L1 (memory) and L2 (Redis at REDIS_URL or 127.0.0.1:6379), p50 / p99,
// and hits per second (sequential, and 64 concurrent for L2). Prints one JSON object.
// Run: node --import tsx bench/cache.ts

import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Redis } from "ioredis";
import { ChatResponseSchema, FinishReason, Role } from "../gen/llmgateway/v1/llm_pb.js";
import { ResponseCache } from "../src/cache/index.js";
import { ms, p50p99 } from "./stats.js";

const N = Number(process.env["N"] ?? 20_000);
const CONCURRENCY = 64;

const response = create(ChatResponseSchema, {
  id: "chatcmpl-bench",
  model: "openai/gpt-x",
  provider: "openai",
  message: { role: Role.ASSISTANT, content: [{ part: { case: "text", value: "lorem ipsum ".repeat(80) } }] },
  finishReason: FinishReason.STOP,
  usage: { inputTokens: 120, outputTokens: 240, totalTokens: 360 },
});

async function latencies(
  n: number,
  get: () => Promise<unknown>,
): Promise<{ p50_ms: number; p99_ms: number; hits_per_s: number }> {
  const samples: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    if (!(await get())) throw new Error("expected a hit");
    samples.push(performance.now() - t);
  }
  const total = performance.now() - t0;
  const { p50, p99 } = p50p99(samples);
  return { p50_ms: ms(p50), p99_ms: ms(p99), hits_per_s: Math.round(n / (total / 1000)) };
}

async function throughput(n: number, get: () => Promise<unknown>): Promise<number> {
  let left = n;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (left-- > 0) if (!(await get())) throw new Error("expected a hit");
    }),
  );
  return Math.round(n / ((performance.now() - t0) / 1000));
}

const redis = new Redis(process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379", {
  enableOfflineQueue: false,
  autoResendUnfulfilledCommands: false,
  maxRetriesPerRequest: 0,
  commandTimeout: 1000,
  protocol: 2,
});
await new Promise<void>((resolve) => redis.once("ready", () => resolve()));
const prefix = `bench:cache:${randomUUID()}:`;
const key = "0".repeat(64);
const writer = new ResponseCache({ redis, prefix });
await writer.set(key, { kind: "chat", response }, 600_000);

const l1 = new ResponseCache({ redis, prefix });
await l1.get(key); // fills L1 from Redis
await latencies(2_000, () => l1.get(key)); // warm-up
const memory = await latencies(N, () => l1.get(key));

const l2 = new ResponseCache({ redis, prefix, maxBytes: 0 }); // no L1: every hit is a Redis GET
await latencies(500, () => l2.get(key));
const shared = await latencies(Math.min(N, 5_000), () => l2.get(key));
const sharedConcurrent = await throughput(Math.min(N, 20_000), () => l2.get(key));

await redis.del(prefix + key);
redis.disconnect();
console.log(
  JSON.stringify(
    {
      entry_bytes: l1.l1.bytes,
      l1: memory,
      l2: { ...shared, concurrent: { concurrency: CONCURRENCY, hits_per_s: sharedConcurrent } },
      note: "latency = cache.get() including decode of a ~1 KB ChatResponse; L2 = Redis GET on localhost",
    },
    null,
    2,
  ),
);
