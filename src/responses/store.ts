// The Responses API's stored responses (`store: true`, `previous_response_id`, GET / DELETE
// /v1/responses/{id}): what the door keeps and the interface of the places it keeps it (memory, or
// Redis shared by every replica). Records are JSON the door wrote; the store never reads inside.

/** One stored response. `owner` scopes it: a key can never read or delete another key's records. */
export interface StoredResponse {
  /** "resp_..." as returned to the client. */
  id: string;
  /** The gateway key's id (or "anonymous" when anonymous storage is allowed). */
  owner: string;
  /** Unix milliseconds. */
  createdAt: number;
  /**
   * The conversation that led to this response as Responses input items (the previous response's
   * items already expanded), so that `previous_response_id` = input + output of this record.
   */
  input: unknown[];
  /** The Response object exactly as answered to the client (with `output`). */
  response: Record<string, unknown>;
}

/** Where stored responses live. Every method is scoped by owner; a miss is `undefined` / false. */
export interface ResponseStore {
  /** Keeps `rec` for `ttlS` seconds (bounded by the store's limits: LRU beyond them). */
  put(rec: StoredResponse, ttlS: number): Promise<void>;
  get(owner: string, id: string): Promise<StoredResponse | undefined>;
  /** True when a record was deleted. */
  delete(owner: string, id: string): Promise<boolean>;
  close(): Promise<void>;
}
