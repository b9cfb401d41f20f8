// Calls to Redis that can never hurt a request: each is bounded by our own timer (ioredis's
// commandTimeout alone leaves the command queued), and after a failure or timeout Redis is skipped
// for a while, then one call probes it; when the probe answers, Redis is used again.

/** What the cache needs from a Redis client; an ioredis `Redis` or `Cluster` fits as is. */
export interface CacheRedis {
  /** GET returning the raw bytes, or null when the key does not exist. */
  getBuffer(key: string): Promise<Buffer | null>;
  /** SET with a time to live in milliseconds. */
  set(key: string, value: Buffer, mode: "PX", ms: number): Promise<unknown>;
}

/** Redis as the cache sees it: in use, or skipped after a failure until the next probe. */
export type RedisState = "up" | "down";

/** Options of the guard. */
export interface RedisGuardOptions {
  /** Longest wait for one Redis command, ms (default 150). */
  timeoutMs?: number;
  /** How long Redis is skipped after a failure before one call probes it again, ms (default 1000). */
  skipMs?: number;
  /** Called on every failed or timed-out command (never throws into the request). */
  onError?: (err: unknown, op: string) => void;
  /** Called when Redis goes down or comes back (for health and logs). */
  onState?: (state: RedisState) => void;
}

/** The outcome of a guarded command: its value, or `ok: false` when it failed, timed out or was skipped. */
export type Guarded<T> = { ok: true; value: T } | { ok: false };

const SKIPPED = { ok: false } as const;
const ignore = () => {};

/** Runs Redis commands with a deadline and a circuit: down after a failure, probed after `skipMs`. */
export class RedisGuard {
  private readonly timeoutMs: number;
  private readonly skipMs: number;
  private downUntil = 0;
  private down = false;
  private probing = false;

  constructor(private readonly opts: RedisGuardOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 150;
    this.skipMs = opts.skipMs ?? 1000;
  }

  /** "down" from a failure until a probe succeeds. */
  get state(): RedisState {
    return this.down ? "down" : "up";
  }

  /** Runs `fn` unless Redis is being skipped; never rejects, never waits longer than the timeout. */
  async run<T>(op: string, fn: () => Promise<T>): Promise<Guarded<T>> {
    let probe = false;
    if (this.down) {
      if (this.probing || performance.now() < this.downUntil) return SKIPPED;
      this.probing = probe = true;
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      const work = fn();
      work.catch(ignore); // a late rejection after our timeout must not be unhandled
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`redis ${op} timed out after ${this.timeoutMs} ms`)),
          this.timeoutMs,
        );
      });
      const value = await Promise.race([work, timeout]);
      if (this.down) {
        this.down = false;
        this.opts.onState?.("up");
      }
      return { ok: true, value };
    } catch (err: unknown) {
      this.downUntil = performance.now() + this.skipMs;
      if (!this.down) {
        this.down = true;
        this.opts.onState?.("down");
      }
      this.opts.onError?.(err, op);
      return SKIPPED;
    } finally {
      clearTimeout(timer);
      if (probe) this.probing = false;
    }
  }
}
