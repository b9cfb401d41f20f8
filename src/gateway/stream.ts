// Reading an upstream stream before and after the commit point: open it and read up to the first
// content (one pre-commit attempt), await the next event but give up when the attempt aborts, close it.
import type { ChatRequest, ChatStreamResponse, StreamStart } from "../../gen/llmgateway/v1/llm_pb.js";
import { GatewayError, UpstreamError } from "../errors.js";
import { nextOrAbort } from "../lib/next-or-abort.js";
import type { Deployment } from "../routing/index.js";
import type { CallContext } from "./context.js";
import type { AttemptScope } from "./scope.js";

/** The first content of a stream, read before the commit point, with the iterator to go on reading. */
export interface StreamHead {
  start: StreamStart | undefined;
  event: ChatStreamResponse;
  deployment: Deployment;
  iter: AsyncIterator<ChatStreamResponse>;
}

const ignore = () => {};

/** A stream generator closed by its consumer before an error or `end`: neutral for the breaker. */
export const HANDLER_GONE = new GatewayError("CANCELLED", "CANCELLED", "the client stopped reading");

/**
 * The abort reason that releases a finished stream's attempt. Preallocated: `abort()` without a
 * reason builds a DOMException with a stack trace, which cost ~10% of a stream's CPU (profiled).
 */
export const STREAM_OVER = new GatewayError("CANCELLED", "CANCELLED", "the stream is over");

/**
 * Closes an upstream stream we no longer read (a failed attempt, a hedge's late loser, a finished
 * stream); settles, never rejects, once the provider has let go of it.
 */
export function closeStream(it: AsyncIterator<ChatStreamResponse>): Promise<void> {
  return Promise.resolve(it.return?.()).then(ignore, ignore);
}

/** One pre-commit stream attempt: open it and read up to the first content (or fail, closing it). */
export async function openStream(
  req: ChatRequest,
  ctx: CallContext,
  d: Deployment,
  a: AttemptScope,
): Promise<StreamHead> {
  const iter = d.provider
    .chatStream(req, { signal: a.signal, model: d.model, requestId: ctx.requestId })
    [Symbol.asyncIterator]();
  try {
    let start: StreamStart | undefined;
    for (;;) {
      const r = await nextOrAbort(iter, a.signal);
      if (r.done) {
        throw new UpstreamError("stream_interrupted", "the stream ended before any content", d.provider.name);
      }
      const ev = r.value.event;
      if (ev.case === "start") start = ev.value;
      else return { start, event: r.value, deployment: d, iter };
    }
  } catch (e: unknown) {
    void closeStream(iter);
    throw e;
  }
}
