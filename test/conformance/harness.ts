// The conformance suite's world: every fake upstream started once, one real gateway per provider
// (in-process, port 0) pointed at its fake, and one client per protocol (Connect JSON over HTTP/1.1,
// gRPC over HTTP/2, gRPC-Web over HTTP/1.1, and the official openai SDK through the REST door) per
// gateway; plus the protocol-neutral error and stream helpers.

import { type Client, Code, ConnectError, createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { APIError } from "openai";
import { expect } from "vitest";
import { ErrorInfoSchema, RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { type ChatStreamResponse, LLMService } from "../../gen/llmgateway/v1/llm_pb.js";
import type { ProviderType } from "../../src/providers/index.js";
import { ClientConnections } from "../e2e/helpers.js";
import { type AnthropicFake, startAnthropicFake } from "../fakes/anthropic.js";
import { type GeminiFake, startGeminiFake } from "../fakes/gemini.js";
import { type HuggingFaceFake, startHuggingFaceFake } from "../fakes/huggingface.js";
import { type OllamaFake, startOllamaFake } from "../fakes/ollama.js";
import { type OpenAIFake, startOpenAIFake } from "../fakes/openai.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { WAIT_MS, waitFor } from "../helpers/wait.js";
import { restClient, type ScenarioClient } from "./rest-client.js";

/** The REST door, driven by the official openai SDK (rest-client.ts). */
export const REST = "openai-sdk/rest" as const;
/** The four protocols every scenario runs through. */
export const PROTOCOLS = ["connect-json/http1.1", "grpc/http2", "grpc-web/http1.1", REST] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export type LLMClient = Client<typeof LLMService>;

/** What every fake records of a request (the fakes' own record types all have these fields). */
export interface Recorded {
  method: string;
  path: string;
  body: unknown;
  aborted: boolean;
}

/** A fake upstream as the scenarios see it. */
export interface Upstream {
  requests: Recorded[];
  waitForAbort?(index: number, timeoutMs: number): Promise<boolean>;
}

const KEY = "conformance-test-key-0123456789";

/**
 * Retries and breakers off (each scenario must see exactly the upstream calls it caused), short
 * stream timers so a broken scenario fails fast instead of hanging.
 */
const YAML = `
defaults:
  retries: { max_attempts: 1 }
  breaker: { min_calls: 1000000 }
  timeouts: { request_ms: 10000, attempt_ms: 10000, first_token_ms: 5000, idle_ms: 5000, max_stream_ms: 10000 }
`;

/** Everything started once for the suite. */
export interface World {
  fakes: {
    openai: OpenAIFake;
    anthropic: AnthropicFake;
    gemini: GeminiFake;
    ollama: OllamaFake;
    /** The OpenAI-compatible router side of Hugging Face (chat, streams, model list). */
    hfChat: OpenAIFake;
    /** The feature-extraction pipeline side of Hugging Face (embeddings). */
    hfEmbed: HuggingFaceFake;
  };
  gateways: Record<ProviderType, TestGateway>;
  clients: Record<ProviderType, Record<Protocol, ScenarioClient>>;
  close(): Promise<void>;
}

/** Starts the fakes, the gateways and the clients. */
export async function startWorld(): Promise<World> {
  const [openai, anthropic, gemini, ollama, hfChat, hfEmbed] = await Promise.all([
    startOpenAIFake(),
    startAnthropicFake(),
    startGeminiFake(),
    startOllamaFake(),
    startOpenAIFake(),
    startHuggingFaceFake(),
  ]);
  const envs: Record<ProviderType, Record<string, string>> = {
    mock: {},
    openai: { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: openai.url },
    anthropic: { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: anthropic.url },
    gemini: { GEMINI_API_KEY: KEY, GEMINI_BASE_URL: gemini.url },
    ollama: { OLLAMA_HOST: ollama.url },
    huggingface: { HF_TOKEN: KEY, HF_BASE_URL: hfChat.url, HF_EMBED_BASE_URL: hfEmbed.url },
  };
  const names = Object.keys(envs) as ProviderType[];
  const started = await Promise.all(names.map((n) => startGateway({ env: envs[n], yaml: YAML })));
  const gateways = Object.fromEntries(names.map((n, i) => [n, started[i]])) as Record<
    ProviderType,
    TestGateway
  >;

  const conns = new ClientConnections();
  const clientsFor = (baseUrl: string): Record<Protocol, ScenarioClient> => ({
    "connect-json/http1.1": createClient(
      LLMService,
      createConnectTransport({ baseUrl, httpVersion: "1.1", nodeOptions: { agent: conns.agent() } }),
    ),
    "grpc/http2": createClient(
      LLMService,
      createGrpcTransport({ baseUrl, sessionManager: conns.h2(baseUrl) }),
    ),
    "grpc-web/http1.1": createClient(
      LLMService,
      createGrpcWebTransport({ baseUrl, httpVersion: "1.1", nodeOptions: { agent: conns.agent() } }),
    ),
    [REST]: restClient(baseUrl),
  });
  const clients = Object.fromEntries(names.map((n) => [n, clientsFor(gateways[n].url)])) as Record<
    ProviderType,
    Record<Protocol, ScenarioClient>
  >;
  return {
    fakes: { openai, anthropic, gemini, ollama, hfChat, hfEmbed },
    gateways,
    clients,
    async close() {
      conns.close();
      await Promise.all(Object.values(gateways).map((g) => g.close()));
      await Promise.all([openai, anthropic, gemini, ollama, hfChat, hfEmbed].map((f) => f.close()));
    },
  };
}

/**
 * What a client saw, protocol-neutral. gRPC family: the status code, the ErrorInfo reason and
 * metadata, the RetryInfo delay. REST: the HTTP status (none for an `event: error` inside an SSE
 * stream), `error.type`, the reason from `error.code` (lower-cased reason), `provider` from
 * x-llmgw-provider, the delay from retry-after-ms / retry-after.
 */
export interface SeenError {
  /** The gRPC status code; undefined over REST. */
  code?: Code;
  /** The HTTP status over REST; undefined for the gRPC family and for an in-stream REST error. */
  http?: number;
  /** OpenAI's `error.type` and `error.param` (REST only). */
  type?: string;
  param?: string | null;
  message: string;
  reason: string;
  metadata: Record<string, string>;
  retrySeconds?: number;
}

/** Decodes what a client saw; fails the test when it was not an error at all. */
export function seen(e: unknown): SeenError {
  if (e instanceof APIError) return seenRest(e);
  const error = ConnectError.from(e);
  const info = error.findDetails(ErrorInfoSchema)[0];
  const retry = error.findDetails(RetryInfoSchema)[0]?.retryDelay;
  const out: SeenError = {
    code: error.code,
    message: error.rawMessage,
    reason: info?.reason ?? "",
    metadata: { ...info?.metadata },
  };
  if (retry !== undefined) out.retrySeconds = Number(retry.seconds) + retry.nanos / 1e9;
  return out;
}

function seenRest(e: APIError): SeenError {
  const body = (e.error ?? {}) as { message?: unknown; type?: unknown; code?: unknown; param?: unknown };
  const h = e.headers;
  const out: SeenError = {
    message: typeof body.message === "string" ? body.message : e.message,
    reason: typeof body.code === "string" ? body.code.toUpperCase() : "",
    metadata: {},
  };
  if (e.status !== undefined) out.http = e.status;
  if (typeof body.type === "string") out.type = body.type;
  if (typeof body.param === "string" || body.param === null) out.param = body.param;
  const provider = h?.get("x-llmgw-provider");
  if (provider) out.metadata["provider"] = provider;
  const ms = h?.get("retry-after-ms");
  const s = h?.get("retry-after");
  if (ms) out.retrySeconds = Number(ms) / 1000;
  else if (s) out.retrySeconds = Number(s);
  return out;
}

/** The README's REST table ("OpenAI-compatible REST door"): HTTP status and error.type per reason. */
const REST_ERRORS: Record<string, [http: number, type: string]> = {
  INVALID_REQUEST: [400, "invalid_request_error"],
  UNSUPPORTED_PARAMETER: [400, "invalid_request_error"],
  UPSTREAM_BAD_REQUEST: [400, "invalid_request_error"],
  MODEL_NOT_FOUND: [404, "not_found_error"],
  UPSTREAM_MODEL_NOT_FOUND: [404, "not_found_error"],
  UPSTREAM_RATE_LIMITED: [429, "rate_limit_error"],
  UPSTREAM_AUTH_FAILED: [502, "upstream_error"],
  UPSTREAM_UNAVAILABLE: [502, "upstream_error"],
  UPSTREAM_STREAM_INTERRUPTED: [502, "upstream_error"],
  CANCELLED: [499, "cancelled"],
};

/**
 * The one error assertion: gRPC family -> `code`; REST -> the README's HTTP status and type for
 * `reason` (no status for an error after the stream started: it arrives as `event: error`); both
 * -> the reason.
 */
export function expectFailed(
  protocol: Protocol,
  e: SeenError,
  code: Code,
  reason: string,
  opts: { inStream?: boolean } = {},
): void {
  if (protocol === REST) {
    const row = REST_ERRORS[reason];
    if (row === undefined) throw new Error(`no REST row for ${reason} in the test's table`);
    expect(e.http, `HTTP status for ${reason}`).toBe(opts.inStream ? undefined : row[0]);
    expect(e.type).toBe(row[1]);
  } else {
    expect(Code[e.code ?? -1]).toBe(Code[code]);
  }
  expect(e.reason).toBe(reason);
}

/** Runs `fn`, which must fail; returns the decoded error. */
export async function failure(fn: () => Promise<unknown>): Promise<SeenError> {
  let r: unknown;
  try {
    r = await fn();
  } catch (e: unknown) {
    return seen(e);
  }
  if (isCollected(r) && r.error !== undefined) return seen(r.error);
  throw new Error(`expected an error, the call succeeded: ${summary(r)}`);
}

function summary(r: unknown): string {
  if (isCollected(r)) return `stream of ${r.events.map((e) => e.event.case).join(",")}`;
  return JSON.stringify(r, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))?.slice(0, 300) ?? "";
}

/** A stream's events and the error that ended it, if any. */
export interface Collected {
  kind: "collected";
  events: ChatStreamResponse[];
  error?: unknown;
}

export function isCollected(v: unknown): v is Collected {
  return typeof v === "object" && v !== null && (v as { kind?: unknown }).kind === "collected";
}

/** Reads a stream to its end, keeping what arrived before an error. */
export async function collect(stream: AsyncIterable<ChatStreamResponse>): Promise<Collected> {
  const events: ChatStreamResponse[] = [];
  try {
    for await (const ev of stream) events.push(ev);
    return { kind: "collected", events };
  } catch (error: unknown) {
    return { kind: "collected", events, error };
  }
}

/** Polls the gateway's captured log for the call line of request `rid`. */
export async function logLine(
  gw: TestGateway,
  rid: string,
  timeoutMs = WAIT_MS,
): Promise<Record<string, unknown>> {
  const find = (): Record<string, unknown> | undefined => {
    for (const l of gw.logs) {
      if (!l.includes(rid)) continue;
      const v: unknown = JSON.parse(l);
      if (typeof v === "object" && v !== null && (v as { rid?: unknown }).rid === rid && "code" in v) {
        return v as Record<string, unknown>;
      }
    }
    return undefined;
  };
  await waitFor(() => find() !== undefined, { timeoutMs, what: `the call log line for ${rid}`, everyMs: 20 });
  return find() as Record<string, unknown>;
}
