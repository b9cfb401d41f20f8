// The openai provider over `wire: responses` against the Responses fake (SDK-checked): which wire a
// call takes, unary and streamed answers, tools, JSON schema, encrypted reasoning over two turns,
// built-in tools passed through, errors and cut streams.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  ChatRequestSchema,
  type ChatResponse,
  type ChatStreamResponse,
  ContentPartSchema,
  FinishReason,
  type Message,
  MessageSchema,
  type Reasoning,
  ReasoningSchema,
} from "../../gen/llmgateway/v1/llm_pb.js";
import { loadConfig } from "../../src/config/index.js";
import type { UpstreamError } from "../../src/errors.js";
import { createProviders, implementedTypes, presetInfo } from "../../src/providers/index.js";
import { createOpenAIProvider, type OpenAIProvider } from "../../src/providers/openai/index.js";
import { openaiPresets } from "../../src/providers/openai/presets.js";
import { type OpenAIResponsesFake, startOpenAIResponsesFake } from "../fakes/openai-responses.js";
import { collect, rejection } from "./helpers.js";

const KEY = "sk-proj-responses-provider-0123456789";
let fake: OpenAIResponsesFake;
let openai: OpenAIProvider;
let providers: OpenAIProvider[] = [];
const call = (model: string) => ({ model, signal: new AbortController().signal, requestId: "r1" });
const user = (text: string) => ({ role: 2, content: [{ part: { case: "text" as const, value: text } }] });
const chatReq = (init: MessageInitShape<typeof ChatRequestSchema> = {}) =>
  create(ChatRequestSchema, { messages: [user("hi there")], ...init });
const weather = {
  name: "get_weather",
  parametersJson: '{"type":"object","properties":{"city":{"type":"string"}}}',
};

function provider(name: string, wire?: "chat" | "responses" | "auto"): OpenAIProvider {
  const p = createOpenAIProvider({
    name,
    baseUrl: fake.url,
    apiKey: KEY,
    quirks: openaiPresets.openai.quirks,
    ...(wire === undefined ? {} : { wire }),
  });
  providers.push(p);
  return p;
}

const textOf = (r: ChatResponse) =>
  (r.message?.content ?? []).map((c) => (c.part.case === "text" ? c.part.value : "")).join("");
const lastPath = () => fake.requests.at(-1)?.path;
const lastBody = () => fake.requests.at(-1)?.body as Record<string, unknown>;

/** A streamed answer folded back into the assistant message a client would send next turn. */
function fold(events: ChatStreamResponse[]): { message: Message; text: string; finish: string } {
  const reasoning: { text: string; state?: Reasoning }[] = [];
  let text = "";
  let finish = "";
  const calls: { id: string; name: string; argumentsJson: string }[] = [];
  for (const ev of events) {
    if (ev.event.case === "end") finish = FinishReason[ev.event.value.finishReason] ?? "";
    if (ev.event.case !== "delta") continue;
    const d = ev.event.value;
    text += d.text;
    if (d.reasoning !== "" || d.reasoningState !== undefined) {
      const r = reasoning[d.reasoningIndex] ?? { text: "" };
      reasoning[d.reasoningIndex] = r;
      r.text += d.reasoning;
      if (d.reasoningState !== undefined) r.state = d.reasoningState;
    }
    for (const t of d.toolCalls) {
      const c = calls[t.index] ?? { id: "", name: "", argumentsJson: "" };
      calls[t.index] = c;
      c.id ||= t.id;
      c.name ||= t.name;
      c.argumentsJson += t.argumentsDelta;
    }
  }
  const message = create(MessageSchema, { role: 3, toolCalls: calls });
  for (const r of reasoning) {
    const s = r.state;
    const value = create(ReasoningSchema, {
      text: r.text,
      encryptedContent: s?.encryptedContent ?? "",
      id: s?.id ?? "",
      provider: s?.provider ?? "",
    });
    message.content.push(create(ContentPartSchema, { part: { case: "reasoning", value } }));
  }
  if (text !== "") message.content.push(create(ContentPartSchema, { part: { case: "text", value: text } }));
  return { message, text, finish };
}

beforeAll(async () => {
  fake = await startOpenAIResponsesFake({ apiKey: KEY });
  openai = provider("openai");
});
afterAll(async () => {
  await fake.close();
  await Promise.all(providers.map((p) => p.close()));
  providers = [];
});
beforeEach(() => fake.reset());

describe("which wire a call takes", () => {
  it("openai: gpt-5 / o3 -> /v1/responses, gpt-4o -> /v1/chat/completions; presets stay on chat", async () => {
    const groq = provider("groq");
    const custom = provider("my-vllm");
    const paths: (string | undefined)[] = [];
    for (const [p, model] of [
      [openai, "gpt-5"],
      [openai, "o3"],
      [openai, "gpt-4o"],
      [groq, "o3"],
      [custom, "gpt-5"],
    ] as const) {
      await p.chat(chatReq(), call(model));
      paths.push(lastPath());
    }
    expect(paths).toEqual([
      "/v1/responses",
      "/v1/responses",
      "/v1/chat/completions",
      "/v1/chat/completions",
      "/v1/chat/completions",
    ]);
    expect([openai.wireFor("o4-mini"), groq.wireFor("o4-mini"), openai.wireFor("gpt-4o")]).toEqual([
      "responses",
      "chat",
      "chat",
    ]);
  });

  it("an explicit wire wins, in both directions", async () => {
    await provider("openai", "chat").chat(chatReq(), call("gpt-5"));
    expect(lastPath()).toBe("/v1/chat/completions");
    const r = await provider("together", "responses").chat(chatReq(), call("gpt-4o"));
    expect([lastPath(), textOf(r)]).toEqual(["/v1/responses", "echo: hi there"]);
  });
});

describe("openai over the Responses wire", () => {
  it("unary: text, usage, store false, encrypted reasoning asked for, no metadata", async () => {
    const r = await openai.chat(chatReq({ metadata: { team: "x" }, maxTokens: 300 }), call("gpt-5"));
    expect([textOf(r), r.provider, r.model, FinishReason[r.finishReason]]).toEqual([
      "echo: hi there",
      "openai",
      "gpt-5",
      "STOP",
    ]);
    expect([r.usage?.reasoningTokens, r.usage?.estimated]).toEqual([64, false]);
    const body = lastBody();
    expect([body["store"], body["include"], body["max_output_tokens"], "metadata" in body]).toEqual([
      false,
      ["reasoning.encrypted_content"],
      300,
      false,
    ]);
    expect(fake.requests.at(-1)?.headers["authorization"]).toBe(`Bearer ${KEY}`);
  });

  it("stream: text deltas, one start, one end with usage", async () => {
    const events = await collect(openai.chatStream(chatReq(), call("o3")));
    const { text, finish } = fold(events);
    expect([text, finish, events[0]?.event.case]).toEqual(["echo: hi there", "STOP", "start"]);
    expect(events.filter((e) => e.event.case === "end")).toHaveLength(1);
    expect(lastBody()["stream"]).toBe(true);
  });

  it("tools, unary and streamed; the tool result goes back as function_call_output", async () => {
    const req = chatReq({ tools: [weather] });
    const r = await openai.chat(req, call("gpt-5+tools"));
    const c = r.message?.toolCalls[0];
    expect([c?.name, c?.argumentsJson, FinishReason[r.finishReason]]).toEqual([
      "get_weather",
      '{"city":"Paris"}',
      "TOOL_CALLS",
    ]);
    const streamed = fold(await collect(openai.chatStream(req, call("gpt-5+tools"))));
    expect([streamed.message.toolCalls[0]?.argumentsJson, streamed.finish]).toEqual([
      '{"city":"Paris"}',
      "TOOL_CALLS",
    ]);
    const next = chatReq({
      tools: [weather],
      messages: [
        user("weather?"),
        streamed.message,
        {
          role: 4,
          toolCallId: streamed.message.toolCalls[0]?.id ?? "",
          content: [{ part: { case: "text", value: "sunny" } }],
        },
      ],
    });
    expect(textOf(await openai.chat(next, call("gpt-5")))).toBe("tool said: sunny");
  });

  it("json schema: text.format sent, the JSON answer passes through", async () => {
    const r = await openai.chat(
      chatReq({
        responseFormat: { type: 3, jsonSchema: '{"type":"object"}', schemaName: "echo", strict: true },
      }),
      call("gpt-5"),
    );
    expect(JSON.parse(textOf(r))).toEqual({ echo: "echo: hi there" });
    expect(lastBody()["text"]).toEqual({
      format: { type: "json_schema", name: "echo", schema: { type: "object" }, strict: true },
    });
  });

  it("reasoning round trip over two turns (unary, then streamed); forged state is refused upstream", async () => {
    const reasoning = { includeReasoning: true, effort: 3 };
    const first = await openai.chat(chatReq({ reasoning }), call("o3"));
    const part = first.message?.content[0]?.part;
    expect(part?.case).toBe("reasoning");
    expect(first.reasoning).toContain("**Answering**");
    const turn2 = chatReq({ reasoning, messages: [user("hi there"), first.message!, user("and then?")] });
    const events = await collect(openai.chatStream(turn2, call("o3")));
    const sent = (lastBody()["input"] as Record<string, unknown>[]).map((i) => i["type"]);
    expect(sent).toEqual(["message", "reasoning", "message", "message"]);
    const second = fold(events);
    expect(second.text).toBe("echo: and then?");
    const state = second.message.content[0]?.part.value as Reasoning;
    expect([state.provider, state.encryptedContent.startsWith("gAAAAA"), state.text]).toEqual([
      "openai",
      true,
      "**Reading the question**\n\nThe user wrote something.\n\n**Answering**\n\nI will echo it.",
    ]);
    const turn3 = chatReq({ messages: [user("a"), second.message, user("b")] });
    expect(textOf(await openai.chat(turn3, call("o3")))).toBe("echo: b");
    const forged = structuredClone(second.message);
    (forged.content[0]!.part.value as Reasoning).encryptedContent = "gAAAAAnot-ours==";
    const e = (await rejection(
      openai.chat(chatReq({ messages: [user("a"), forged, user("b")] }), call("o3")),
    )) as UpstreamError;
    expect([e.kind, e.status, e.message]).toEqual([
      "bad_request",
      400,
      "The encrypted content gAAA...rs== could not be verified.",
    ]);
  });

  it("built-in tools pass through verbatim; the answer text is kept, the search item left out", async () => {
    const tools = [{ builtinType: "web_search_preview", builtinJson: '{"search_context_size":"low"}' }];
    const r = await openai.chat(chatReq({ tools }), call("gpt-4o"));
    expect([lastPath(), textOf(r), FinishReason[r.finishReason]]).toEqual([
      "/v1/responses",
      "echo: hi there",
      "STOP",
    ]);
    expect(lastBody()["tools"]).toEqual([{ search_context_size: "low", type: "web_search_preview" }]);
    const s = fold(await collect(openai.chatStream(chatReq({ tools }), call("gpt-4o"))));
    expect([s.text, s.finish]).toEqual(["echo: hi there", "STOP"]);
  });

  it("errors: status, quota, context length, a wrong key (never echoed), failed responses", async () => {
    const kinds: unknown[] = [];
    for (const model of [
      "o3+status=429+retry_after=2",
      "o3+quota",
      "o3+context_length",
      "o3+status=503",
      "o3+failed",
    ]) {
      const e = (await rejection(openai.chat(chatReq(), call(model)))) as UpstreamError;
      kinds.push([e.kind, e.opts.retryAfterMs]);
    }
    expect(kinds).toEqual([
      ["rate_limited", 2000],
      ["quota", undefined],
      ["context_length", undefined],
      ["overloaded", undefined],
      ["unavailable", undefined],
    ]);
    const bad = createOpenAIProvider({
      name: "openai",
      baseUrl: fake.url,
      apiKey: "sk-wrong-key-abcdef123456",
    });
    providers.push(bad);
    const e = (await rejection(bad.chat(chatReq(), call("gpt-5")))) as UpstreamError;
    expect([e.kind, e.message.includes("sk-wrong")]).toEqual(["auth", false]);
  });

  it("streams: failed / error events are errors, a cut or stalled-then-dropped stream is never a success", async () => {
    const kinds: string[] = [];
    for (const model of ["o3+failed", "o3+stream_error", "o3+drop=2", "o3+malformed", "o3+status=500"]) {
      const e = (await rejection(collect(openai.chatStream(chatReq(), call(model))))) as UpstreamError;
      kinds.push(e.kind);
    }
    expect(kinds).toEqual(["unavailable", "unavailable", "stream_interrupted", "protocol", "unavailable"]);
  });

  it("max_tokens cut -> LENGTH, unary and streamed", async () => {
    const r = await openai.chat(chatReq({ maxTokens: 5 }), call("gpt-5+length"));
    const s = fold(await collect(openai.chatStream(chatReq({ maxTokens: 5 }), call("gpt-5+length"))));
    expect([FinishReason[r.finishReason], s.finish]).toEqual(["LENGTH", "LENGTH"]);
  });
});

describe("config: providers.<name>.wire", () => {
  const load = (yaml: string) => {
    const path = join(mkdtempSync(join(tmpdir(), "llmgw-wire-")), "gw.yaml");
    writeFileSync(path, yaml);
    return loadConfig({
      argv: ["--config", path],
      env: { OPENAI_API_KEY: "sk-x" },
      presets: presetInfo,
      implementedTypes,
    });
  };

  it("reaches the provider: auto by default, chat / responses when set", async () => {
    const c = load(
      "providers:\n  openai: {}\n  openai-eu: { type: openai, base_url: 'https://eu.example/v1', api_key: k, wire: responses }\n  groq: { api_key: g, wire: chat }\n",
    );
    const built = createProviders(c.providers, { unsupportedParams: "reject", warn: () => {} });
    const wire = (name: string, model: string) => (built.get(name) as OpenAIProvider).wireFor(model);
    expect([
      wire("openai", "gpt-5"),
      wire("openai", "gpt-4o"),
      wire("openai-eu", "llama"),
      wire("groq", "o3"),
    ]).toEqual(["responses", "chat", "responses", "chat"]);
    await Promise.all([...built.values()].map((p) => p.close()));
  });

  it("is refused on other wire formats and for unknown values, naming the field", () => {
    expect(() => load("providers:\n  anthropic: { api_key: a, wire: responses }\n")).toThrow(
      "providers.anthropic.wire: only for providers of type openai",
    );
    expect(() => load("providers:\n  openai: { wire: fast }\n")).toThrow(/wire/);
  });
});
