// The one table deciding what a failed attempt leads to, from its UpstreamError kind alone.
import type { UpstreamErrorKind } from "../gateway/errors.js";

/** retry: same deployment again (then fall back); fallback: next deployment; return: give up now. */
export type Outcome = "retry" | "fallback" | "return";

/** What to do after an attempt failed with this kind (README: "Retries and fallbacks"). */
export function outcomeFor(kind: UpstreamErrorKind): Outcome {
  switch (kind) {
    case "rate_limited":
    case "overloaded":
    case "unavailable":
    case "timeout":
    case "network":
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
    case "stream_interrupted":
      return "return";
    default: {
      const exhaustive: never = kind;
      throw new Error(`unknown kind ${String(exhaustive)}`);
    }
  }
}
