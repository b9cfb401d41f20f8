// The one table deciding what a failed attempt leads to, from its UpstreamError kind alone (plus the
// upstream's own `x-should-retry`), and which failures tell a breaker that a deployment is unwell.
import type { UpstreamError, UpstreamErrorKind } from "../errors.js";

/** retry: same deployment again (then fall back); fallback: next deployment; return: give up now. */
export type Outcome = "retry" | "fallback" | "return";

/** What to do after an attempt failed with this kind (README: "Retries, breakers and routing"). */
export function outcomeFor(kind: UpstreamErrorKind): Outcome {
  switch (kind) {
    case "rate_limited":
    case "overloaded":
    case "unavailable":
    case "timeout":
    case "network":
    // Only failures before the commit point reach this table: nothing went to the client yet.
    case "stream_interrupted":
      return "retry";
    case "not_found":
    case "quota":
    case "auth":
    case "permission":
    case "protocol":
      return "fallback";
    case "bad_request":
    case "context_length":
    case "content_filter":
      return "return";
    default: {
      const exhaustive: never = kind;
      throw new Error(`unknown kind ${String(exhaustive)}`);
    }
  }
}

/**
 * The table, then the upstream's `x-should-retry`: `false` turns a retry into a fallback, `true` turns
 * a fallback into a retry. A request the upstream called bad is returned whatever the header says.
 */
export function decide(e: UpstreamError): Outcome {
  const o = outcomeFor(e.kind);
  const should = e.opts.shouldRetry;
  if (should === false && o === "retry") return "fallback";
  if (should === true && o === "fallback") return "retry";
  return o;
}

/** Failures that signal ill health and count against a deployment's breaker; all others count neither way. */
export function signalsIllHealth(kind: UpstreamErrorKind): boolean {
  return (
    kind === "overloaded" ||
    kind === "unavailable" ||
    kind === "timeout" ||
    kind === "network" ||
    kind === "stream_interrupted"
  );
}
