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
import { GatewayError, UpstreamError } from "../../gateway/errors.js";
import {
  discard,
  type HttpResponse,
  header,
  networkError,
  parseSSE,
  readText,
  request,
  retainOrigin,
} from "../http.js";
import type { CallOptions, Provider } from "../types.js";
import { fromOpenAIHttpError } from "./errors.js";
import { compatibleQuirks, type OpenAIPreset, type OpenAIQuirks } from "./presets.js";
import {
  promptChars,
  type TranslateOptions,
  toOpenAIChatRequest,
  toOpenAIEmbeddingsRequest,
} from "./request.js";
import { fromOpenAIChatResponse, fromOpenAIEmbeddings, fromOpenAIModels } from "./response.js";
import { translateOpenAIStream } from "./stream.js";

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
  /** A parameter the host cannot honour: "reject" (default, INVALID_ARGUMENT) or "warn" and drop. */
  unsupportedParams?: "reject" | "warn";
  warn?: (msg: string) => void;
}

/** Error bodies are small; reading more than this of one is pointless. */
const MAX_ERROR_BODY = 1024 * 1024;

/** Builds the provider; no I/O until the first call. */
export function createOpenAIProvider(opts: OpenAIProviderOptions): Provider {
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
  const release = retainOrigin(base);

  function headers(template: Record<string, string>, requestId: string): Record<string, string> {
    const h = { ...template };
    if (requestId !== "") h["x-request-id"] = requestId;
    return h;
  }

  async function call(
    url: string,
    body: string | undefined,
    signal: AbortSignal,
    requestId: string,
    model?: string,
  ) {
    const res = await request({
      url,
      method: body === undefined ? "GET" : "POST",
      headers: headers(baseHeaders, requestId),
      ...(body === undefined ? {} : { body }),
      signal,
      provider: name,
    });
    if (res.status >= 300) await fail(res, signal, model);
    const text = await readText(res.body, name, signal);
    try {
      return JSON.parse(text) as unknown;
    } catch (e: unknown) {
      throw new UpstreamError("protocol", "upstream answered with invalid JSON", name, {
        status: res.status,
        ...(model === undefined ? {} : { model }),
        cause: e,
      });
    }
  }

  async function fail(res: HttpResponse, signal: AbortSignal, model?: string): Promise<never> {
    // An unreadable error body still leaves the status to classify by.
    const body = await readText(res.body, name, signal, MAX_ERROR_BODY).catch(() => {
      if (signal.aborted) throw signal.reason;
      return "";
    });
    throw fromOpenAIHttpError({
      status: res.status,
      body,
      headers: res.headers,
      provider: name,
      ...(model === undefined ? {} : { model }),
    });
  }

  async function chat(req: ChatRequest, o: CallOptions): Promise<ChatResponse> {
    const body = JSON.stringify(toOpenAIChatRequest(req, o.model, false, translate));
    const json = await call(urls.chat, body, o.signal, o.requestId, o.model);
    return fromOpenAIChatResponse(json, { provider: name, model: o.model, promptChars: promptChars(req) });
  }

  async function* chatStream(req: ChatRequest, o: CallOptions): AsyncGenerator<ChatStreamResponse> {
    const body = JSON.stringify(toOpenAIChatRequest(req, o.model, true, translate));
    const { signal, model } = o;
    const res = await request({
      url: urls.chat,
      method: "POST",
      headers: headers(streamHeaders, o.requestId),
      body,
      signal,
      provider: name,
    });
    if (res.status >= 300) await fail(res, signal, model);
    if (header(res.headers, "content-type")?.startsWith("application/json")) {
      discard(res.body);
      throw new UpstreamError("protocol", "expected an event stream, got JSON", name, {
        status: res.status,
        model,
      });
    }
    try {
      const events = parseSSE(res.body, { provider: name });
      yield* translateOpenAIStream(events, { provider: name, model, promptChars: promptChars(req) });
    } catch (e: unknown) {
      if (signal.aborted) throw signal.reason;
      if (e instanceof UpstreamError || e instanceof GatewayError) throw e;
      const mapped = networkError(e, name, signal);
      if (mapped instanceof UpstreamError && mapped.kind === "network") {
        throw new UpstreamError("stream_interrupted", mapped.message, name, { model, cause: e });
      }
      throw mapped;
    } finally {
      discard(res.body);
    }
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
    const json = await call(urls.embeddings, body, o.signal, o.requestId, o.model);
    return fromOpenAIEmbeddings(json, { provider: name, model: o.model, count: req.inputs.length });
  }

  async function listModels(signal: AbortSignal): Promise<ModelInfo[]> {
    return fromOpenAIModels(await call(urls.models, undefined, signal, ""), name);
  }

  return { name, type: "openai", chat, chatStream, embed, listModels, close: release };
}
