// Gateway keys created at run time (AdminService): one store per process, shared by every config
// generation. Records live in Redis or a local file (store-redis.ts, store-file.ts); each replica
// polls the store's version and reloads on change, so the hot path only ever reads a local Map.
import { z } from "zod";
import type { BudgetSpec } from "../billing/types.js";
import { GatewayError } from "../errors.js";
import type { Logger } from "../lib/logger.js";
import type { KeyLimits } from "./keys.js";

/**
 * One stored record, by digest. `kind: "key"` is a key created at run time; `kind: "tombstone"`
 * revokes the config-file key with the same digest (it overrides the config).
 */
export interface RuntimeKey {
  kind: "key" | "tombstone";
  name: string;
  /** Lower-case hex SHA-256 of the key; never the key. */
  sha256: string;
  /** Allowed model patterns; undefined = every model. */
  models?: string[] | undefined;
  limits?: KeyLimits | undefined;
  budget?: BudgetSpec | undefined;
  /** ISO-8601 times. */
  createdAt: string;
  updatedAt?: string | undefined;
  revoked: boolean;
  revokedAt?: string | undefined;
}

const posInt = z.number().int().positive();
const recordSchema = z.object({
  kind: z.enum(["key", "tombstone"]),
  name: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  models: z.array(z.string()).optional(),
  limits: z
    .object({ rpm: posInt.optional(), tpm: posInt.optional(), concurrent: posInt.optional() })
    .optional(),
  budget: z.object({ usd: z.number().positive(), period: z.enum(["day", "week", "month"]) }).optional(),
  createdAt: z.string(),
  updatedAt: z.string().optional(),
  revoked: z.boolean(),
  revokedAt: z.string().optional(),
});

/** What a backend holds: raw records by digest (validated here) and the version they are at. */
export interface StoredSet {
  version: number;
  raw: ReadonlyMap<string, unknown>;
}

/** Where records live: Redis (store-redis.ts) or a local file (store-file.ts). */
export interface StoreBackend {
  /** For logs: "redis hash llmgw:keys", "file /etc/llmgw/llmgw-keys.json". */
  readonly where: string;
  /** Resolves once the backend can answer (Redis connected), or after `ms`. */
  ready(ms: number): Promise<void>;
  /** The stored version, cheaply; throws when unreachable. */
  version(): Promise<number>;
  /** Every record and its version; throws when unreachable. */
  load(): Promise<StoredSet>;
  /** Writes `records` if the stored version is still `expected`: the new version, undefined on a conflict. */
  commit(expected: number, records: readonly RuntimeKey[]): Promise<number | undefined>;
  close(): void;
}

/** A change computed from the current records: what to write, and what to answer. */
export interface Mutation<T> {
  write: RuntimeKey[];
  result: T;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The runtime keys of this process: a snapshot, refreshed by polling the store's version. */
export class KeyStore {
  private snapshot: ReadonlyMap<string, RuntimeKey> = new Map();
  private storedVersion = -1;
  private gen = 0;
  private everLoaded = false;
  private outage = false;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private readonly badRecords = new Set<string>();
  /** This process's changes, one at a time (replicas contend through compare-and-set). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly backend: StoreBackend,
    private readonly log: Logger,
    /** How often the version is polled (auth.keys_refresh_ms). */
    readonly refreshMs: number,
  ) {}

  /** Bumped whenever the snapshot changes: guards rebuild their key sets when it moves. */
  get generation(): number {
    return this.gen;
  }

  /** False until the store has been read once (Redis unreachable since start). */
  get loaded(): boolean {
    return this.everLoaded;
  }

  /** Every record (revoked keys and tombstones included), by digest. */
  get records(): ReadonlyMap<string, RuntimeKey> {
    return this.snapshot;
  }

  get where(): string {
    return this.backend.where;
  }

  /** First load (waiting up to `waitMs` for the backend), then a poll every `refreshMs`. */
  async start(waitMs = 2000): Promise<void> {
    await this.backend.ready(waitMs);
    await this.refresh();
    if (!this.everLoaded) this.log.warn({ store: this.where }, "runtime keys not loaded yet: retrying");
    this.timer ??= setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  /** Re-reads the store if its version moved. Never throws: an unreachable store keeps the last set. */
  refresh(): Promise<void> {
    this.refreshing ??= this.poll().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async poll(): Promise<void> {
    try {
      const v = await this.backend.version();
      if (v !== this.storedVersion || !this.everLoaded) this.apply(await this.backend.load());
      if (this.outage) {
        this.outage = false;
        this.log.info({ store: this.where }, "key store answers again");
      }
    } catch (e: unknown) {
      if (!this.outage) {
        this.outage = true;
        this.log.warn(
          { store: this.where, err: message(e) },
          "key store unreachable: serving the last known runtime keys",
        );
      }
    }
  }

  /** Validates and installs a stored set (a newer version only). */
  private apply(set: StoredSet): void {
    if (this.everLoaded && set.version === this.storedVersion) return;
    const next = new Map<string, RuntimeKey>();
    for (const [digest, value] of set.raw) {
      const r = recordSchema.safeParse(value);
      if (r.success && r.data.sha256 === digest) next.set(digest, r.data);
      else if (!this.badRecords.has(digest)) {
        this.badRecords.add(digest);
        this.log.warn({ store: this.where, digest: digest.slice(0, 12) }, "ignoring a malformed runtime key");
      }
    }
    this.install(set.version, next);
  }

  private install(version: number, records: ReadonlyMap<string, RuntimeKey>): void {
    this.snapshot = records;
    this.storedVersion = version;
    this.everLoaded = true;
    this.gen++;
  }

  /**
   * Applies one change atomically (compare-and-set on the version, retried on a conflict): `plan`
   * sees the freshest records and says what to write; it may throw a GatewayError to refuse. The
   * change is visible to this process at once, to other replicas within `refreshMs`.
   */
  mutate<T>(plan: (current: ReadonlyMap<string, RuntimeKey>) => Mutation<T>): Promise<T> {
    const run = this.queue.then(() => this.mutateNow(plan));
    this.queue = run.catch(() => {});
    return run;
  }

  private async mutateNow<T>(plan: (current: ReadonlyMap<string, RuntimeKey>) => Mutation<T>): Promise<T> {
    for (let attempt = 0; attempt < 20; attempt++) {
      // Another replica won the last round: back off a little, with jitter, before reading again.
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.random() * 5 * Math.min(attempt, 10)));
      let set: StoredSet;
      try {
        set = await this.backend.load();
      } catch (e: unknown) {
        throw unavailable(this.where, e);
      }
      this.apply(set);
      const current = this.snapshot;
      const { write, result } = plan(current);
      if (write.length === 0) return result;
      let version: number | undefined;
      try {
        version = await this.backend.commit(this.storedVersion, write);
      } catch (e: unknown) {
        throw unavailable(this.where, e);
      }
      if (version !== undefined) {
        const next = new Map(current);
        for (const w of write) next.set(w.sha256, w);
        this.install(version, next);
        return result;
      }
    }
    throw new GatewayError("UNAVAILABLE", "KEY_STORE_UNAVAILABLE", "the key store kept changing: retry", {
      retryAfterMs: 100,
    });
  }

  /** Stops polling and closes the backend (not the Redis link, which the app owns). */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.backend.close();
  }
}

function unavailable(where: string, e: unknown): GatewayError {
  return new GatewayError(
    "UNAVAILABLE",
    "KEY_STORE_UNAVAILABLE",
    `the key store (${where.split(" ")[0]}) is unavailable: retry later`,
    { retryAfterMs: 1000, cause: e },
  );
}
