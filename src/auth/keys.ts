// Gateway API keys: the config lists each key by its SHA-256 digest (never the key). A presented
// key is hashed, looked up by digest, and compared in constant time over the fixed-length digests.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { FileConfig } from "../config/schema.js";
import type { LimitSpec } from "../limits/types.js";

/** One configured gateway key (digest only). */
export interface GatewayKey {
  name: string;
  /** The 32-byte SHA-256 digest of the key. */
  digest: Buffer;
  /** Hex of the digest: the limiter's subject (never the key). */
  digestHex: string;
  /** Allowed model patterns; undefined = every model. */
  models: readonly string[] | undefined;
  limits: LimitSpec;
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

/** The configured keys, by digest. */
export class KeyRing {
  private readonly byDigest = new Map<string, GatewayKey>();

  constructor(keys: FileConfig["keys"]) {
    for (const k of keys ?? []) {
      const digest = Buffer.from(k.sha256, "hex");
      this.byDigest.set(k.sha256, {
        name: k.name,
        digest,
        digestHex: k.sha256,
        models: k.models,
        limits: { rpm: k.limits?.rpm, tpm: k.limits?.tpm, concurrent: k.limits?.concurrent },
      });
    }
  }

  get size(): number {
    return this.byDigest.size;
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
