// The OpenAI Responses API door: POST /v1/responses (unary + SSE events), GET and DELETE
// /v1/responses/{id}, `previous_response_id` and `item_reference` through the response store.
// Calls go through the same pipeline as chat (keys, limits, budgets, cache, routing, fallbacks).
import type { ChatRequest } from "../../../../gen/llmgateway/v1/llm_pb.js";
import type { Caller } from "../../../auth/index.js";
import { invalid } from "../../../errors.js";
import type { CallContext } from "../../../gateway/context.js";
import type { Gateway } from "../../../gateway/gateway.js";
import type { Logger } from "../../../lib/logger.js";
import {
  type ResponsesDeps,
  responseNotFound,
  STORE_HEADER,
  type StoreDecision,
  storageDisabled,
} from "../../../responses/index.js";
import { isGone, type NodeRequest, type NodeResponse, write } from "../../bridge.js";
import { cacheHeader, gatewayHeaders } from "../chat-response.js";
import { asGatewayError, renderError } from "../errors.js";
import { attemptsOf, sendError, sendJson } from "../http.js";
import type { Obj, ParamPolicy } from "../parse.js";
import { expandInput } from "./expand.js";
import { newToken, responseId } from "./ids.js";
import { chatRequestOf, type ParsedResponses, parseResponses } from "./request.js";
import { type ResponseHead, unaryResponse } from "./response.js";
import { ResponseEvents } from "./stream.js";

/** What the Responses door needs from the REST door. */
export interface ResponsesDoorDeps {
  gateway: () => Gateway;
  /** The response store and its policy; undefined = no store (storing is off, lookups refused). */
  responses: (() => ResponsesDeps) | undefined;
  policy: ParamPolicy;
  log: Logger;
  context: (req: NodeRequest, res: NodeResponse, rid: string, method: string) => CallContext;
}

/** Serves one /v1/responses[/{id}] request; `served` applies the method check of the REST door. */
export type ResponsesRoute = (
  req: NodeRequest,
  res: NodeResponse,
  rid: string,
  path: string,
  served: (want: string, run: () => Promise<void>) => void,
  readBody: () => Promise<Obj | false>,
) => void;

const PREFIX = "/v1/responses/";

/** One call's plan: the request, the conversation it stored as input, and the store decision. */
interface Prepared {
  req: ChatRequest;
  items: unknown[];
  decision: StoreDecision | undefined;
  rd: ResponsesDeps | undefined;
}

/** Builds the door's route handler. */
export function createResponsesRoute(deps: ResponsesDoorDeps): ResponsesRoute {
  const { policy, log } = deps;

  const prepare = async (p: ParsedResponses, caller: Caller): Promise<Prepared> => {
    const rd = deps.responses?.();
    const decision = rd?.policy.decide(caller, p.store);
    if (decision?.explicit && !decision.store)
      log.info({ why: decision.why }, "Responses: store: true not honoured");
    const items = await expandInput(p.input, p.previousResponseId, caller, rd);
    return { req: chatRequestOf(p, items, policy), items, decision, rd };
  };

  /** Keeps the record; a failed write never fails the answer (x-llmgw-store: failed says so). */
  const keep = async (pr: Prepared, response: Record<string, unknown>, rid: string): Promise<string> => {
    const d = pr.decision;
    if (!d || !pr.rd) return "off";
    if (!d.store || d.owner === undefined) return d.outcome;
    try {
      const id = String(response["id"]);
      await pr.rd.store.put({ id, owner: d.owner, createdAt: Date.now(), input: pr.items, response }, d.ttlS);
      return "stored";
    } catch (e: unknown) {
      log.warn(
        { request_id: rid, err: e instanceof Error ? e.message : String(e) },
        "Responses: storing failed",
      );
      return "failed";
    }
  };

  const head = (p: ParsedResponses, token: string, d: StoreDecision | undefined): ResponseHead => ({
    id: responseId(token),
    createdAt: Math.floor(Date.now() / 1000),
    model: p.model,
    echo: p.echo,
    store: d?.store ?? false,
  });

  const unary = async (gw: Gateway, p: ParsedResponses, pr: Prepared, cc: CallContext, res: NodeResponse) => {
    const out = await gw.chat(pr.req, cc);
    const token = newToken();
    const body = unaryResponse(head(p, token, pr.decision), out, token);
    const outcome = await keep(pr, body, cc.requestId);
    if (outcome === "failed") body["store"] = false;
    const headers = gatewayHeaders(cc.requestId, out.provider, out.gateway);
    headers[STORE_HEADER] = outcome;
    sendJson(res, 200, JSON.stringify(body), headers);
  };

  const stream = async (
    gw: Gateway,
    p: ParsedResponses,
    pr: Prepared,
    cc: CallContext,
    res: NodeResponse,
  ) => {
    let ev: ResponseEvents | undefined;
    let pending = "";
    try {
      for await (const msg of gw.chatStream(pr.req, cc)) {
        if (isGone(res)) return; // the client left: leaving the loop ends the gateway's stream
        const e = msg.event;
        if (e.case === "start") {
          const token = newToken();
          ev = new ResponseEvents(head(p, token, pr.decision), token);
          res.writeHead(200, {
            "content-type": "text/event-stream; charset=utf-8",
            "cache-control": "no-cache",
            "x-request-id": cc.requestId,
            "x-llmgw-provider": e.value.provider,
            "x-llmgw-cache": cacheHeader(cc.cacheStatus),
            [STORE_HEADER]: pr.decision?.outcome ?? "off",
          });
          pending = ev.start();
        } else if (e.case === "delta" && ev) {
          const wait = write(res, pending + ev.delta(e.value));
          pending = "";
          if (wait) await wait;
        } else if (e.case === "end" && ev) {
          const done = ev.end(e.value);
          // Kept before the last event: a client chaining on response.completed finds the record.
          if ((await keep(pr, done.response, cc.requestId)) === "failed") done.response["store"] = false;
          res.end(pending + done.frames + ev.terminal(done.response));
          return;
        }
      }
      throw new Error("the gateway's stream ended without an end event");
    } catch (e: unknown) {
      if (isGone(res)) return;
      const err = asGatewayError(e);
      if (!ev) return sendError(res, err, cc.requestId, attemptsOf(err));
      const r = JSON.parse(renderError(err, cc.requestId, 1).body) as {
        error: { code: string; param: string | null };
      };
      res.end(pending + ev.fail(r.error.code, err.message, r.error.param));
    }
  };

  const create = async (req: NodeRequest, res: NodeResponse, rid: string, b: Obj) => {
    let p: ParsedResponses;
    try {
      p = parseResponses(b, policy);
    } catch (e: unknown) {
      return sendError(res, asGatewayError(e), rid, 0);
    }
    const cc = deps.context(req, res, rid, p.stream ? "ChatStream" : "Chat");
    const gw = deps.gateway();
    let pr: Prepared;
    try {
      pr = await prepare(p, gw.guard.identify(cc));
    } catch (e: unknown) {
      return sendError(res, asGatewayError(e), rid, 0);
    }
    if (p.stream) return stream(gw, p, pr, cc, res);
    try {
      await unary(gw, p, pr, cc, res);
    } catch (e: unknown) {
      if (isGone(res)) return;
      const err = asGatewayError(e);
      sendError(res, err, rid, attemptsOf(err));
    }
  };

  /** GET / DELETE of a stored response, under the caller's owner. */
  const byId = async (req: NodeRequest, res: NodeResponse, rid: string, id: string, del: boolean) => {
    const what = del ? "DELETE /v1/responses/{id}" : "GET /v1/responses/{id}";
    try {
      const q = (req.url ?? "").indexOf("?");
      const query = new URLSearchParams(q < 0 ? "" : (req.url ?? "").slice(q + 1));
      if (!del && query.get("stream") === "true") {
        throw invalid(
          "stream",
          "replaying a stored response as a stream is not supported; GET it without stream",
        );
      }
      const cc = deps.context(req, res, rid, del ? "DeleteResponse" : "GetResponse");
      const caller = deps.gateway().guard.identify(cc);
      const rd = deps.responses?.();
      if (!rd) throw storageDisabled(what, "this gateway has no response store");
      const owner = rd.policy.requireOwner(caller, what);
      const headers = { "x-request-id": rid, "x-llmgw-attempts": "0", "x-llmgw-cache": "none" };
      if (del) {
        if (!(await rd.store.delete(owner, id))) throw responseNotFound(id);
        return sendJson(res, 200, JSON.stringify({ id, object: "response.deleted", deleted: true }), headers);
      }
      const rec = await rd.store.get(owner, id);
      if (!rec) throw responseNotFound(id);
      sendJson(res, 200, JSON.stringify(rec.response), headers);
    } catch (e: unknown) {
      sendError(res, asGatewayError(e), rid, 0);
    }
  };

  return (req, res, rid, path, served, readBody) => {
    if (path === "/v1/responses") {
      return served("POST", async () => {
        const b = await readBody();
        if (b) await create(req, res, rid, b);
      });
    }
    let id = path.slice(PREFIX.length);
    try {
      id = decodeURIComponent(id);
    } catch {
      // kept as given: a malformed escape is an id no record has
    }
    const del = req.method === "DELETE";
    served(del ? "DELETE" : "GET", () => byId(req, res, rid, id, del));
  };
}

/** Whether the REST door should hand `path` to the Responses door. */
export function isResponsesPath(path: string): boolean {
  return (
    path === "/v1/responses" ||
    (path.startsWith(PREFIX) && path.length > PREFIX.length && !path.slice(PREFIX.length).includes("/"))
  );
}
