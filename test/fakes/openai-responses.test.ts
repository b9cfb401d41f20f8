// The Responses fake is trusted only because the official `openai` SDK parses what it sends:
// responses.create (unary and stream: true), the responses.stream helper's accumulated final
// response, function calls, encrypted reasoning round trips, web search, and error answers.
import OpenAI, { BadRequestError, NotFoundError, RateLimitError } from "openai";
import type { ResponseInputItem, ResponseStreamEvent } from "openai/resources/responses/responses";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type OpenAIResponsesFake, startOpenAIResponsesFake } from "./openai-responses.js";

const API_KEY = "sk-test-responses-0123456789abcdef";
let fake: OpenAIResponsesFake;
let client: OpenAI;

beforeAll(async () => {
  fake = await startOpenAIResponsesFake({ apiKey: API_KEY });
  client = new OpenAI({ baseURL: fake.url, apiKey: API_KEY, maxRetries: 0, logLevel: "off" });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

const weather = {
  type: "function" as const,
  name: "get_weather",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  strict: false,
};

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e: unknown) {
    return e;
  }
  throw new Error("expected the call to fail");
}

describe("openai responses fake: the SDK parses it", () => {
  it("responses.create: a message, usage, output_text", async () => {
    const r = await client.responses.create({
      model: "gpt-4o",
      input: "hello there",
      instructions: "be brief",
    });
    expect([r.object, r.status, r.model, r.output_text]).toEqual([
      "response",
      "completed",
      "gpt-4o",
      "echo: hello there",
    ]);
    expect(r.output.map((i) => i.type)).toEqual(["message"]);
    expect(r.usage?.input_tokens).toBeGreaterThan(0);
    expect(fake.requests[0]?.path).toBe("/v1/responses");
  });

  it("a reasoning model returns a reasoning item with encrypted content, which verifies on the next turn", async () => {
    const first = await client.responses.create({
      model: "o3",
      input: "why?",
      store: false,
      include: ["reasoning.encrypted_content"],
      reasoning: { effort: "low", summary: "auto" },
    });
    const rs = first.output[0];
    if (rs?.type !== "reasoning") throw new Error("no reasoning item");
    expect(rs.encrypted_content).toMatch(/^gAAAAA/);
    expect(rs.summary.map((s) => s.text).join("")).toContain("Answering");
    expect(first.usage?.output_tokens_details.reasoning_tokens).toBe(64);
    const input: ResponseInputItem[] = [
      { role: "user", content: "why?" },
      ...(first.output as ResponseInputItem[]),
      { role: "user", content: "and then?" },
    ];
    const second = await client.responses.create({ model: "o3", input, store: false });
    expect(second.output_text).toBe("echo: and then?");
    // Tampered encrypted content is refused as the real API does.
    const forged = input.map((i) =>
      "type" in i && i.type === "reasoning" ? { ...i, encrypted_content: "gAAAAAforged==" } : i,
    );
    const e = await caught(client.responses.create({ model: "o3", input: forged, store: false }));
    expect(e).toBeInstanceOf(BadRequestError);
    expect([(e as BadRequestError).code, (e as BadRequestError).message]).toEqual([
      "invalid_encrypted_content",
      "400 The encrypted content gAAA...ed== could not be verified.",
    ]);
    // Without encrypted content and store: false the item cannot be found.
    const bare = input.map((i) =>
      "type" in i && i.type === "reasoning" ? { ...i, encrypted_content: null } : i,
    );
    expect(await caught(client.responses.create({ model: "o3", input: bare, store: false }))).toBeInstanceOf(
      NotFoundError,
    );
  });

  it("stream: true yields the real event order, ending with response.completed", async () => {
    const stream = await client.responses.create({ model: "gpt-4o", input: "one two three", stream: true });
    const events: ResponseStreamEvent[] = [];
    for await (const e of stream) events.push(e);
    const types = events.map((e) => e.type);
    expect(types.slice(0, 4)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
    ]);
    expect(types.slice(-4)).toEqual([
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const text = events.map((e) => (e.type === "response.output_text.delta" ? e.delta : "")).join("");
    expect(text).toBe("echo: one two three");
  });

  it("responses.stream accumulates function calls and reasoning into the final response", async () => {
    const stream = client.responses.stream({
      model: "gpt-5+tools",
      input: "weather in Paris?",
      tools: [weather],
      reasoning: { summary: "auto" },
      include: ["reasoning.encrypted_content"],
      store: false,
    });
    const args: string[] = [];
    stream.on("response.function_call_arguments.delta", (e) => args.push(e.delta));
    const final = await stream.finalResponse();
    expect(final.output.map((i) => i.type)).toEqual(["reasoning", "function_call"]);
    const call = final.output[1];
    if (call?.type !== "function_call") throw new Error("no call");
    expect([call.name, call.arguments, call.call_id]).toEqual([
      "get_weather",
      '{"city":"Paris"}',
      expect.stringMatching(/^call_fake\d+$/),
    ]);
    expect(args.join("")).toBe('{"city":"Paris"}');
    const rs = final.output[0];
    expect(rs?.type === "reasoning" && rs.encrypted_content).toMatch(/^gAAAAA/);
    // The call's output goes back with its call; an orphan output is refused.
    const next = await client.responses.create({
      model: "gpt-5",
      store: false,
      input: [
        { role: "user", content: "weather in Paris?" },
        ...(final.output as ResponseInputItem[]),
        { type: "function_call_output", call_id: call.call_id, output: "sunny" },
      ],
    });
    expect(next.output_text).toBe("tool said: sunny");
    const orphan = await caught(
      client.responses.create({
        model: "gpt-5",
        input: [{ type: "function_call_output", call_id: "call_nope", output: "x" }],
      }),
    );
    expect(orphan).toBeInstanceOf(BadRequestError);
  });

  it("web_search_preview: a web_search_call item, then the cited message", async () => {
    const r = await client.responses.create({
      model: "gpt-4o",
      input: "news today",
      tools: [{ type: "web_search_preview" }],
    });
    expect(r.output.map((i) => i.type)).toEqual(["web_search_call", "message"]);
    const msg = r.output[1];
    if (msg?.type !== "message" || msg.content[0]?.type !== "output_text") throw new Error("no message");
    expect(msg.content[0].annotations[0]).toMatchObject({ type: "url_citation" });
    const events: string[] = [];
    const s = await client.responses.create({
      model: "gpt-4o",
      input: "x",
      tools: [{ type: "web_search_preview" }],
      stream: true,
    });
    for await (const e of s) events.push(e.type);
    expect(events).toContain("response.web_search_call.searching");
  });

  it("refuses chat-completions shapes and answers errors the SDK classifies", async () => {
    const bad = await caught(
      client.responses.create({
        model: "gpt-4o",
        input: [{ role: "user", content: [{ type: "text", text: "x" }] }],
      } as never),
    );
    expect(bad).toBeInstanceOf(BadRequestError);
    const unknown = await caught(
      client.responses.create({ model: "gpt-4o", input: "x", messages: [] } as never),
    );
    expect((unknown as BadRequestError).code).toBe("unknown_parameter");
    const limited = await caught(
      client.responses.create({ model: "gpt-4o+status=429+retry_after=3", input: "x" }),
    );
    expect(limited).toBeInstanceOf(RateLimitError);
    expect((limited as RateLimitError).headers?.get("retry-after")).toBe("3");
  });

  it("incomplete answers, failed responses and in-stream errors", async () => {
    const cut = await client.responses.create({ model: "gpt-4o+length", input: "a long story" });
    expect([cut.status, cut.incomplete_details?.reason]).toEqual(["incomplete", "max_output_tokens"]);
    const failed = await client.responses.create({ model: "gpt-4o+failed", input: "x" });
    expect([failed.status, failed.error?.code]).toEqual(["failed", "server_error"]);
    // The SDK hands an `error` event over as an event (ResponseErrorEvent), last of the stream.
    const s = await client.responses.create({ model: "gpt-4o+stream_error", input: "x", stream: true });
    const events: ResponseStreamEvent[] = [];
    for await (const e of s) events.push(e);
    const last = events.at(-1);
    expect(last?.type === "error" && [last.code, last.message]).toEqual([
      "server_error",
      "An error occurred while processing your request. You can retry your request.",
    ]);
  });
});
