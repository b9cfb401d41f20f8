// The Anthropic fake is trusted only because the official `@anthropic-ai/sdk` parses what it sends:
// unary, streams (raw events and the MessageStream helper), tool use, thinking, models, errors.
import Anthropic, {
  APIError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  OverloadedError,
  RateLimitError,
} from "@anthropic-ai/sdk";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type AnthropicFake, startAnthropicFake } from "./anthropic.js";

const API_KEY = "sk-ant-api03-test-0123456789abcdefXYZ";
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

const hello = [{ role: "user" as const, content: "hello there world" }];
const weatherTool = {
  name: "get_weather",
  description: "Weather for a city",
  input_schema: {
    type: "object" as const,
    properties: { city: { type: "string" } },
    required: ["city"],
  },
};

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e: unknown) {
    return e;
  }
  throw new Error("expected the call to fail");
}

describe("anthropic fake: messages", () => {
  it("answers a unary call the SDK parses", async () => {
    const r = await client.messages.create({ model: "claude-haiku-4-5", max_tokens: 64, messages: hello });
    expect(r.id).toMatch(/^msg_fake\d+$/);
    expect([r.type, r.role, r.model, r.stop_reason]).toEqual([
      "message",
      "assistant",
      "claude-haiku-4-5",
      "end_turn",
    ]);
    expect(r.content).toEqual([{ type: "text", text: "echo: hello there world" }]);
    expect(r.usage).toMatchObject({ input_tokens: 5, output_tokens: 4 });
    const rec = fake.requests[0]!;
    expect([rec.method, rec.path, rec.headers["authorization"]]).toEqual([
      "POST",
      "/v1/messages",
      `Bearer ${API_KEY}`,
    ]);
    expect(rec.headers["anthropic-version"]).toBeTruthy();
  });

  it("streams events the SDK iterates and MessageStream accumulates", async () => {
    const raw = await client.messages.create({
      model: "claude-haiku-4-5",
      max_tokens: 64,
      messages: hello,
      stream: true,
    });
    const types: string[] = [];
    let text = "";
    for await (const ev of raw) {
      types.push(ev.type);
      if (ev.type === "content_block_delta" && ev.delta.type === "text_delta") text += ev.delta.text;
    }
    expect(text).toBe("echo: hello there world");
    expect(types[0]).toBe("message_start");
    expect(types.slice(-2)).toEqual(["message_delta", "message_stop"]);

    const stream = client.messages.stream({ model: "claude-haiku-4-5", max_tokens: 64, messages: hello });
    const pieces: string[] = [];
    stream.on("text", (t) => pieces.push(t));
    const final = await stream.finalMessage();
    expect(pieces.join("")).toBe("echo: hello there world");
    expect(final.content).toEqual([{ type: "text", text: "echo: hello there world" }]);
    expect([final.stop_reason, final.usage.output_tokens]).toEqual(["end_turn", 4]);
  });

  it("tool use, unary and streamed (input_json_delta reassembled by the SDK)", async () => {
    const params = {
      model: "claude-sonnet-4-5+tools",
      max_tokens: 64,
      messages: hello,
      tools: [weatherTool],
    };
    const r = await client.messages.create(params);
    expect(r.stop_reason).toBe("tool_use");
    expect(r.content[1]).toEqual({
      type: "tool_use",
      id: expect.stringMatching(/^toolu_fake/),
      name: "get_weather",
      input: { city: "Paris" },
    });
    const final = await client.messages.stream(params).finalMessage();
    const use = final.content.find((b) => b.type === "tool_use");
    expect(use?.type === "tool_use" ? [use.name, use.input] : undefined).toEqual([
      "get_weather",
      { city: "Paris" },
    ]);
    expect(final.stop_reason).toBe("tool_use");
  });

  it("thinking blocks with signatures, unary and streamed", async () => {
    const params = {
      model: "claude-sonnet-4-5+thinking",
      max_tokens: 2048,
      thinking: { type: "enabled" as const, budget_tokens: 1024 },
      messages: hello,
    };
    const r = await client.messages.create(params);
    expect(r.content[0]).toMatchObject({ type: "thinking", thinking: expect.stringContaining("hello") });
    const stream = client.messages.stream(params);
    let thinking = "";
    stream.on("thinking", (delta) => {
      thinking += delta;
    });
    const final = await stream.finalMessage();
    expect(final.content[0]).toMatchObject({ type: "thinking", signature: expect.any(String) });
    expect(thinking).toBe(r.content[0]?.type === "thinking" ? r.content[0].thinking : "?");
  });

  it("length, refusal and cache usage", async () => {
    const cut = await client.messages.create({ model: "claude-x+length", max_tokens: 2, messages: hello });
    expect(cut.stop_reason).toBe("max_tokens");
    const no = await client.messages.create({ model: "claude-x+refusal", max_tokens: 9, messages: hello });
    expect(no.stop_reason).toBe("refusal");
    const cached = await client.messages.create({ model: "claude-x+cache", max_tokens: 9, messages: hello });
    expect(cached.usage).toMatchObject({ cache_read_input_tokens: 100, cache_creation_input_tokens: 20 });
  });

  it("lists models with the SDK's auto-pagination", async () => {
    const ids: string[] = [];
    for await (const m of client.models.list({ limit: 2 })) ids.push(m.id);
    expect(ids).toEqual(["claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1"]);
    expect(fake.requests.map((r) => r.path)).toEqual(["/v1/models", "/v1/models"]);
    expect((await client.models.retrieve("claude-opus-4-1")).display_name).toBe("Claude Opus 4.1");
  });
});

describe("anthropic fake: errors the SDK classifies", () => {
  it.each([
    { model: "claude-x+status=429+retry_after=3", cls: RateLimitError, type: "rate_limit_error" },
    { model: "claude-x+status=529", cls: OverloadedError, type: "overloaded_error" },
    { model: "claude-x+status=500", cls: InternalServerError, type: "api_error" },
    { model: "claude-x+status=404", cls: NotFoundError, type: "not_found_error" },
    { model: "claude-x+prompt_too_long", cls: BadRequestError, type: "invalid_request_error" },
  ])("$model -> $cls.name", async ({ model, cls, type }) => {
    const e = await caught(client.messages.create({ model, max_tokens: 9, messages: hello }));
    expect(e).toBeInstanceOf(cls);
    expect((e as APIError).type).toBe(type);
    expect((e as APIError).requestID).toMatch(/^req_fake/);
    if (e instanceof RateLimitError) expect(e.headers?.get("retry-after")).toBe("3");
    if (e instanceof OverloadedError) expect(e).toBeInstanceOf(InternalServerError);
  });

  it("a wrong key is an AuthenticationError; x-api-key alone is accepted", async () => {
    const bad = new Anthropic({ baseURL: fake.url, apiKey: "sk-ant-wrong", maxRetries: 0, logLevel: "off" });
    const e = await caught(bad.messages.create({ model: "claude-x", max_tokens: 9, messages: hello }));
    expect(e).toBeInstanceOf(AuthenticationError);
    const viaHeader = new Anthropic({
      baseURL: fake.url,
      apiKey: null,
      authToken: null,
      defaultHeaders: { "x-api-key": API_KEY },
      maxRetries: 0,
      logLevel: "off",
    });
    const r = await viaHeader.messages.create({ model: "claude-x", max_tokens: 9, messages: hello });
    expect(r.stop_reason).toBe("end_turn");
  });

  it("an `event: error` mid-stream is an APIError of type overloaded_error", async () => {
    const stream = client.messages.stream({ model: "claude-x+stream_error", max_tokens: 9, messages: hello });
    const e = await caught(stream.finalMessage());
    expect(e).toBeInstanceOf(APIError);
    expect((e as APIError).type).toBe("overloaded_error");
  });

  it("rejects what Anthropic rejects: missing max_tokens, a system role in messages", async () => {
    const body = { model: "claude-x", messages: [{ role: "system", content: "x" }], max_tokens: 5 };
    const e = await caught(client.post("/v1/messages", { body }));
    expect(e).toBeInstanceOf(BadRequestError);
    expect((e as APIError).message).toContain("messages.0.role");
    const e2 = await caught(client.post("/v1/messages", { body: { model: "claude-x", messages: hello } }));
    expect((e2 as APIError).message).toContain("max_tokens");
  });
});
