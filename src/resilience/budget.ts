// The retry budget of one deployment (Envoy style): over a sliding window, retries may be at most
// `budget_pct` of the first attempts sent, so a failing upstream sees at most (1 + pct) x the calls.

const BUCKETS = 10;
/** Retries always allowed per window, so a lone call on a quiet deployment still gets its retries. */
const MIN_RETRIES = 2;

/** Counts first attempts and retries in a ring of time buckets, rotated lazily (no timer). */
export class RetryBudget {
  private readonly firsts = new Float64Array(BUCKETS);
  private readonly retries = new Float64Array(BUCKETS);
  private readonly bucketMs: number;
  private head = 0;
  private headStart = 0;
  private firstSum = 0;
  private retrySum = 0;

  constructor(
    private readonly pct: number,
    windowMs: number,
  ) {
    this.bucketMs = Math.max(1, windowMs / BUCKETS);
  }

  private rotate(now: number): void {
    if (now - this.headStart < this.bucketMs) return;
    const steps = Math.min(BUCKETS, Math.floor((now - this.headStart) / this.bucketMs));
    for (let i = 0; i < steps; i++) {
      this.head = (this.head + 1) % BUCKETS;
      this.firstSum -= this.firsts[this.head] ?? 0;
      this.retrySum -= this.retries[this.head] ?? 0;
      this.firsts[this.head] = 0;
      this.retries[this.head] = 0;
    }
    this.headStart = steps === BUCKETS ? now : this.headStart + steps * this.bucketMs;
  }

  /** A first attempt was sent. */
  first(now = performance.now()): void {
    this.rotate(now);
    this.firsts[this.head] = (this.firsts[this.head] ?? 0) + 1;
    this.firstSum++;
  }

  /** Takes one retry from the budget; false when the budget is spent (fall back instead). */
  tryRetry(now = performance.now()): boolean {
    this.rotate(now);
    const allowed = Math.max(MIN_RETRIES, (this.pct / 100) * this.firstSum);
    if (this.retrySum + 1 > allowed) return false;
    this.retries[this.head] = (this.retries[this.head] ?? 0) + 1;
    this.retrySum++;
    return true;
  }

  /** Window totals, for health and tests. */
  counts(now = performance.now()): { firsts: number; retries: number } {
    this.rotate(now);
    return { firsts: this.firstSum, retries: this.retrySum };
  }
}
