// @llm-gateway/client: a typed client for llm-gateway's contract (LLMService over Connect, gRPC or
// gRPC-Web) plus two helpers: errorInfo(err) reads the google.rpc details the gateway puts on every
// error, collectStream(stream) turns ChatStream events back into a ChatResponse.
import { create } from "@bufbuild/protobuf";
import type { Duration } from "@bufbuild/protobuf/wkt";
import {
  type Client,
  Code,
  ConnectError,
  createClient,
  type Interceptor,
  type Transport,
} from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { ErrorInfoSchema, RetryInfoSchema } from "../../../gen/google/rpc/error_details_pb.js";
import {
  type ChatResponse,
  ChatResponseSchema,
  type ChatStreamResponse,
  type ContentPart,
  ContentPartSchema,
  LLMService,
  MessageSchema,
  type Reasoning,
  ReasoningSchema,
  Role,
  type ToolCall,
  ToolCallSchema,
} from "../../../gen/llmgateway/v1/llm_pb.js";

export * from "../../../gen/llmgateway/v1/llm_pb.js";
export { Code, ConnectError };

/** How to reach the gateway. */
export interface GatewayClientOptions {
  /** The gateway's URL, e.g. "http://127.0.0.1:8080". */
  baseUrl: string;
  /** A gateway key, sent as `Authorization: Bearer <key>`. */
  apiKey?: string;
  /** Wire protocol: Connect (HTTP/1.1, default), gRPC (HTTP/2, h2c for http:) or gRPC-Web (HTTP/1.1). */
  transport?: "connect" | "grpc" | "grpc-web";
}

/** A transport for `createClient(LLMService | AdminService, transport)` (Node.js). */
export function createGatewayTransport(opts: GatewayClientOptions): Transport {
  const interceptors: Interceptor[] = [];
  const key = opts.apiKey;
  if (key) {
    interceptors.push((next) => (req) => {
      req.header.set("authorization", `Bearer ${key}`);
      return next(req);
    });
  }
  const base = { baseUrl: opts.baseUrl, interceptors };
  switch (opts.transport ?? "connect") {
    case "grpc":
      return createGrpcTransport(base);
    case "grpc-web":
      return createGrpcWebTransport({ ...base, httpVersion: "1.1" });
    case "connect":
      return createConnectTransport({ ...base, httpVersion: "1.1" });
    default:
      throw new Error(
        `unknown transport ${JSON.stringify(opts.transport)}: use "connect", "grpc" or "grpc-web"`,
      );
  }
}

/** A typed LLMService client: chat, chatStream, embed, listModels, getModel, countTokens, health. */
export function createGatewayClient(opts: GatewayClientOptions): Client<typeof LLMService> {
  return createClient(LLMService, createGatewayTransport(opts));
}

/** What the gateway says about a failed call. */
export interface GatewayErrorInfo {
  /** The Connect/gRPC code, e.g. Code.NotFound. */
  code: Code;
  /** The code's name, e.g. "NotFound". */
  codeName: string;
  message: string;
  /** google.rpc.ErrorInfo.reason, e.g. "MODEL_NOT_FOUND", "RATE_LIMITED". */
  reason?: string;
  /** google.rpc.ErrorInfo.domain ("llmgateway"). */
  domain?: string;
  /** google.rpc.ErrorInfo.metadata. */
  metadata: Record<string, string>;
  /** google.rpc.RetryInfo.retry_delay in milliseconds, when waiting helps. */
  retryDelayMs?: number;
}

function durationMs(d: Duration | undefined): number | undefined {
  return d ? Number(d.seconds) * 1000 + Math.round(d.nanos / 1e6) : undefined;
}

/** Reads the code and the google.rpc ErrorInfo / RetryInfo details of any error a client threw. */
export function errorInfo(err: unknown): GatewayErrorInfo {
  const e = ConnectError.from(err);
  const info = e.findDetails(ErrorInfoSchema)[0];
  const retry = e.findDetails(RetryInfoSchema)[0];
  const out: GatewayErrorInfo = {
    code: e.code,
    codeName: Code[e.code],
    message: e.rawMessage,
    metadata: { ...(info?.metadata ?? {}) },
  };
  if (info) {
    out.reason = info.reason;
    out.domain = info.domain;
  }
  const delay = durationMs(retry?.retryDelay);
  if (delay !== undefined) out.retryDelayMs = delay;
  return out;
}

/**
 * Consumes a chatStream and assembles what chat would have returned: id/model/provider from the
 * start event, the text, tool calls (argument fragments joined per index), reasoning (the joined
 * text in `reasoning`; parts that carry provider state become Reasoning content parts before the
 * text), finish reason, usage, gateway info and stop sequence from the end event.
 */
export async function collectStream(stream: AsyncIterable<ChatStreamResponse>): Promise<ChatResponse> {
  const res = create(ChatResponseSchema, { message: create(MessageSchema, { role: Role.ASSISTANT }) });
  let text = "";
  let reasoning = "";
  const reasoningText = new Map<number, string>();
  const reasoningState = new Map<number, Reasoning>();
  const calls = new Map<number, ToolCall>();
  for await (const ev of stream) {
    const e = ev.event;
    if (e.case === "start") {
      res.id = e.value.id;
      res.model = e.value.model;
      res.provider = e.value.provider;
    } else if (e.case === "delta") {
      const d = e.value;
      text += d.text;
      if (d.reasoning) {
        reasoning += d.reasoning;
        reasoningText.set(d.reasoningIndex, (reasoningText.get(d.reasoningIndex) ?? "") + d.reasoning);
      }
      if (d.reasoningState) reasoningState.set(d.reasoningIndex, d.reasoningState);
      for (const t of d.toolCalls) {
        const call = calls.get(t.index) ?? create(ToolCallSchema);
        call.id ||= t.id;
        call.name ||= t.name;
        call.argumentsJson += t.argumentsDelta;
        call.signature ||= t.signature;
        call.signatureProvider ||= t.signatureProvider;
        calls.set(t.index, call);
      }
    } else if (e.case === "end") {
      res.finishReason = e.value.finishReason;
      res.usage = e.value.usage;
      res.gateway = e.value.gateway;
      res.stopSequence = e.value.stopSequence;
    }
  }
  const content: ContentPart[] = [...reasoningState.entries()]
    .sort(([a], [b]) => a - b)
    .map(([i, state]) =>
      create(ContentPartSchema, {
        part: {
          case: "reasoning",
          value: create(ReasoningSchema, { ...state, text: reasoningText.get(i) ?? state.text }),
        },
      }),
    );
  if (text) content.push(create(ContentPartSchema, { part: { case: "text", value: text } }));
  if (res.message) {
    res.message.content = content;
    res.message.toolCalls = [...calls.entries()].sort(([a], [b]) => a - b).map(([, c]) => c);
  }
  res.reasoning = reasoning;
  return res;
}

/** The text of a ChatResponse (its text parts joined). */
export function textOf(res: ChatResponse): string {
  return (res.message?.content ?? []).map((p) => (p.part.case === "text" ? p.part.value : "")).join("");
}
