// The Gemini provider (Google AI generativelanguage API, v1beta generateContent), wiring the pure
// translators to the shared HTTP layer. The API key travels only in the x-goog-api-key header.
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
import { parseSSE } from "../stream-parse.js";
import type { CallOptions, Provider } from "../types.js";
import type { TransportSettings } from "../upstream.js";
import { promptChars } from "../usage.js";
import { fromGeminiHttpError } from "./errors.js";
import {
  type GeminiTranslateOptions,
  qualifiedModel,
  toGeminiEmbedRequests,
  toGeminiRequest,
} from "./request.js";
import { fromGeminiEmbeddings, fromGeminiModels, fromGeminiResponse } from "./response.js";
import { translateGeminiStream } from "./stream.js";

/** Everything one configured Gemini provider needs; built once at config load. */
export interface GeminiProviderOptions {
  /** Config name ("gemini", "gemini-eu"); appears in errors and model ids. */
  name: string;
  /** Origin of the API, default https://generativelanguage.googleapis.com; "/v1beta" is appended. */
  baseUrl: string;
  apiKey: string;
  extraHeaders?: Record<string, string>;
  /** Proxy, TLS, HTTP/2, pool size and keep-alive (providers.<name>.*); defaults when absent. */
  transport?: TransportSettings;
  /** A parameter Gemini cannot honour: "reject" (default, INVALID_ARGUMENT) or "warn" and drop. */
  unsupportedParams?: "reject" | "warn";
  warn?: (msg: string) => void;
}

/** Where Google serves the Gemini API. */
export const GEMINI_DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com";

/** listModels follows nextPageToken at most this many times (Google pages hold up to 1000). */
const MAX_MODEL_PAGES = 5;

/** The API root: a base URL that already names a version (".../v1beta", ".../v1") is kept. */
function apiRoot(baseUrl: string): string {
  const base = (baseUrl.trim() || GEMINI_DEFAULT_BASE_URL).replace(/\/+$/, "");
  return /\/v1(?:alpha|beta)?\d*$/.test(base) ? base : `${base}/v1beta`;
}

/** Builds the provider; no I/O until the first call. */
export function createGeminiProvider(opts: GeminiProviderOptions): Provider {
  const name = opts.name;
  const root = apiRoot(opts.baseUrl);
  const translate: GeminiTranslateOptions = {
    provider: name,
    unsupportedParams: opts.unsupportedParams ?? "reject",
  };
  if (opts.warn !== undefined) translate.warn = opts.warn;
  const baseHeaders: Record<string, string> = {
    ...opts.extraHeaders,
    "x-goog-api-key": opts.apiKey,
    "content-type": "application/json",
    accept: "application/json",
  };
  const streamHeaders: Record<string, string> = { ...baseHeaders, accept: "text/event-stream" };
  const upstream = openUpstream(name, opts.transport);
  const ep = endpoint(name, baseHeaders, (e) => fromGeminiHttpError({ ...e, apiKey: opts.apiKey }), upstream);

  const modelUrl = (model: string, method: string): string =>
    `${root}/${qualifiedModel(model).split("/").map(encodeURIComponent).join("/")}:${method}`;

  function context(req: ChatRequest, model: string) {
    return {
      provider: name,
      model,
      promptChars: promptChars(req),
      includeReasoning: req.reasoning?.includeReasoning === true,
    };
  }

  async function chat(req: ChatRequest, o: CallOptions): Promise<ChatResponse> {
    const body = JSON.stringify(toGeminiRequest(req, translate));
    const json = await ep.json(modelUrl(o.model, "generateContent"), {
      body,
      signal: o.signal,
      requestId: o.requestId,
      model: o.model,
    });
    return fromGeminiResponse(json, context(req, o.model));
  }

  async function* chatStream(req: ChatRequest, o: CallOptions): AsyncGenerator<ChatStreamResponse> {
    const body = JSON.stringify(toGeminiRequest(req, translate));
    const { signal, model } = o;
    const send = { body, signal, requestId: o.requestId, model, headers: streamHeaders, eventStream: true };
    yield* ep.stream(`${modelUrl(model, "streamGenerateContent")}?alt=sse`, send, (b) =>
      translateGeminiStream(parseSSE(b, { provider: name }), context(req, model)),
    );
  }

  async function embed(req: EmbedRequest, o: CallOptions): Promise<EmbedResponse> {
    const { requests } = toGeminiEmbedRequests(req, o.model, translate);
    const single = requests.length === 1 ? requests[0] : undefined;
    const call = { signal: o.signal, requestId: o.requestId, model: o.model, limit: "embed" as const };
    const json =
      single !== undefined
        ? await ep.json(modelUrl(o.model, "embedContent"), { ...call, body: JSON.stringify(single) })
        : await ep.json(modelUrl(o.model, "batchEmbedContents"), {
            ...call,
            body: JSON.stringify({ requests }),
          });
    return fromGeminiEmbeddings(json, { provider: name, model: o.model, inputs: req.inputs });
  }

  async function listModels(signal: AbortSignal): Promise<ModelInfo[]> {
    const out: ModelInfo[] = [];
    let token: string | undefined;
    for (let page = 0; page < MAX_MODEL_PAGES; page++) {
      const q = token === undefined ? "" : `&pageToken=${encodeURIComponent(token)}`;
      const { models, next } = fromGeminiModels(
        await ep.json(`${root}/models?pageSize=1000${q}`, { signal }),
        name,
      );
      out.push(...models);
      if (next === undefined) break;
      token = next;
    }
    return out;
  }

  return { name, type: "gemini", chat, chatStream, embed, listModels, close: () => upstream.close() };
}
