// The admin key that guards AdminService: its SHA-256 is `auth.admin_sha256`. It is checked apart
// from gateway keys (a gateway key never grants admin; the admin key is not a gateway key).
import { timingSafeEqual } from "node:crypto";
import { GatewayError } from "../errors.js";
import { sha256 } from "./keys.js";

/** Checks the admin key a request presents. */
export class AdminGuard {
  private readonly digest: Buffer | undefined;

  /** `adminSha256`: hex digest of the admin key; empty or undefined = AdminService disabled. */
  constructor(adminSha256: string | undefined) {
    const hex = adminSha256?.trim().toLowerCase() ?? "";
    this.digest = /^[0-9a-f]{64}$/.test(hex) ? Buffer.from(hex, "hex") : undefined;
  }

  /** Hex of the admin digest (to keep it out of the gateway keys), or undefined. */
  get digestHex(): string | undefined {
    return this.digest?.toString("hex");
  }

  /** Whether `presented` is the admin key (false when no admin key is configured). */
  matches(presented: string | undefined): boolean {
    return !!this.digest && presented !== undefined && timingSafeEqual(sha256(presented), this.digest);
  }

  /**
   * Passes when `presented` is the admin key; else PERMISSION_DENIED / ADMIN_DISABLED (no admin key
   * configured) or UNAUTHENTICATED / API_KEY_INVALID. The key never reaches the error.
   */
  check(presented: string | undefined): void {
    if (!this.digest) {
      throw new GatewayError(
        "PERMISSION_DENIED",
        "ADMIN_DISABLED",
        "AdminService is disabled: set auth.admin_sha256 (or LLMGW_ADMIN_KEY_SHA256) to the SHA-256 of an " +
          "admin key (`llm-gateway keys admin-key` makes one) and restart or reload the gateway",
      );
    }
    if (presented === undefined) {
      throw new GatewayError(
        "UNAUTHENTICATED",
        "API_KEY_INVALID",
        "the admin key is required: send Authorization: Bearer <admin key> or x-api-key",
      );
    }
    if (!timingSafeEqual(sha256(presented), this.digest)) {
      throw new GatewayError("UNAUTHENTICATED", "API_KEY_INVALID", "the admin key is not valid");
    }
  }
}
