// Waiting for events in tests instead of sleeping: a poll with a deadline that names what never
// happened, so a suite holds on a busy machine and a failure says why.

/** How long a test waits for an event by default: generous, it only matters when the event never comes. */
export const WAIT_MS = 10_000;

/**
 * Polls `cond` until it returns true (or a promise of true), at most `timeoutMs` (default 10 s),
 * and fails naming `what` when it never does. A `cond` that throws counts as "not yet"; its last
 * error is quoted in the failure.
 */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  opts: { timeoutMs?: number; what: string; everyMs?: number },
): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? WAIT_MS);
  const every = opts.everyMs ?? 10;
  let last: unknown;
  for (;;) {
    try {
      if (await cond()) return;
    } catch (e: unknown) {
      last = e;
    }
    if (Date.now() > deadline) {
      const why = last instanceof Error ? ` (last error: ${last.message})` : "";
      throw new Error(`timed out after ${opts.timeoutMs ?? WAIT_MS} ms waiting for ${opts.what}${why}`);
    }
    await new Promise((r) => setTimeout(r, every));
  }
}

/**
 * Polls `read` until its value satisfies `ok`, and returns that value; fails naming `what` and the
 * last value read when the deadline passes.
 */
export async function waitForValue<T>(
  read: () => T | Promise<T>,
  ok: (v: T) => boolean,
  opts: { timeoutMs?: number; what: string; everyMs?: number },
): Promise<T> {
  let last: { v: T } | undefined;
  try {
    await waitFor(async () => {
      const v = await read();
      last = { v };
      return ok(v);
    }, opts);
  } catch (e: unknown) {
    const seen = last === undefined ? "" : `; last value: ${show(last.v)}`;
    throw new Error(`${e instanceof Error ? e.message : String(e)}${seen}`);
  }
  return (last as { v: T }).v;
}

/** Resolves after `ms`: only for a delay that is the behaviour under test (a clock that must move), never to wait for work. */
export function elapse(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function show(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? `${x}n` : x)) ?? String(v);
  } catch {
    return String(v);
  }
}
