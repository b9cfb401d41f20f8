// Gateway API keys: each key is known by its SHA-256 digest (never the key). A presented key is
// hashed, looked up by digest, and compared in constant time over the fixed-length digests. A key
// may instead (or also) stand for a verified TLS client certificate name (keys[].client_cert).
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
  /** The client certificate name ("CN=...", "URI:...") that stands for this key (config keys only). */
  clientCert?: string | undefined;
  /** False for a certificate-only key: its digest is derived, never a bearer key's (default true). */
  bearer?: boolean | undefined;
}

/** A key as the config file writes it: a bearer key's digest, a client certificate name, or both. */
export interface ConfigKey extends Omit<KeyEntry, "sha256" | "clientCert" | "bearer" | "source"> {
  sha256?: string | undefined;
  client_cert?: string | undefined;
}

/**
 * A config key as the guard and AdminService see it. A certificate-only key gets a stable digest
 * derived from its certificate name (its limiter subject, budget id and revocation handle); it is
 * never matched against a bearer key, so knowing the derivation grants nothing.
 */
export function configKeyEntry(k: ConfigKey): KeyEntry {
  const { sha256: digest, client_cert, ...rest } = k;
  return {
    ...rest,
    sha256: digest ?? sha256(`llmgw-client-cert\n${client_cert ?? ""}`).toString("hex"),
    clientCert: client_cert,
    bearer: digest !== undefined,
    source: "config",
  };
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

/** What a certificate lookup found: one key, none, or more than one (refused: the names are ambiguous). */
export type CertMatch = GatewayKey | undefined | "ambiguous";

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
  private readonly all: GatewayKey[] = [];
  private readonly byCert = new Map<string, GatewayKey>();

  constructor(keys: readonly KeyEntry[] | undefined) {
    for (const k of keys ?? []) {
      const key: GatewayKey = {
        name: k.name,
        digest: Buffer.from(k.sha256, "hex"),
        digestHex: k.sha256,
        models: k.models,
        limits: { rpm: k.limits?.rpm, tpm: k.limits?.tpm, concurrent: k.limits?.concurrent },
        budget: k.budget,
        source: k.source ?? "config",
      };
      this.all.push(key);
      if (k.bearer !== false) this.byDigest.set(k.sha256, key);
      if (k.clientCert !== undefined) this.byCert.set(k.clientCert, key);
    }
  }

  /** Every key. */
  values(): IterableIterator<GatewayKey> {
    return this.all.values();
  }

  /** The key one of a verified certificate's names ("CN=...", "DNS:...", ...) stands for. */
  findByCert(names: readonly string[]): CertMatch {
    let found: GatewayKey | undefined;
    for (const n of names) {
      const k = this.byCert.get(n);
      if (k === undefined || k === found) continue;
      if (found !== undefined) return "ambiguous";
      found = k;
    }
    return found;
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
