// Shapes shared by the in-memory and the Redis limiter.

/** Limits of one subject (a gateway key, or a client IP without a key). Unset = unlimited. */
export interface LimitSpec {
  rpm?: number | undefined;
  tpm?: number | undefined;
  concurrent?: number | undefined;
}

/** Who is limited: `k:<sha256 hex>` or `ip:<address>` — never a key. */
export interface Subject {
  id: string;
  spec: LimitSpec;
}

/** Levels after a decision, for the x-ratelimit-* headers (undefined = that limit is not set). */
export interface Levels {
  requests?: { limit: number; remaining: number; resetMs: number };
  tokens?: { limit: number; remaining: number; resetMs: number };
}

/** The answer of one decision. */
export type Decision =
  | { ok: true; levels: Levels }
  | { ok: false; why: "requests" | "tokens" | "too_large"; waitMs: number; levels: Levels }
  | { ok: false; why: "concurrency"; waitMs: number; levels: Levels };

/** A backend: one atomic decision, then the reconciliation of a granted call. */
export interface LimitStore {
  /** Reserves 1 request and `tokens` tokens (and a concurrency slot) atomically, or consumes nothing. */
  acquire(subject: Subject, tokens: number, leaseId: string, leaseTtlMs: number): Promise<Decision>;
  /** Gives back `refund` tokens (negative: charges more) and frees the concurrency slot. */
  settle(subject: Subject, refund: number, leaseId: string): Promise<void>;
}

/** Per minute: a bucket of `cap` refills at cap / 60 000 per ms. */
export const WINDOW_MS = 60_000;
