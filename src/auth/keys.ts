// Gateway API keys: each key is known by its SHA-256 digest (never the key). A presented key is
// hashed, looked up by digest, and compared in constant time over the fixed-length digests.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { BudgetSpec } from "../billing/types.js";
import type { LimitSpec } from "../limits/types.js";

/** Where a key is defined: the config file's `keys:`, or AdminService (the runtime store). */
export type KeySource = "config" | "runtime";

/** Rate limits of a key; unset = no limit. */
export interface KeyLimits {
  rpm?: number | undefined;
  tpm?: number | undefined;
  concurrent?: number | undefined;
}

/** A key as the config file or the runtime store describes it (digest only). */
export interface KeyEntry {
  name: string;
  /** Lower-case hex SHA-256 of the key. */
  sha256: string;
  /** Allowed model patterns; undefined = every model. */
  models?: readonly string[] | undefined;
  limits?: KeyLimits | undefined;
  budget?: BudgetSpec | undefined;
  /** Default "config". */
  source?: KeySource | undefined;
}

/** One usable gateway key (digest only). */
export interface GatewayKey {
  name: string;
  /** The 32-byte SHA-256 digest of the key. */
  digest: Buffer;
  /** Hex of the digest: the limiter's subject and the budget's key id (never the key). */
  digestHex: string;
  /** Allowed model patterns; undefined = every model. */
  models: readonly string[] | undefined;
  limits: LimitSpec;
  budget: BudgetSpec | undefined;
  source: KeySource;
}

/** SHA-256 of a key, as bytes. */
export function sha256(key: string): Buffer {
  return createHash("sha256").update(key, "utf8").digest();
}

/** A new random key ("llmgw-" + 43 base64url chars, 256 bits) and its digest (hex). */
export function newKey(): { key: string; sha256: string } {
  const key = `llmgw-${randomBytes(32).toString("base64url")}`;
  return { key, sha256: sha256(key).toString("hex") };
}

/** A set of keys, by digest. */
export class KeyRing {
  private readonly byDigest = new Map<string, GatewayKey>();

  constructor(keys: readonly KeyEntry[] | undefined) {
    for (const k of keys ?? []) {
      this.byDigest.set(k.sha256, {
        name: k.name,
        digest: Buffer.from(k.sha256, "hex"),
        digestHex: k.sha256,
        models: k.models,
        limits: { rpm: k.limits?.rpm, tpm: k.limits?.tpm, concurrent: k.limits?.concurrent },
        budget: k.budget,
        source: k.source ?? "config",
      });
    }
  }

  /** Every key. */
  values(): IterableIterator<GatewayKey> {
    return this.byDigest.values();
  }

  /** The key whose digest matches the presented key's, or undefined. */
  find(presented: string): GatewayKey | undefined {
    const d = sha256(presented);
    const k = this.byDigest.get(d.toString("hex"));
    // The lookup is by a digest the caller cannot steer; the final comparison is constant-time anyway.
    return k && timingSafeEqual(k.digest, d) ? k : undefined;
  }
}

/** The key a request presents: `Authorization: Bearer <key>` or `x-api-key: <key>`. */
export function presentedKey(
  authorization: string | undefined,
  xApiKey: string | undefined,
): string | undefined {
  if (authorization) {
    const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (m?.[1]) return m[1];
  }
  const k = xApiKey?.trim();
  return k ? k : undefined;
}
