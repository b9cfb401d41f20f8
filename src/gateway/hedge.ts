// Hedging: the plan's first deployment now, its second after `hedge_after_ms` (or as soon as the first
// ends without answering); the first success wins and the other lane loses (counted neither way).

import { Cancel } from "../lib/cancel.js";
import { sleep } from "../lib/sleep.js";
import type { Deployment } from "../routing/index.js";
import type { DeploymentAttempts } from "./deployment-attempts.js";
import { HEDGE_LOST, isFinal, NEXT, Race, type Run, SKIPPED } from "./run.js";

/** How a lane decided the race: it answered, or it failed with an error that ends the call. */
type Decided<T> = { won: T } | { final: unknown };

/**
 * Races `a` and `b` (started after `hedgeMs`, or when `a` ends without answering). The first answer
 * wins; a final error from either lane ends the call, and the other lane loses; NEXT when both lanes
 * ended without either (skipped, or failed with errors the plan goes on after).
 */
export async function race<T>(
  attempts: DeploymentAttempts,
  r: Run<T>,
  a: Deployment,
  b: Deployment,
  hedgeMs: number,
): Promise<T | typeof NEXT> {
  const rc = new Race(r.call);
  /** A lane's promise: fulfilled when it decides the race, rejected when it ended without deciding. */
  const lane = (d: Deployment): Promise<Decided<T>> =>
    attempts.onDeployment(r, d, rc.add(d)).then(
      (v): Decided<T> => {
        if (v === SKIPPED) throw NEXT;
        rc.over = true;
        return { won: v };
      },
      (e: unknown): Decided<T> => {
        if (rc.over || e === HEDGE_LOST) throw NEXT;
        r.call.last = e;
        if (!isFinal(e)) throw NEXT;
        rc.over = true;
        return { final: e };
      },
    );
  const timer = new Cancel();
  try {
    const first = lane(a);
    if (hedgeMs > 0) {
      const wait = sleep(hedgeMs, timer).then(
        () => undefined,
        () => undefined,
      );
      const early = await Promise.race([first.catch(() => undefined), wait]);
      if (early) return decided(rc, early);
    }
    const end = await Promise.any([first, lane(b)]).catch(() => undefined); // both ended undecided
    return end ? decided(rc, end) : NEXT;
  } finally {
    timer.abort(NEXT);
  }
}

/** The race's outcome: the winner's answer, or its final error thrown once every lane has lost. */
function decided<T>(rc: Race, end: Decided<T>): T {
  if ("won" in end) return end.won;
  rc.loseAll();
  throw end.final;
}
