// Single flight: concurrent identical misses share ONE upstream call. The leader's work runs on its own
// AbortController (never on a client's signal: Connect aborts a handler's signal after every call), is
// aborted only when its last waiter has gone, and reports its result once (the cache write) whoever is
// still connected. A failure goes to every current waiter and reports nothing. Streams: stream-flight.ts.
import type { Signal } from "../lib/cancel.js";
import { orAbort } from "../lib/next-or-abort.js";

/** Why a shared call was aborted: every waiter left before it finished. */
export class FlightAbandoned extends Error {
  constructor() {
    super("every waiter of the shared call has gone");
    this.name = "FlightAbandoned";
  }
}

/** Swallows a rejection someone else handles. */
export const ignore = (): void => {};

interface Flight<T> {
  controller: AbortController;
  waiters: number;
  settled: boolean;
  promise: Promise<T>;
}

/** Options of one waiter of a unary flight. */
export interface RunOptions<T> {
  /** This waiter's signal: when it aborts, this waiter rejects with its reason and leaves. */
  signal?: Signal;
  /** Called once with the leader's value when the flight succeeds (only the leader's callback runs). */
  onValue?: (value: T) => void;
}

/** Coalesces concurrent calls with the same key into one call of the first caller's `leader`. */
export class SingleFlight<T> {
  private readonly flights = new Map<string, Flight<T>>();

  /** Keys with a call in flight. */
  get size(): number {
    return this.flights.size;
  }

  /** How many callers wait on the call in flight for `key` (0 when none is). */
  waiting(key: string): number {
    return this.flights.get(key)?.waiters ?? 0;
  }

  /** True when a call for `key` is in flight (a caller would join it). */
  has(key: string): boolean {
    return this.flights.has(key);
  }

  /** Joins the call in flight for `key`, or starts `leader` as it; resolves with the shared value. */
  run(key: string, leader: (signal: AbortSignal) => Promise<T>, opts: RunOptions<T> = {}): Promise<T> {
    let f = this.flights.get(key);
    if (!f) {
      const controller = new AbortController();
      const flight: Flight<T> = {
        controller,
        waiters: 0,
        settled: false,
        promise: Promise.resolve() as Promise<never>,
      };
      const done = () => {
        flight.settled = true;
        if (this.flights.get(key) === flight) this.flights.delete(key);
      };
      flight.promise = Promise.resolve()
        .then(() => leader(controller.signal))
        .then(
          (v) => {
            done();
            opts.onValue?.(v);
            return v;
          },
          (e: unknown) => {
            done();
            throw e;
          },
        );
      flight.promise.catch(ignore);
      this.flights.set(key, flight);
      f = flight;
    }
    return this.wait(key, f, opts.signal);
  }

  private leave(key: string, f: Flight<T>): void {
    f.waiters--;
    if (f.waiters > 0 || f.settled) return;
    if (this.flights.get(key) === f) this.flights.delete(key); // a newcomer starts afresh
    f.controller.abort(new FlightAbandoned());
  }

  private wait(key: string, f: Flight<T>, signal: Signal | undefined): Promise<T> {
    f.waiters++;
    if (!signal) return f.promise;
    return orAbort(f.promise, signal, () => this.leave(key, f));
  }
}
