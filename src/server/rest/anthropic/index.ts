// The Anthropic Messages door: POST /v1/messages (unary + SSE) and POST /v1/messages/count_tokens,
// through the same pipeline as every door (keys, limits, budgets, cache, routing, fallbacks), to any
// provider: the model is the gateway's "provider/model" or an alias. Errors in Anthropic's shape.

import { tokensOf } from "../../../catalog/tokens.js";
import { GatewayError } from "../../../errors.js";
import type { CallContext } from "../../../gateway/context.js";
import type { Gateway } from "../../../gateway/gateway.js";
import type { ModelDirectory } from "../../../gateway/models.js";
import type { Logger } from "../../../lib/logger.js";
import { promptChars } from "../../../providers/usage.js";
import { isGone, type NodeRequest, type NodeResponse, write } from "../../bridge.js";
import { nodeCallContext } from "../../fast-shared.js";
import { cacheHeader, gatewayHeaders } from "../chat-response.js";
import { asGatewayError } from "../errors.js";
import { attemptsOf, readJsonBody, sendJson } from "../http.js";
import type { Obj, ParamPolicy } from "../parse.js";
import { errorPayload, renderAnthropicError } from "./errors.js";
import { type ParsedMessages, toChatRequest, toCountRequest } from "./request.js";
import { messageId, messageJson } from "./response.js";
import { pipeMessages } from "./stream.js";

/** What the door needs from the running app (the REST door's deps satisfy it). */
export interface AnthropicDeps {
  gateway: () => Gateway;
  models: () => ModelDirectory;
  maxRequestBytes: number;
  log: Logger;
}

/** Seconds of silence on a stream before a `ping` event (Anthropic's keep-alive). */
export const PING_MS = 10_000;

function sendError(res: NodeResponse, e: unknown, rid: string, attempts?: number): void {
  const err = asGatewayError(e);
  const r = renderAnthropicError(err, rid, attempts ?? attemptsOf(err));
  res.writeHead(r.status, r.headers);
  res.end(r.body);
}

/** The request body as a JSON object, or false once an error answer was sent. */
function body(req: NodeRequest, res: NodeResponse, rid: string, max: number): Promise<Obj | false> {
  return readJsonBody(req, max, (e) => sendError(res, e, rid, 0));
}

/** Returns the handler for every path under /v1/messages; `policy` is the REST door's unsupported-parameter policy. */
export function createAnthropicHandler(
  deps: AnthropicDeps,
  policy: ParamPolicy,
  pingMs = PING_MS,
): (req: NodeRequest, res: NodeResponse, path: string, rid: string) => void {
  const context = (req: NodeRequest, res: NodeResponse, rid: string, method: string): CallContext => {
    const cc = nodeCallContext(req, res, method, rid, undefined);
    cc.onResponseHeaders = (h) => {
      if (!res.headersSent) for (const [k, v] of Object.entries(h)) res.setHeader(k, v);
    };
    return cc;
  };

  const unary = async (p: ParsedMessages, cc: CallContext, res: NodeResponse) => {
    try {
      const out = await deps.gateway().chat(p.req, cc);
      const headers = gatewayHeaders(cc.requestId, out.provider, out.gateway);
      headers["request-id"] = cc.requestId;
      sendJson(res, 200, messageJson(out, p.model, cc.requestId), headers);
    } catch (e: unknown) {
      if (!isGone(res)) sendError(res, e, cc.requestId);
    }
  };

  const stream = (p: ParsedMessages, cc: CallContext, res: NodeResponse) => {
    const rid = cc.requestId;
    return pipeMessages(
      deps.gateway().chatStream(p.req, cc),
      {
        open: (provider) =>
          res.writeHead(200, {
            "content-type": "text/event-stream; charset=utf-8",
            "cache-control": "no-cache",
            "request-id": rid,
            "x-request-id": rid,
            "x-llmgw-provider": provider,
            "x-llmgw-cache": cacheHeader(cc.cacheStatus),
          }),
        write: (text) => write(res, text),
        end: (text) => res.end(text),
        gone: () => isGone(res),
        fail: (e) => sendError(res, e, rid),
        errorPayload: (e) => errorPayload(asGatewayError(e), rid),
      },
      { id: (id) => messageId(id, rid), model: p.model, inputTokens: tokensOf(promptChars(p.req)), pingMs },
    );
  };

  const messages = async (req: NodeRequest, res: NodeResponse, rid: string) => {
    const b = await body(req, res, rid, deps.maxRequestBytes);
    if (!b) return;
    let p: ParsedMessages;
    try {
      p = toChatRequest(b, policy);
    } catch (e: unknown) {
      return sendError(res, e, rid, 0);
    }
    const cc = context(req, res, rid, p.stream ? "ChatStream" : "Chat");
    return p.stream ? stream(p, cc, res) : unary(p, cc, res);
  };

  const count = async (req: NodeRequest, res: NodeResponse, rid: string) => {
    const b = await body(req, res, rid, deps.maxRequestBytes);
    if (!b) return;
    try {
      const out = await deps
        .models()
        .countTokens(toCountRequest(b, policy), context(req, res, rid, "CountTokens"));
      sendJson(res, 200, JSON.stringify({ input_tokens: out.inputTokens }), {
        "request-id": rid,
        "x-request-id": rid,
        "x-llmgw-token-count": out.exact ? "exact" : "estimate",
      });
    } catch (e: unknown) {
      if (!isGone(res)) sendError(res, e, rid, 0);
    }
  };

  return (req, res, path, rid) => {
    const method = req.method ?? "";
    const run = path === "/v1/messages" ? messages : path === "/v1/messages/count_tokens" ? count : undefined;
    if (run === undefined || method !== "POST") {
      req.resume();
      const e =
        run === undefined
          ? new GatewayError("NOT_FOUND", "MODEL_NOT_FOUND", `no route for ${method} ${path}`)
          : new GatewayError(
              "INVALID_ARGUMENT",
              "INVALID_REQUEST",
              `${method} is not allowed on ${path}; use POST`,
            );
      const r = renderAnthropicError(e, rid, 0);
      res.writeHead(run === undefined ? 404 : 405, r.headers);
      res.end(r.body);
      return;
    }
    run(req, res, rid).catch((e: unknown) => {
      deps.log.error({ path, err: e instanceof Error ? e.message : String(e) }, "Anthropic door failed");
      if (!res.headersSent) sendError(res, e, rid, 0);
      else res.destroy();
    });
  };
}
