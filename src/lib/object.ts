// The one plain-object test (not null, not an array) the parsers and codecs share.

/** True for an object that is neither null nor an array. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
