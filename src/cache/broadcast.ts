// A broadcast buffer for one shared stream: the producer appends events, each reader replays them from
// the start and then follows live, at its own pace; a reader that aborts or stops early is reported
// once through `onLeave`. The buffer keeps every event (a stream answer is bounded and is cached whole).
import type { Signal } from "../lib/cancel.js";

/** A reader's exit before the stream finished: its signal aborted, or it stopped reading. */
export type LeaveHandler = () => void;

const DONE: IteratorResult<never> = { done: true, value: undefined };

/** One producer, many independent readers that each see the whole sequence. */
export class Broadcast<E> {
  private readonly buf: E[] = [];
  private state: "open" | "done" | "failed" = "open";
  private error: unknown;
  private wakers = new Set<() => void>();

  /** Every event so far, in order. */
  get events(): readonly E[] {
    return this.buf;
  }

  /** True once closed or failed. */
  get finished(): boolean {
    return this.state !== "open";
  }

  /** Appends an event and wakes the readers waiting for it. */
  push(ev: E): void {
    if (this.state !== "open") return;
    this.buf.push(ev);
    this.wake();
  }

  /** Ends the stream successfully: readers finish after replaying everything. */
  close(): void {
    if (this.state !== "open") return;
    this.state = "done";
    this.wake();
  }

  /** Ends the stream with an error: readers get it after the events they have not read yet. */
  fail(err: unknown): void {
    if (this.state !== "open") return;
    this.state = "failed";
    this.error = err;
    this.wake();
  }

  private wake(): void {
    const ws = [...this.wakers];
    this.wakers.clear();
    for (const w of ws) w();
  }

  /**
   * A new reader from the first event. `copy` gives it its own objects; `onLeave` runs once if it goes
   * before the stream finished (signal aborted or `return()` called); it then rejects with the reason.
   */
  reader(
    signal: Signal | undefined,
    onLeave: LeaveHandler,
    copy: (e: E) => E = (e) => e,
  ): AsyncIterableIterator<E> {
    let i = 0;
    let gone = false;
    let pending: { wake: () => void; reject: (e: unknown) => void } | undefined;
    const detach = () => signal?.removeEventListener("abort", onAbort);
    const leave = () => {
      if (gone) return;
      gone = true;
      detach();
      if (!this.finished) onLeave();
    };
    const onAbort = () => {
      const p = pending;
      leave();
      if (p) {
        this.wakers.delete(p.wake);
        pending = undefined;
        p.reject(signal?.reason);
      }
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    const step = (): Promise<IteratorResult<E>> => {
      if (gone) return signal?.aborted ? Promise.reject(signal.reason) : Promise.resolve(DONE);
      if (i < this.buf.length) return Promise.resolve({ done: false, value: copy(this.buf[i++] as E) });
      if (this.state !== "open") {
        gone = true;
        detach();
        return this.state === "done" ? Promise.resolve(DONE) : Promise.reject(this.error);
      }
      return new Promise<IteratorResult<E>>((resolve, reject) => {
        const wake = () => {
          pending = undefined;
          step().then(resolve, reject);
        };
        pending = { wake, reject };
        this.wakers.add(wake);
      });
    };
    if (signal?.aborted) onAbort();
    return {
      next: step,
      return: () => {
        leave();
        return Promise.resolve(DONE);
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }
}
