// What a transport hands the pipeline about one call, whatever the protocol.

/** Per-call data from the transport. */
export interface CallContext {
  /** Aborted when the client leaves (Connect also aborts it after every call: never hang work off it). */
  signal: AbortSignal;
  /** What is left of the caller's deadline, ms; undefined when the caller set none. */
  timeoutMs: number | undefined;
  /** From x-request-id, or generated. */
  requestId: string;
  /** RPC name for logs ("Chat", "ChatStream", ...). */
  method: string;
}
