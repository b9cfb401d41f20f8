// Awaiting without hanging on a stalled producer: the pending promise loses to an abort. Shared by
// the pipeline's streams, the cache's single flights and its stream single flight.
import type { Signal } from "./cancel.js";

/**
 * `p`'s outcome, or a rejection with the signal's reason as soon as it aborts (then `onAbort`
 * runs first, also when the signal had already aborted).
 */
export function orAbort<T>(p: Promise<T>, signal: Signal, onAbort?: () => void): Promise<T> {
  if (signal.aborted) {
    onAbort?.();
    return Promise.reject(signal.reason);
  }
  return new Promise((resolve, reject) => {
    const aborted = () => {
      onAbort?.();
      reject(signal.reason);
    };
    signal.addEventListener("abort", aborted, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", aborted);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", aborted);
        reject(e);
      },
    );
  });
}

/** The iterator's next item, or a rejection with the signal's reason as soon as it aborts. */
export function nextOrAbort<E>(it: AsyncIterator<E>, signal: Signal): Promise<IteratorResult<E>> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return orAbort(it.next(), signal);
}
