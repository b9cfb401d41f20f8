// The OpenAI wire-format provider: api.openai.com and every OpenAI-compatible host (presets.ts),
// wiring the pure translators to the shared HTTP layer.
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
import { responsesChat, responsesChatStream } from "../openai-responses/call.js";
import {
  chooseWire,
  isOpenAIItself,
  type OpenAIWire,
  type OpenAIWireSetting,
} from "../openai-responses/select.js";
import { parseSSE } from "../stream-parse.js";
import type { CallOptions, Provider } from "../types.js";
import type { TransportSettings } from "../upstream.js";
import { promptChars } from "../usage.js";
import { fromOpenAIHttpError } from "./errors.js";
import { compatibleQuirks, type OpenAIPreset, type OpenAIQuirks } from "./presets.js";
import { type TranslateOptions, toOpenAIChatRequest, toOpenAIEmbeddingsRequest } from "./request.js";
import { fromOpenAIChatResponse, fromOpenAIEmbeddings, fromOpenAIModels } from "./response.js";
import { translateOpenAIStream } from "./stream.js";

export type { OpenAIWire, OpenAIWireSetting } from "../openai-responses/select.js";
export type { OpenAIParam, OpenAIPreset, OpenAIPresetName, OpenAIQuirks } from "./presets.js";
export { compatibleQuirks, isOpenAIPresetName, openaiPresets } from "./presets.js";

/** Everything one configured OpenAI-family provider needs; built once at config load. */
export interface OpenAIProviderOptions {
  /** Config name ("openai", "groq", "openai-eu"); appears in errors and model ids. */
  name: string;
  baseUrl: string;
  apiKey: string;
  /** The host's preset; its quirks apply unless `quirks` overrides them. */
  preset?: OpenAIPreset;
  quirks?: Partial<OpenAIQuirks>;
  /** E.g. OpenRouter's HTTP-Referer / X-Title, OpenAI-Organization. */
  extraHeaders?: Record<string, string>;
  /** Proxy, TLS, HTTP/2, pool size and keep-alive (providers.<name>.*); defaults when absent. */
  transport?: TransportSettings;
  /** A parameter the host cannot honour: "reject" (default, INVALID_ARGUMENT) or "warn" and drop. */
  unsupportedParams?: "reject" | "warn";
  warn?: (msg: string) => void;
  /** providers.<name>.wire: "chat", "responses" or "auto" (default; openai-responses/select.ts). */
  wire?: OpenAIWireSetting;
}

/** An openai-type provider: it also says which wire a call to `model` takes (capability checks). */
export interface OpenAIProvider extends Provider {
  wireFor(model: string, req?: ChatRequest): OpenAIWire;
}

/** Builds the provider; no I/O until the first call. */
export function createOpenAIProvider(opts: OpenAIProviderOptions): OpenAIProvider {
  const name = opts.name;
  const base = opts.baseUrl.replace(/\/+$/, "");
  const quirks: OpenAIQuirks = { ...(opts.preset?.quirks ?? compatibleQuirks), ...opts.quirks };
  const translate: TranslateOptions = {
    provider: name,
    quirks,
    unsupportedParams: opts.unsupportedParams ?? "reject",
  };
  if (opts.warn !== undefined) translate.warn = opts.warn;
  const urls = {
    chat: `${base}/chat/completions`,
    embeddings: `${base}/embeddings`,
    models: `${base}/models`,
  };
  const baseHeaders: Record<string, string> = {
    ...opts.extraHeaders,
    authorization: `Bearer ${opts.apiKey}`,
    "content-type": "application/json",
    accept: "application/json",
  };
  const streamHeaders: Record<string, string> = { ...baseHeaders, accept: "text/event-stream" };
  const upstream = openUpstream(name, opts.transport);

  const ep = endpoint(name, baseHeaders, fromOpenAIHttpError, upstream);
  const itself = isOpenAIItself(name, base);
  const wireFor = (model: string, req?: ChatRequest): OpenAIWire =>
    chooseWire(opts.wire ?? "auto", itself, model, req);
  const responses = {
    provider: name,
    url: `${base}/responses`,
    streamHeaders,
    unsupportedParams: translate.unsupportedParams ?? "reject",
    ...(opts.warn === undefined ? {} : { warn: opts.warn }),
  };

  async function chat(req: ChatRequest, o: CallOptions): Promise<ChatResponse> {
    if (wireFor(o.model, req) === "responses") return responsesChat(ep, req, o, responses);
    const body = JSON.stringify(toOpenAIChatRequest(req, o.model, false, translate));
    const json = await ep.json(urls.chat, { body, signal: o.signal, requestId: o.requestId, model: o.model });
    return fromOpenAIChatResponse(json, { provider: name, model: o.model, promptChars: promptChars(req) });
  }

  async function* chatStream(req: ChatRequest, o: CallOptions): AsyncGenerator<ChatStreamResponse> {
    if (wireFor(o.model, req) === "responses") return yield* responsesChatStream(ep, req, o, responses);
    const body = JSON.stringify(toOpenAIChatRequest(req, o.model, true, translate));
    const { signal, model } = o;
    const send = { body, signal, requestId: o.requestId, model, headers: streamHeaders, eventStream: true };
    yield* ep.stream(urls.chat, send, (b) =>
      translateOpenAIStream(parseSSE(b, { provider: name }), {
        provider: name,
        model,
        promptChars: promptChars(req),
      }),
    );
  }

  async function embed(req: EmbedRequest, o: CallOptions): Promise<EmbedResponse> {
    if (!quirks.supportsEmbeddings) {
      throw new GatewayError(
        "UNIMPLEMENTED",
        "INVALID_REQUEST",
        `provider "${name}" does not serve embeddings`,
        {
          metadata: { provider: name },
        },
      );
    }
    const body = JSON.stringify(toOpenAIEmbeddingsRequest(req, o.model, translate));
    const json = await ep.json(urls.embeddings, {
      body,
      signal: o.signal,
      requestId: o.requestId,
      model: o.model,
      limit: "embed",
    });
    return fromOpenAIEmbeddings(json, { provider: name, model: o.model, count: req.inputs.length });
  }

  async function listModels(signal: AbortSignal): Promise<ModelInfo[]> {
    return fromOpenAIModels(await ep.json(urls.models, { signal }), name);
  }

  return {
    name,
    type: "openai",
    chat,
    chatStream,
    embed,
    listModels,
    wireFor,
    close: () => upstream.close(),
  };
}
