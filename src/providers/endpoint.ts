// The request/answer plumbing every provider shares: send with the provider's headers (plus the
// call's x-request-id), turn a non-2xx answer into the provider's UpstreamError (reading a bounded
// error body), and parse a JSON answer.

import type { ChatStreamResponse } from "../../gen/llmgateway/v1/llm_pb.js";
import { GatewayError, UpstreamError } from "../errors.js";
import type { Signal } from "../lib/cancel.js";
import { ACCEPT_ENCODING } from "./decode.js";
import {
  discard,
  type HttpBody,
  type HttpHeaders,
  type HttpResponse,
  header,
  networkError,
  type ReadLimit,
  readText,
  request,
} from "./http.js";
import type { Upstream } from "./upstream.js";

/** Error bodies are small; reading more than this of one is pointless. */
const MAX_ERROR_BODY = 1024 * 1024;

/** A provider's mapping of an error answer to the taxonomy (its errors.ts). */
export type ErrorMapper = (input: {
  status: number;
  body: string;
  headers: HttpHeaders;
  provider: string;
  model?: string;
}) => UpstreamError;

/** One call's options. */
export interface SendOptions {
  /** JSON text; a GET when absent. */
  body?: string;
  signal: Signal;
  requestId?: string;
  /** Upstream model name, for error metadata. */
  model?: string;
  /** Headers to send instead of the provider's defaults (e.g. `accept: text/event-stream`). */
  headers?: Record<string, string>;
  /** An event stream is expected: a JSON answer (some hosts ignore `stream`) is a protocol error. */
  eventStream?: boolean;
  /** The cap on a JSON answer (`json`): server.max_answer_bytes unless "embed" (max_embed_answer_bytes). */
  limit?: ReadLimit;
}

/** Sends requests for one provider. */
export interface Endpoint {
  /** Sends; a non-2xx answer is thrown as the provider's UpstreamError. The body is the caller's to read. */
  send(url: string, o: SendOptions): Promise<HttpResponse>;
  /** Sends and parses a JSON answer (an unparsable one is a protocol error). */
  json(url: string, o: SendOptions): Promise<unknown>;
  /**
   * Sends a streaming request and yields `translate(body)`: a failure while reading becomes the
   * stream failure it means (streamFailure), and the body is always released (discard).
   */
  stream(
    url: string,
    o: SendOptions,
    translate: (body: HttpBody) => AsyncIterable<ChatStreamResponse>,
  ): AsyncGenerator<ChatStreamResponse>;
}

/**
 * The header set actually sent for a provider's template: `accept-encoding` added (decoding is ours:
 * exchange.ts) unless the provider's config sets one. Built once per template, not per call.
 */
function encodingTemplate(
  cache: WeakMap<Record<string, string>, Record<string, string>>,
  template: Record<string, string>,
): Record<string, string> {
  let sent = cache.get(template);
  if (sent === undefined) {
    const has = Object.keys(template).some((k) => k.toLowerCase() === "accept-encoding");
    sent = has ? template : { ...template, "accept-encoding": ACCEPT_ENCODING };
    cache.set(template, sent);
  }
  return sent;
}

/**
 * The shared plumbing for `provider`, with its default headers, its error mapping and its transport
 * (openUpstream; the shared direct one when absent).
 */
export function endpoint(
  provider: string,
  defaults: Record<string, string>,
  toError: ErrorMapper,
  upstream?: Upstream,
): Endpoint {
  const templates = new WeakMap<Record<string, string>, Record<string, string>>();
  const fail = async (res: HttpResponse, signal: Signal, model?: string): Promise<never> => {
    // An unreadable error body still leaves the status to classify by.
    const body = await readText(res.body, provider, signal, MAX_ERROR_BODY).catch(() => {
      if (signal.aborted) throw signal.reason;
      return "";
    });
    throw toError({
      status: res.status,
      body,
      headers: res.headers,
      provider,
      ...(model === undefined ? {} : { model }),
    });
  };
  const send = async (url: string, o: SendOptions): Promise<HttpResponse> => {
    const template = encodingTemplate(templates, o.headers ?? defaults);
    const headers = o.requestId ? { ...template, "x-request-id": o.requestId } : template;
    const res = await request({
      url,
      method: o.body === undefined ? "GET" : "POST",
      headers,
      ...(o.body === undefined ? {} : { body: o.body }),
      signal: o.signal,
      provider,
      ...(upstream === undefined ? {} : { upstream }),
    });
    if (res.status >= 300) await fail(res, o.signal, o.model);
    if (o.eventStream && header(res.headers, "content-type")?.startsWith("application/json")) {
      discard(res.body);
      throw new UpstreamError("protocol", "expected an event stream, got JSON", provider, {
        status: res.status,
        ...(o.model === undefined ? {} : { model: o.model }),
      });
    }
    return res;
  };
  return {
    send,
    async *stream(url, o, translate) {
      const res = await send(url, o);
      try {
        yield* translate(res.body);
      } catch (e: unknown) {
        throw streamFailure(e, o.signal, provider, o.model);
      } finally {
        discard(res.body);
      }
    },
    async json(url, o) {
      const res = await send(url, o);
      const text = await readText(res.body, provider, o.signal, o.limit);
      try {
        return JSON.parse(text) as unknown;
      } catch (e: unknown) {
        throw new UpstreamError("protocol", "upstream answered with invalid JSON", provider, {
          status: res.status,
          ...(o.model === undefined ? {} : { model: o.model }),
          cause: e,
        });
      }
    },
  };
}

/**
 * What a failure while reading a stream means: the caller's abort reason when it aborted, a
 * classified error as is, and a broken connection as "stream_interrupted".
 */
function streamFailure(e: unknown, signal: Signal, provider: string, model?: string): unknown {
  if (signal.aborted) return signal.reason;
  if (e instanceof UpstreamError || e instanceof GatewayError) return e;
  const mapped = networkError(e, provider, signal);
  if (mapped instanceof UpstreamError && mapped.kind === "network") {
    return new UpstreamError("stream_interrupted", mapped.message, provider, {
      ...(model === undefined ? {} : { model }),
      cause: e,
    });
  }
  return mapped;
}
