// Awaiting an async iterator without hanging on a stalled producer: the pending next() loses to an
// abort. Shared by the pipeline's streams and the cache's stream single flight.
import type { Signal } from "./cancel.js";

/** The iterator's next item, or a rejection with the signal's reason as soon as it aborts. */
export function nextOrAbort<E>(it: AsyncIterator<E>, signal: Signal): Promise<IteratorResult<E>> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    it.next().then(
      (r) => {
        signal.removeEventListener("abort", onAbort);
        resolve(r);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}
