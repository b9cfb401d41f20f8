// Usage accounting as a call observer, wired by the app: each finished call of a known caller becomes
// one UsageEvent in the billing ledger (tokens and cost as reported, errors and cache hits counted).
import type { UsageLedger } from "../billing/index.js";
import { isCacheHit } from "../cache/status.js";
import type { CallObserver, CallRecord } from "../telemetry/observer.js";

/** Codes of calls refused before any model was resolved: their model name is the client's text. */
const UNRESOLVED = new Set(["INVALID_ARGUMENT", "NOT_FOUND", "UNAUTHENTICATED", "PERMISSION_DENIED"]);

/** The usage row's model: who answered, else the requested name once it was a real model. */
function modelOf(r: CallRecord): string {
  if (r.target) return r.target;
  return UNRESOLVED.has(r.code) ? "(none)" : r.requested;
}

/** Records each call of an identified caller (key name, "anonymous" or "open") in the ledger. */
export class UsageRecorder implements CallObserver {
  constructor(private readonly ledger: UsageLedger) {}

  onCall(r: CallRecord): void {
    if (r.caller === undefined) return; // not identified (bad key): nobody's usage
    const u = r.usage;
    this.ledger.record({
      key: r.caller,
      model: modelOf(r),
      atMs: r.startEpochMs + r.totalMs,
      inputTokens: u?.inputTokens ?? 0,
      outputTokens: u?.outputTokens ?? 0,
      cachedInputTokens: u?.cachedInputTokens ?? 0,
      cacheWriteTokens: u?.cacheWriteTokens ?? 0,
      reasoningTokens: u?.reasoningTokens ?? 0,
      costMicros: r.costMicros,
      cacheHit: isCacheHit(r.cache),
      error: r.code !== "OK",
    });
  }
}
