// The built-in provider for zero-config runs, demos, tests and benchmarks: behaviour is chosen by
// model name (echo, slow-<ms>, error-<status>, flaky-<n>, stall, cut, embed). No network.

import {
  Capability,
  type ChatRequest,
  type ChatResponse,
  ChatResponseSchema,
  type ChatStreamResponse,
  ChatStreamResponseSchema,
  type EmbedRequest,
  type EmbedResponse,
  EmbedResponseSchema,
  FinishReason,
  type ModelInfo,
  ModelInfoSchema,
  ResponseFormat_Type,
  Role,
  UsageSchema,
} from "../../../gen/llmgateway/v1/llm_pb.js";
import { tokensOf } from "../../catalog/tokens.js";
import { GatewayError, UpstreamError, type UpstreamErrorKind } from "../../errors.js";
import { create } from "../../lib/create.js";
import { sleep } from "../../lib/sleep.js";
import { refuseBuiltinTools } from "../builtin.js";
import type { CallOptions, Provider } from "../types.js";
// The mock refuses tools and tool calls, so the shared count is its message text.
import { promptChars } from "../usage.js";

/**
 * What the mock cannot honour: it echoes, so a request relying on any of these would get a
 * misleading success. Sampling parameters (temperature, top_p, top_k, penalties, seed), `user`,
 * cache hints and reasoning parts of earlier turns are accepted: an echo is deterministic anyway;
 * text documents are echoed like text. `max_tokens` and `stop` are honoured (shape()).
 */
function unsupportedIn(req: ChatRequest): string[] {
  const out: string[] = [];
  if (req.tools.length > 0 || req.toolChoice !== undefined) out.push("tools");
  if (req.messages.some((m) => m.toolCalls.length > 0 || m.role === Role.TOOL)) out.push("tool_calls");
  if (req.messages.some((m) => m.content.some((p) => p.part.case === "image"))) out.push("images");
  const binaryDoc = (p: ChatRequest["messages"][number]["content"][number]) =>
    p.part.case === "document" && p.part.value.source.case !== "text";
  if (req.messages.some((m) => m.content.some(binaryDoc))) out.push("documents");
  const format = req.responseFormat?.type;
  if (format === ResponseFormat_Type.JSON_OBJECT || format === ResponseFormat_Type.JSON_SCHEMA)
    out.push("response_format");
  if (req.reasoning !== undefined) out.push("reasoning");
  return out;
}

/** Options of the mock (the unsupported-parameter policy, as for every provider). */
export interface MockOptions {
  unsupportedParams?: "reject" | "warn";
  warn?: (msg: string) => void;
}

function checkSupported(req: ChatRequest, o: MockOptions): void {
  refuseBuiltinTools(req, "mock");
  for (const param of unsupportedIn(req)) {
    const msg = `parameter "${param}" is not supported by provider "mock" (it echoes the last user text)`;
    if (o.unsupportedParams === "warn") o.warn?.(`${msg}; ignored`);
    else {
      throw new GatewayError("INVALID_ARGUMENT", "UNSUPPORTED_PARAMETER", msg, {
        metadata: { parameter: param, provider: "mock" },
      });
    }
  }
}

/** Model names the mock answers, for listings and "not found" messages. */
export const MOCK_MODELS = ["echo", "slow-<ms>", "error-<status>", "flaky-<n>", "stall", "cut", "embed"];

const flakyCounts = new Map<string, number>();
let idCounter = 0;

function lastUserText(req: ChatRequest): string {
  for (let i = req.messages.length - 1; i >= 0; i--) {
    const m = req.messages[i];
    if (m?.role !== Role.USER) continue;
    let text = "";
    for (const p of m.content) {
      if (p.part.case === "text") text += p.part.value;
      else if (p.part.case === "document" && p.part.value.source.case === "text")
        text += p.part.value.source.value;
    }
    return text;
  }
  return "";
}

function statusKind(status: number): UpstreamErrorKind {
  if (status === 429) return "rate_limited";
  if (status === 401) return "auth";
  if (status === 403) return "permission";
  if (status === 404) return "not_found";
  if (status === 400 || status === 413 || status === 422) return "bad_request";
  return "unavailable";
}

/** Sleeps, or rejects with the signal's reason when it aborts first. */
/** Applies the failure / delay a model name asks for; returns the behaviour left to perform. */
async function prelude(model: string, opts: CallOptions): Promise<"echo" | "stall" | "cut"> {
  if (model === "echo" || model === "embed") return "echo";
  if (model === "stall") return "stall";
  if (model === "cut") return "cut";
  const [kind, arg] = [model.slice(0, model.indexOf("-")), Number(model.slice(model.indexOf("-") + 1))];
  if (Number.isInteger(arg) && arg >= 0) {
    if (kind === "slow") {
      await sleep(arg, opts.signal);
      return "echo";
    }
    if (kind === "error" && arg >= 400 && arg <= 599) {
      throw new UpstreamError(statusKind(arg), `mock upstream answered HTTP ${arg}`, "mock", {
        status: arg,
        model,
        ...(arg === 429 ? { retryAfterMs: 1000 } : {}),
      });
    }
    if (kind === "flaky") {
      const n = flakyCounts.get(model) ?? 0;
      flakyCounts.set(model, n + 1);
      if (n < arg)
        throw new UpstreamError("unavailable", "mock upstream answered HTTP 503", "mock", {
          status: 503,
          model,
        });
      return "echo";
    }
  }
  throw new GatewayError(
    "NOT_FOUND",
    "MODEL_NOT_FOUND",
    `mock has no model "${model}"; it has ${MOCK_MODELS.join(", ")}`,
    {
      metadata: { provider: "mock", model },
    },
  );
}

/** The echo as a model would end it: cut before the first stop sequence, or after max_tokens words. */
function shape(req: ChatRequest): { text: string; finish: FinishReason; stopSequence: string } {
  let text = `echo: ${lastUserText(req)}`;
  let finish = FinishReason.STOP;
  let stopSequence = "";
  let at = -1;
  for (const s of req.stop) {
    const i = s === "" ? -1 : text.indexOf(s);
    if (i >= 0 && (at < 0 || i < at)) [at, stopSequence] = [i, s];
  }
  if (at >= 0) text = text.slice(0, at);
  // The mock's tokens are words (usage() counts them so): max_tokens keeps that many.
  const words = text.split(" ");
  if (req.maxTokens !== undefined && words.length > req.maxTokens) {
    text = words.slice(0, req.maxTokens).join(" ");
    [finish, stopSequence] = [FinishReason.LENGTH, ""];
  }
  return { text, finish, stopSequence };
}

function usage(req: ChatRequest, answer: string) {
  const input = tokensOf(promptChars(req));
  const output = answer.split(" ").length;
  return create(UsageSchema, { inputTokens: input, outputTokens: output, totalTokens: input + output });
}

/** Deterministic unit-ish vector for a text: the same input always embeds the same way. */
function vectorFor(text: string, dims: number): number[] {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  const out: number[] = [];
  for (let i = 0; i < dims; i++) {
    h = Math.imul(h ^ (h >>> 15), 2246822507) ^ i;
    out.push(((h >>> 0) % 2000) / 1000 - 1);
  }
  return out;
}

async function* stream(
  req: ChatRequest,
  opts: CallOptions,
  o: MockOptions,
): AsyncGenerator<ChatStreamResponse> {
  checkSupported(req, o);
  const mode = await prelude(opts.model, opts);
  const shaped = shape(req);
  const answer = shaped.text;
  const words = answer.split(" ");
  yield create(ChatStreamResponseSchema, {
    event: { case: "start", value: { id: `mock-${++idCounter}`, model: opts.model } },
  });
  for (let i = 0; i < words.length; i++) {
    const text = i === words.length - 1 ? words[i] : `${words[i]} `;
    yield create(ChatStreamResponseSchema, { event: { case: "delta", value: { text } } });
    if (mode === "stall") await sleep(2 ** 31 - 1, opts.signal);
    if (mode === "cut" && i === 0) {
      throw new UpstreamError("stream_interrupted", "mock upstream closed the stream mid-answer", "mock", {
        model: opts.model,
      });
    }
  }
  yield create(ChatStreamResponseSchema, {
    event: {
      case: "end",
      value: { finishReason: shaped.finish, stopSequence: shaped.stopSequence, usage: usage(req, answer) },
    },
  });
}

/** Creates the mock provider. */
export function createMockProvider(o: MockOptions = {}): Provider {
  return {
    name: "mock",
    type: "mock",
    async chat(req: ChatRequest, opts: CallOptions): Promise<ChatResponse> {
      checkSupported(req, o);
      const mode = await prelude(opts.model, opts);
      if (mode === "stall") await sleep(2 ** 31 - 1, opts.signal);
      if (mode === "cut") {
        throw new UpstreamError("network", "mock upstream closed the connection mid-answer", "mock", {
          model: opts.model,
        });
      }
      const { text: answer, finish, stopSequence } = shape(req);
      return create(ChatResponseSchema, {
        id: `mock-${++idCounter}`,
        model: opts.model,
        message: { role: Role.ASSISTANT, content: [{ part: { case: "text", value: answer } }] },
        finishReason: finish,
        stopSequence,
        usage: usage(req, answer),
      });
    },
    chatStream: (req, opts) => stream(req, opts, o),
    async embed(req: EmbedRequest, opts: CallOptions): Promise<EmbedResponse> {
      await prelude(opts.model, opts);
      const dims = req.dimensions ?? 8;
      let chars = 0;
      const embeddings = req.inputs.map((text, index) => {
        chars += text.length;
        return { index, values: vectorFor(text, dims) };
      });
      const tokens = tokensOf(chars);
      return create(EmbedResponseSchema, {
        model: opts.model,
        embeddings,
        usage: { inputTokens: tokens, totalTokens: tokens },
      });
    },
    async listModels(): Promise<ModelInfo[]> {
      const chat = [Capability.CHAT, Capability.STREAM];
      return [
        create(ModelInfoSchema, {
          id: "mock/echo",
          provider: "mock",
          upstreamModel: "echo",
          capabilities: chat,
        }),
        create(ModelInfoSchema, {
          id: "mock/embed",
          provider: "mock",
          upstreamModel: "embed",
          capabilities: [Capability.EMBEDDINGS],
        }),
      ];
    },
    async close() {},
  };
}
