// The gateway's one Redis connection (standalone, Sentinel or Cluster), configured to fail fast:
// no offline queue, no resending of unfulfilled commands after a reconnect, no per-request retries,
// short connect / command / socket timeouts (ioredis 6 queues without bound and replays late by
// default). After a failure Redis is treated as down for `downMs`, so calls do not each pay the
// timeout again; the first call after that is the probe, and Redis is used again once it answers.
import { Cluster, Redis, type RedisOptions } from "ioredis";
import type { FileConfig } from "../config/schema.js";
import type { Logger } from "../lib/logger.js";

/** Thrown (fast) when Redis is down, being probed, or failed this command. */
export class RedisDownError extends Error {
  override readonly name = "RedisDownError";
}

/** What Health shows. */
export type RedisState = "disabled" | "up" | "down" | "connecting";

export interface RedisLinkOptions {
  commandTimeoutMs: number;
  /** How long Redis counts as down after a failure before the next call probes it. */
  downMs: number;
}

type Client = Redis | Cluster;

/** Commands the limiter (and the cache) define with `defineCommand`. */
export interface ScriptDef {
  name: string;
  lua: string;
  numberOfKeys: number;
}

/** A fail-fast Redis link with a short "down" memory. */
export class RedisLink {
  private downUntil = 0;
  private probing = false;
  private lastError = "";
  /** Redis TIME (ms) minus the local clock (ms), measured when the link became ready. */
  clockOffsetMs: number | undefined;

  constructor(
    readonly client: Client,
    private readonly log: Logger,
    readonly opts: RedisLinkOptions,
  ) {
    client.on("error", (e: Error) => {
      this.lastError = e.message;
    });
    client.on("ready", () => {
      this.log.info("redis ready");
      void this.measureClock();
    });
    client.on("end", () => this.log.warn("redis connection ended"));
  }

  /** Defines Lua commands (EVALSHA, reloaded on NOSCRIPT by ioredis). */
  define(scripts: readonly ScriptDef[]): void {
    for (const s of scripts) this.client.defineCommand(s.name, { lua: s.lua, numberOfKeys: s.numberOfKeys });
  }

  private async measureClock(): Promise<void> {
    try {
      const t0 = Date.now();
      const [s, us] = (await (this.client as Redis).time()) as [string | number, string | number];
      const t1 = Date.now();
      this.clockOffsetMs = Number(s) * 1000 + Number(us) / 1000 - (t0 + t1) / 2;
    } catch {
      // measured again on the next ready
    }
  }

  /** For Health. */
  get state(): RedisState {
    if (Date.now() < this.downUntil) return "down";
    const s = this.client.status;
    if (s === "ready") return "up";
    if (s === "connecting" || s === "connect" || s === "reconnecting") return "connecting";
    return "down";
  }

  get detail(): string {
    return this.state === "up" ? "" : this.lastError;
  }

  /** True when a command may be tried now (not inside the down window, not behind a probe). */
  get usable(): boolean {
    return Date.now() >= this.downUntil && !this.probing && this.client.status === "ready";
  }

  /**
   * Runs one command. Inside the down window (or while another call probes) it throws RedisDownError
   * at once; a failure opens the window. Errors Redis itself answers (a script error) do not.
   */
  async run<T>(fn: (c: Client) => Promise<T>): Promise<T> {
    const now = Date.now();
    if (now < this.downUntil || this.probing) throw new RedisDownError("redis is down");
    if (this.client.status !== "ready") {
      this.markDown("not connected");
      throw new RedisDownError("redis is not connected");
    }
    const probe = this.downUntil !== 0;
    if (probe) this.probing = true;
    try {
      const out = await fn(this.client);
      if (this.downUntil !== 0) {
        this.log.info("redis answers again");
        this.downUntil = 0;
      }
      return out;
    } catch (e: unknown) {
      const msg = e instanceof Error ? e.message : String(e);
      if (isReplyError(e)) throw e;
      this.markDown(msg);
      throw new RedisDownError(`redis failed: ${msg}`);
    } finally {
      if (probe) this.probing = false;
    }
  }

  private markDown(why: string): void {
    if (this.downUntil === 0) this.log.warn({ err: why, down_ms: this.opts.downMs }, "redis unavailable");
    this.lastError = why;
    this.downUntil = Date.now() + this.opts.downMs;
  }

  async close(): Promise<void> {
    try {
      this.client.disconnect();
    } catch {
      // closing anyway
    }
  }
}

function isReplyError(e: unknown): boolean {
  return (
    e instanceof Error && e.name === "ReplyError" && !/NOSCRIPT|LOADING|READONLY|MASTERDOWN/.test(e.message)
  );
}

/**
 * Fail-fast options for every connection. ioredis 6's defaults would queue commands without bound
 * while disconnected, resend unfinished ones after a reconnect, retry each 20 times, wait 10 s to
 * connect and speak RESP3; and `commandTimeout` alone only rejects the promise while the command
 * stays queued and runs later. A cache or limiter that must never block a call needs all of these.
 */
export function failFastOptions(commandTimeoutMs: number): RedisOptions {
  return {
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    connectTimeout: Math.max(200, commandTimeoutMs * 5),
    commandTimeout: commandTimeoutMs,
    socketTimeout: Math.max(1000, commandTimeoutMs * 10),
    retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 5), 1000),
    enableReadyCheck: true,
    protocol: 2,
    lazyConnect: false,
  };
}

/** The Redis the config names (redis.url / REDIS_URL, sentinels, cluster_nodes), or undefined. */
export function createRedisLink(file: FileConfig, url: string, log: Logger): RedisLink | undefined {
  const r = file.redis ?? {};
  const commandTimeoutMs = r.command_timeout_ms ?? 100;
  const base = failFastOptions(commandTimeoutMs);
  const opts: RedisLinkOptions = { commandTimeoutMs, downMs: 1000 };
  let client: Client;
  if (r.cluster_nodes?.length) {
    client = new Cluster(r.cluster_nodes, {
      enableOfflineQueue: false, // must be top-level in Cluster mode
      redisOptions: base,
      clusterRetryStrategy: (times: number) => Math.min(100 * times, 1000),
    });
  } else if (r.sentinels?.length) {
    if (!r.name) throw new Error("redis.name: required with redis.sentinels");
    client = new Redis({ ...base, sentinels: r.sentinels, name: r.name });
  } else if (url) {
    client = new Redis(url, base);
  } else return undefined;
  client.on("error", () => {}); // state is tracked by RedisLink; never crash on a connection error
  return new RedisLink(client, log, opts);
}
