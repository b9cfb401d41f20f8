// The Anthropic provider against the strict fake (which signs and verifies thinking like the API):
// signature and redacted_thinking round trips over two turns with a tool call (unary and rebuilt
// from a stream), tampering refused, cache hints and cache usage, documents, top_k, stop sequences,
// built-in tools refused before any upstream call.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type ChatRequest,
  ChatRequestSchema,
  type ChatResponse,
  FinishReason,
  type Message,
  Role,
} from "../../gen/llmgateway/v1/llm_pb.js";
import type { GatewayError, UpstreamError } from "../../src/errors.js";
import { createAnthropicProvider } from "../../src/providers/anthropic/index.js";
import type { Provider } from "../../src/providers/types.js";
import { type AnthropicFake, startAnthropicFake } from "../fakes/anthropic.js";
import { messageFromStream } from "../helpers/stream-message.js";
import { collect, rejection } from "./helpers.js";

type Init = MessageInitShape<typeof ChatRequestSchema>;
const text = (value: string) => ({ part: { case: "text" as const, value } });
const user = (value: string) => ({ role: Role.USER, content: [text(value)] });
const req = (init: Init = {}) => create(ChatRequestSchema, { messages: [user("hi")], ...init });

describe("through the strict fake", () => {
  const KEY = "sk-ant-api03-fields-test-key-0123456789";
  let fake: AnthropicFake;
  let provider: Provider;
  const call = (model: string) => ({ model, signal: new AbortController().signal, requestId: "r" });
  const weather = {
    name: "get_weather",
    parametersJson: '{"type":"object","properties":{"city":{"type":"string"}}}',
  };
  const thinking = { budgetTokens: 1024 };
  const sentBody = (i: number) => fake.requests[i]?.body as Record<string, unknown>;

  beforeAll(async () => {
    fake = await startAnthropicFake({ apiKey: KEY });
    provider = createAnthropicProvider({ name: "anthropic", baseUrl: fake.url, apiKey: KEY });
  });
  afterAll(async () => {
    await fake.close();
    await provider.close();
  });
  beforeEach(() => fake.reset());

  /** Turn 1 asks for a tool with thinking on; returns the request for turn 2 built from `answer`. */
  const turn2 = (answer: Message, callId: string): ChatRequest =>
    req({
      messages: [
        user("weather in Paris?"),
        answer,
        { role: Role.TOOL, toolCallId: callId, content: [text("18C")] },
      ],
      tools: [weather],
      reasoning: thinking,
    });
  const first = (model = "claude-x+tools"): Promise<ChatResponse> =>
    provider.chat(
      req({ messages: [user("weather in Paris?")], tools: [weather], reasoning: thinking }),
      call(model),
    );

  it("signature round trip over two turns with a tool call (unary)", async () => {
    const r1 = await first();
    const part = r1.message?.content[0]?.part;
    const said = part?.case === "reasoning" ? part.value.text : "?";
    expect(part?.value).toMatchObject({
      text: 'The user said "weather in Paris?". I echo it.',
      provider: "anthropic",
    });
    expect(r1.reasoning).toBe('The user said "weather in Paris?". I echo it.'); // no include_reasoning needed
    const r2 = await provider.chat(turn2(r1.message!, r1.message!.toolCalls[0]!.id), call("claude-x"));
    expect(r2.message?.content.at(-1)?.part.value).toBe("echo: 18C");
    const sent = (sentBody(1)["messages"] as { content: Record<string, unknown>[] }[])[1]!.content;
    expect(sent.map((b) => b["type"])).toEqual(["thinking", "text", "tool_use"]);
    expect(sent[0]).toEqual({
      type: "thinking",
      thinking: said,
      signature: expect.any(String),
    });
  });

  it("signature round trip rebuilt from a stream", async () => {
    const ask = req({ messages: [user("weather in Paris?")], tools: [weather], reasoning: thinking });
    const { message } = messageFromStream(await collect(provider.chatStream(ask, call("claude-x+tools"))));
    expect(message.content.map((c) => c.part.case)).toEqual(["reasoning", "text"]);
    const events = await collect(
      provider.chatStream(turn2(message, message.toolCalls[0]!.id), call("claude-x")),
    );
    expect(messageFromStream(events).message.content.at(-1)?.part.value).toBe("echo: 18C");
  });

  it("an altered signature, altered text or a missing thinking block is refused like the API does", async () => {
    const r1 = await first();
    const m = r1.message!;
    const id = m.toolCalls[0]!.id;
    const reasoning = m.content[0]!.part.value as { signature: string; text: string };
    const sig = reasoning.signature;
    reasoning.signature = `${sig.slice(0, -4)}AAA=`;
    const e1 = (await rejection(provider.chat(turn2(m, id), call("claude-x")))) as UpstreamError;
    expect([e1.kind, e1.status, e1.message]).toEqual([
      "bad_request",
      400,
      "messages.1.content.0: Invalid `signature` in `thinking` block",
    ]);
    reasoning.signature = sig;
    reasoning.text += " (edited)";
    const e2 = (await rejection(provider.chat(turn2(m, id), call("claude-x")))) as UpstreamError;
    expect(e2.message).toContain("Invalid `signature`");
    m.content.shift();
    const e3 = (await rejection(provider.chat(turn2(m, id), call("claude-x")))) as UpstreamError;
    expect(e3.message).toMatch(
      /^messages\.1\.content\.0\.type: Expected `thinking` or `redacted_thinking`, but found `text`/,
    );
  });

  it("redacted_thinking round trip; altered data refused", async () => {
    const r1 = await first("claude-x+tools+redacted");
    const parts = r1.message!.content.filter((c) => c.part.case === "reasoning").map((c) => c.part.value);
    expect(parts).toEqual([
      expect.objectContaining({ signature: expect.any(String), redactedData: "" }),
      expect.objectContaining({ text: "", signature: "", redactedData: expect.stringMatching(/\./) }),
    ]);
    const id = r1.message!.toolCalls[0]!.id;
    await provider.chat(turn2(r1.message!, id), call("claude-x"));
    const sent = (sentBody(1)["messages"] as { content: Record<string, unknown>[] }[])[1]!.content;
    expect(sent.slice(0, 2).map((b) => b["type"])).toEqual(["thinking", "redacted_thinking"]);
    const redacted = r1.message!.content[1]!.part.value as { redactedData: string };
    redacted.redactedData = `x${redacted.redactedData}`;
    const e = (await rejection(provider.chat(turn2(r1.message!, id), call("claude-x")))) as UpstreamError;
    expect(e.message).toBe("messages.1.content.1: Invalid `data` in `redacted_thinking` block");
  });

  it("cache hints reach the wire; cache writes then reads in Usage, unary and stream", async () => {
    const cached = (extra: string[]) =>
      req({
        messages: [
          {
            role: Role.SYSTEM,
            content: [
              { ...text("You are a long, careful system prompt. ".repeat(20)), cacheHint: { ttlS: 3600 } },
            ],
          },
          user("question one"),
          ...extra.map(user),
        ],
        tools: [{ ...weather, cacheHint: { ttlS: 3600 } }],
      });
    const u1 = (await provider.chat(cached([]), call("claude-haiku-4-5"))).usage!;
    expect(sentBody(0)).toMatchObject({
      system: [{ cache_control: { type: "ephemeral", ttl: "1h" } }],
      tools: [{ cache_control: { type: "ephemeral", ttl: "1h" } }],
    });
    expect(u1.cacheWriteTokens).toBeGreaterThan(200);
    expect(u1.cachedInputTokens).toBe(0);
    const u2 = (await provider.chat(cached([]), call("claude-haiku-4-5"))).usage!;
    expect([u2.cachedInputTokens, u2.cacheWriteTokens, u2.inputTokens]).toEqual([
      u1.cacheWriteTokens,
      0,
      u1.inputTokens,
    ]);
    const events = await collect(provider.chatStream(cached(["and two"]), call("claude-haiku-4-5")));
    const u3 = messageFromStream(events).end?.usage;
    expect([u3?.cachedInputTokens, u3?.cacheWriteTokens]).toEqual([u1.cacheWriteTokens, 0]);
    expect(u3?.inputTokens).toBeGreaterThan(u1.inputTokens);
  });

  it("documents, top_k and stop_sequence (unary and stream)", async () => {
    const docs = req({
      messages: [
        {
          role: Role.USER,
          content: [
            {
              part: {
                case: "document",
                value: {
                  source: { case: "data", value: Buffer.from("%PDF-1.4\n") },
                  mediaType: "application/pdf",
                  title: "R",
                },
              },
            },
            { part: { case: "document", value: { source: { case: "text", value: "notes" } } } },
            text("hi there friend"),
          ],
        },
      ],
      topK: 5,
      stop: ["there"],
    });
    const r = await provider.chat(docs, call("claude-x"));
    expect([r.message?.content[0]?.part.value, r.stopSequence, FinishReason[r.finishReason]]).toEqual([
      "echo: hi ",
      "there",
      "STOP",
    ]);
    expect(sentBody(0)).toMatchObject({
      top_k: 5,
      stop_sequences: ["there"],
      messages: [
        {
          content: [
            {
              type: "document",
              source: { type: "base64", media_type: "application/pdf", data: "JVBERi0xLjQK" },
              title: "R",
            },
            { type: "document", source: { type: "text", media_type: "text/plain", data: "notes" } },
            { type: "text" },
          ],
        },
      ],
    });
    const end = messageFromStream(await collect(provider.chatStream(docs, call("claude-x")))).end;
    expect(end?.stopSequence).toBe("there");
  });

  it("a built-in tool is refused before any upstream call", async () => {
    const e = (await rejection(
      provider.chat(
        req({ tools: [{ builtinType: "file_search", builtinJson: '{"type":"file_search"}' }] }),
        call("claude-x"),
      ),
    )) as GatewayError;
    expect([e.code, e.message]).toEqual([
      "INVALID_ARGUMENT",
      expect.stringContaining("built-in tool file_search runs only on OpenAI"),
    ]);
    expect(fake.requests).toHaveLength(0);
  });
});
