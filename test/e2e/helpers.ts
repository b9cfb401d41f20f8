// Shared bits of the end-to-end suites: request builders, plain HTTP POSTs (node:http, not fetch),
// google.rpc detail decoding and stream collection.
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { create, fromBinary } from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { Http2SessionManager } from "@connectrpc/connect-node";
import {
  type BadRequest,
  BadRequestSchema,
  type ErrorInfo,
  ErrorInfoSchema,
  type RetryInfo,
  RetryInfoSchema,
} from "../../gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../../gen/google/rpc/status_pb.js";
import {
  type ChatRequest,
  ChatRequestSchema,
  type ChatStreamResponse,
  Role,
} from "../../gen/llmgateway/v1/llm_pb.js";

/** The repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** A one-message chat request. */
export function chatReq(model: string, text: string, extra: { fallbackModels?: string[] } = {}): ChatRequest {
  return create(ChatRequestSchema, {
    ...extra,
    model,
    messages: [{ role: Role.USER, content: [{ part: { case: "text", value: text } }] }],
  });
}

/** A plain HTTP response, body as text. */
export interface PlainResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** POSTs `body` with node:http (HTTP/1.1) and reads the whole answer. */
export function post(
  baseUrl: string,
  urlPath: string,
  body: string | Buffer,
  headers: Record<string, string> = { "content-type": "application/json" },
): Promise<PlainResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      new URL(urlPath, baseUrl),
      {
        method: "POST",
        headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
        timeout: 10_000,
        agent: false, // one connection per request, closed after it: nothing lingers past the test
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error("request timed out")));
    req.on("error", reject);
    req.end(body);
  });
}

/** The google.rpc details the gateway attaches, decoded. */
export interface Decoded {
  errorInfo?: ErrorInfo;
  retryInfo?: RetryInfo;
  badRequest?: BadRequest;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Decodes a Connect JSON error body: `{code, message, details: [{type, value(base64)}]}`. */
export function connectJsonError(body: string): { code: string; message: string } & Decoded {
  const parsed: unknown = JSON.parse(body);
  if (!isRecord(parsed)) throw new Error(`not a Connect error body: ${body}`);
  const out: { code: string; message: string } & Decoded = {
    code: String(parsed["code"] ?? ""),
    message: String(parsed["message"] ?? ""),
  };
  const details = Array.isArray(parsed["details"]) ? parsed["details"] : [];
  for (const d of details) {
    if (!isRecord(d) || typeof d["type"] !== "string" || typeof d["value"] !== "string") continue;
    const bytes = Buffer.from(d["value"], "base64");
    if (d["type"] === "google.rpc.ErrorInfo") out.errorInfo = fromBinary(ErrorInfoSchema, bytes);
    if (d["type"] === "google.rpc.RetryInfo") out.retryInfo = fromBinary(RetryInfoSchema, bytes);
    if (d["type"] === "google.rpc.BadRequest") out.badRequest = fromBinary(BadRequestSchema, bytes);
  }
  return out;
}

/** Decodes a `grpc-status-details-bin` trailer (a google.rpc.Status) into code, message and details. */
export function grpcStatusDetails(buf: Buffer): { code: number; message: string } & Decoded {
  const status = fromBinary(StatusSchema, buf);
  const out: { code: number; message: string } & Decoded = { code: status.code, message: status.message };
  for (const any of status.details) {
    const info = anyUnpack(any, ErrorInfoSchema);
    if (info) out.errorInfo = info;
    const retry = anyUnpack(any, RetryInfoSchema);
    if (retry) out.retryInfo = retry;
    const bad = anyUnpack(any, BadRequestSchema);
    if (bad) out.badRequest = bad;
  }
  return out;
}

/** A stream's events, and the error that ended it (if any). */
export interface Collected {
  events: ChatStreamResponse[];
  error?: unknown;
}

/** Reads a stream to its end, keeping what arrived before an error. */
export async function collect(stream: AsyncIterable<ChatStreamResponse>): Promise<Collected> {
  const events: ChatStreamResponse[] = [];
  try {
    for await (const ev of stream) events.push(ev);
    return { events };
  } catch (error: unknown) {
    return { events, error };
  }
}

/** The text of a chat answer's message. */
export function textOf(
  parts: readonly { part: { case: string | undefined; value?: unknown } }[] | undefined,
): string {
  let s = "";
  for (const p of parts ?? [])
    if (p.part.case === "text" && typeof p.part.value === "string") s += p.part.value;
  return s;
}

/** Concatenated delta text of a stream. */
export function deltaText(events: readonly ChatStreamResponse[]): string {
  let s = "";
  for (const ev of events) if (ev.event.case === "delta") s += ev.event.value.text;
  return s;
}

/**
 * Client-side connections opened against one gateway: HTTP/1.1 agents and HTTP/2 session
 * managers, closed before the gateway so its shutdown never waits on an idle client connection.
 */
export class ClientConnections {
  private readonly agents: http.Agent[] = [];
  private readonly managers: Http2SessionManager[] = [];

  /** A keep-alive HTTP/1.1 agent for `nodeOptions: { agent }`. */
  agent(): http.Agent {
    const a = new http.Agent({ keepAlive: true });
    this.agents.push(a);
    return a;
  }

  /** An HTTP/2 session manager for `sessionManager`. */
  h2(url: string): Http2SessionManager {
    const m = new Http2SessionManager(url);
    this.managers.push(m);
    return m;
  }

  close(): void {
    for (const m of this.managers.splice(0)) m.abort();
    for (const a of this.agents.splice(0)) a.destroy();
  }
}
