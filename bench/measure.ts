// Measurement loops: interleaved sequential rounds (latency) and closed-loop concurrency (throughput).
import { p50p99 } from "./stats.js";

/** A named thing to time: resolves with its own latency in ms. */
export interface Timed {
  name: string;
  run: () => Promise<number>;
}

/** Per target, the p50 and p99 of each measured round. */
export type RoundResults = Map<string, { p50: number[]; p99: number[] }>;

/** Wraps a call so that it resolves with its wall time in ms. */
export function timed(name: string, call: () => Promise<unknown>): Timed {
  return {
    name,
    run: async () => {
      const t0 = performance.now();
      await call();
      return performance.now() - t0;
    },
  };
}

async function series(t: Timed, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await t.run());
  return out;
}

/**
 * `warmup` unrecorded calls per target, then `rounds` rounds of `calls` sequential calls per
 * target; the target order rotates every round so no target always follows the same one.
 */
export async function interleavedRounds(
  targets: Timed[],
  opts: { rounds: number; calls: number; warmup: number; label: string },
): Promise<RoundResults> {
  for (const t of targets) await series(t, opts.warmup);
  const results: RoundResults = new Map(targets.map((t) => [t.name, { p50: [], p99: [] }]));
  for (let r = 0; r < opts.rounds; r++) {
    const order = targets.map((_, i) => targets[(i + r) % targets.length] as Timed);
    for (const t of order) {
      const { p50, p99 } = p50p99(await series(t, opts.calls));
      const slot = results.get(t.name);
      slot?.p50.push(p50);
      slot?.p99.push(p99);
    }
    process.stderr.write(`  ${opts.label}: round ${r + 1}/${opts.rounds}\n`);
  }
  return results;
}

/** Calls per second with `concurrency` callers looping for `ms` milliseconds. */
export async function load(
  call: () => Promise<unknown>,
  concurrency: number,
  ms: number,
): Promise<{ callsPerSec: number; errors: number }> {
  let ok = 0;
  let errors = 0;
  const end = performance.now() + ms;
  const worker = async () => {
    while (performance.now() < end) {
      try {
        await call();
        ok++;
      } catch {
        errors++;
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { callsPerSec: ok / ((performance.now() - t0) / 1000), errors };
}

/**
 * Throughput in interleaved rounds, like the latency rounds: each target warms up for 1 s, then
 * every round loads each target for `seconds` in turn (order rotating), so drift on the machine
 * falls on all targets alike. Per target: calls/s of each round, and errors in total.
 */
export async function throughputRounds(
  targets: { name: string; call: () => Promise<unknown> }[],
  opts: { rounds: number; seconds: number; concurrency: number },
): Promise<Map<string, { rounds: number[]; errors: number }>> {
  const out = new Map(targets.map((t) => [t.name, { rounds: [] as number[], errors: 0 }]));
  for (const t of targets) await load(t.call, opts.concurrency, 2000); // warm-up
  for (let r = 0; r < opts.rounds; r++) {
    const order = targets.map((_, i) => targets[(i + r) % targets.length] as (typeof targets)[number]);
    for (const t of order) {
      const res = await load(t.call, opts.concurrency, opts.seconds * 1000);
      const slot = out.get(t.name);
      slot?.rounds.push(res.callsPerSec);
      if (slot) slot.errors += res.errors;
    }
    process.stderr.write(`  throughput: round ${r + 1}/${opts.rounds}\n`);
  }
  return out;
}

/** Calls per second with `concurrency` callers looping for `seconds` (after a 1 s warm-up). */
export async function throughput(
  call: () => Promise<unknown>,
  concurrency: number,
  seconds: number,
): Promise<{ callsPerSec: number; errors: number }> {
  await load(call, concurrency, 1000);
  return load(call, concurrency, seconds * 1000);
}
