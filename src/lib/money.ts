// Money as the gateway counts it: integer micro-dollars (prices, costs, budgets, usage), so sums
// over many calls add up exactly; USD only at the edges (config, reports).

/** Integer micro-dollars (1 USD = 1_000_000). */
export type Micros = number;

/** A USD amount in integer micro-dollars (rounded to the nearest). */
export function usdToMicros(usd: number): Micros {
  return Math.round(usd * 1_000_000);
}

/** Micro-dollars as USD (exact for any amount below 2^53 micro-dollars, to float precision). */
export function microsToUsd(micros: Micros): number {
  return micros / 1_000_000;
}

/** An amount as a non-negative integer of micro-dollars (NaN and negatives -> 0). */
export function wholeMicros(n: number): Micros {
  return n > 0 ? Math.round(n) : 0;
}
