// Whether a Responses call is stored, and under which owner. The owner is the caller's gateway key
// (its SHA-256 id: a key revoked and re-created under the same name does not inherit the records);
// a caller without a key stores under "anonymous" only with responses.allow_anonymous_store. A
// `store` that cannot be honoured does not fail the call (decided, README "Stored responses"): the
// answer comes back with `store: false` and `x-llmgw-store: disabled`; previous_response_id, GET and
// DELETE then fail with RESPONSE_STORAGE_DISABLED naming the setting.
import type { Caller } from "../auth/index.js";
import type { GatewayConfig } from "../config/index.js";
import { storageDisabled } from "./errors.js";
import type { ResponseStore } from "./store.js";

/** The owner of keyless callers' records when responses.allow_anonymous_store is true. */
export const ANONYMOUS_OWNER = "anonymous";

/** The response header that says what became of a call's `store` (the door sets it). */
export const STORE_HEADER = "x-llmgw-store";

/**
 * What became of `store`: "stored" (kept; the door says "failed" if the write then fails), "off"
 * (not asked: `store: false`, or omitted with store_default false), "disabled" (asked, but storage is
 * off for this caller).
 */
export type StoreOutcome = "stored" | "off" | "disabled" | "failed";

/** The decision for one call. */
export interface StoreDecision {
  /** Keep this call's response (under `owner`, for `ttlS`). */
  store: boolean;
  /** The caller's owner; undefined when storage is off for this caller. */
  owner: string | undefined;
  ttlS: number;
  /** The x-llmgw-store value. */
  outcome: StoreOutcome;
  /** The client sent `store: true` (not the default): worth a log line when it is not honoured. */
  explicit: boolean;
  /** Why a wanted store is not honoured (outcome "disabled"): names the setting. */
  why?: string;
}

/** responses.* read per call (reloadable: store_default, allow_anonymous_store, ttl_s). */
export class ResponsePolicy {
  constructor(private readonly settings: GatewayConfig["responses"]) {}

  get ttlS(): number {
    return this.settings.ttlS;
  }

  /** The owner of the caller's records, or undefined when storage is off for it. */
  ownerOf(caller: Caller): string | undefined {
    if (caller.keyId !== undefined) return caller.keyId;
    return this.settings.allowAnonymousStore ? ANONYMOUS_OWNER : undefined;
  }

  /** Whether to store this call's response; `requested` is the request's `store` (undefined when omitted). */
  decide(caller: Caller, requested: boolean | undefined): StoreDecision {
    const wanted = requested ?? this.settings.storeDefault;
    const owner = this.ownerOf(caller);
    const base = { owner, ttlS: this.settings.ttlS, explicit: requested === true };
    if (!wanted) return { ...base, store: false, outcome: "off" };
    if (owner === undefined) return { ...base, store: false, outcome: "disabled", why: this.whyOff(caller) };
    return { ...base, store: true, outcome: "stored" };
  }

  /**
   * The caller's owner for a use that needs storage (`what`: "previous_response_id",
   * "GET /v1/responses/{id}", ...), or RESPONSE_STORAGE_DISABLED naming the setting.
   */
  requireOwner(caller: Caller, what: string): string {
    const owner = this.ownerOf(caller);
    if (owner === undefined) throw storageDisabled(what, this.whyOff(caller));
    return owner;
  }

  private whyOff(caller: Caller): string {
    const keyless =
      caller.label === "open" ? "no gateway keys are configured" : "this call carries no gateway key";
    return `stored responses are disabled for callers without a gateway key (${keyless}); send a gateway key, or set responses.allow_anonymous_store: true to store them under one shared "anonymous" owner`;
  }
}

/** What the Responses door gets from the app (RestDeps.responses): the store and the current policy. */
export interface ResponsesDeps {
  /** Memory or Redis (responses backend, fixed at start). */
  store: ResponseStore;
  /** The current config's policy (replaced on reload). */
  policy: ResponsePolicy;
}
