// The Connect routes: LLMService handlers (thin: build a CallContext, call the gateway, map errors),
// plus standard gRPC health and reflection.
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import { file_google_rpc_error_details } from "../../gen/google/rpc/error_details_pb.js";
import { file_llmgateway_v1_llm, LLMService } from "../../gen/llmgateway/v1/llm_pb.js";
import type { CallContext } from "../gateway/context.js";
import type { Gateway } from "../gateway/gateway.js";
import type { ModelDirectory } from "../gateway/models.js";
import { toConnectError } from "./errors.js";
import { type HealthState, registerGrpcHealth } from "./grpc-health.js";
import { registerReflection } from "./reflection.js";

let ridCounter = 0;
const ridPrefix = `${process.pid.toString(36)}-${Date.now().toString(36)}-`;

/** The request id: the client's x-request-id (if sane), else a new one; echoed in the response. */
export function requestId(ctx: HandlerContext): string {
  const given = ctx.requestHeader.get("x-request-id");
  const id = given && given.length <= 128 ? given : ridPrefix + (++ridCounter).toString(36);
  ctx.responseHeader.set("x-request-id", id);
  return id;
}

function callContext(ctx: HandlerContext, method: string): CallContext {
  return { signal: ctx.signal, timeoutMs: ctx.timeoutMs(), requestId: requestId(ctx), method };
}

/** Everything the routes need. */
export interface RouteDeps {
  gateway: () => Gateway;
  models: () => ModelDirectory;
  health: HealthState;
}

/** Registers every service on the router. */
export function routes(router: ConnectRouter, deps: RouteDeps): void {
  router.service(LLMService, {
    async chat(req, ctx) {
      try {
        return await deps.gateway().chat(req, callContext(ctx, "Chat"));
      } catch (e: unknown) {
        throw toConnectError(e);
      }
    },
    async *chatStream(req, ctx) {
      try {
        yield* deps.gateway().chatStream(req, callContext(ctx, "ChatStream"));
      } catch (e: unknown) {
        throw toConnectError(e);
      }
    },
    async embed(req, ctx) {
      try {
        return await deps.gateway().embed(req, callContext(ctx, "Embed"));
      } catch (e: unknown) {
        throw toConnectError(e);
      }
    },
    async listModels(req, ctx) {
      requestId(ctx);
      try {
        return await deps.models().list(req, ctx.signal);
      } catch (e: unknown) {
        throw toConnectError(e);
      }
    },
    async getModel(req, ctx) {
      requestId(ctx);
      try {
        return await deps.models().get(req.id, ctx.signal);
      } catch (e: unknown) {
        throw toConnectError(e);
      }
    },
    async countTokens(req, ctx) {
      requestId(ctx);
      try {
        return deps.models().countTokens(req);
      } catch (e: unknown) {
        throw toConnectError(e);
      }
    },
    async health(_req, ctx) {
      requestId(ctx);
      return deps.models().health();
    },
  });
  registerGrpcHealth(router, deps.health);
  registerReflection(router, [file_llmgateway_v1_llm, file_google_rpc_error_details]);
}
