// The Connect routes: LLMService handlers (thin: build a CallContext, call the gateway, map errors),
// plus standard gRPC health and reflection. The unary handlers are a table shared with the Connect
// Connect and gRPC fast paths (fast-connect.ts, fast-grpc.ts), so both serve the same logic.
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import { file_google_rpc_error_details } from "../../gen/google/rpc/error_details_pb.js";
import {
  ChatRequestSchema,
  ChatResponseSchema,
  ChatStreamResponseSchema,
  CountTokensRequestSchema,
  CountTokensResponseSchema,
  EmbedRequestSchema,
  EmbedResponseSchema,
  file_llmgateway_v1_llm,
  GetModelRequestSchema,
  GetModelResponseSchema,
  HealthRequestSchema,
  HealthResponseSchema,
  ListModelsRequestSchema,
  ListModelsResponseSchema,
  LLMService,
  ProviderHealthSchema,
  ServingStatus,
} from "../../gen/llmgateway/v1/llm_pb.js";
import { presentedKey } from "../auth/keys.js";
import type { CallContext } from "../gateway/context.js";
import type { Gateway } from "../gateway/gateway.js";
import type { ModelDirectory } from "../gateway/models.js";
import { create } from "../lib/create.js";
import type { RedisLink } from "../redis/client.js";
import { type AdminDeps, registerAdmin } from "./admin.js";
import { PEER_IP } from "./bridge.js";
import { toConnectError } from "./errors.js";
import { type HealthState, registerGrpcHealth } from "./grpc-health.js";
import { registerReflection } from "./reflection.js";
import { requestIdFrom } from "./request-id.js";
import { CLIENT_CERT } from "./tls.js";

function callContext(ctx: HandlerContext, method: string): CallContext {
  const h = ctx.requestHeader;
  const rid = requestIdFrom(h.get("x-request-id"));
  ctx.responseHeader.set("x-request-id", rid);
  return {
    signal: ctx.signal,
    timeoutMs: ctx.timeoutMs(),
    requestId: rid,
    method,
    apiKey: presentedKey(h.get("authorization") ?? undefined, h.get("x-api-key") ?? undefined),
    clientCert: ctx.values.get(CLIENT_CERT),
    peerIp: ctx.values.get(PEER_IP),
    forwardedFor: h.get("x-forwarded-for") ?? undefined,
    // W3C trace context: gRPC metadata arrives as HTTP/2 headers, so this covers every protocol.
    traceparent: h.get("traceparent") ?? undefined,
    tracestate: h.get("tracestate") ?? undefined,
    onResponseHeaders: (rh) => {
      for (const [k, v] of Object.entries(rh)) ctx.responseHeader.set(k, v);
    },
  };
}

/** A health store's status as the Health RPC's ServingStatus (unknown service: UNSPECIFIED). */
function servingOf(s: string | undefined): ServingStatus {
  if (s === "SERVING") return ServingStatus.SERVING;
  return s === "NOT_SERVING" ? ServingStatus.NOT_SERVING : ServingStatus.UNSPECIFIED;
}

/** Everything the routes need. */
export interface RouteDeps {
  gateway: () => Gateway;
  models: () => ModelDirectory;
  health: HealthState;
  /** The shared Redis, when configured: its state joins Health as a "redis" component. */
  redis?: () => RedisLink | undefined;
  /** AdminService (keys at run time, usage); not registered when absent. */
  admin?: AdminDeps;
}

/** One unary RPC: its schemas and what serves it, whatever the transport. */
export interface UnaryMethod<I extends DescMessage = DescMessage, O extends DescMessage = DescMessage> {
  name: string;
  input: I;
  output: O;
  serve(req: MessageShape<I>, cc: CallContext): Promise<MessageShape<O>> | MessageShape<O>;
}

/** One server-streaming RPC: its schemas and what serves it, whatever the transport. */
export interface StreamMethod<I extends DescMessage = DescMessage, O extends DescMessage = DescMessage> {
  name: string;
  input: I;
  output: O;
  serve(req: MessageShape<I>, cc: CallContext): AsyncIterable<MessageShape<O>>;
}

/** The server-streaming LLMService methods, keyed by Connect request path. */
export function streamMethods(deps: RouteDeps): Map<string, StreamMethod> {
  const chatStream: StreamMethod<typeof ChatRequestSchema, typeof ChatStreamResponseSchema> = {
    name: "ChatStream",
    input: ChatRequestSchema,
    output: ChatStreamResponseSchema,
    serve: (r, cc) => deps.gateway().chatStream(r, cc),
  };
  return new Map([[`/${LLMService.typeName}/ChatStream`, chatStream as unknown as StreamMethod]]);
}

function unary<I extends DescMessage, O extends DescMessage>(m: UnaryMethod<I, O>): UnaryMethod<I, O> {
  return m;
}

/** The unary LLMService methods, keyed by Connect request path. */
export function unaryMethods(deps: RouteDeps): Map<string, UnaryMethod> {
  const list = [
    unary({
      name: "Chat",
      input: ChatRequestSchema,
      output: ChatResponseSchema,
      serve: (r, cc) => deps.gateway().chat(r, cc),
    }),
    unary({
      name: "Embed",
      input: EmbedRequestSchema,
      output: EmbedResponseSchema,
      serve: (r, cc) => deps.gateway().embed(r, cc),
    }),
    unary({
      name: "ListModels",
      input: ListModelsRequestSchema,
      output: ListModelsResponseSchema,
      serve: (r, cc) => deps.models().list(r, cc),
    }),
    unary({
      name: "GetModel",
      input: GetModelRequestSchema,
      output: GetModelResponseSchema,
      serve: (r, cc) => deps.models().get(r.id, cc),
    }),
    unary({
      name: "CountTokens",
      input: CountTokensRequestSchema,
      output: CountTokensResponseSchema,
      serve: (r, cc) => deps.models().countTokens(r, cc),
    }),
    unary({
      name: "Health",
      input: HealthRequestSchema,
      output: HealthResponseSchema,
      serve: (_r, cc) => {
        // With keys configured: a key is needed, and only the admin key sees the detail.
        const detail = deps.gateway().guard.healthDetail(cc);
        const h = deps.models().health(detail);
        // Liveness and readiness as grpc.health.v1 reports them (probes.ts).
        h.liveness = servingOf(deps.health.status("liveness"));
        h.readiness = servingOf(deps.health.status("readiness"));
        h.readinessDetail = detail ? (deps.health.detail?.("readiness") ?? "") : "";
        const link = deps.redis?.();
        if (link) {
          const state = link.state;
          h.providers.push(
            create(ProviderHealthSchema, {
              name: "redis",
              type: "redis",
              status: state === "up" ? ServingStatus.SERVING : ServingStatus.NOT_SERVING,
              detail: state === "up" || !detail ? "" : `${state}${link.detail ? `: ${link.detail}` : ""}`,
            }),
          );
        }
        return h;
      },
    }),
  ];
  return new Map(list.map((m) => [`/${LLMService.typeName}/${m.name}`, m as unknown as UnaryMethod]));
}

/** Registers every service on the router. */
export function routes(router: ConnectRouter, deps: RouteDeps, methods = unaryMethods(deps)): void {
  const run = async <T>(name: string, ctx: HandlerContext, req: unknown): Promise<T> => {
    const m = methods.get(`/${LLMService.typeName}/${name}`) as UnaryMethod;
    try {
      return (await m.serve(req as never, callContext(ctx, name))) as T;
    } catch (e: unknown) {
      throw toConnectError(e);
    }
  };
  router.service(LLMService, {
    chat: (req, ctx) => run("Chat", ctx, req),
    embed: (req, ctx) => run("Embed", ctx, req),
    listModels: (req, ctx) => run("ListModels", ctx, req),
    getModel: (req, ctx) => run("GetModel", ctx, req),
    countTokens: (req, ctx) => run("CountTokens", ctx, req),
    health: (req, ctx) => run("Health", ctx, req),
    async *chatStream(req, ctx) {
      try {
        yield* deps.gateway().chatStream(req, callContext(ctx, "ChatStream"));
      } catch (e: unknown) {
        throw toConnectError(e);
      }
    },
  });
  // AdminService's file reaches reflection as a registered service (reflection.ts reads the router).
  if (deps.admin) registerAdmin(router, deps.admin);
  registerGrpcHealth(router, deps.health);
  registerReflection(router, [file_llmgateway_v1_llm, file_google_rpc_error_details]);
}
