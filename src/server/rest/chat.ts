// POST /v1/chat/completions through the pipeline: unary -> one `chat.completion`; stream -> SSE
// `chat.completion.chunk`s. A failure before the first content is a plain HTTP error; after it the
// stream ends with `event: error` and never `[DONE]` (a cut answer is never reported as complete).
import type { CallContext } from "../../gateway/context.js";
import type { Gateway } from "../../gateway/gateway.js";
import { isGone, type NodeResponse, write } from "../bridge.js";
import type { ParsedChat } from "./chat-request.js";
import { ChunkFrames, cacheHeader, chatCompletionJson, gatewayHeaders } from "./chat-response.js";
import { asGatewayError, renderError } from "./errors.js";
import { attemptsOf, sendError, sendJson } from "./http.js";

const DONE = "data: [DONE]\n\n";

/** A unary chat call: the whole answer in one write. */
export async function serveChat(
  gw: Gateway,
  p: ParsedChat,
  cc: CallContext,
  res: NodeResponse,
): Promise<void> {
  try {
    const out = await gw.chat(p.req, cc);
    const body = chatCompletionJson(out, Math.floor(Date.now() / 1000), cc.requestId);
    sendJson(res, 200, body, gatewayHeaders(cc.requestId, out.provider, out.gateway));
  } catch (e: unknown) {
    if (isGone(res)) return;
    const err = asGatewayError(e);
    sendError(res, err, cc.requestId, attemptsOf(err));
  }
}

/** A streamed chat call: headers with the first content (the gateway's commit point), then chunks. */
export async function serveChatStream(
  gw: Gateway,
  p: ParsedChat,
  cc: CallContext,
  res: NodeResponse,
): Promise<void> {
  let frames: ChunkFrames | undefined;
  let pending = "";
  try {
    for await (const msg of gw.chatStream(p.req, cc)) {
      if (isGone(res)) return; // the client left: leaving the loop ends the gateway's stream
      const ev = msg.event;
      if (ev.case === "start") {
        frames = new ChunkFrames(ev.value.id, ev.value.model, Math.floor(Date.now() / 1000));
        res.writeHead(200, {
          "content-type": "text/event-stream; charset=utf-8",
          "cache-control": "no-cache",
          "x-request-id": cc.requestId,
          "x-llmgw-provider": ev.value.provider,
          "x-llmgw-cache": cacheHeader(cc.cacheStatus),
        });
        pending = frames.role();
      } else if (ev.case === "delta" && frames) {
        const wait = write(res, pending + frames.delta(ev.value));
        pending = "";
        if (wait) await wait;
      } else if (ev.case === "end" && frames) {
        let tail = pending + frames.finish(ev.value.finishReason);
        if (p.includeUsage) tail += frames.usage(ev.value.usage);
        res.end(tail + DONE);
        return;
      }
    }
    throw new Error("the gateway's stream ended without an end event");
  } catch (e: unknown) {
    if (isGone(res)) return;
    const err = asGatewayError(e);
    if (!frames) {
      sendError(res, err, cc.requestId, attemptsOf(err));
      return;
    }
    const r = renderError(err, cc.requestId, 1);
    res.end(`${pending}event: error\ndata: ${r.body}\n\n`);
  }
}
