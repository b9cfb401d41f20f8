// Abort plumbing for one call: the client's signal, the call deadline and per-attempt timers, linked
// by hand and always unlinked at the end (AbortSignal.any on Node 20.20 keeps every signal combined
// with a long-lived one alive: +40 MB of heap over 1M calls).

import { GatewayError, UpstreamError } from "../errors.js";
import { Cancel, type Signal } from "../lib/cancel.js";

/** Why a call was cancelled by its client. */
export const CLIENT_CANCELLED = new GatewayError("CANCELLED", "CANCELLED", "the client cancelled the call");

/**
 * Timers for the same instant fire in any order (the transport's deadline, ours, an attempt's):
 * anything that ends this close to the deadline is reported as the deadline passing.
 */
const DEADLINE_SLACK_MS = 25;

/** The longest a Node timer waits: a longer delay (a client's `grpc-timeout: 99999999H`) fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A call's deadline: the client's, cut at the server's limit for the call (`request_ms` /
 * `max_stream_ms`). A client cannot hold a slot, a rate-limit lease or a budget hold longer than the
 * server allows by asking for a longer deadline.
 */
export function effectiveDeadlineMs(clientMs: number | undefined, serverMs: number): number {
  return Math.min(clientMs ?? serverMs, serverMs, MAX_TIMER_MS);
}

/**
 * Throws when the client has already left: checked before each step that costs (admission, the
 * upstream request), so a call whose client is gone never reaches a provider.
 */
export function assertPresent(signal: Signal): void {
  if (signal.aborted) throw signal.reason instanceof GatewayError ? signal.reason : CLIENT_CANCELLED;
}

/**
 * A call's abort scope: ended by the client or by the deadline; `dispose` unlinks everything. It
 * owns no signal of its own: it aborts the Cancels of its live attempts directly.
 */
export class CallScope {
  readonly deadlineAt: number;
  /** Why the call was ended, once it was. */
  reason: GatewayError | undefined;
  private readonly attempts = new Set<AttemptScope>();
  private readonly timer: NodeJS.Timeout;
  // The transport aborts the client signal on cancel, and also when the caller's deadline passes.
  private readonly onClientAbort = () =>
    this.end(this.pastDeadline() ? this.deadlineError() : CLIENT_CANCELLED);

  constructor(
    private readonly clientSignal: Signal,
    private readonly timeoutMs: number,
  ) {
    this.deadlineAt = performance.now() + timeoutMs;
    this.timer = setTimeout(() => this.end(this.deadlineError()), Math.min(timeoutMs, MAX_TIMER_MS));
    if (clientSignal.aborted) this.onClientAbort();
    else clientSignal.addEventListener("abort", this.onClientAbort, { once: true });
  }

  private end(reason: GatewayError): void {
    if (this.reason) return;
    this.reason = reason;
    for (const a of this.attempts) a.cancel.abort(reason);
  }

  /** Links an attempt: it is aborted with the call (at once if the call already ended). */
  link(a: AttemptScope): void {
    if (this.reason) a.cancel.abort(this.reason);
    else this.attempts.add(a);
  }

  unlink(a: AttemptScope): void {
    this.attempts.delete(a);
  }

  /** The error a passed deadline is reported as. */
  deadlineError(): GatewayError {
    return new GatewayError(
      "DEADLINE_EXCEEDED",
      "DEADLINE_EXCEEDED",
      `the call's deadline of ${Math.round(this.timeoutMs)} ms passed`,
    );
  }

  /** True when the deadline has passed, or is too close to tell apart from whatever just fired. */
  pastDeadline(): boolean {
    return this.remaining() <= DEADLINE_SLACK_MS;
  }

  /** Milliseconds left before the deadline. */
  remaining(): number {
    return this.deadlineAt - performance.now();
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.clientSignal.removeEventListener("abort", this.onClientAbort);
  }
}

/** One upstream attempt inside a call: aborted with the call, or by its own (re-armable) timer. */
export class AttemptScope {
  /** Aborted with the call, by the attempt's timer, or by whoever ends the attempt. */
  readonly cancel = new Cancel();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly parent: CallScope,
    readonly provider: string,
  ) {
    parent.link(this);
  }

  get signal(): Signal {
    return this.cancel;
  }

  /**
   * (Re)arms the attempt's timer; when it fires the attempt fails with an upstream timeout. A timer
   * that could not fire before the call's deadline is not armed: the deadline governs.
   */
  arm(ms: number, what: string): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (ms >= this.parent.remaining()) return;
    this.timer = setTimeout(
      () => this.cancel.abort(new UpstreamError("timeout", `${what} (${ms} ms)`, this.provider)),
      ms,
    );
  }

  /** Restarts the current timer from now (cheap: no new timer object). */
  refresh(): void {
    this.timer?.refresh();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.parent.unlink(this);
  }

  /**
   * What an error thrown during the attempt really means: when the attempt or call was aborted,
   * the abort reason (client cancel, deadline, attempt timeout) wins over whatever the provider threw.
   */
  explain(e: unknown): unknown {
    if (!this.cancel.aborted) return e;
    const reason: unknown = this.cancel.reason;
    if (reason instanceof UpstreamError && this.parent.pastDeadline()) return this.parent.deadlineError();
    return reason;
  }
}
