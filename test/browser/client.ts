// Browser entry for test/browser/connect-web.test.ts: bundled with esbuild and loaded by a page on
// another origin than the gateway. Exposes `globalThis.llmgw` with functions that call the gateway
// through @connectrpc/connect-web (Connect JSON, Connect binary, gRPC-Web) and return plain,
// JSON-able results for `page.evaluate`. Uses no DOM types, so it typechecks under the project's
// Node-only tsconfig.
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { FinishReason, LLMService, Role } from "../../gen/llmgateway/v1/llm_pb.js";

/** Which browser transport to use. */
export type BrowserProtocol = "connect-json" | "connect-binary" | "grpc-web";

/** A unary Chat result. */
export interface ChatResult {
  protocol: BrowserProtocol;
  model: string;
  provider: string;
  text: string;
  finishReason: string;
  totalTokens: number;
}

/** One ChatStream event, flattened. */
export type StreamEvent =
  | { kind: "start"; model: string; provider: string }
  | { kind: "delta"; text: string }
  | { kind: "end"; finishReason: string; totalTokens: number }
  | { kind: "none" };

/** A ChatStream result: every event in arrival order. */
export interface StreamResult {
  protocol: BrowserProtocol;
  events: StreamEvent[];
}

/** A failed call, decoded in the page. */
export interface ErrorResult {
  protocol: BrowserProtocol;
  /** False when the call unexpectedly succeeded. */
  failed: boolean;
  /** Code name, e.g. "NotFound". */
  code: string;
  message: string;
  reasons: string[];
  domains: string[];
}

/** The functions the page exposes. */
export interface BrowserApi {
  chat(baseUrl: string, protocol: BrowserProtocol, text: string): Promise<ChatResult>;
  chatStream(baseUrl: string, protocol: BrowserProtocol, text: string): Promise<StreamResult>;
  chatError(baseUrl: string, protocol: BrowserProtocol, model: string): Promise<ErrorResult>;
}

function transportFor(baseUrl: string, protocol: BrowserProtocol): Transport {
  switch (protocol) {
    case "connect-json":
      return createConnectTransport({ baseUrl });
    case "connect-binary":
      return createConnectTransport({ baseUrl, useBinaryFormat: true });
    case "grpc-web":
      return createGrpcWebTransport({ baseUrl });
  }
}

function request(model: string, text: string) {
  return {
    model,
    messages: [{ role: Role.USER, content: [{ part: { case: "text" as const, value: text } }] }],
  };
}

function partsText(parts: readonly { part: { case: string | undefined; value?: unknown } }[]): string {
  let s = "";
  for (const p of parts) if (p.part.case === "text" && typeof p.part.value === "string") s += p.part.value;
  return s;
}

const api: BrowserApi = {
  async chat(baseUrl, protocol, text) {
    const client = createClient(LLMService, transportFor(baseUrl, protocol));
    const res = await client.chat(request("mock/echo", text));
    return {
      protocol,
      model: res.model,
      provider: res.provider,
      text: partsText(res.message?.content ?? []),
      finishReason: FinishReason[res.finishReason] ?? String(res.finishReason),
      totalTokens: res.usage?.totalTokens ?? 0,
    };
  },

  async chatStream(baseUrl, protocol, text) {
    const client = createClient(LLMService, transportFor(baseUrl, protocol));
    const events: StreamEvent[] = [];
    for await (const ev of client.chatStream(request("mock/echo", text))) {
      switch (ev.event.case) {
        case "start":
          events.push({ kind: "start", model: ev.event.value.model, provider: ev.event.value.provider });
          break;
        case "delta":
          events.push({ kind: "delta", text: ev.event.value.text });
          break;
        case "end":
          events.push({
            kind: "end",
            finishReason: FinishReason[ev.event.value.finishReason] ?? String(ev.event.value.finishReason),
            totalTokens: ev.event.value.usage?.totalTokens ?? 0,
          });
          break;
        default:
          events.push({ kind: "none" });
      }
    }
    return { protocol, events };
  },

  async chatError(baseUrl, protocol, model) {
    const client = createClient(LLMService, transportFor(baseUrl, protocol));
    try {
      await client.chat(request(model, "hello"));
      return { protocol, failed: false, code: "", message: "", reasons: [], domains: [] };
    } catch (e: unknown) {
      const err = ConnectError.from(e);
      const infos = err.findDetails(ErrorInfoSchema);
      return {
        protocol,
        failed: true,
        code: Code[err.code] ?? String(err.code),
        message: err.rawMessage,
        reasons: infos.map((i) => i.reason),
        domains: infos.map((i) => i.domain),
      };
    }
  },
};

Object.assign(globalThis, { llmgw: api });
