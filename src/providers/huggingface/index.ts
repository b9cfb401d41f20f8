// The Hugging Face provider: chat, streams and the model list through the OpenAI-compatible
// router (a createOpenAIProvider inside), embeddings through the feature-extraction pipeline.
import type { EmbedRequest, EmbedResponse } from "../../../gen/llmgateway/v1/llm_pb.js";
import { endpoint } from "../endpoint.js";
import { openUpstream } from "../http.js";
import { compatibleQuirks, createOpenAIProvider } from "../openai/index.js";
import type { CallOptions, Provider } from "../types.js";
import type { TransportSettings } from "../upstream.js";
import { charsOf } from "../usage.js";
import {
  featureExtractionUrl,
  fromHFFeatureExtraction,
  type HFEmbedOptions,
  toHFFeatureExtractionRequest,
} from "./embed.js";
import { fromHFHttpError } from "./errors.js";

/** The router's OpenAI-compatible endpoint (HF_BASE_URL overrides it). */
export const HF_DEFAULT_BASE_URL = "https://router.huggingface.co/v1";
/** Where the hf-inference feature-extraction pipelines live. */
export const HF_DEFAULT_EMBED_BASE_URL = "https://router.huggingface.co/hf-inference/models";

/** Everything one configured Hugging Face account needs; built once at config load. */
export interface HuggingFaceProviderOptions {
  /** Config name ("huggingface", "hf-eu"); appears in errors and model ids. */
  name: string;
  /** The OpenAI-compatible router base, e.g. https://router.huggingface.co/v1. */
  baseUrl: string;
  /** Feature-extraction base; default https://router.huggingface.co/hf-inference/models. */
  embedBaseUrl?: string;
  /** HF_TOKEN. */
  apiKey: string;
  extraHeaders?: Record<string, string>;
  /** Proxy, TLS, HTTP/2, pool size and keep-alive (providers.<name>.*); defaults when absent. */
  transport?: TransportSettings;
  /** A parameter HF cannot honour: "reject" (default, INVALID_ARGUMENT) or "warn" and drop. */
  unsupportedParams?: "reject" | "warn";
  warn?: (msg: string) => void;
}

/** Builds the provider; no I/O until the first call. */
export function createHuggingFaceProvider(opts: HuggingFaceProviderOptions): Provider {
  const name = opts.name;
  const chatSide = createOpenAIProvider({
    name,
    baseUrl: opts.baseUrl || HF_DEFAULT_BASE_URL,
    apiKey: opts.apiKey,
    // Embeddings never go through the router's /embeddings: the pipeline below serves them.
    quirks: { ...compatibleQuirks, supportsEmbeddings: false },
    ...(opts.extraHeaders === undefined ? {} : { extraHeaders: opts.extraHeaders }),
    ...(opts.unsupportedParams === undefined ? {} : { unsupportedParams: opts.unsupportedParams }),
    ...(opts.warn === undefined ? {} : { warn: opts.warn }),
    ...(opts.transport === undefined ? {} : { transport: opts.transport }),
  });
  const embedBase = (opts.embedBaseUrl || HF_DEFAULT_EMBED_BASE_URL).replace(/\/+$/, "");
  const embedOpts: HFEmbedOptions = { provider: name, unsupportedParams: opts.unsupportedParams ?? "reject" };
  if (opts.warn !== undefined) embedOpts.warn = opts.warn;
  const baseHeaders: Record<string, string> = {
    ...opts.extraHeaders,
    authorization: `Bearer ${opts.apiKey}`,
    "content-type": "application/json",
    accept: "application/json",
  };
  const embedSide = openUpstream(name, opts.transport);
  const ep = endpoint(name, baseHeaders, fromHFHttpError, embedSide);

  async function embed(req: EmbedRequest, o: CallOptions): Promise<EmbedResponse> {
    const body = JSON.stringify(toHFFeatureExtractionRequest(req, embedOpts));
    const json = await ep.json(featureExtractionUrl(embedBase, o.model), {
      body,
      signal: o.signal,
      requestId: o.requestId,
      model: o.model,
      limit: "embed",
    });
    return fromHFFeatureExtraction(json, {
      provider: name,
      model: o.model,
      count: req.inputs.length,
      inputChars: charsOf(req.inputs),
    });
  }

  async function close(): Promise<void> {
    await Promise.all([chatSide.close(), embedSide.close()]);
  }

  return {
    name,
    type: "huggingface",
    chat: (req, o) => chatSide.chat(req, o),
    chatStream: (req, o) => chatSide.chatStream(req, o),
    embed,
    listModels: (signal) => chatSide.listModels(signal),
    close,
  };
}
