// What a transport hands the pipeline about one call, whatever the protocol.
import type { CacheStatus } from "../../gen/llmgateway/v1/llm_pb.js";
import type { Signal } from "../lib/cancel.js";

/** Per-call data from the transport. */
export interface CallContext {
  /** Aborted when the client leaves (Connect also aborts it after every call: never hang work off it). */
  signal: Signal;
  /** What is left of the caller's deadline, ms; undefined when the caller set none. */
  timeoutMs: number | undefined;
  /** From x-request-id, or generated. */
  requestId: string;
  /** RPC name for logs ("Chat", "ChatStream", ...). */
  method: string;
  /** The gateway key the caller presented (Authorization: Bearer / x-api-key). Never logged. */
  apiKey?: string | undefined;
  /** The names of the caller's verified TLS client certificate ("CN=...", "URI:..."), if any. */
  clientCert?: readonly string[] | undefined;
  /** The socket's peer address. */
  peerIp?: string | undefined;
  /** The X-Forwarded-For header as received (believed only from server.trusted_proxies). */
  forwardedFor?: string | undefined;
  /** Response headers the pipeline adds (x-ratelimit-*), set before the call goes upstream. */
  responseHeaders?: Record<string, string>;
  /** Told as soon as `responseHeaders` is set (doors that can add headers at any time). */
  onResponseHeaders?: (h: Record<string, string>) => void;
  /** W3C trace context from the request's `traceparent` / `tracestate` headers (gRPC metadata too). */
  traceparent?: string | undefined;
  tracestate?: string | undefined;
  /** Set by ChatStream before its first event when the response cache was consulted (REST's x-llmgw-cache). */
  cacheStatus?: CacheStatus;
}
