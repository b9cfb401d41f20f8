// Ids of the Responses door. An item id carries its response's token ("msg_<token>_<n>" belongs to
// "resp_<token>"), so an `item_reference` can be resolved from the store without a second index.
import { randomBytes } from "node:crypto";
import { packState, unpackState } from "../reasoning-state.js";

/** A new response token (32 hex digits). */
export function newToken(): string {
  return randomBytes(16).toString("hex");
}

/** The response id of a token. */
export function responseId(token: string): string {
  return `resp_${token}`;
}

/** The id of output item `n` of the response with `token`. */
export function itemId(prefix: "msg" | "fc" | "rs", token: string, n: number): string {
  return `${prefix}_${token}_${n}`;
}

const ITEM = /^(?:msg|fc|rs)_([0-9a-f]{32})_\d+$/;

/** The response id an item id of this gateway belongs to; undefined for any other id. */
export function responseOfItem(id: string): string | undefined {
  const m = ITEM.exec(id);
  return m?.[1] === undefined ? undefined : responseId(m[1]);
}

const SIG = "~";

/**
 * A function call's `call_id`: the call's id, plus the provider state attached to it (a Gemini
 * thought signature) packed after "~" — a `function_call` item has no other field every client sends
 * back, and the call_id comes back on both the call and its output.
 */
export function packCallId(id: string, signature: string, provider: string): string {
  if (signature === "") return id;
  const state = { provider, signature, encryptedContent: "", redactedData: "", id: "" };
  return `${id}${SIG}${packState(state, "", "")}`;
}

/** A `call_id` back into the call's id and its state (empty when it carries none). */
export function unpackCallId(callId: string): { id: string; signature: string; provider: string } {
  const at = callId.indexOf(SIG);
  const state = at < 0 ? undefined : unpackState(callId.slice(at + 1));
  if (!state) return { id: callId, signature: "", provider: "" };
  return { id: callId.slice(0, at), signature: state.signature, provider: state.provider };
}
