// The Ollama provider (native /api wire: chat unary + NDJSON streams, embed, tags), wiring the
// pure translators to the shared HTTP layer. No credentials: OLLAMA_HOST is the whole config.
import { randomUUID } from "node:crypto";
import type {
  ChatRequest,
  ChatResponse,
  ChatStreamResponse,
  EmbedRequest,
  EmbedResponse,
  ModelInfo,
} from "../../../gen/llmgateway/v1/llm_pb.js";
import { endpoint } from "../endpoint.js";
import { openUpstream } from "../http.js";
import { parseNDJSON } from "../stream-parse.js";
import type { CallOptions, Provider } from "../types.js";
import type { TransportSettings } from "../upstream.js";
import { charsOf, promptChars } from "../usage.js";
import { fromOllamaHttpError } from "./errors.js";
import { type OllamaTranslateOptions, toOllamaChatRequest, toOllamaEmbedRequest } from "./request.js";
import { fromOllamaChatResponse, fromOllamaEmbeddings, fromOllamaTags } from "./response.js";
import { translateOllamaStream } from "./stream.js";

export type { OllamaTranslateOptions } from "./request.js";

/** Ollama's own default address, used when OLLAMA_HOST is unset. */
export const OLLAMA_DEFAULT_HOST = "http://127.0.0.1:11434";

/**
 * OLLAMA_HOST as Ollama's own CLI reads it ("0.0.0.0:11434", "localhost", "https://ollama.example")
 * -> a base URL: scheme added (http) and, without one, port 11434; a trailing "/" or "/api" dropped.
 */
export function normalizeOllamaHost(host: string): string {
  const h = host.trim();
  if (h === "") return OLLAMA_DEFAULT_HOST;
  let url = h;
  if (!h.includes("://")) {
    const hostPart = h.split("/")[0] ?? "";
    const hasPort = /:\d+$/.test(hostPart);
    url = `http://${hasPort ? h : h.replace(hostPart, `${hostPart}:11434`)}`;
  }
  return url.replace(/\/+$/, "").replace(/\/api$/, "");
}

/** Everything one configured Ollama server needs; built once at config load. */
export interface OllamaProviderOptions {
  /** Config name ("ollama", "ollama-gpu"); appears in errors and model ids. */
  name: string;
  /** OLLAMA_HOST, e.g. http://127.0.0.1:11434 or "localhost:11434" (see normalizeOllamaHost). */
  baseUrl: string;
  /** E.g. an auth header for an Ollama behind a proxy. */
  extraHeaders?: Record<string, string>;
  /** Proxy, TLS, HTTP/2, pool size and keep-alive (providers.<name>.*); defaults when absent. */
  transport?: TransportSettings;
  /** A parameter Ollama cannot honour: "reject" (default, INVALID_ARGUMENT) or "warn" and drop. */
  unsupportedParams?: "reject" | "warn";
  warn?: (msg: string) => void;
}

/** Builds the provider; no I/O until the first call. */
export function createOllamaProvider(opts: OllamaProviderOptions): Provider {
  const name = opts.name;
  const base = normalizeOllamaHost(opts.baseUrl);
  const translate: OllamaTranslateOptions = {
    provider: name,
    unsupportedParams: opts.unsupportedParams ?? "reject",
  };
  if (opts.warn !== undefined) translate.warn = opts.warn;
  const urls = { chat: `${base}/api/chat`, embed: `${base}/api/embed`, tags: `${base}/api/tags` };
  const baseHeaders: Record<string, string> = {
    ...opts.extraHeaders,
    "content-type": "application/json",
    accept: "application/json",
  };
  const streamHeaders: Record<string, string> = { ...baseHeaders, accept: "application/x-ndjson" };
  const upstream = openUpstream(name, opts.transport);
  const ep = endpoint(name, baseHeaders, fromOllamaHttpError, upstream);

  function context(req: ChatRequest, model: string) {
    return {
      provider: name,
      model,
      id: `ollama-${randomUUID()}`,
      promptChars: promptChars(req),
      includeReasoning: req.reasoning?.includeReasoning === true,
    };
  }

  async function chat(req: ChatRequest, o: CallOptions): Promise<ChatResponse> {
    const body = JSON.stringify(toOllamaChatRequest(req, o.model, false, translate));
    const json = await ep.json(urls.chat, { body, signal: o.signal, requestId: o.requestId, model: o.model });
    return fromOllamaChatResponse(json, context(req, o.model));
  }

  async function* chatStream(req: ChatRequest, o: CallOptions): AsyncGenerator<ChatStreamResponse> {
    const body = JSON.stringify(toOllamaChatRequest(req, o.model, true, translate));
    const { signal, model } = o;
    const send = { body, signal, requestId: o.requestId, model, headers: streamHeaders };
    yield* ep.stream(urls.chat, send, (b) =>
      translateOllamaStream(parseNDJSON(b, { provider: name }), context(req, model)),
    );
  }

  async function embed(req: EmbedRequest, o: CallOptions): Promise<EmbedResponse> {
    const body = JSON.stringify(toOllamaEmbedRequest(req, o.model, translate));
    const json = await ep.json(urls.embed, {
      body,
      signal: o.signal,
      requestId: o.requestId,
      model: o.model,
      limit: "embed",
    });
    return fromOllamaEmbeddings(json, {
      provider: name,
      model: o.model,
      count: req.inputs.length,
      inputChars: charsOf(req.inputs),
    });
  }

  async function listModels(signal: AbortSignal): Promise<ModelInfo[]> {
    return fromOllamaTags(await ep.json(urls.tags, { signal }), name);
  }

  return { name, type: "ollama", chat, chatStream, embed, listModels, close: () => upstream.close() };
}
