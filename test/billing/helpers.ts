// Real Redis for the billing suites: the server on 127.0.0.1:6379 when it answers (else a throwaway one
// started here), fail-fast RedisLinks like the gateway's, a unique key prefix per test file, cleanup.
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { createLogger } from "../../src/lib/logger.js";
import { failFastOptions, RedisLink } from "../../src/redis/client.js";
import { WAIT_MS, waitFor } from "../helpers/wait.js";
import { RedisServer } from "../limits/helpers.js";

export const log = createLogger("silent");

/** A prefix no other test file (or run) uses. */
export function uniquePrefix(name: string): string {
  return `llmgwtest:${name}:${randomBytes(4).toString("hex")}:`;
}

async function answers(url: string): Promise<boolean> {
  const c = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  c.on("error", () => {});
  try {
    await c.connect();
    return (await c.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    c.disconnect();
  }
}

/** The shared Redis (127.0.0.1:6379), or a throwaway server when none answers there. */
export async function sharedRedis(): Promise<{ url: string; stop: () => Promise<void> }> {
  const url = "redis://127.0.0.1:6379";
  if (await answers(url)) return { url, stop: async () => {} };
  const s = await RedisServer.start();
  return { url: s.url, stop: () => s.kill() };
}

/** A fail-fast link like the gateway's (src/redis/client.ts), ready and with its clock measured. */
export async function connectLink(url: string, commandTimeoutMs = 500, downMs = 300): Promise<RedisLink> {
  const client = new Redis(url, failFastOptions(commandTimeoutMs));
  client.on("error", () => {});
  const link = new RedisLink(client, log, { commandTimeoutMs, downMs });
  await waitFor(() => client.status === "ready" && link.clockOffsetMs !== undefined, {
    what: `redis at ${url} to become ready (start one: redis-server)`,
  });
  return link;
}

/** A suite's Redis: the shared server, two links to it and a key prefix of its own. */
export interface RedisPair {
  readonly prefix: string;
  readonly url: string;
  readonly link: RedisLink;
  readonly link2: RedisLink;
}

/**
 * Sets up a suite's Redis (beforeAll) and tears it down (afterAll): `beforeClose` first (the
 * suite's ledgers), then the links, the prefix's keys and a throwaway server if one was started.
 */
export function redisPair(name: string, beforeClose: () => void): RedisPair {
  const prefix = uniquePrefix(name);
  let redis: { url: string; stop: () => Promise<void> } | undefined;
  let link: RedisLink | undefined;
  let link2: RedisLink | undefined;
  beforeAll(async () => {
    redis = await sharedRedis();
    link = await connectLink(redis.url);
    link2 = await connectLink(redis.url);
  });
  afterAll(async () => {
    beforeClose();
    await link?.close();
    await link2?.close();
    if (redis) await dropPrefix(redis.url, prefix);
    await redis?.stop();
  });
  const ready = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error("redisPair: used before beforeAll ran");
    return v;
  };
  return {
    prefix,
    get url() {
      return ready(redis).url;
    },
    get link() {
      return ready(link);
    },
    get link2() {
      return ready(link2);
    },
  };
}

/** A plain client for inspecting keys. */
export function plainClient(url: string): Redis {
  const c = new Redis(url, { maxRetriesPerRequest: 0 });
  c.on("error", () => {});
  return c;
}

/** Deletes every key under `prefix`. */
export async function dropPrefix(url: string, prefix: string): Promise<void> {
  const c = plainClient(url);
  try {
    let cursor = "0";
    do {
      const [next, keys] = await c.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length) await c.del(...keys);
    } while (cursor !== "0");
  } finally {
    c.disconnect();
  }
}

/** Waits until `check` holds (at least `ms`: a busy machine gets the shared default when longer). */
export async function until(
  check: () => boolean | Promise<boolean>,
  ms: number,
  what: string,
): Promise<void> {
  await waitFor(check, { timeoutMs: Math.max(ms, WAIT_MS), what });
}
