// The Responses wire's two calls for the openai provider: build the body, send it on the provider's
// endpoint (shared plumbing: headers, error mapping, bounded reads), translate the answer or stream.
import type { ChatRequest, ChatResponse, ChatStreamResponse } from "../../../gen/llmgateway/v1/llm_pb.js";
import type { Endpoint } from "../endpoint.js";
import { parseSSE } from "../stream-parse.js";
import type { CallOptions } from "../types.js";
import { promptChars } from "../usage.js";
import { ENCRYPTED_REASONING, type ResponsesTranslateOptions, toResponsesRequest } from "./request.js";
import { fromResponsesResponse } from "./response.js";
import { isOpenAIReasoningModel } from "./select.js";
import { translateResponsesStream } from "./stream.js";

/** One provider's settings for its Responses calls; built once. */
export interface ResponsesCallSettings {
  provider: string;
  /** `<base>/responses`. */
  url: string;
  /** The provider's headers with `accept: text/event-stream`. */
  streamHeaders: Record<string, string>;
  unsupportedParams: "reject" | "warn";
  warn?: (msg: string) => void;
}

function build(req: ChatRequest, model: string, stream: boolean, s: ResponsesCallSettings) {
  const opts: ResponsesTranslateOptions = {
    provider: s.provider,
    unsupportedParams: s.unsupportedParams,
    reasoningModel: isOpenAIReasoningModel(model),
    ...(s.warn === undefined ? {} : { warn: s.warn }),
  };
  const body = toResponsesRequest(req, model, stream, opts);
  const ctx = {
    provider: s.provider,
    model,
    promptChars: promptChars(req),
    includeReasoning: req.reasoning?.includeReasoning === true,
  };
  const encryptedReasoning = Array.isArray(body.include) && body.include.includes(ENCRYPTED_REASONING);
  return { text: JSON.stringify(body), ctx, encryptedReasoning };
}

/** POST /responses, unary. */
export async function responsesChat(
  ep: Endpoint,
  req: ChatRequest,
  o: CallOptions,
  s: ResponsesCallSettings,
): Promise<ChatResponse> {
  const { text, ctx } = build(req, o.model, false, s);
  const json = await ep.json(s.url, { body: text, signal: o.signal, requestId: o.requestId, model: o.model });
  return fromResponsesResponse(json, ctx);
}

/** POST /responses with `stream: true`, through the shared SSE parser and its event bounds. */
export async function* responsesChatStream(
  ep: Endpoint,
  req: ChatRequest,
  o: CallOptions,
  s: ResponsesCallSettings,
): AsyncGenerator<ChatStreamResponse> {
  const { text, ctx, encryptedReasoning } = build(req, o.model, true, s);
  const send = {
    body: text,
    signal: o.signal,
    requestId: o.requestId,
    model: o.model,
    headers: s.streamHeaders,
    eventStream: true,
  };
  yield* ep.stream(s.url, send, (b) =>
    translateResponsesStream(parseSSE(b, { provider: s.provider }), { ...ctx, encryptedReasoning }),
  );
}
