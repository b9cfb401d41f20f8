// The Anthropic Messages API provider (api.anthropic.com or a compatible endpoint): wires the pure
// translators to the shared HTTP layer. No embeddings: Anthropic has no embeddings API.
import type {
  ChatRequest,
  ChatResponse,
  ChatStreamResponse,
  EmbedRequest,
  EmbedResponse,
  ModelInfo,
} from "../../../gen/llmgateway/v1/llm_pb.js";
import { GatewayError } from "../../errors.js";
import { endpoint } from "../endpoint.js";
import { openUpstream } from "../http.js";
import { parseSSE } from "../stream-parse.js";
import type { CallOptions, Provider } from "../types.js";
import type { TransportSettings } from "../upstream.js";
import { promptChars } from "../usage.js";
import { fromAnthropicHttpError } from "./errors.js";
import { type AnthropicTranslateOptions, toAnthropicRequest } from "./request.js";
import { fromAnthropicModels, fromAnthropicResponse } from "./response.js";
import { translateAnthropicStream } from "./stream.js";

export { DEFAULT_MAX_TOKENS, EFFORT_BUDGETS } from "./request.js";

/** Everything one configured Anthropic provider needs; built once at config load. */
export interface AnthropicProviderOptions {
  /** Config name ("anthropic", "claude-eu"); appears in errors and model ids. */
  name: string;
  /** Default https://api.anthropic.com, without /v1 (the provider appends /v1/messages). */
  baseUrl?: string;
  apiKey: string;
  /** E.g. `anthropic-beta`; may override `anthropic-version`, never the key. */
  extraHeaders?: Record<string, string>;
  /** Proxy, TLS, HTTP/2, pool size and keep-alive (providers.<name>.*); defaults when absent. */
  transport?: TransportSettings;
  /** A parameter Anthropic cannot honour: "reject" (default, INVALID_ARGUMENT) or "warn" and drop. */
  unsupportedParams?: "reject" | "warn";
  warn?: (msg: string) => void;
  /** max_tokens when a request sets none (Anthropic requires one); default 4096. */
  defaultMaxTokens?: number;
}

/** The API version we speak (its documented header; newer SDKs send newer dates). */
export const ANTHROPIC_VERSION = "2023-06-01";
/** The public endpoint. */
export const ANTHROPIC_BASE_URL = "https://api.anthropic.com";

/** Bounds the model-list walk so a looping cursor cannot hold a call forever. */
const MAX_MODEL_PAGES = 20;

/** Builds the provider; no I/O until the first call. */
export function createAnthropicProvider(opts: AnthropicProviderOptions): Provider {
  const name = opts.name;
  const base = (opts.baseUrl || ANTHROPIC_BASE_URL).replace(/\/+$/, "");
  const translate: AnthropicTranslateOptions = {
    provider: name,
    unsupportedParams: opts.unsupportedParams ?? "reject",
  };
  if (opts.warn !== undefined) translate.warn = opts.warn;
  if (opts.defaultMaxTokens !== undefined) translate.defaultMaxTokens = opts.defaultMaxTokens;
  const urls = { messages: `${base}/v1/messages`, models: `${base}/v1/models` };
  const jsonHeaders: Record<string, string> = {
    "anthropic-version": ANTHROPIC_VERSION,
    ...opts.extraHeaders,
    "x-api-key": opts.apiKey,
    "content-type": "application/json",
    accept: "application/json",
  };
  const streamHeaders: Record<string, string> = { ...jsonHeaders, accept: "text/event-stream" };
  const upstream = openUpstream(name, opts.transport);
  const ep = endpoint(name, jsonHeaders, fromAnthropicHttpError, upstream);

  function context(req: ChatRequest, model: string) {
    return {
      provider: name,
      model,
      includeReasoning: req.reasoning?.includeReasoning === true,
      promptChars: promptChars(req),
    };
  }

  async function chat(req: ChatRequest, o: CallOptions): Promise<ChatResponse> {
    const body = JSON.stringify(toAnthropicRequest(req, o.model, false, translate));
    const json = await ep.json(urls.messages, { body, signal: o.signal, model: o.model });
    return fromAnthropicResponse(json, context(req, o.model));
  }

  async function* chatStream(req: ChatRequest, o: CallOptions): AsyncGenerator<ChatStreamResponse> {
    const body = JSON.stringify(toAnthropicRequest(req, o.model, true, translate));
    const { signal, model } = o;
    const send = { body, signal, model, headers: streamHeaders, eventStream: true };
    yield* ep.stream(urls.messages, send, (b) =>
      translateAnthropicStream(parseSSE(b, { provider: name }), context(req, model)),
    );
  }

  async function embed(_req: EmbedRequest, _o: CallOptions): Promise<EmbedResponse> {
    throw new GatewayError(
      "UNIMPLEMENTED",
      "INVALID_REQUEST",
      `provider "${name}" (anthropic) does not serve embeddings: Anthropic has no embeddings API`,
      { metadata: { provider: name } },
    );
  }

  async function listModels(signal: AbortSignal): Promise<ModelInfo[]> {
    const out: ModelInfo[] = [];
    let after: string | undefined;
    for (let page = 0; page < MAX_MODEL_PAGES; page++) {
      const query = after === undefined ? "?limit=1000" : `?limit=1000&after_id=${encodeURIComponent(after)}`;
      const { models, next } = fromAnthropicModels(await ep.json(urls.models + query, { signal }), name);
      out.push(...models);
      if (next === undefined || next === after) break;
      after = next;
    }
    return out;
  }

  return { name, type: "anthropic", chat, chatStream, embed, listModels, close: () => upstream.close() };
}
