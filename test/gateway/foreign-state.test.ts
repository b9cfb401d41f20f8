// Foreign reasoning state through a real gateway: an Anthropic-signed thinking part (from the strict
// Anthropic fake) is dropped before the request reaches another wire format (one log line with the
// counts, the deployment and the request id, never content), while the same request — the very same
// object, copy-on-write — still reaches Anthropic whole, which the strict fake proves by accepting it.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ChatRequestSchema,
  type ChatResponse,
  ChatRequestSchema as ChatSchema,
  LLMService,
  type Message,
  ReasoningOptions_Effort,
  Role,
} from "../../gen/llmgateway/v1/llm_pb.js";
import { withoutForeignState } from "../../src/gateway/foreign-state.js";
import { type AnthropicFake, startAnthropicFake } from "../fakes/anthropic.js";
import { type OpenAIFake, startOpenAIFake } from "../fakes/openai.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";

type ChatInit = MessageInitShape<typeof ChatRequestSchema>;

let anthropic: AnthropicFake;
let openai: OpenAIFake;
let gw: TestGateway;
let manager: Http2SessionManager;
let client: ReturnType<typeof createClient<typeof LLMService>>;

const TOOL = {
  name: "get_weather",
  description: "Weather for a city",
  parametersJson: '{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}',
};
const ask = { role: Role.USER, content: [{ part: { case: "text" as const, value: "weather in Paris?" } }] };
const reasoning = { effort: ReasoningOptions_Effort.MEDIUM, budgetTokens: 1024 };

beforeAll(async () => {
  anthropic = await startAnthropicFake({ apiKey: "sk-ant-test" });
  openai = await startOpenAIFake({ apiKey: "sk-test" });
  gw = await startGateway({
    env: {
      ANTHROPIC_API_KEY: "sk-ant-test",
      ANTHROPIC_BASE_URL: anthropic.url,
      OPENAI_API_KEY: "sk-test",
      OPENAI_BASE_URL: openai.url,
    },
    yaml: "defaults:\n  retries: { max_attempts: 1 }\n",
  });
  manager = new Http2SessionManager(gw.url);
  client = createClient(
    LLMService,
    createConnectTransport({ baseUrl: gw.url, httpVersion: "2", sessionManager: manager }),
  );
});

afterAll(async () => {
  manager.abort();
  await gw.close();
  await anthropic.close();
  await openai.close();
});

/** The tool loop's second turn: the Anthropic answer (signed thinking + tool call) and the tool's result. */
async function secondTurn(): Promise<ChatInit["messages"]> {
  const first: ChatResponse = await client.chat({
    model: "anthropic/claude-sonnet-4-5+tools",
    messages: [ask],
    tools: [TOOL],
    maxTokens: 2048,
    reasoning,
  });
  const m = first.message as Message;
  const r = m.content.find((c) => c.part.case === "reasoning")?.part;
  expect(r?.case === "reasoning" ? [r.value.provider, r.value.signature.length > 20] : []).toEqual([
    "anthropic",
    true,
  ]);
  const call = m.toolCalls[0];
  expect(call?.name).toBe("get_weather");
  const result = {
    role: Role.TOOL,
    toolCallId: call?.id ?? "",
    content: [{ part: { case: "text" as const, value: '{"temp_c":21}' } }],
  };
  return [ask, m, result];
}

function signatureIn(m: ChatInit["messages"]): string {
  for (const msg of m ?? []) {
    for (const c of msg.content ?? []) if (c.part?.case === "reasoning") return c.part.value.signature ?? "";
  }
  return "";
}

/** The drop lines logged for a request id. */
function dropLines(rid: string): Record<string, unknown>[] {
  return gw.logs
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l["msg"] === "foreign reasoning state dropped" && l["rid"] === rid);
}

const bodyText = (b: unknown) => JSON.stringify(b);

describe("foreign reasoning state", () => {
  it("Anthropic fails over to OpenAI: the signed thinking never reaches OpenAI; one log line", async () => {
    const messages = await secondTurn();
    const sig = signatureIn(messages);
    openai.reset();
    const rid = "rid-foreign-1";
    const r = await client.chat(
      {
        model: "anthropic/claude-sonnet-4-5+status=503",
        fallbackModels: ["openai/gpt-4o-mini"],
        messages,
        tools: [TOOL],
        maxTokens: 2048,
        reasoning,
      },
      { headers: { "x-request-id": rid } },
    );
    expect(r.provider).toBe("openai");
    expect(openai.requests).toHaveLength(1);
    expect(bodyText(openai.requests[0]?.body)).not.toContain(sig);
    const lines = dropLines(rid);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      deployment: "openai/gpt-4o-mini",
      wire: "openai",
      dropped_reasoning: 1,
      dropped_signatures: 0,
    });
    expect(JSON.stringify(lines[0])).not.toContain(sig);
  });

  it("OpenAI fails over to Anthropic: Anthropic still gets the state whole (the strict fake accepts it)", async () => {
    const messages = await secondTurn();
    const sig = signatureIn(messages);
    anthropic.reset();
    const rid = "rid-foreign-2";
    const r = await client.chat(
      {
        model: "openai/gpt-4o-mini+status=503",
        fallbackModels: ["anthropic/claude-sonnet-4-5"],
        messages,
        tools: [TOOL],
        maxTokens: 2048,
        reasoning,
      },
      { headers: { "x-request-id": rid } },
    );
    expect(r.provider).toBe("anthropic");
    expect(bodyText(anthropic.requests.at(-1)?.body)).toContain(sig);
    expect(dropLines(rid).map((l) => l["deployment"])).toEqual(["openai/gpt-4o-mini+status=503"]);
  });

  it("on its own provider the request keeps its state and logs no drop (stream too)", async () => {
    const messages = await secondTurn();
    const sig = signatureIn(messages);
    anthropic.reset();
    const rid = "rid-foreign-3";
    const req = { model: "anthropic/claude-sonnet-4-5", messages, tools: [TOOL], maxTokens: 2048, reasoning };
    const r = await client.chat(req, { headers: { "x-request-id": rid } });
    expect(r.provider).toBe("anthropic");
    for await (const _ of client.chatStream(req, { headers: { "x-request-id": `${rid}-s` } })) {
      // read to the end
    }
    expect(anthropic.requests.map((q) => bodyText(q.body).includes(sig))).toEqual([true, true]);
    expect([...dropLines(rid), ...dropLines(`${rid}-s`)]).toEqual([]);
  });

  it("withoutForeignState copies on write: the caller's request is untouched", () => {
    const req = create(ChatSchema, {
      model: "x",
      messages: [
        ask,
        {
          role: Role.ASSISTANT,
          content: [
            { part: { case: "reasoning", value: { text: "t", signature: "s", provider: "anthropic" } } },
            { part: { case: "reasoning", value: { signature: "g", provider: "gemini" } } },
            { part: { case: "text", value: "hi" } },
          ],
          toolCalls: [{ id: "c", name: "f", signature: "g2", signatureProvider: "gemini" }],
        },
      ],
    });
    const same = withoutForeignState(req, "anthropic");
    const out = withoutForeignState(req, "gemini");
    expect(same.dropped).toEqual({ reasoning: 1, signatures: 1 });
    expect(same.req.messages[1]?.content.map((c) => c.part.case)).toEqual(["reasoning", "text"]);
    expect(same.req.messages[1]?.toolCalls[0]?.signature).toBe("");
    expect(out.dropped).toEqual({ reasoning: 1, signatures: 0 });
    expect(req.messages[1]?.content).toHaveLength(3);
    expect(req.messages[1]?.toolCalls[0]?.signature).toBe("g2");
    expect(same.req.messages[0]).toBe(req.messages[0]); // untouched messages are shared, not copied
    const plain = create(ChatSchema, { model: "x", messages: [ask] });
    expect(withoutForeignState(plain, "openai").req).toBe(plain);
  });
});
