// Typed readers over untrusted JSON for the REST door: each returns the value or throws
// INVALID_REQUEST naming the field, so request translators stay short and never see `unknown`.
import type { GatewayError } from "../../errors.js";
import { invalid } from "../../errors.js";
import { unsupported } from "./errors.js";

/** A JSON object from a request body. */
export type Obj = Record<string, unknown>;

/** What to do with an OpenAI parameter the gateway cannot honour (config `unsupported_params`). */
export interface ParamPolicy {
  mode: "reject" | "warn";
  warn: (msg: string) => void;
}

/** Applies the unsupported-parameter policy: throws UNSUPPORTED_PARAMETER, or warns and drops. */
export function refuse(param: string, policy: ParamPolicy, why?: string): void {
  const e: GatewayError = unsupported(param, why);
  if (policy.mode === "reject") throw e;
  policy.warn(`${e.message}; dropped (unsupported_params: warn)`);
}

/** The body's top-level JSON object, or INVALID_REQUEST saying why not. */
export function parseBody(bytes: Buffer): Obj {
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString("utf8"));
  } catch (e: unknown) {
    throw invalid("(body)", `is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  return obj(v, "(body)");
}

/** A JSON type name for messages ("array", "null", "string", ...). */
function kind(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
}

/** `v` as an object. */
export function obj(v: unknown, field: string): Obj {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw invalid(field, `must be an object, got ${kind(v)}`);
  }
  return v as Obj;
}

/** `v` as an array. */
export function arr(v: unknown, field: string): unknown[] {
  if (!Array.isArray(v)) throw invalid(field, `must be an array, got ${kind(v)}`);
  return v;
}

/** `v` as a string. */
export function str(v: unknown, field: string): string {
  if (typeof v !== "string") throw invalid(field, `must be a string, got ${kind(v)}`);
  return v;
}

/** `v` as a finite number. */
export function num(v: unknown, field: string): number {
  if (typeof v !== "number" || !Number.isFinite(v)) throw invalid(field, `must be a number, got ${kind(v)}`);
  return v;
}

/** `v` as an integer. */
export function int(v: unknown, field: string): number {
  const n = num(v, field);
  if (!Number.isInteger(n)) throw invalid(field, "must be an integer");
  return n;
}

/** `v` as a boolean. */
export function bool(v: unknown, field: string): boolean {
  if (typeof v !== "boolean") throw invalid(field, `must be a boolean, got ${kind(v)}`);
  return v;
}

/** An array of strings. */
export function strings(v: unknown, field: string): string[] {
  const a = arr(v, field);
  for (let i = 0; i < a.length; i++) str(a[i], `${field}[${i}]`);
  return a as string[];
}

/** One of `allowed`, else INVALID_REQUEST listing them. */
export function oneOf<T extends string>(v: unknown, field: string, allowed: readonly T[]): T {
  const s = str(v, field);
  if (!(allowed as readonly string[]).includes(s)) {
    throw invalid(field, `must be one of ${allowed.map((a) => `"${a}"`).join(", ")}, got "${s}"`);
  }
  return s as T;
}

/** Rejects every key of `o` not in `known` (INVALID_REQUEST naming the first one). */
export function onlyKeys(o: Obj, known: ReadonlySet<string>, field: string): void {
  for (const k in o) if (!known.has(k)) throw invalid(field ? `${field}.${k}` : k, "unknown parameter");
}

const CACHE_KEYS = new Set(["enabled", "no_store", "ttl_s"]);

/** The `cache` extension: a boolean, or `{enabled, no_store, ttl_s}` (the contract's CacheControl). */
export function cacheControl(v: unknown): { enabled?: boolean; noStore?: boolean; ttlS?: number } {
  if (typeof v === "boolean") return { enabled: v };
  const c = obj(v, "cache");
  onlyKeys(c, CACHE_KEYS, "cache");
  const out: { enabled?: boolean; noStore?: boolean; ttlS?: number } = {};
  if (c["enabled"] != null) out.enabled = bool(c["enabled"], "cache.enabled");
  if (c["no_store"] != null) out.noStore = bool(c["no_store"], "cache.no_store");
  if (c["ttl_s"] != null) out.ttlS = int(c["ttl_s"], "cache.ttl_s");
  return out;
}
