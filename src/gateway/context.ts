// What a transport hands the pipeline about one call, whatever the protocol.
import type { CacheStatus } from "../../gen/llmgateway/v1/llm_pb.js";

/**
 * The part of an AbortSignal the pipeline uses to hear that the client left. Connect's handler
 * signal is one; the unary fast path passes a ClientGone (an AbortController costs microseconds).
 */
export interface CancelSignal {
  readonly aborted: boolean;
  addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: "abort", listener: () => void): void;
}

/** A CancelSignal at the cost of one array: fired by the transport when the client goes away. */
export class ClientGone implements CancelSignal {
  aborted = false;
  private listeners: (() => void)[] = [];
  addEventListener(_type: "abort", listener: () => void): void {
    this.listeners.push(listener);
  }
  removeEventListener(_type: "abort", listener: () => void): void {
    const i = this.listeners.indexOf(listener);
    if (i >= 0) this.listeners.splice(i, 1);
  }
  fire(): void {
    if (this.aborted) return;
    this.aborted = true;
    for (const l of this.listeners.splice(0)) l();
  }
}

/** Per-call data from the transport. */
export interface CallContext {
  /** Aborted when the client leaves (Connect also aborts it after every call: never hang work off it). */
  signal: CancelSignal;
  /** What is left of the caller's deadline, ms; undefined when the caller set none. */
  timeoutMs: number | undefined;
  /** From x-request-id, or generated. */
  requestId: string;
  /** RPC name for logs ("Chat", "ChatStream", ...). */
  method: string;
  /** The gateway key the caller presented (Authorization: Bearer / x-api-key). Never logged. */
  apiKey?: string | undefined;
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
