// Gemini and the contract's newer fields: thought signatures round-tripped (ToolCall.signature,
// Reasoning parts, Delta.reasoning_state) against the fake's Gemini 3-style validation; top_k,
// documents, cache hints (ignored) and built-in tools (refused).
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  ChatRequestSchema,
  type ChatResponse,
  type ChatStreamResponse,
  type Message,
  type MessageSchema,
  Role,
} from "../../gen/llmgateway/v1/llm_pb.js";
import { GatewayError, UpstreamError } from "../../src/errors.js";
import { SKIP_SIGNATURE } from "../../src/providers/gemini/content.js";
import { createGeminiProvider } from "../../src/providers/gemini/index.js";
import { toGeminiRequest } from "../../src/providers/gemini/request.js";
import { fromGeminiResponse } from "../../src/providers/gemini/response.js";
import type { Provider } from "../../src/providers/types.js";
import { type GeminiFake, startGeminiFake } from "../fakes/gemini.js";
import { collect, rejection, thrown } from "./helpers.js";

const TOOL = {
  name: "get_weather",
  parametersJson: '{"type":"object","properties":{"city":{"type":"string"}}}',
};
const ask = { role: Role.USER, content: [{ part: { case: "text" as const, value: "weather in Paris?" } }] };
const chatReq = (init: MessageInitShape<typeof ChatRequestSchema> = {}) =>
  create(ChatRequestSchema, { messages: [ask], tools: [TOOL], ...init });
const toolResult = (id: string) => ({
  role: Role.TOOL,
  toolCallId: id,
  content: [{ part: { case: "text" as const, value: '{"temp":21}' } }],
});
type Msg = MessageInitShape<typeof MessageSchema>;
const ctx = { provider: "gemini", model: "gemini-3-flash" };

describe("translators", () => {
  it("response: call signatures -> ToolCall.signature; text and thought signatures -> Reasoning parts", () => {
    const r = fromGeminiResponse(
      {
        candidates: [
          {
            content: {
              parts: [
                { text: "plan", thought: true },
                { text: " more", thought: true, thoughtSignature: "T1" },
                { text: "Hello" },
                { text: " world", thoughtSignature: "A1" },
                { functionCall: { name: "f", args: {} }, thoughtSignature: "C1" },
                { functionCall: { name: "g", args: {} } },
              ],
            },
            finishReason: "STOP",
          },
        ],
      },
      ctx,
    );
    const parts = r.message?.content.map((c) => [c.part.case, c.part.value]) ?? [];
    expect(parts).toEqual([
      ["reasoning", expect.objectContaining({ text: "plan more", signature: "T1", provider: "gemini" })],
      ["reasoning", expect.objectContaining({ text: "", signature: "A1", provider: "gemini" })],
      ["text", "Hello world"],
    ]);
    expect(r.message?.toolCalls.map((c) => [c.name, c.signature, c.signatureProvider])).toEqual([
      ["f", "C1", "gemini"],
      ["g", "", ""],
    ]);
    expect(r.reasoning).toBe(""); // the joined text only with include_reasoning
  });

  it("request: signatures go back where Gemini put them; foreign state is skipped", () => {
    const history: Msg[] = [
      ask,
      {
        role: Role.ASSISTANT,
        content: [
          { part: { case: "reasoning", value: { text: "plan", signature: "T1", provider: "gemini" } } },
          { part: { case: "reasoning", value: { text: "x", signature: "anth", provider: "anthropic" } } },
          { part: { case: "reasoning", value: { signature: "A1", provider: "gemini" } } },
          { part: { case: "text", value: "Looking it up." } },
        ],
        toolCalls: [
          {
            id: "c1",
            name: "get_weather",
            argumentsJson: "{}",
            signature: "C1",
            signatureProvider: "gemini",
          },
          { id: "c2", name: "get_weather", argumentsJson: "{}" },
        ],
      },
      toolResult("c1"),
      toolResult("c2"),
    ];
    const body = toGeminiRequest(chatReq({ messages: history }), { provider: "gemini" });
    expect(body.contents[1]).toEqual({
      role: "model",
      parts: [
        { text: "plan", thought: true, thoughtSignature: "T1" },
        { text: "Looking it up.", thoughtSignature: "A1" },
        { functionCall: { name: "get_weather", args: {} }, thoughtSignature: "C1" },
        { functionCall: { name: "get_weather", args: {} } },
      ],
    });
  });

  it("request: the current turn's unsigned calls (another model's) get Gemini's documented dummy", () => {
    const foreign = {
      role: Role.ASSISTANT,
      toolCalls: [
        { id: "c1", name: "get_weather", argumentsJson: "{}", signature: "x", signatureProvider: "vertex" },
      ],
    };
    const body = toGeminiRequest(chatReq({ messages: [ask, foreign, toolResult("c1")] }), {
      provider: "gemini",
    });
    expect(body.contents[1]?.parts[0]?.thoughtSignature).toBe(SKIP_SIGNATURE);
    const later = { role: Role.USER, content: [{ part: { case: "text" as const, value: "thanks" } }] };
    const old = toGeminiRequest(chatReq({ messages: [ask, foreign, toolResult("c1"), later] }), {
      provider: "gemini",
    });
    expect(old.contents[1]?.parts[0]?.thoughtSignature).toBeUndefined(); // an earlier turn: left alone
  });

  it("top_k, documents and cache hints; built-in tools refused", () => {
    const pdf = new Uint8Array([37, 80, 68, 70]);
    const body = toGeminiRequest(
      chatReq({
        topK: 40,
        messages: [
          {
            role: Role.USER,
            content: [
              {
                part: {
                  case: "document",
                  value: { source: { case: "data", value: pdf }, mediaType: "application/pdf" },
                },
              },
              {
                part: {
                  case: "document",
                  value: {
                    source: { case: "url", value: "https://x.test/a.pdf" },
                    mediaType: "application/pdf",
                  },
                },
              },
              { part: { case: "document", value: { source: { case: "text", value: "notes" } } } },
              { part: { case: "text", value: "summarize" }, cacheHint: { type: "ephemeral" } },
            ],
          },
        ],
      }),
      { provider: "gemini" },
    );
    expect(body.generationConfig?.topK).toBe(40);
    expect(body.contents[0]?.parts).toEqual([
      { inlineData: { mimeType: "application/pdf", data: "JVBERg==" } },
      { fileData: { fileUri: "https://x.test/a.pdf", mimeType: "application/pdf" } },
      { text: "notes" },
      { text: "summarize" },
    ]);
    const e = thrown(() =>
      toGeminiRequest(chatReq({ tools: [{ builtinType: "web_search_preview", builtinJson: "{}" }] }), {
        provider: "gemini",
      }),
    );
    expect(e).toBeInstanceOf(GatewayError);
    expect((e as GatewayError).code).toBe("INVALID_ARGUMENT");
    expect((e as GatewayError).message).toContain("wire: responses");
  });
});

/** The assistant message a client would send back: the answer's message as it came. */
function assistantOf(r: ChatResponse): Msg {
  return r.message as Message;
}

/** A streamed answer assembled back into a message, as the doors do (reasoning state by index). */
function assemble(events: ChatStreamResponse[]): Msg {
  const states = new Map<number, { text: string; signature: string; provider: string }>();
  const calls = new Map<
    number,
    { id: string; name: string; argumentsJson: string; signature: string; signatureProvider: string }
  >();
  let text = "";
  for (const ev of events) {
    if (ev.event.case !== "delta") continue;
    const d = ev.event.value;
    text += d.text;
    if (d.reasoningState) {
      const s = states.get(d.reasoningIndex) ?? { text: "", signature: "", provider: "" };
      states.set(d.reasoningIndex, {
        ...s,
        signature: d.reasoningState.signature,
        provider: d.reasoningState.provider,
      });
    }
    for (const t of d.toolCalls) {
      const c = calls.get(t.index) ?? {
        id: t.id,
        name: t.name,
        argumentsJson: "",
        signature: "",
        signatureProvider: "",
      };
      c.argumentsJson += t.argumentsDelta;
      if (t.signature) Object.assign(c, { signature: t.signature, signatureProvider: t.signatureProvider });
      calls.set(t.index, c);
    }
  }
  const content = [...states.values()].map((value) => ({ part: { case: "reasoning" as const, value } }));
  const all = text === "" ? content : [...content, { part: { case: "text" as const, value: text } }];
  return { role: Role.ASSISTANT, content: all, toolCalls: [...calls.values()] };
}

describe("createGeminiProvider against a Gemini 3-style fake", () => {
  let fake: GeminiFake;
  let provider: Provider;
  const call = (model: string) => ({ signal: new AbortController().signal, model, requestId: "req-sig" });

  beforeAll(async () => {
    fake = await startGeminiFake();
    provider = createGeminiProvider({ name: "gemini", baseUrl: fake.url, apiKey: "k" });
  });
  afterAll(async () => {
    await provider.close();
    await fake.close();
  });
  beforeEach(() => fake.reset());

  it("chat: the call's signature comes back and is sent back on that functionCall part", async () => {
    const first = await provider.chat(chatReq(), call("gemini-3-flash+tools+parallel"));
    const calls = first.message?.toolCalls ?? [];
    expect(calls.map((c) => c.signatureProvider)).toEqual(["gemini", ""]);
    const next = chatReq({
      messages: [ask, assistantOf(first), toolResult(calls[0]!.id), toolResult(calls[1]!.id)],
    });
    const r = await provider.chat(next, call("gemini-3-flash"));
    expect(r.message?.content.at(-1)?.part.value).toBe("echo: weather in Paris?");
    const sent = fake.requests[1]!.body as { contents: { parts: Record<string, unknown>[] }[] };
    expect(sent.contents[1]?.parts.map((p) => p["thoughtSignature"])).toEqual([
      calls[0]!.signature,
      undefined,
    ]);
    // The text answer's signature came back as a Reasoning part, before the text.
    expect(r.message?.content.map((c) => c.part.case)).toEqual(["reasoning", "text"]);
  });

  it("chat: a signature that is not Gemini's own is refused upstream as Gemini refuses it", async () => {
    const forged = {
      role: Role.ASSISTANT,
      toolCalls: [
        {
          id: "c1",
          name: "get_weather",
          argumentsJson: "{}",
          signature: "Zm9yZ2Vk",
          signatureProvider: "gemini",
        },
      ],
    };
    const e = await rejection(
      provider.chat(chatReq({ messages: [ask, forged, toolResult("c1")] }), call("gemini-3-flash")),
    );
    expect(e).toBeInstanceOf(UpstreamError);
    expect([(e as UpstreamError).kind, (e as UpstreamError).status]).toEqual(["bad_request", 400]);
  });

  it("chatStream: signatures in ToolCallDelta and reasoning_state round-trip", async () => {
    const first = await collect(provider.chatStream(chatReq(), call("gemini-3-flash+tools")));
    const delta = first.find((e) => e.event.case === "delta");
    const tc = delta?.event.case === "delta" ? delta.event.value.toolCalls[0] : undefined;
    expect([tc?.signatureProvider, tc?.signature.length]).toEqual(["gemini", 32]);
    const second = await collect(
      provider.chatStream(
        chatReq({ messages: [ask, assemble(first), toolResult(tc!.id)] }),
        call("gemini-3-flash"),
      ),
    );
    const states = second.flatMap((e) =>
      e.event.case === "delta" && e.event.value.reasoningState ? [e.event.value] : [],
    );
    expect(states.map((d) => [d.reasoningIndex, d.reasoningState?.provider, d.text])).toEqual([
      [0, "gemini", ""],
    ]);
    const third = chatReq({ messages: [ask, assemble(first), toolResult(tc!.id), assemble(second), ask] });
    await collect(provider.chatStream(third, call("gemini-3-flash")));
    const sent = fake.requests[2]!.body as { contents: { parts: Record<string, unknown>[] }[] };
    expect(sent.contents[3]?.parts).toEqual([
      { text: "echo: weather in Paris?", thoughtSignature: states[0]!.reasoningState!.signature },
    ]);
  });
});
