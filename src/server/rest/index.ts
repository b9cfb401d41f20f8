// The OpenAI-compatible REST door on the gateway's one port: /v1/chat/completions (unary + SSE),
// /v1/embeddings, /v1/models[/{id}] — parsed here, served by the same pipeline as every protocol.

import { ListModelsRequestSchema } from "../../../gen/llmgateway/v1/llm_pb.js";
import type { CallContext } from "../../gateway/context.js";
import type { Gateway } from "../../gateway/gateway.js";
import type { ModelDirectory } from "../../gateway/models.js";
import { create } from "../../lib/create.js";
import type { Logger } from "../../lib/logger.js";
import type { ResponsesDeps } from "../../responses/index.js";
import { isGone, type NodeRequest, type NodeResponse } from "../bridge.js";
import { nodeCallContext } from "../fast-shared.js";
import { requestIdFrom } from "../request-id.js";
import { createAnthropicHandler } from "./anthropic/index.js";
import { serveChat, serveChatStream } from "./chat.js";
import { toChatRequest } from "./chat-request.js";
import { gatewayHeaders } from "./chat-response.js";
import { embeddingsJson, toEmbedRequest } from "./embeddings.js";
import { asGatewayError } from "./errors.js";
import { attemptsOf, readJsonBody, sendError, sendJson, sendRouteError } from "./http.js";
import { listModelsRequest, modelJson, modelsListJson } from "./models.js";
import type { Obj, ParamPolicy } from "./parse.js";
import { createResponsesRoute, isResponsesPath } from "./responses/index.js";

/** What the REST door needs from the running app. */
export interface RestDeps {
  /** The current gateway and model directory (replaced when the config is reloaded). */
  gateway: () => Gateway;
  models: () => ModelDirectory;
  maxRequestBytes: number;
  log: Logger;
  /** Stored responses (/v1/responses store, previous_response_id, GET / DELETE): the store and the current policy. */
  responses?: () => ResponsesDeps;
}

const MODELS_PREFIX = "/v1/models/";

/** The request body as a JSON object, or false once an error answer was sent. */
function body(req: NodeRequest, res: NodeResponse, rid: string, max: number): Promise<Obj | false> {
  return readJsonBody(req, max, (e) => sendError(res, e, rid, 0));
}

/** Returns the Node handler for the REST door; unknown paths get an OpenAI-style 404. */
export function createRestHandler(deps: RestDeps): (req: NodeRequest, res: NodeResponse) => void {
  const { maxRequestBytes: max } = deps;
  const policy: ParamPolicy = {
    get mode() {
      return deps.gateway().config.defaults.unsupportedParams;
    },
    warn: (msg) => deps.log.warn(msg),
  };
  const context = (req: NodeRequest, res: NodeResponse, rid: string, method: string): CallContext => {
    // No deadline header in OpenAI's protocol: the gateway's default applies.
    const cc = nodeCallContext(req, res, method, rid, undefined);
    // x-ratelimit-* go out with whatever answer follows (success, error or stream).
    cc.onResponseHeaders = (h) => {
      if (!res.headersSent) for (const [k, v] of Object.entries(h)) res.setHeader(k, v);
    };
    return cc;
  };

  const anthropic = createAnthropicHandler(deps, policy);
  const responses = createResponsesRoute({
    gateway: deps.gateway,
    responses: deps.responses,
    policy,
    log: deps.log,
    context,
  });

  const chat = async (req: NodeRequest, res: NodeResponse, rid: string) => {
    const b = await body(req, res, rid, max);
    if (!b) return;
    let parsed: ReturnType<typeof toChatRequest>;
    try {
      parsed = toChatRequest(b, policy);
    } catch (e: unknown) {
      return sendError(res, asGatewayError(e), rid, 0);
    }
    const cc = context(req, res, rid, parsed.stream ? "ChatStream" : "Chat");
    const gateway = deps.gateway();
    return parsed.stream ? serveChatStream(gateway, parsed, cc, res) : serveChat(gateway, parsed, cc, res);
  };

  const embed = async (req: NodeRequest, res: NodeResponse, rid: string) => {
    const b = await body(req, res, rid, max);
    if (!b) return;
    try {
      const p = toEmbedRequest(b);
      const out = await deps.gateway().embed(p.req, context(req, res, rid, "Embed"));
      sendJson(res, 200, embeddingsJson(out, p.base64), gatewayHeaders(rid, out.provider, out.gateway));
    } catch (e: unknown) {
      if (isGone(res)) return;
      const err = asGatewayError(e);
      sendError(res, err, rid, attemptsOf(err));
    }
  };

  const listOrGet = async (req: NodeRequest, res: NodeResponse, rid: string, id: string | undefined) => {
    try {
      // With keys configured, listing needs a key like chat does (and shows only the key's models).
      const cc = context(req, res, rid, id === undefined ? "ListModels" : "GetModel");
      const dir = deps.models();
      const query = create(ListModelsRequestSchema, id === undefined ? listModelsRequest(req.url ?? "") : {});
      const json =
        id === undefined
          ? modelsListJson((await dir.list(query, cc)).models, dir)
          : modelJson((await dir.get(id, cc)).model, dir);
      sendJson(res, 200, json, { "x-request-id": rid, "x-llmgw-attempts": "0", "x-llmgw-cache": "none" });
    } catch (e: unknown) {
      sendError(res, asGatewayError(e), rid, 0);
    }
  };

  return (req, res) => {
    const url = req.url ?? "";
    const q = url.indexOf("?");
    const path = q < 0 ? url : url.slice(0, q);
    const given = req.headers["x-request-id"];
    const rid = requestIdFrom(typeof given === "string" ? given : undefined);
    const method = req.method ?? "";
    const served = (want: string, run: () => Promise<void>) => {
      if (method !== want) {
        req.resume();
        return sendRouteError(res, 405, `${method} is not allowed on ${path}; use ${want}`, rid);
      }
      run().catch((e: unknown) => {
        deps.log.error({ path, err: e instanceof Error ? e.message : String(e) }, "REST handler failed");
        if (!res.headersSent) sendError(res, asGatewayError(e), rid, 0);
        else res.destroy();
      });
    };
    if (path === "/v1/chat/completions") return served("POST", () => chat(req, res, rid));
    if (path === "/v1/messages" || path.startsWith("/v1/messages/")) return anthropic(req, res, path, rid);
    if (isResponsesPath(path)) return responses(req, res, rid, path, served, () => body(req, res, rid, max));
    if (path === "/v1/embeddings") return served("POST", () => embed(req, res, rid));
    if (path === "/v1/models") return served("GET", () => listOrGet(req, res, rid, undefined));
    if (path.startsWith(MODELS_PREFIX) && path.length > MODELS_PREFIX.length) {
      let id: string;
      try {
        id = decodeURIComponent(path.slice(MODELS_PREFIX.length)); // "openai%2Fgpt-4o" and "openai/gpt-4o"
      } catch {
        id = path.slice(MODELS_PREFIX.length);
      }
      return served("GET", () => listOrGet(req, res, rid, id));
    }
    req.resume();
    sendRouteError(res, 404, `no route for ${method} ${path}`, rid);
  };
}
