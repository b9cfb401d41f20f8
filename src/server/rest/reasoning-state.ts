// Reasoning state crossing a door whose wire has one opaque field for it (Anthropic's thinking
// `signature` / redacted `data`, the Responses API's `encrypted_content`). State made by that
// door's own provider family goes out verbatim, so a client can also send it straight to the
// provider; state made by another wire format is packed with its origin ("llmgw1." + base64url
// JSON), so that the gateway can send it back to the provider that made it on the next turn and
// drop it for any other.

import type { Reasoning } from "../../../gen/llmgateway/v1/llm_pb.js";

const PREFIX = "llmgw1.";

/** The opaque fields of a Reasoning part (text excluded: every door carries text on its own). */
export type ReasoningState = Pick<
  Reasoning,
  "signature" | "encryptedContent" | "redactedData" | "provider" | "id"
>;

interface Packed {
  p: string;
  s?: string;
  e?: string;
  r?: string;
  i?: string;
}

/** Packs the state of a part made by `r.provider` for a door whose native family is `native`. */
export function packState(r: ReasoningState, native: string, nativeValue: string): string {
  if (r.provider === native) return nativeValue;
  const p: Packed = { p: r.provider };
  if (r.signature !== "") p.s = r.signature;
  if (r.encryptedContent !== "") p.e = r.encryptedContent;
  if (r.redactedData !== "") p.r = r.redactedData;
  if (r.id !== "") p.i = r.id;
  return PREFIX + Buffer.from(JSON.stringify(p), "utf8").toString("base64url");
}

/** True when a door's opaque value holds another family's packed state. */
export function isPacked(value: string): boolean {
  return value.startsWith(PREFIX);
}

/**
 * Reads a packed value back into state; undefined when `value` is not packed (it is then the
 * door's native state, to be placed in the native field by the caller) or is malformed.
 */
export function unpackState(value: string): ReasoningState | undefined {
  if (!isPacked(value)) return undefined;
  try {
    const p = JSON.parse(
      Buffer.from(value.slice(PREFIX.length), "base64url").toString("utf8"),
    ) as Partial<Packed>;
    if (typeof p.p !== "string" || p.p === "") return undefined;
    const str = (v: unknown) => (typeof v === "string" ? v : "");
    return {
      provider: p.p,
      signature: str(p.s),
      encryptedContent: str(p.e),
      redactedData: str(p.r),
      id: str(p.i),
    };
  } catch {
    return undefined;
  }
}
