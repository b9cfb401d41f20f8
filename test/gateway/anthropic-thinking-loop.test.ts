// End to end: a Connect client drives a thinking + tool loop of two turns through a real gateway to
// the strict Anthropic fake, which verifies the thinking signature of the turn it continues. The
// client keeps what the gateway gave it — the unary message as is, or the message rebuilt from the
// stream's deltas (reasoning text + reasoning_state by index, tool calls) — and sends it back.

import { Agent } from "node:http";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type ChatRequest,
  ChatRequestSchema,
  type ChatStreamResponse,
  FinishReason,
  LLMService,
  type Message,
  Role,
} from "../../gen/llmgateway/v1/llm_pb.js";
import { type AnthropicFake, startAnthropicFake } from "../fakes/anthropic.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { messageFromStream } from "../helpers/stream-message.js";

const KEY = "sk-ant-api03-thinking-loop-0123456789";
const YAML = `
defaults:
  retries: { max_attempts: 1 }
`;
const WEATHER = {
  name: "get_weather",
  description: "Weather for a city",
  parametersJson: '{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}',
};
const QUESTION = "weather in Paris?";
const THOUGHT = `The user said "${QUESTION}". I echo it.`;

let fake: AnthropicFake;
let gw: TestGateway;
let agent: Agent;
let client: ReturnType<typeof createClient<typeof LLMService>>;

beforeAll(async () => {
  fake = await startAnthropicFake({ apiKey: KEY });
  gw = await startGateway({ env: { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: fake.url }, yaml: YAML });
  agent = new Agent({ keepAlive: true });
  client = createClient(
    LLMService,
    createConnectTransport({ baseUrl: gw.url, httpVersion: "1.1", nodeOptions: { agent } }),
  );
});
afterAll(async () => {
  agent.destroy();
  await gw.close();
  await fake.close();
});
beforeEach(() => fake.reset());

const text = (value: string) => ({ part: { case: "text" as const, value } });
const request = (
  model: string,
  messages: MessageInitShape<typeof ChatRequestSchema>["messages"],
): ChatRequest =>
  create(ChatRequestSchema, { model, messages, tools: [WEATHER], reasoning: { budgetTokens: 1024 } });
const turn1 = () =>
  request("anthropic/claude-sonnet-4-5+tools", [{ role: Role.USER, content: [text(QUESTION)] }]);
const turn2 = (assistant: Message) =>
  request("anthropic/claude-sonnet-4-5", [
    { role: Role.USER, content: [text(QUESTION)] },
    assistant,
    { role: Role.TOOL, toolCallId: assistant.toolCalls[0]?.id ?? "", content: [text("18C, sunny")] },
  ]);

async function streamed(req: ChatRequest): Promise<ChatStreamResponse[]> {
  const out: ChatStreamResponse[] = [];
  for await (const ev of client.chatStream(req)) out.push(ev);
  return out;
}

/** What the fake got back as the assistant turn of the second call. */
function sentAssistant(): Record<string, unknown>[] {
  const body = fake.requests[1]?.body as { messages: { role: string; content: Record<string, unknown>[] }[] };
  return body.messages[1]?.content ?? [];
}

describe("Anthropic thinking + tool loop through the gateway", () => {
  it("ChatStream: the client rebuilds the assistant turn from deltas and the fake accepts it", async () => {
    const events = await streamed(turn1());
    const deltas = events.flatMap((e) => (e.event.case === "delta" ? [e.event.value] : []));
    expect(deltas.filter((d) => d.reasoning !== "").every((d) => d.reasoningIndex === 0)).toBe(true);
    expect(
      deltas.filter((d) => d.reasoningState !== undefined).map((d) => d.reasoningState?.provider),
    ).toEqual(["anthropic"]);
    const { message, end } = messageFromStream(events);
    expect(end?.finishReason).toBe(FinishReason.TOOL_CALLS);
    expect(message.content[0]?.part.value).toMatchObject({ text: THOUGHT, provider: "anthropic" });
    expect(message.toolCalls.map((c) => [c.name, JSON.parse(c.argumentsJson)])).toEqual([
      ["get_weather", { city: "Paris" }],
    ]);

    const second = messageFromStream(await streamed(turn2(message)));
    expect(second.end?.finishReason).toBe(FinishReason.STOP);
    expect(second.message.content.at(-1)?.part.value).toBe("echo: 18C, sunny");
    expect(sentAssistant().map((b) => b["type"])).toEqual(["thinking", "text", "tool_use"]);
    expect(sentAssistant()[0]).toMatchObject({ thinking: THOUGHT });
  });

  it("Chat (unary): the answer's message goes back as is and the fake accepts it", async () => {
    const r1 = await client.chat(turn1());
    expect(r1.message?.content.map((c) => c.part.case)).toEqual(["reasoning", "text"]);
    expect(r1.reasoning).toBe(THOUGHT);
    const r2 = await client.chat(turn2(r1.message!));
    expect([FinishReason[r2.finishReason], r2.message?.content.at(-1)?.part.value]).toEqual([
      "STOP",
      "echo: 18C, sunny",
    ]);
    expect(sentAssistant()[0]).toMatchObject({ type: "thinking", thinking: THOUGHT });
  });

  it("a tampered signature comes back as the upstream's refusal, not a silent success", async () => {
    const r1 = await client.chat(turn1());
    const m = r1.message!;
    const part = m.content[0]?.part;
    if (part?.case !== "reasoning") throw new Error("expected a reasoning part first");
    part.value.signature = `AAAA${part.value.signature.slice(4)}`;
    const e = await client.chat(turn2(m)).then(
      () => expect.fail("the tampered turn was accepted"),
      (err: unknown) => ConnectError.from(err),
    );
    expect([e.code, e.rawMessage]).toEqual([
      Code.InvalidArgument,
      expect.stringContaining("Invalid `signature` in `thinking` block"),
    ]);
  });
});
