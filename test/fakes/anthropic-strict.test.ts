// The Anthropic fake's strict side, proven with the official `@anthropic-ai/sdk`: signed thinking
// (unary and streamed) that must come back unaltered in a tool loop, redacted_thinking, prompt
// caching with cache_control, documents, top_k and stop sequences.
import Anthropic, { type APIError, BadRequestError } from "@anthropic-ai/sdk";
import type {
  ContentBlockParam,
  MessageCreateParamsNonStreaming,
  MessageParam,
} from "@anthropic-ai/sdk/resources/messages";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type AnthropicFake, startAnthropicFake } from "./anthropic.js";

const API_KEY = "sk-ant-api03-strict-test-0123456789abcdef";
let fake: AnthropicFake;
let client: Anthropic;

beforeAll(async () => {
  fake = await startAnthropicFake({ apiKey: API_KEY });
  client = new Anthropic({ baseURL: fake.url, apiKey: API_KEY, maxRetries: 0, logLevel: "off" });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.reset();
});

const weatherTool = {
  name: "get_weather",
  input_schema: { type: "object" as const, properties: { city: { type: "string" } } },
};
const thinking = { type: "enabled" as const, budget_tokens: 1024 };
const ask: MessageParam = { role: "user", content: "weather in Paris?" };

async function caught(p: Promise<unknown>): Promise<APIError> {
  try {
    await p;
  } catch (e: unknown) {
    return e as APIError;
  }
  throw new Error("expected the call to fail");
}

/** Turn 2 of a tool loop: the assistant's content as the API returned it, then the tool result. */
function loop(assistant: ContentBlockParam[], id: string): MessageCreateParamsNonStreaming {
  return {
    model: "claude-sonnet-4-5",
    max_tokens: 2048,
    thinking,
    tools: [weatherTool],
    messages: [
      ask,
      { role: "assistant", content: assistant },
      { role: "user", content: [{ type: "tool_result", tool_use_id: id, content: "18C" }] },
    ],
  };
}

describe("anthropic fake: signed thinking", () => {
  it("thinking on in the body: a signed thinking block first; streams send thinking_delta then signature_delta", async () => {
    const params = { model: "claude-sonnet-4-5", max_tokens: 2048, thinking, messages: [ask] };
    const r = await client.messages.create(params);
    expect(r.content.map((b) => b.type)).toEqual(["thinking", "text"]);
    const block = r.content[0]!;
    expect(block.type === "thinking" && block.signature.length).toBeGreaterThan(20);
    const deltas: string[] = [];
    for await (const ev of await client.messages.create({ ...params, stream: true })) {
      if (ev.type === "content_block_delta") deltas.push(ev.delta.type);
    }
    expect(
      deltas
        .slice(0, deltas.indexOf("signature_delta") + 1)
        .every((t) => t.startsWith("thinking") || t === "signature_delta"),
    ).toBe(true);
    expect(deltas.indexOf("signature_delta")).toBeGreaterThan(deltas.indexOf("thinking_delta"));
    const streamed = await client.messages.stream(params).finalMessage();
    expect(streamed.content[0]).toEqual(block); // same text, same HMAC
    const off = await client.messages.create({ model: "claude-sonnet-4-5", max_tokens: 64, messages: [ask] });
    expect(off.content.map((b) => b.type)).toEqual(["text"]);
  });

  it("a tool loop continues with the thinking block sent back; altered or missing thinking is a 400", async () => {
    const r1 = await client.messages.create({
      ...loop([], ""),
      model: "claude-sonnet-4-5+tools",
      messages: [ask],
    });
    const use = r1.content.find((b) => b.type === "tool_use");
    const id = use?.type === "tool_use" ? use.id : "";
    const back = r1.content as ContentBlockParam[];
    const r2 = await client.messages.create(loop(back, id));
    expect(r2.content.at(-1)).toEqual({ type: "text", text: "echo: 18C" });

    const altered = back.map((b) => (b.type === "thinking" ? { ...b, thinking: `${b.thinking}!` } : b));
    const e1 = await caught(client.messages.create(loop(altered, id)));
    expect(e1).toBeInstanceOf(BadRequestError);
    expect([e1.type, e1.message]).toEqual([
      "invalid_request_error",
      expect.stringContaining("messages.1.content.0: Invalid `signature` in `thinking` block"),
    ]);
    const e2 = await caught(client.messages.create(loop(back.slice(1), id)));
    expect(e2.message).toContain(
      "messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found `text`. When `thinking` is enabled",
    );
    const off = { ...loop(back.slice(1), id), thinking: { type: "disabled" as const } };
    expect((await client.messages.create(off)).stop_reason).toBe("end_turn"); // thinking off: no such rule
  });

  it("redacted_thinking: answered with `redacted`, accepted back unaltered only", async () => {
    const r1 = await client.messages.create({
      ...loop([], ""),
      model: "claude-x+tools+redacted",
      messages: [ask],
    });
    expect(r1.content.map((b) => b.type)).toEqual(["thinking", "redacted_thinking", "text", "tool_use"]);
    const streamed = await client.messages
      .stream({ ...loop([], ""), model: "claude-x+redacted", messages: [ask] })
      .finalMessage();
    expect(streamed.content[1]).toMatchObject({
      type: "redacted_thinking",
      data: expect.stringContaining("."),
    });
    const use = r1.content[3];
    const id = use?.type === "tool_use" ? use.id : "";
    const back = r1.content as ContentBlockParam[];
    expect((await client.messages.create(loop(back, id))).stop_reason).toBe("end_turn");
    const bad = back.map((b) => (b.type === "redacted_thinking" ? { ...b, data: `Z${b.data}` } : b));
    const e = await caught(client.messages.create(loop(bad, id)));
    expect(e.message).toContain("messages.1.content.1: Invalid `data` in `redacted_thinking` block");
  });
});

describe("anthropic fake: prompt caching, documents, top_k, stop sequences", () => {
  const system = [
    {
      type: "text" as const,
      text: "A long system prompt. ".repeat(40),
      cache_control: { type: "ephemeral" as const },
    },
  ];

  it("cache_control: the first call writes the prefix, the next reads it (unary and stream usage)", async () => {
    const params = { model: "claude-haiku-4-5", max_tokens: 64, system, messages: [ask] };
    const u1 = (await client.messages.create(params)).usage;
    expect(u1.cache_creation_input_tokens).toBeGreaterThan(200);
    expect([u1.cache_read_input_tokens, u1.cache_creation?.ephemeral_5m_input_tokens]).toEqual([
      0,
      u1.cache_creation_input_tokens,
    ]);
    const u2 = (await client.messages.create(params)).usage;
    expect([u2.cache_read_input_tokens, u2.cache_creation_input_tokens, u2.input_tokens]).toEqual([
      u1.cache_creation_input_tokens,
      0,
      u1.input_tokens,
    ]);
    let startUsage: unknown;
    const stream = client.messages.stream(params);
    stream.on("streamEvent", (ev) => {
      if (ev.type === "message_start") startUsage = ev.message.usage;
    });
    const u3 = (await stream.finalMessage()).usage;
    expect(startUsage).toMatchObject({ cache_read_input_tokens: u1.cache_creation_input_tokens });
    expect(u3.cache_read_input_tokens).toBe(u1.cache_creation_input_tokens);
    const other = await client.messages.create({ ...params, model: "claude-opus-4-1" });
    expect(other.usage.cache_read_input_tokens).toBe(0); // caches are per model
  });

  it("cache_control on tools and blocks with a 1h ttl; bad ttl, too many breakpoints, 1h after 5m are 400s", async () => {
    const tools = [{ ...weatherTool, cache_control: { type: "ephemeral" as const, ttl: "1h" as const } }];
    const r = await client.messages.create({ model: "claude-x", max_tokens: 9, tools, messages: [ask] });
    expect(r.usage.cache_creation?.ephemeral_1h_input_tokens).toBeGreaterThan(0);
    const block = (ttl: string) => ({ type: "text", text: "x", cache_control: { type: "ephemeral", ttl } });
    const bad = { model: "claude-x", max_tokens: 9, messages: [{ role: "user", content: [block("2h")] }] };
    expect((await caught(client.post("/v1/messages", { body: bad }))).message).toContain(
      "messages.0.content.0.cache_control.ttl: Input should be '5m' or '1h'",
    );
    const five = { ...bad, messages: [{ role: "user", content: ["5m", "5m", "5m", "5m", "5m"].map(block) }] };
    expect((await caught(client.post("/v1/messages", { body: five }))).message).toContain(
      "A maximum of 4 blocks with cache_control may be provided. Found 5.",
    );
    const order = { ...bad, messages: [{ role: "user", content: [block("5m"), block("1h")] }] };
    expect((await caught(client.post("/v1/messages", { body: order }))).message).toContain(
      "a ttl='1h' cache_control block must not come after a ttl='5m' cache_control block",
    );
  });

  it("documents and top_k are accepted; a document of another type is a 400", async () => {
    const pdf = { type: "base64" as const, media_type: "application/pdf" as const, data: "JVBERi0xLjQK" };
    const content: ContentBlockParam[] = [
      { type: "document", source: pdf, title: "Report" },
      { type: "document", source: { type: "text", media_type: "text/plain", data: "notes" } },
      { type: "document", source: { type: "url", url: "https://example.com/a.pdf" } },
      { type: "text", text: "summarise" },
    ];
    const params = {
      model: "claude-x",
      max_tokens: 9,
      messages: [{ role: "user" as const, content }],
      top_k: 5,
    };
    expect((await client.messages.create(params)).content).toEqual([
      { type: "text", text: "echo: summarise" },
    ]);
    expect(fake.requests[0]?.body).toMatchObject({ top_k: 5 });
    const png = { ...pdf, media_type: "image/png" };
    const bad = {
      model: "claude-x",
      max_tokens: 9,
      messages: [{ role: "user", content: [{ type: "document", source: png }] }],
    };
    expect((await caught(client.post("/v1/messages", { body: bad }))).message).toContain(
      "messages.0.content.0.document.source.base64.media_type: Input should be 'application/pdf'",
    );
    expect(
      (await caught(client.post("/v1/messages", { body: { ...params, top_k: 1.5 } }))).message,
    ).toContain("top_k");
  });

  it("stop_sequences: the answer stops before the first one met, unary and streamed", async () => {
    const params = {
      model: "claude-x",
      max_tokens: 9,
      stop_sequences: ["world", "there"],
      messages: [{ role: "user" as const, content: "hello there world" }],
    };
    const r = await client.messages.create(params);
    expect([r.content, r.stop_reason, r.stop_sequence]).toEqual([
      [{ type: "text", text: "echo: hello " }],
      "stop_sequence",
      "there",
    ]);
    const s = await client.messages.stream(params).finalMessage();
    expect([s.content, s.stop_reason, s.stop_sequence]).toEqual([r.content, "stop_sequence", "there"]);
  });
});
