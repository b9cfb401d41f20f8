// The interface every provider implements, whatever its wire format. Requests and responses are
// the contract's own messages (gen/): there is no third, internal format.

import type {
  ChatRequest,
  ChatResponse,
  ChatStreamResponse,
  EmbedRequest,
  EmbedResponse,
  ModelInfo,
} from "../../gen/llmgateway/v1/llm_pb.js";
import type { Signal } from "../lib/cancel.js";

/** Per-call options handed to a provider by the pipeline. */
export interface CallOptions {
  /** Aborted when the caller leaves, its deadline passes, or the attempt times out. */
  signal: Signal;
  /** The upstream model name (the part after "provider/"). */
  model: string;
  /** For logs and upstream request headers. */
  requestId: string;
}

/**
 * A provider's stream yields ChatStreamResponse events: optionally one `start` (upstream id and
 * model; the gateway fills in the provider), any number of `delta`s, then exactly one `end`
 * (finish reason and usage, `estimated` if the upstream gave none). Failures are thrown as
 * UpstreamError; a stream that stops without `end` is an error, never a short success.
 */
export type ProviderStream = AsyncIterable<ChatStreamResponse>;

/** A configured provider: one wire format, one endpoint, one set of credentials. */
export interface Provider {
  /** The config name ("openai", "groq", "openai-eu", "mock"). */
  readonly name: string;
  /** The wire format ("openai", "mock", ...). */
  readonly type: string;
  chat(req: ChatRequest, opts: CallOptions): Promise<ChatResponse>;
  chatStream(req: ChatRequest, opts: CallOptions): ProviderStream;
  embed(req: EmbedRequest, opts: CallOptions): Promise<EmbedResponse>;
  /** The provider's own model list (ids without the provider prefix in upstream_model). */
  listModels(signal: AbortSignal): Promise<ModelInfo[]>;
  /** Releases connection pools. */
  close(): Promise<void>;
}
