// What a transport hands the pipeline about one call, whatever the protocol.
import type { CacheStatus } from "../../gen/llmgateway/v1/llm_pb.js";
import type { GuardedCall } from "../auth/guard.js";
import type { Signal } from "../lib/cancel.js";

/** Per-call data from the transport; what the key guard reads and sets is its GuardedCall part. */
export interface CallContext extends GuardedCall {
  /** Aborted when the client leaves (Connect also aborts it after every call: never hang work off it). */
  signal: Signal;
  /** What is left of the caller's deadline, ms; undefined when the caller set none. */
  timeoutMs: number | undefined;
  /** From x-request-id, or generated. */
  requestId: string;
  /** RPC name for logs ("Chat", "ChatStream", ...). */
  method: string;
  /** W3C trace context from the request's `traceparent` / `tracestate` headers (gRPC metadata too). */
  traceparent?: string | undefined;
  tracestate?: string | undefined;
  /** Set by ChatStream before its first event when the response cache was consulted (REST's x-llmgw-cache). */
  cacheStatus?: CacheStatus;
}
