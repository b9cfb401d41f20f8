// Load balancing: the order in which a model's deployments are tried, by the model's strategy —
// weighted random, least in-flight, or lowest EWMA latency — read from the live deployment state.

/** What balancing reads of a deployment's live state. */
export interface LiveStats {
  inflight: number;
  /** -1 when unknown (never answered yet). */
  ewmaMs: number;
}

export type Strategy = "weighted" | "least_inflight" | "least_latency";

/** Share of least_latency calls sent to a random deployment, so a slow one's figure stays current. */
const EXPLORE = 0.05;

/** Weighted random order without replacement (Efraimidis-Spirakis keys: u^(1/w), highest first). */
function weightedOrder<T>(items: readonly T[], weight: (t: T) => number, rand: () => number): T[] {
  return items
    .map((t) => ({ t, k: rand() ** (1 / Math.max(weight(t), 1e-9)) }))
    .sort((a, b) => b.k - a.k)
    .map((x) => x.t);
}

/**
 * The order to try `items` in. Unknown latency sorts first (it gets measured); ties keep the
 * weighted random order, so equal deployments share the load.
 */
export function balance<T>(
  items: readonly T[],
  strategy: Strategy,
  weight: (t: T) => number,
  stats: (t: T) => LiveStats | undefined,
  rand: () => number = Math.random,
): T[] {
  const shuffled = weightedOrder(items, weight, rand);
  if (strategy === "weighted") return shuffled;
  if (strategy === "least_inflight") {
    const load = (t: T) => stats(t)?.inflight ?? 0;
    return shuffled.sort((a, b) => load(a) - load(b));
  }
  if (rand() < EXPLORE) return shuffled;
  const lat = (t: T) => stats(t)?.ewmaMs ?? -1;
  return shuffled.sort((a, b) => lat(a) - lat(b));
}
