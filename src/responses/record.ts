// What both stores share: the record as bytes (its JSON, measured once), the ids a store accepts,
// and a TTL in milliseconds.

import { recordTooLarge } from "./errors.js";
import type { StoredResponse } from "./store.js";

/** Ids the door hands out ("resp_" + letters and digits); anything else can never have been stored. */
const ID = /^[A-Za-z0-9_-]{1,128}$/;

/** Whether `id` could name a stored response (a get / delete of another id is a plain miss). */
export function storableId(id: string): boolean {
  return ID.test(id);
}

/** A record ready to keep: its JSON and that JSON's size in UTF-8 bytes (what Redis holds). */
export interface Encoded {
  json: string;
  bytes: number;
}

/** The record's JSON, or RESPONSE_TOO_LARGE beyond `maxBytes`. Throws on a malformed record (a bug). */
export function encode(rec: StoredResponse, maxBytes: number): Encoded {
  if (!storableId(rec.id))
    throw new Error(`response store: invalid id ${JSON.stringify(rec.id.slice(0, 140))}`);
  if (rec.owner === "") throw new Error("response store: empty owner");
  const json = JSON.stringify(rec);
  const bytes = Buffer.byteLength(json, "utf8");
  if (bytes > maxBytes) throw recordTooLarge(bytes, maxBytes);
  return { json, bytes };
}

/** A kept record back, or undefined when the bytes are not one (never a crash on a bad entry). */
export function decode(json: string, owner: string, id: string): StoredResponse | undefined {
  try {
    const r = JSON.parse(json) as Partial<StoredResponse> | null;
    if (r === null || typeof r !== "object" || r.owner !== owner || r.id !== id) return undefined;
    if (!Array.isArray(r.input) || r.response === null || typeof r.response !== "object") return undefined;
    return r as StoredResponse;
  } catch {
    return undefined;
  }
}

/** Seconds (fractions allowed: tests use 0.05) to whole milliseconds, at least 1. */
export function ttlMs(ttlS: number): number {
  if (!Number.isFinite(ttlS) || ttlS <= 0) throw new Error(`response store: ttl ${ttlS} s is not positive`);
  return Math.max(1, Math.round(ttlS * 1000));
}
