// The compiled JSON encoder against protobuf-es itself: for every message the gateway answers with
// (and a few it reads), hand-picked edge values and a few thousand random messages, the text must be
// byte-for-byte what `toJsonString` writes.
import { create, type DescMessage, type MessageShape, toJsonString } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  CacheStatus,
  ChatRequestSchema,
  ChatResponseSchema,
  ChatStreamResponseSchema,
  CountTokensResponseSchema,
  EmbedResponseSchema,
  FinishReason,
  HealthResponseSchema,
  ListModelsResponseSchema,
  Role,
} from "../../gen/llmgateway/v1/llm_pb.js";
import { compileJsonEncoder } from "../../src/lib/json-encoder.js";

function same<D extends DescMessage>(schema: D, m: MessageShape<D>): void {
  const enc = compileJsonEncoder(schema);
  expect(enc).toBeDefined();
  expect(enc?.(m)).toBe(toJsonString(schema, m));
}

/** A small deterministic PRNG, so a failure reproduces. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const TEXTS = ["", "hello", 'quote " and \\ backslash', "ünïcødé ✓ 😀", "line\nbreak\ttab", "\u0000\u001f"];
const NUMS = [
  0,
  -0,
  1,
  -1,
  0.1,
  1e21,
  1e-7,
  123456.789,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
];

describe("compiled JSON encoder = toJsonString", () => {
  it("ChatResponse: a typical answer, tool calls, reasoning, gateway info with a trail", () => {
    same(
      ChatResponseSchema,
      create(ChatResponseSchema, {
        id: "chatcmpl-1",
        model: "openai/gpt-4o-mini",
        provider: "openai",
        message: {
          role: Role.ASSISTANT,
          content: [{ part: { case: "text", value: "Hello! How can I help?" } }],
          toolCalls: [{ id: "call_1", name: "get_weather", argumentsJson: '{"city":"Paris"}' }],
        },
        finishReason: FinishReason.TOOL_CALLS,
        usage: { inputTokens: 9, outputTokens: 7, totalTokens: 16, cachedInputTokens: 2, reasoningTokens: 3 },
        gateway: {
          attempts: 2,
          latencyMs: 0.53,
          upstreamLatencyMs: 0.2,
          requestId: "abc",
          attemptTrail: [
            { deployment: "openai/gpt-4o", outcome: "UPSTREAM_UNAVAILABLE", durationMs: 3 },
            { deployment: "openai/gpt-4o-mini", outcome: "ok", durationMs: 0 },
          ],
          cache: CacheStatus.MISS,
          costUsd: 0.000005,
        },
      }),
    );
    same(ChatResponseSchema, create(ChatResponseSchema, {}));
  });

  it("ChatStreamResponse: start, delta (text, tool call fragment), end", () => {
    for (const event of [
      { case: "start" as const, value: { id: "s1", model: "mock/echo", provider: "mock" } },
      { case: "delta" as const, value: { text: "Hel" } },
      {
        case: "delta" as const,
        value: { text: "", toolCalls: [{ index: 0, id: "c", name: "f", argumentsDelta: "{" }] },
      },
      { case: "delta" as const, value: {} },
      {
        case: "end" as const,
        value: {
          finishReason: FinishReason.STOP,
          usage: { inputTokens: 1, estimated: true },
          gateway: { attempts: 1 },
        },
      },
    ]) {
      same(ChatStreamResponseSchema, create(ChatStreamResponseSchema, { event }));
    }
    same(ChatStreamResponseSchema, create(ChatStreamResponseSchema, {}));
  });

  it("special values: empty and escaped strings, -0, NaN, infinities, unknown enum numbers, bytes, maps", () => {
    for (const t of TEXTS) {
      for (const n of NUMS) {
        same(
          ChatResponseSchema,
          create(ChatResponseSchema, {
            id: t,
            finishReason: 99 as FinishReason,
            gateway: { latencyMs: n, costUsd: n, requestId: t },
          }),
        );
      }
    }
    same(
      ChatRequestSchema,
      create(ChatRequestSchema, {
        model: "m",
        temperature: 0,
        maxTokens: 0,
        seed: 12345678901234n,
        metadata: { a: "1", "b c": "2", "": "empty" },
        messages: [
          {
            role: Role.USER,
            content: [
              { part: { case: "text", value: "" } },
              {
                part: {
                  case: "image",
                  value: {
                    source: { case: "data", value: new Uint8Array([0, 255, 1]) },
                    mediaType: "image/png",
                  },
                },
              },
            ],
          },
        ],
      }),
    );
  });

  it("EmbedResponse floats, ListModels, CountTokens, Health", () => {
    same(
      EmbedResponseSchema,
      create(EmbedResponseSchema, {
        embeddings: [{ values: [0.1, -0.25, 3.4028234663852886e38, 0] }],
        model: "x",
      }),
    );
    same(
      ListModelsResponseSchema,
      create(ListModelsResponseSchema, { models: [{ id: "a/b", capabilities: [1, 2], contextWindow: 8 }] }),
    );
    same(CountTokensResponseSchema, create(CountTokensResponseSchema, { inputTokens: 5, exact: true }));
    same(HealthResponseSchema, create(HealthResponseSchema, {}));
  });

  it("3,000 random ChatResponse / ChatStreamResponse messages", () => {
    const r = rng(42);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)] as T;
    for (let i = 0; i < 1500; i++) {
      same(
        ChatResponseSchema,
        create(ChatResponseSchema, {
          id: pick(TEXTS),
          model: pick(TEXTS),
          message:
            r() < 0.8
              ? { role: Math.floor(r() * 5), content: [{ part: { case: "text", value: pick(TEXTS) } }] }
              : undefined,
          finishReason: Math.floor(r() * 6),
          usage:
            r() < 0.7
              ? {
                  inputTokens: Math.floor(r() * 1e6),
                  outputTokens: Math.floor(r() * 100),
                  estimated: r() < 0.5,
                }
              : undefined,
          gateway:
            r() < 0.7
              ? { attempts: Math.floor(r() * 3), latencyMs: pick(NUMS), cacheAgeS: Math.floor(r() * 9) }
              : undefined,
        }),
      );
      same(
        ChatStreamResponseSchema,
        create(ChatStreamResponseSchema, {
          event:
            r() < 0.5
              ? { case: "delta", value: { text: pick(TEXTS), reasoning: r() < 0.2 ? pick(TEXTS) : "" } }
              : {
                  case: "end",
                  value: { finishReason: Math.floor(r() * 5), usage: { totalTokens: Math.floor(r() * 50) } },
                },
        }),
      );
    }
  });
});
