// The Responses door through other official clients, unmodified: the Vercel AI SDK's default OpenAI
// provider (which speaks the Responses API) — generateText, streamText, tools — and LangChain's
// ChatOpenAI with useResponsesApi — invoke and stream.
import { createHash } from "node:crypto";
import { createOpenAI } from "@ai-sdk/openai";
import { ChatOpenAI } from "@langchain/openai";
import { generateText, jsonSchema, stepCountIs, streamText, tool } from "ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AnthropicFake, startAnthropicFake } from "../fakes/anthropic.js";
import { type OpenAIFake, startOpenAIFake } from "../fakes/openai.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";

const OPENAI_KEY = "sk-upstream-openai-SECRET-77";
const ANTHROPIC_KEY = "sk-ant-upstream-SECRET-78";
const KEY = "llmgw-clients-SECRET-0003";
const sha = (k: string) => createHash("sha256").update(k).digest("hex");

let fake: OpenAIFake;
let anthropic: AnthropicFake;
let gw: TestGateway;
let baseURL: string;

beforeAll(async () => {
  fake = await startOpenAIFake({ apiKey: OPENAI_KEY });
  anthropic = await startAnthropicFake({ apiKey: ANTHROPIC_KEY });
  gw = await startGateway({
    env: {
      OPENAI_API_KEY: OPENAI_KEY,
      OPENAI_BASE_URL: fake.url,
      ANTHROPIC_API_KEY: ANTHROPIC_KEY,
      ANTHROPIC_BASE_URL: anthropic.url,
    },
    yaml: `keys:\n  - { name: apps, sha256: ${sha(KEY)} }\nresponses:\n  store_default: true\n`,
  });
  baseURL = `${gw.url}/v1`;
});

afterAll(async () => {
  await gw?.close();
  await fake?.close();
  await anthropic?.close();
});

describe("Vercel AI SDK (createOpenAI, Responses API by default)", () => {
  const model = (id: string) => createOpenAI({ baseURL, apiKey: KEY })(id);

  it("generateText", async () => {
    const r = await generateText({ model: model("mock/echo"), prompt: "hello ai sdk" });
    expect(r.text).toBe("echo: hello ai sdk");
    expect(r.finishReason).toBe("stop");
    expect(r.usage.inputTokens).toBeGreaterThan(0);
    expect(r.response.id).toMatch(/^resp_/);
  });

  it("streamText streams non-empty text", async () => {
    const r = streamText({ model: model("mock/echo"), prompt: "stream me please" });
    const parts: string[] = [];
    for await (const t of r.textStream) parts.push(t);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.join("")).toBe("echo: stream me please");
    expect(await r.finishReason).toBe("stop");
  });

  it("generateText with tools", async () => {
    const calls: unknown[] = [];
    const r = await generateText({
      model: model("openai/gpt-4o+tools"),
      prompt: "weather in Paris?",
      tools: {
        get_weather: tool({
          description: "Current weather in a city",
          inputSchema: jsonSchema<{ city: string }>({
            type: "object",
            properties: { city: { type: "string" } },
            required: ["city"],
          }),
          execute: async (args) => {
            calls.push(args);
            return { temp: 21 };
          },
        }),
      },
    });
    expect(r.toolCalls).toHaveLength(1);
    expect(r.toolCalls[0]?.toolName).toBe("get_weather");
    expect(calls).toEqual([{ city: "Paris" }]);
    expect(r.toolResults[0]?.output).toEqual({ temp: 21 });
  });
});

describe("Vercel AI SDK multi-step tool loop", () => {
  it("sends earlier items back as item_reference, which the gateway resolves from its store", async () => {
    anthropic.reset();
    const sent: string[] = [];
    const recording: typeof fetch = (input, init) => {
      if (typeof init?.body === "string") sent.push(init.body);
      return fetch(input, init);
    };
    const r = await generateText({
      model: createOpenAI({ baseURL, apiKey: KEY, fetch: recording })("anthropic/claude-sonnet-4-5+tools"),
      prompt: "weather in Paris?",
      stopWhen: stepCountIs(2),
      tools: {
        get_weather: tool({
          description: "Current weather in a city",
          inputSchema: jsonSchema<{ city: string }>({
            type: "object",
            properties: { city: { type: "string" } },
          }),
          execute: async () => ({ temp: 21 }),
        }),
      },
    });
    expect(r.steps).toHaveLength(2);
    expect(sent[1]).toContain('"type":"item_reference"');
    const second = anthropic.requests.at(-1)?.body as { messages: { role: string; content: unknown }[] };
    expect(second.messages.map((m) => m.role)).toEqual(["user", "assistant", "user"]);
    // The assistant turn came back whole: its text (an item_reference) and its tool call.
    expect(JSON.stringify(second.messages[1]?.content)).toContain("Let me check.");
    expect(JSON.stringify(second.messages[1]?.content)).toContain('"type":"tool_use"');
    expect(JSON.stringify(second.messages[2]?.content)).toContain('"type":"tool_result"');
  });
});

describe("LangChain ChatOpenAI with useResponsesApi", () => {
  const chat = () =>
    new ChatOpenAI({
      model: "mock/echo",
      apiKey: KEY,
      configuration: { baseURL },
      useResponsesApi: true,
      maxRetries: 0,
    });

  it("invoke", async () => {
    const m = await chat().invoke("hello langchain");
    expect(m.content).toEqual([expect.objectContaining({ type: "text", text: "echo: hello langchain" })]);
  });

  it("stream", async () => {
    let text = "";
    let chunks = 0;
    for await (const c of await chat().stream("stream langchain")) {
      chunks++;
      text +=
        typeof c.content === "string"
          ? c.content
          : c.content.map((p) => ("text" in p ? p.text : "")).join("");
    }
    expect(chunks).toBeGreaterThan(1);
    expect(text).toBe("echo: stream langchain");
  });

  it("keeps secrets out of the logs", () => {
    const all = gw.logs.join("\n");
    expect(all).not.toContain(KEY);
    expect(all).not.toContain(OPENAI_KEY);
    expect(all).not.toContain(ANTHROPIC_KEY);
  });
});
