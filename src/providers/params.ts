// What every request translator needs to refuse or read a parameter: INVALID_REQUEST naming the
// field, the unsupported-parameter policy (reject, or warn and drop), and JSON-string fields.
import { GatewayError, invalid } from "../errors.js";

/** The unsupported-parameter policy of one provider (defaults.unsupported_params). */
export interface ParamPolicy {
  provider: string;
  unsupportedParams?: "reject" | "warn";
  warn?: (msg: string) => void;
}

/**
 * A parameter the provider cannot honour, described by `message`: under "warn" it is logged and
 * false is returned (the caller drops it); under "reject" UNSUPPORTED_PARAMETER is thrown.
 */
export function refuse(param: string, message: string, o: ParamPolicy): false {
  if (o.unsupportedParams === "warn") {
    o.warn?.(`${message}; dropped`);
    return false;
  }
  throw new GatewayError("INVALID_ARGUMENT", "UNSUPPORTED_PARAMETER", message, {
    metadata: { parameter: param, provider: o.provider },
  });
}

/** A JSON-string field parsed, or INVALID_REQUEST naming it. */
export function parseJson(text: string, field: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e: unknown) {
    throw invalid(field, `not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}
