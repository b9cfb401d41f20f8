// Public surface of stored responses (Responses API `store`, previous_response_id, GET / DELETE):
// the store interface, its memory and Redis implementations, the per-call policy, the errors.
export { type CreatedStore, createResponseStore, responsesDeps } from "./create.js";
export { recordTooLarge, responseNotFound, storageDisabled, storeUnavailable } from "./errors.js";
export { MemoryResponseStore, type MemoryStoreOptions } from "./memory.js";
export {
  ANONYMOUS_OWNER,
  ResponsePolicy,
  type ResponsesDeps,
  STORE_HEADER,
  type StoreDecision,
  type StoreOutcome,
} from "./policy.js";
export { RedisResponseStore, type RedisStoreOptions } from "./redis.js";
export type { ResponseStore, StoredResponse } from "./store.js";
