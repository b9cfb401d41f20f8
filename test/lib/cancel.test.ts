// Cancel: the AbortSignal contract the pipeline relies on, checked side by side with AbortController.
import { describe, expect, it } from "vitest";
import { Cancel } from "../../src/lib/cancel.js";

/** Runs the same script against an AbortController and a Cancel; returns both logs. */
function both(
  script: (s: { add(n: string): () => void; remove(f: () => void): void; abort(r: unknown): void }) => void,
) {
  const logs: string[][] = [];
  const ac = new AbortController();
  const c = new Cancel();
  for (const [sig, abort] of [
    [ac.signal, (r: unknown) => ac.abort(r)],
    [c, (r: unknown) => c.abort(r)],
  ] as const) {
    const log: string[] = [];
    script({
      add: (n) => {
        const f = () => log.push(`${n}:${String(sig.reason)}`);
        sig.addEventListener("abort", f);
        return f;
      },
      remove: (f) => sig.removeEventListener("abort", f),
      abort: (r) => {
        abort(r);
        log.push(`aborted=${sig.aborted}`);
      },
    });
    logs.push(log);
  }
  return logs;
}

describe("Cancel behaves like an AbortSignal", () => {
  it("runs listeners once, in order, with the reason set; later aborts change nothing", () => {
    const [a, c] = both((s) => {
      s.add("one");
      s.add("two");
      s.abort("first");
      s.abort("second");
    });
    expect(c).toEqual(a);
    expect(c).toEqual(["one:first", "two:first", "aborted=true", "aborted=true"]);
  });

  it("a removed listener does not run; one added after the abort never runs", () => {
    const [a, c] = both((s) => {
      const one = s.add("one");
      s.add("two");
      s.remove(one);
      s.abort("why");
      s.add("late");
    });
    expect(c).toEqual(a);
    expect(c).toEqual(["two:why", "aborted=true"]);
  });

  it("starts not aborted, with no reason", () => {
    const c = new Cancel();
    expect(c.aborted).toBe(false);
    expect(c.reason).toBeUndefined();
  });
});
