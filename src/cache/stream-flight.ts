// Single flight for streams: concurrent identical ChatStreams share ONE upstream stream, pumped into a
// broadcast buffer on the flight's own AbortController; each reader replays it from the first event
// then follows live; the upstream is aborted only when its last reader has gone; a completed stream is
// reported once (the cache write) whoever is still reading.

import type { Signal } from "../lib/cancel.js";
import { nextOrAbort } from "../lib/next-or-abort.js";
import { Broadcast } from "./broadcast.js";
import { FlightAbandoned, ignore } from "./flight.js";

/** Options of one reader of a stream flight. */
export interface JoinOptions<E> {
  /** This reader's signal: when it aborts, its iterator rejects with the reason and it leaves. */
  signal?: Signal;
  /** Called once with every event when the leader's stream completes (only the leader's callback runs). */
  onComplete?: (events: readonly E[]) => void;
  /** Gives each reader its own copy of each event (default: the shared object). */
  copy?: (e: E) => E;
}

interface StreamFlight<E> {
  controller: AbortController;
  readers: number;
  broadcast: Broadcast<E>;
}

/** Coalesces concurrent identical streams: one upstream stream, each reader replays it from the start. */
export class StreamFlights<E> {
  private readonly flights = new Map<string, StreamFlight<E>>();

  /** Keys with a stream in flight. */
  get size(): number {
    return this.flights.size;
  }

  /** True when a stream for `key` is in flight (a caller would join it). */
  has(key: string): boolean {
    return this.flights.has(key);
  }

  /** Joins the stream in flight for `key` or starts `leader` as it; returns this reader's own iterator. */
  join(
    key: string,
    leader: (signal: AbortSignal) => AsyncIterable<E>,
    opts: JoinOptions<E> = {},
  ): AsyncIterableIterator<E> {
    let f = this.flights.get(key);
    if (!f) {
      f = { controller: new AbortController(), readers: 0, broadcast: new Broadcast<E>() };
      this.flights.set(key, f);
      void this.pump(key, f, leader, opts.onComplete);
    }
    const flight = f;
    flight.readers++;
    return flight.broadcast.reader(opts.signal, () => this.leave(key, flight), opts.copy);
  }

  private leave(key: string, f: StreamFlight<E>): void {
    f.readers--;
    if (f.readers > 0 || f.broadcast.finished) return;
    if (this.flights.get(key) === f) this.flights.delete(key);
    f.controller.abort(new FlightAbandoned());
  }

  private async pump(
    key: string,
    f: StreamFlight<E>,
    leader: (signal: AbortSignal) => AsyncIterable<E>,
    onComplete: ((events: readonly E[]) => void) | undefined,
  ): Promise<void> {
    const signal = f.controller.signal;
    let it: AsyncIterator<E> | undefined;
    try {
      await Promise.resolve(); // the first reader is attached before anything can be pushed
      it = leader(signal)[Symbol.asyncIterator]();
      for (;;) {
        const r = await nextOrAbort(it, signal);
        if (r.done) break;
        f.broadcast.push(r.value);
      }
      it = undefined;
      if (this.flights.get(key) === f) this.flights.delete(key);
      f.broadcast.close();
      try {
        onComplete?.(f.broadcast.events);
      } catch {
        // the store callback must not turn a delivered stream into a failure
      }
    } catch (e: unknown) {
      if (this.flights.get(key) === f) this.flights.delete(key);
      f.broadcast.fail(e);
    } finally {
      if (it) void it.return?.()?.catch(ignore);
    }
  }
}
