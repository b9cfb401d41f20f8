// The Anthropic door through the official @anthropic-ai/sdk (unmodified: baseURL + apiKey): create,
// stream (finalMessage equals the unary answer), a tool loop with signed thinking against the
// Anthropic fake, the same app on an OpenAI model and on mock/echo, countTokens, the SDK's error
// classes per status, and no secret in any log line or answer.
import { createHash } from "node:crypto";
import Anthropic, {
  APIError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  RateLimitError,
} from "@anthropic-ai/sdk";
import type { Message, MessageParam, Tool } from "@anthropic-ai/sdk/resources/messages";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AnthropicFake, startAnthropicFake } from "../fakes/anthropic.js";
import { type GeminiFake, startGeminiFake } from "../fakes/gemini.js";
import { type OpenAIFake, startOpenAIFake } from "../fakes/openai.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";

const ANT_KEY = "sk-ant-upstream-SECRET-0123456789";
const OAI_KEY = "sk-openai-upstream-SECRET-987654";
const GEM_KEY = "gemini-upstream-SECRET-55555";
const CLIENT_KEY = "sk-llmgw-client-SECRET-424242";
const TOOL: Tool = {
  name: "get_weather",
  description: "Current weather in a city",
  input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};

let ant: AnthropicFake;
let oai: OpenAIFake;
let gem: GeminiFake;
let gw: TestGateway;
let gwKeyed: TestGateway;
let gwWarn: TestGateway;
let client: Anthropic;

function sdk(g: TestGateway, apiKey = "sk-anything", maxRetries = 0): Anthropic {
  return new Anthropic({ baseURL: g.url, apiKey, maxRetries });
}

async function failure(p: Promise<unknown>): Promise<APIError> {
  try {
    await p;
  } catch (e: unknown) {
    expect(e).toBeInstanceOf(APIError);
    return e as APIError;
  }
  return expect.fail("expected the call to fail");
}

/** A Message without what differs between two calls (message and tool-call ids) and what the stream helper adds. */
function comparable(m: Message): Record<string, unknown> {
  const { id, parsed_output, content, ...rest } = m as Message & { parsed_output?: unknown };
  expect(id).toMatch(/^msg_/);
  const blocks = content.map((b) => {
    if (b.type !== "tool_use") return b;
    expect(b.id).not.toBe("");
    return { ...b, id: "(call id)" };
  });
  return { ...rest, content: blocks };
}

const user = (text: string): MessageParam[] => [{ role: "user", content: text }];

beforeAll(async () => {
  ant = await startAnthropicFake({ apiKey: ANT_KEY });
  oai = await startOpenAIFake({ apiKey: OAI_KEY });
  gem = await startGeminiFake({ apiKey: GEM_KEY });
  const env = {
    ANTHROPIC_API_KEY: ANT_KEY,
    ANTHROPIC_BASE_URL: ant.url,
    OPENAI_API_KEY: OAI_KEY,
    OPENAI_BASE_URL: oai.url,
    GEMINI_API_KEY: GEM_KEY,
    GEMINI_BASE_URL: gem.url,
  };
  const retries = "defaults:\n  retries: { max_attempts: 1 }\n";
  const sha = createHash("sha256").update(CLIENT_KEY).digest("hex");
  gw = await startGateway({
    env,
    yaml: `${retries}models:\n  claude-alias:\n    deployments: [{ target: anthropic/claude-sonnet-4-5 }]\n`,
  });
  gwKeyed = await startGateway({
    env,
    yaml: `${retries}keys:\n  - name: app\n    sha256: ${sha}\n    models: ["anthropic/*"]\n`,
  });
  // A small request cap (413 request_too_large) under the warn policy.
  gwWarn = await startGateway({
    env,
    yaml: "server:\n  max_request_bytes: 65536\ndefaults:\n  unsupported_params: warn\n",
  });
  client = sdk(gw);
});

afterAll(async () => {
  await Promise.all([gw, gwKeyed, gwWarn].map((g) => g?.close()));
  await Promise.all([ant?.close(), oai?.close(), gem?.close()]);
});

describe("messages.create and messages.stream", () => {
  it("answers a unary call with a Message naming the model asked for", async () => {
    const { data, response } = await client.messages
      .create({ model: "anthropic/claude-sonnet-4-5", max_tokens: 256, messages: user("hello door") })
      .withResponse();
    expect(data.type).toBe("message");
    expect(data.role).toBe("assistant");
    expect(data.model).toBe("anthropic/claude-sonnet-4-5");
    expect(data.content).toEqual([{ type: "text", text: "echo: hello door", citations: null }]);
    expect(data.stop_reason).toBe("end_turn");
    expect(data.stop_sequence).toBeNull();
    expect(data.usage.input_tokens).toBeGreaterThan(0);
    expect(data.usage.output_tokens).toBeGreaterThan(0);
    expect(response.headers.get("request-id")).toBeTruthy();
    expect(response.headers.get("x-llmgw-provider")).toBe("anthropic");
    const upstream = ant.requests[ant.requests.length - 1];
    expect((upstream?.body as { model?: string } | undefined)?.model).toBe("claude-sonnet-4-5");
  });

  it("streams: finalMessage() equals the unary answer, thinking and tool_use included", async () => {
    for (const model of ["anthropic/claude-sonnet-4-5", "anthropic/claude-sonnet-4-5+thinking+tools+cache"]) {
      const params = {
        model,
        max_tokens: 4096,
        messages: user("same prompt"),
        tools: [TOOL],
        thinking: { type: "enabled" as const, budget_tokens: 1024 },
      };
      const unary = await client.messages.create(params);
      const stream = client.messages.stream(params);
      let text = "";
      stream.on("text", (d) => {
        text += d;
      });
      const final = await stream.finalMessage();
      expect(comparable(final)).toEqual(comparable(unary));
      expect(text).toBe(unary.content.flatMap((b) => (b.type === "text" ? [b.text] : [])).join(""));
      expect(unary.content[0]?.type).toBe("thinking");
    }
  });

  it("answers an alias and reports cache reads apart from input_tokens", async () => {
    const m = await client.messages.create({
      model: "claude-alias",
      max_tokens: 64,
      messages: user("aliased"),
    });
    expect(m.model).toBe("claude-alias");
    const cached = await client.messages.create({
      model: "anthropic/claude-sonnet-4-5+cache",
      max_tokens: 64,
      messages: user("cached"),
    });
    expect(cached.usage.cache_read_input_tokens).toBe(100);
    expect(cached.usage.cache_creation_input_tokens).toBe(20);
    expect(cached.usage.input_tokens).toBe(Math.ceil("cached".length / 4));
  });
});

describe("a tool loop with thinking on (signatures round-trip through the door)", () => {
  const thinking = { type: "enabled" as const, budget_tokens: 1024 };

  async function loop(first: Message, model: string): Promise<Message> {
    const tool = first.content.find((b) => b.type === "tool_use");
    expect(tool?.type).toBe("tool_use");
    if (tool?.type !== "tool_use") throw new Error("no tool_use");
    expect(tool.input).toEqual({ city: "Paris" });
    const messages: MessageParam[] = [
      { role: "user", content: "weather in Paris?" },
      { role: "assistant", content: first.content },
      { role: "user", content: [{ type: "tool_result", tool_use_id: tool.id, content: "18°C, sunny" }] },
    ];
    return client.messages.create({ model, max_tokens: 4096, thinking, tools: [TOOL], messages });
  }

  it("passes when the provider gets its signatures back (unary and streamed first turns)", async () => {
    const model = "anthropic/claude-sonnet-4-5+thinking+tools+redacted";
    const first = await client.messages.create({
      model,
      max_tokens: 4096,
      thinking,
      tools: [TOOL],
      messages: user("weather in Paris?"),
    });
    expect(first.content.map((b) => b.type)).toEqual(["thinking", "redacted_thinking", "text", "tool_use"]);
    expect(first.stop_reason).toBe("tool_use");
    const second = await loop(first, "anthropic/claude-sonnet-4-5");
    expect(second.stop_reason).toBe("end_turn");
    expect(second.content[0]?.type).toBe("thinking");

    const streamed = await client.messages
      .stream({ model, max_tokens: 4096, thinking, tools: [TOOL], messages: user("weather in Paris?") })
      .finalMessage();
    const again = await loop(streamed, "anthropic/claude-sonnet-4-5");
    expect(again.stop_reason).toBe("end_turn");
  });

  it("fails with BadRequestError when a signature was altered", async () => {
    const first = await client.messages.create({
      model: "anthropic/claude-sonnet-4-5+thinking+tools",
      max_tokens: 4096,
      thinking,
      tools: [TOOL],
      messages: user("weather in Paris?"),
    });
    const content = first.content.map((b) =>
      b.type === "thinking" ? { ...b, signature: `x${b.signature}` } : b,
    );
    const e = await failure(loop({ ...first, content }, "anthropic/claude-sonnet-4-5"));
    expect(e).toBeInstanceOf(BadRequestError);
    expect(e.type).toBe("invalid_request_error");
  });
});

describe("the same app on other providers", () => {
  it("runs on an OpenAI model: create, stream and a tool call", async () => {
    const m = await client.messages.create({
      model: "openai/gpt-4o-mini",
      max_tokens: 64,
      messages: user("hi oai"),
    });
    expect(m.model).toBe("openai/gpt-4o-mini");
    expect(m.content[0]).toMatchObject({ type: "text" });
    const params = {
      model: "openai/gpt-4o-mini+tools",
      max_tokens: 64,
      tools: [TOOL],
      messages: user("tool please"),
    };
    const unary = await client.messages.create(params);
    const final = await client.messages.stream(params).finalMessage();
    expect(comparable(final)).toEqual(comparable(unary));
    expect(unary.stop_reason).toBe("tool_use");
    const call = unary.content.find((b) => b.type === "tool_use");
    expect(call).toMatchObject({ type: "tool_use", name: "get_weather" });
    const upstream = oai.requests[oai.requests.length - 1]?.body as {
      max_tokens?: number;
      max_completion_tokens?: number;
    };
    expect(upstream.max_tokens ?? upstream.max_completion_tokens).toBe(64);
  });

  it("runs a Gemini 3 tool loop: its thought signatures ride in the tool_use id and come back", async () => {
    for (const streamed of [false, true]) {
      const params = {
        model: "gemini/gemini-3-flash+tools+thinking",
        max_tokens: 256,
        tools: [TOOL],
        messages: user("weather in Paris?"),
      };
      const first = streamed
        ? await client.messages.stream(params).finalMessage()
        : await client.messages.create(params);
      expect(first.stop_reason).toBe("tool_use");
      const call = first.content.find((b) => b.type === "tool_use");
      if (call?.type !== "tool_use") throw new Error("no tool_use");
      expect(call.id).toMatch(/^llmgw1\./);
      const messages: MessageParam[] = [
        ...params.messages,
        { role: "assistant", content: first.content },
        { role: "user", content: [{ type: "tool_result", tool_use_id: call.id, content: "18C" }] },
      ];
      const second = await client.messages.create({
        model: "gemini/gemini-3-flash",
        max_tokens: 256,
        tools: [TOOL],
        messages,
      });
      expect(second.stop_reason).toBe("end_turn");
      // Upstream, the model turn's functionCall part carried the signature Gemini issued.
      type Part = { functionCall?: unknown; thoughtSignature?: string };
      const sent = gem.requests[gem.requests.length - 1]?.body as { contents: { parts: Part[] }[] };
      const callPart = sent.contents.flatMap((c) => c.parts).find((p) => p.functionCall !== undefined);
      expect(callPart?.thoughtSignature).toMatch(/.{8}/);
      expect(callPart?.thoughtSignature).not.toBe("skip_thought_signature_validator");
    }
  });

  it("runs on mock/echo under the default policy (the mock honours max_tokens; unary and stream)", async () => {
    const c = client;
    const m = await c.messages.create({
      model: "mock/echo",
      max_tokens: 64,
      system: "be brief",
      messages: user("from mock"),
    });
    expect(m.content).toEqual([{ type: "text", text: "echo: from mock", citations: null }]);
    const final = await c.messages
      .stream({ model: "mock/echo", max_tokens: 64, messages: user("from mock") })
      .finalMessage();
    expect(final.content).toEqual(m.content);
    expect(final.stop_reason).toBe("end_turn");
  });
});

describe("what Claude Code and other Anthropic clients send", () => {
  it("serves the beta namespace (?beta=true) with anthropic-beta headers", async () => {
    const m = await client.beta.messages.create(
      { model: "anthropic/claude-sonnet-4-5", max_tokens: 32, messages: user("beta path") },
      { headers: { "anthropic-beta": "interleaved-thinking-2025-05-14" } },
    );
    expect(m.content[0]).toMatchObject({ type: "text", text: "echo: beta path" });
    const n = await client.beta.messages.countTokens({
      model: "anthropic/claude-sonnet-4-5",
      messages: user("x"),
    });
    expect(n.input_tokens).toBeGreaterThan(0);
  });

  it("takes the key as x-api-key or Authorization: Bearer; anthropic-version is optional", async () => {
    const body = JSON.stringify({ model: "anthropic/claude-sonnet-4-5", max_tokens: 8, messages: user("k") });
    const post = (headers: Record<string, string>) =>
      fetch(`${gwKeyed.url}/v1/messages`, {
        method: "POST",
        body,
        headers: { "content-type": "application/json", ...headers },
      });
    expect((await post({ "x-api-key": CLIENT_KEY, "anthropic-version": "2023-06-01" })).status).toBe(200);
    expect((await post({ authorization: `Bearer ${CLIENT_KEY}` })).status).toBe(200);
    const none = await post({});
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ type: "error", error: { type: "authentication_error" } });
    const get = await fetch(`${gw.url}/v1/messages`);
    expect(get.status).toBe(405);
    expect(await get.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
  });

  it("forwards cache_control breakpoints (with their ttl) to Anthropic", async () => {
    await client.messages.create({
      model: "anthropic/claude-sonnet-4-5",
      max_tokens: 32,
      system: [
        { type: "text", text: "Long stable instructions.", cache_control: { type: "ephemeral", ttl: "1h" } },
      ],
      messages: [
        { role: "user", content: [{ type: "text", text: "q", cache_control: { type: "ephemeral" } }] },
      ],
    });
    const sent = ant.requests[ant.requests.length - 1]?.body as { system?: unknown; messages?: unknown };
    expect(JSON.stringify(sent.system)).toContain('"cache_control":{"type":"ephemeral","ttl":"1h"}');
    expect(JSON.stringify(sent.messages)).toContain('"cache_control":{"type":"ephemeral"}');
  });

  it("answers a body over server.max_request_bytes with 413 request_too_large", async () => {
    const e = await failure(
      sdk(gwWarn).messages.create({ model: "mock/echo", max_tokens: 8, messages: user("x".repeat(70_000)) }),
    );
    expect(e.status).toBe(413);
    expect(e.type).toBe("request_too_large");
  });
});

describe("count_tokens", () => {
  it("counts a prompt with the gateway's counter", async () => {
    const small = await client.messages.countTokens({
      model: "anthropic/claude-sonnet-4-5",
      messages: user("hi"),
    });
    const big = await client.messages.countTokens({
      model: "anthropic/claude-sonnet-4-5",
      system: "You are a careful assistant. ".repeat(20),
      tools: [TOOL],
      messages: user("hi ".repeat(200)),
    });
    expect(small.input_tokens).toBeGreaterThan(0);
    expect(big.input_tokens).toBeGreaterThan(small.input_tokens + 100);
  });
});

describe("errors in the SDK's classes", () => {
  it("maps auth, validation, not-found, rate-limit, overload and upstream failures", async () => {
    const auth = await failure(
      sdk(gwKeyed, "sk-wrong").messages.create({
        model: "anthropic/claude-sonnet-4-5",
        max_tokens: 8,
        messages: user("x"),
      }),
    );
    expect(auth).toBeInstanceOf(AuthenticationError);
    expect(auth.type).toBe("authentication_error");
    const ok = await sdk(gwKeyed, CLIENT_KEY).messages.create({
      model: "anthropic/claude-sonnet-4-5",
      max_tokens: 8,
      messages: user("keyed"),
    });
    expect(ok.content[0]).toMatchObject({ text: "echo: keyed" });
    const denied = await failure(
      sdk(gwKeyed, CLIENT_KEY).messages.create({ model: "mock/echo", max_tokens: 8, messages: user("x") }),
    );
    expect(denied.status).toBe(403);
    expect(denied.type).toBe("permission_error");

    const noMax = await failure(
      client.post("/v1/messages", { body: { model: "mock/echo", messages: user("x") } }),
    );
    expect(noMax).toBeInstanceOf(BadRequestError);
    expect(noMax.message).toContain("max_tokens");
    const unknown = await failure(
      client.messages.create({ model: "nope/x", max_tokens: 8, messages: user("x") }),
    );
    expect(unknown).toBeInstanceOf(NotFoundError);
    expect(unknown.type).toBe("not_found_error");
    const route = await failure(client.post("/v1/messages/nowhere", { body: {} }));
    expect(route).toBeInstanceOf(NotFoundError);
    expect((route.error as { type?: string }).type).toBe("error");

    const limited = await failure(
      client.messages.create({
        model: "anthropic/claude-x+status=429+retry_after=3",
        max_tokens: 8,
        messages: user("x"),
      }),
    );
    expect(limited).toBeInstanceOf(RateLimitError);
    expect(limited.headers?.get("retry-after")).toBe("3");
    const overloaded = await failure(
      client.messages.create({ model: "anthropic/claude-x+status=529", max_tokens: 8, messages: user("x") }),
    );
    expect(overloaded).toBeInstanceOf(InternalServerError);
    expect(overloaded.status).toBe(529);
    expect(overloaded.type).toBe("overloaded_error");
    const broken = await failure(
      client.messages.create({ model: "anthropic/claude-x+status=500", max_tokens: 8, messages: user("x") }),
    );
    expect(broken).toBeInstanceOf(InternalServerError);
    expect(broken.type).toBe("api_error");
  });

  it("ends a stream that fails after its start with an error event, never message_stop", async () => {
    const stream = client.messages.stream({
      model: "anthropic/claude-x+drop=2",
      max_tokens: 64,
      messages: user("one two three four"),
    });
    const events: string[] = [];
    stream.on("streamEvent", (e) => {
      events.push(e.type);
    });
    const e = await failure(stream.finalMessage());
    expect(e.type).toBe("api_error");
    expect(events[0]).toBe("message_start");
    expect(events).not.toContain("message_stop");
  });

  it("keeps secrets out of logs and answers", async () => {
    const all = gw.logs.join("\n") + gwKeyed.logs.join("\n") + gwWarn.logs.join("\n");
    for (const secret of [ANT_KEY, OAI_KEY, GEM_KEY, CLIENT_KEY, "sk-wrong"])
      expect(all).not.toContain(secret);
    const e = await failure(
      sdk(gwKeyed, "sk-wrong-SECRET-xyz").messages.create({
        model: "anthropic/claude-sonnet-4-5",
        max_tokens: 8,
        messages: user("x"),
      }),
    );
    expect(JSON.stringify(e.error)).not.toContain("SECRET");
  });
});
