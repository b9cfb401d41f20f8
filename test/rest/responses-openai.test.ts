// The Responses door through the official `openai` SDK (unmodified, baseURL = gateway/v1): create
// (plain, tools, json_schema, reasoning from the Anthropic fake), streams (the `responses.stream()`
// helper and raw `for await`) that end in the same Response as a unary call, function-calling loops
// with and without previous_response_id, GET / DELETE scoped by key, cut streams, and no secrets in
// logs.
import { createHash } from "node:crypto";
import OpenAI, { APIError } from "openai";
import type { Response, ResponseInputItem, ResponseStreamEvent } from "openai/resources/responses/responses";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AnthropicFake, startAnthropicFake } from "../fakes/anthropic.js";
import { type OpenAIFake, startOpenAIFake } from "../fakes/openai.js";
import { TOOL_ARGS } from "../fakes/openai-faults.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";

const OPENAI_KEY = "sk-upstream-openai-SECRET-42";
const ANTHROPIC_KEY = "sk-ant-upstream-SECRET-43";
const KEY_A = "llmgw-key-a-SECRET-0001";
const KEY_B = "llmgw-key-b-SECRET-0002";
const sha = (k: string) => createHash("sha256").update(k).digest("hex");
const TOOL = {
  type: "function" as const,
  name: "get_weather",
  description: "Current weather in a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  strict: false,
};

let openaiFake: OpenAIFake;
let anthropicFake: AnthropicFake;
let gw: TestGateway;
let a: OpenAI;
let b: OpenAI;

const DIFFERS = new Set(["id", "call_id", "encrypted_content", "parsed", "parsed_arguments"]);

/** A Response's output without what differs between two calls (ids) or what the stream helper adds. */
function shape(r: Response): unknown {
  return JSON.parse(JSON.stringify(r.output, (k, v: unknown) => (DIFFERS.has(k) ? undefined : v)));
}

/** The `store` field OpenAI sends (the SDK's Response type leaves it out). */
const stored = (r: Response) => (r as unknown as { store: boolean }).store;

async function failure(p: Promise<unknown>): Promise<APIError> {
  try {
    await p;
  } catch (e: unknown) {
    expect(e).toBeInstanceOf(APIError);
    return e as APIError;
  }
  return expect.fail("expected the call to fail");
}

beforeAll(async () => {
  openaiFake = await startOpenAIFake({ apiKey: OPENAI_KEY });
  anthropicFake = await startAnthropicFake({ apiKey: ANTHROPIC_KEY });
  gw = await startGateway({
    env: {
      OPENAI_API_KEY: OPENAI_KEY,
      OPENAI_BASE_URL: openaiFake.url,
      ANTHROPIC_API_KEY: ANTHROPIC_KEY,
      ANTHROPIC_BASE_URL: anthropicFake.url,
    },
    yaml: `keys:
  - { name: a, sha256: ${sha(KEY_A)} }
  - { name: b, sha256: ${sha(KEY_B)} }
responses:
  store_default: true
`,
  });
  a = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY_A, maxRetries: 0 });
  b = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY_B, maxRetries: 0 });
});

afterAll(async () => {
  await gw?.close();
  await openaiFake?.close();
  await anthropicFake?.close();
});

describe("responses.create", () => {
  it("answers a plain input with a completed Response the SDK reads", async () => {
    const { data: r, response } = await a.responses
      .create({ model: "mock/echo", input: "hello there", instructions: "be brief", metadata: { team: "x" } })
      .withResponse();
    expect(r.object).toBe("response");
    expect(r.id).toMatch(/^resp_/);
    expect(r.status).toBe("completed");
    expect(r.model).toBe("mock/echo");
    expect(r.output_text).toBe("echo: hello there");
    expect(r.output).toHaveLength(1);
    expect(r.output[0]).toMatchObject({ type: "message", role: "assistant", status: "completed" });
    expect(r.instructions).toBe("be brief");
    expect(r.metadata).toEqual({ team: "x" });
    expect(stored(r)).toBe(true);
    expect(r.error).toBeNull();
    expect(r.usage?.input_tokens).toBeGreaterThan(0);
    expect(r.usage?.total_tokens).toBe((r.usage?.input_tokens ?? 0) + (r.usage?.output_tokens ?? 0));
    expect(response.headers.get("x-llmgw-provider")).toBe("mock");
    expect(response.headers.get("x-request-id")).toBeTruthy();
    expect(response.headers.get("x-llmgw-store")).toBe("stored");
  });

  it("calls function tools and translates them for an OpenAI upstream", async () => {
    openaiFake.reset();
    const r = await a.responses.create({
      model: "openai/gpt-4o+tools",
      input: [{ role: "user", content: [{ type: "input_text", text: "weather in Paris?" }] }],
      tools: [TOOL],
      tool_choice: { type: "function", name: "get_weather" },
    });
    const call = r.output.find((o) => o.type === "function_call");
    expect(call).toMatchObject({
      type: "function_call",
      name: "get_weather",
      arguments: TOOL_ARGS,
      status: "completed",
    });
    expect(call?.type === "function_call" && call.call_id).toMatch(/^call_/);
    const sent = openaiFake.requests.at(-1)?.body as Record<string, unknown>;
    expect(sent["tools"]).toEqual([
      {
        type: "function",
        function: { name: "get_weather", description: TOOL.description, parameters: TOOL.parameters },
      },
    ]);
    expect(sent["tool_choice"]).toEqual({ type: "function", function: { name: "get_weather" } });
  });

  it("passes a json_schema text format upstream with its schema verbatim", async () => {
    openaiFake.reset();
    const schema = { type: "object", properties: { zeta: { type: "string" }, alpha: { type: "integer" } } };
    const r = await a.responses.create({
      model: "openai/gpt-4o",
      input: "give json",
      text: { format: { type: "json_schema", name: "thing", schema, strict: true } },
    });
    expect(r.text?.format).toMatchObject({ type: "json_schema", name: "thing" });
    const sent = openaiFake.requests.at(-1)?.body as { response_format?: unknown };
    expect(sent.response_format).toEqual({
      type: "json_schema",
      json_schema: { name: "thing", schema, strict: true },
    });
  });

  it("returns signed reasoning as a reasoning item whose state goes back to the provider that made it", async () => {
    anthropicFake.reset();
    const first = await a.responses.create({
      model: "anthropic/claude-sonnet-4-5+thinking",
      input: "think about this",
      max_output_tokens: 16000,
      reasoning: { effort: "low", summary: "auto" },
      store: false,
    });
    const rs = first.output[0];
    expect(rs?.type).toBe("reasoning");
    if (rs?.type !== "reasoning") return;
    expect(rs.summary[0]?.text).toBe('The user said "think about this". I echo it.');
    expect(rs.encrypted_content).toMatch(/^llmgw1\./);
    expect(first.output_text).toBe("echo: think about this");
    // The next turn sends the items back as input (no store): the strict fake verifies the signature.
    const second = await a.responses.create({
      model: "anthropic/claude-sonnet-4-5+thinking",
      input: [...(first.output as ResponseInputItem[]), { role: "user", content: "and again" }],
      max_output_tokens: 16000,
      reasoning: { effort: "low" },
      store: false,
    });
    expect(second.output_text).toBe("echo: and again");
    const sent = anthropicFake.requests.at(-1)?.body as { messages: { role: string; content: unknown }[] };
    const assistant = sent.messages.find((m) => m.role === "assistant");
    expect(JSON.stringify(assistant?.content)).toContain('"type":"thinking"');
    expect(JSON.stringify(assistant?.content)).toContain('"signature"');
  });

  it("refuses bad input with OpenAI's error shape, naming the field", async () => {
    const e = await failure(
      a.responses.create({
        model: "mock/echo",
        input: [{ role: "user", content: [{ type: "input_image", file_id: "file-1", detail: "auto" }] }],
      }),
    );
    expect(e.status).toBe(400);
    expect(e.param).toBe("input[0].content[0].file_id");
    const u = await failure(a.responses.create({ model: "mock/echo", input: "x", background: true }));
    expect(u.status).toBe(400);
    expect(u.code).toBe("unsupported_parameter");
  });
});

describe("streams", () => {
  it("responses.stream() ends in the same output as the unary call", async () => {
    const unary = await a.responses.create({ model: "mock/echo", input: "one two three" });
    const texts: string[] = [];
    const stream = a.responses.stream({ model: "mock/echo", input: "one two three" });
    stream.on("response.output_text.delta", (e) => texts.push(e.delta));
    const final = await stream.finalResponse();
    expect(texts.join("")).toBe("echo: one two three");
    expect(final.status).toBe("completed");
    expect(final.output_text).toBe(unary.output_text);
    expect(shape(final)).toEqual(shape(unary));
    expect(final.usage).toEqual(unary.usage);
  });

  it("streams function calls and reasoning the way the SDK accumulates them", async () => {
    const tools = await a.responses.create({
      model: "openai/gpt-4o+tools",
      input: "weather?",
      tools: [TOOL],
    });
    const streamed = await a.responses
      .stream({ model: "openai/gpt-4o+tools", input: "weather?", tools: [TOOL] })
      .finalResponse();
    expect(shape(streamed)).toEqual(shape(tools));
    const think = {
      model: "anthropic/claude-sonnet-4-5+thinking",
      input: "hmm",
      max_output_tokens: 16000,
      reasoning: { effort: "low" as const, summary: "auto" as const },
    };
    const u = await a.responses.create(think);
    const s = await a.responses.stream(think).finalResponse();
    expect(shape(s)).toEqual(shape(u));
    const rs = s.output[0];
    expect(rs?.type === "reasoning" && rs.encrypted_content).toMatch(/^llmgw1\./);
  });

  it("for await over create({stream: true}) yields ordered events with sequence numbers", async () => {
    const events: ResponseStreamEvent[] = [];
    for await (const e of await a.responses.create({ model: "mock/echo", input: "hi you", stream: true }))
      events.push(e);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect(events.map((e) => e.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
  });

  it("a stream cut after it started ends with an error event and response.failed, never completed", async () => {
    const events: ResponseStreamEvent[] = [];
    for await (const e of await a.responses.create({ model: "mock/cut", input: "a b c", stream: true }))
      events.push(e);
    const types = events.map((e) => e.type);
    expect(types).not.toContain("response.completed");
    expect(types.slice(-2)).toEqual(["error", "response.failed"]);
    const failed = events.at(-1);
    expect(failed?.type === "response.failed" && failed.response.status).toBe("failed");
    // The stream helper turns the error event into a rejection: never a finished Response.
    await expect(a.responses.stream({ model: "mock/cut", input: "a b c" }).finalResponse()).rejects.toThrow(
      /mock upstream closed the stream/,
    );
  });

  it("an error before the stream starts is a plain HTTP error", async () => {
    const e = await failure(a.responses.create({ model: "mock/error-429", input: "x", stream: true }));
    expect(e.status).toBe(429);
  });
});

describe("conversations and the store", () => {
  it("runs a function-calling loop with previous_response_id", async () => {
    openaiFake.reset();
    const first = await a.responses.create({
      model: "openai/gpt-4o+tools",
      input: "weather in Paris?",
      tools: [TOOL],
    });
    const call = first.output.find((o) => o.type === "function_call");
    if (call?.type !== "function_call") return expect.fail("no function call");
    const second = await a.responses.create({
      model: "openai/gpt-4o",
      previous_response_id: first.id,
      input: [{ type: "function_call_output", call_id: call.call_id, output: '{"temp":21}' }],
      tools: [TOOL],
    });
    expect(second.output_text).toBe("echo: weather in Paris?");
    expect(second.previous_response_id).toBe(first.id);
    const sent = openaiFake.requests.at(-1)?.body as { messages: Record<string, unknown>[] };
    expect(sent.messages.map((m) => m["role"])).toEqual(["user", "assistant", "tool"]);
    expect(sent.messages[1]?.["tool_calls"]).toEqual([
      { id: call.call_id, type: "function", function: { name: "get_weather", arguments: TOOL_ARGS } },
    ]);
    expect(sent.messages[2]).toMatchObject({ tool_call_id: call.call_id, content: '{"temp":21}' });
  });

  it("runs the same loop statelessly, sending the output items back as input", async () => {
    openaiFake.reset();
    const input: ResponseInputItem[] = [{ role: "user", content: "weather in Rome?" }];
    const first = await a.responses.create({
      model: "openai/gpt-4o+tools",
      input,
      tools: [TOOL],
      store: false,
    });
    expect(stored(first)).toBe(false);
    input.push(...(first.output as ResponseInputItem[]));
    for (const o of first.output) {
      if (o.type === "function_call")
        input.push({ type: "function_call_output", call_id: o.call_id, output: "sunny" });
    }
    const second = await a.responses.create({ model: "openai/gpt-4o", input, tools: [TOOL], store: false });
    expect(second.output_text).toBe("echo: weather in Rome?");
    const sent = openaiFake.requests.at(-1)?.body as { messages: Record<string, unknown>[] };
    expect(sent.messages.map((m) => m["role"])).toEqual(["user", "assistant", "tool"]);
    // Not stored: it cannot be read back or continued.
    expect((await failure(a.responses.retrieve(first.id))).status).toBe(404);
  });

  it("GET returns the stored Response, DELETE removes it, and another key sees neither", async () => {
    const r = await a.responses.create({ model: "mock/echo", input: "keep me" });
    const got = await a.responses.retrieve(r.id);
    expect(got.output_text).toBe("echo: keep me");
    expect(got.id).toBe(r.id);
    expect((await failure(b.responses.retrieve(r.id))).status).toBe(404);
    const chained = await failure(
      b.responses.create({ model: "mock/echo", input: "x", previous_response_id: r.id }),
    );
    expect(chained.status).toBe(404);
    expect(chained.message).toContain(`'${r.id}' not found`);
    expect((await failure(b.responses.delete(r.id))).status).toBe(404);
    await a.responses.delete(r.id);
    expect((await failure(a.responses.retrieve(r.id))).status).toBe(404);
  });

  it("stores a streamed response before response.completed, ready to GET and to continue", async () => {
    const final = await a.responses.stream({ model: "mock/echo", input: "streamed one" }).finalResponse();
    const got = await a.responses.retrieve(final.id);
    expect(shape(got)).toEqual(shape(final));
    expect(got.output.map((o) => o.id)).toEqual(final.output.map((o) => o.id));
    const next = await a.responses.create({
      model: "mock/echo",
      previous_response_id: final.id,
      input: "second",
    });
    expect(next.output_text).toBe("echo: second");
  });

  it("resolves an item_reference to an item of a stored response", async () => {
    openaiFake.reset();
    const first = await a.responses.create({ model: "openai/gpt-4o", input: "remember this" });
    const msg = first.output[0];
    const second = await a.responses.create({
      model: "openai/gpt-4o",
      input: [
        { role: "user", content: "remember this" },
        { type: "item_reference", id: msg?.id ?? "" },
        { role: "user", content: "ok?" },
      ],
    });
    expect(second.output_text).toBe("echo: ok?");
    const sent = openaiFake.requests.at(-1)?.body as { messages: Record<string, unknown>[] };
    expect(sent.messages[1]).toMatchObject({ role: "assistant", content: "echo: remember this" });
    const e = await failure(
      a.responses.create({ model: "mock/echo", input: [{ type: "item_reference", id: "msg_unknown" }] }),
    );
    expect(e.status).toBe(404);
  });

  it("says why when storage is off for the caller (an open gateway, no anonymous storing)", async () => {
    const open = await startGateway({ yaml: "responses:\n  store_default: false\n" });
    try {
      const c = new OpenAI({ baseURL: `${open.url}/v1`, apiKey: "anything", maxRetries: 0 });
      const { data: r, response } = await c.responses
        .create({ model: "mock/echo", input: "x", store: true })
        .withResponse();
      expect(stored(r)).toBe(false);
      expect(response.headers.get("x-llmgw-store")).toBe("disabled");
      const e = await failure(c.responses.retrieve(r.id));
      expect(e.status).toBe(400);
      expect(e.message).toContain("allow_anonymous_store");
      const p = await failure(
        c.responses.create({ model: "mock/echo", input: "y", previous_response_id: r.id }),
      );
      expect(p.status).toBe(400);
      expect(p.message).toContain("previous_response_id");
    } finally {
      await open.close();
    }
  });

  it("keeps every secret out of the logs", () => {
    const all = gw.logs.join("\n");
    for (const s of [OPENAI_KEY, ANTHROPIC_KEY, KEY_A, KEY_B]) expect(all).not.toContain(s);
  });
});
