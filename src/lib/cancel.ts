// Cancellation without AbortController. An AbortController costs microseconds per call (its
// AbortSignal is an EventTarget built lazily on first `.signal`, and every add/removeEventListener
// goes through the EventTarget machinery); the pipeline makes one per attempt and links several
// listeners to it. Cancel is the same contract — `aborted`, `reason`, abort listeners — on an array.

/** What the pipeline and the providers read of a cancellation signal; an AbortSignal is one too. */
export interface Signal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: "abort", listener: () => void): void;
}

/**
 * A signal and its controller in one. Like an AbortSignal: listeners run once, in the order they
 * were added, when `abort` is first called; a listener added after that never runs.
 */
export class Cancel implements Signal {
  aborted = false;
  reason: unknown = undefined;
  #listeners: (() => void)[] | undefined;

  addEventListener(_type: "abort", listener: () => void): void {
    if (this.aborted) return;
    if (this.#listeners === undefined) this.#listeners = [listener];
    else this.#listeners.push(listener);
  }

  removeEventListener(_type: "abort", listener: () => void): void {
    const ls = this.#listeners;
    if (ls === undefined) return;
    const i = ls.lastIndexOf(listener);
    if (i >= 0) ls.splice(i, 1);
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const ls = this.#listeners;
    this.#listeners = undefined;
    if (ls !== undefined) for (const l of ls) l();
  }
}
