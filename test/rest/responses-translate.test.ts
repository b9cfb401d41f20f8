// The Responses door's pure translators, on fixtures: request items -> ChatRequest, ChatResponse ->
// Response JSON, and the event writer's frames (order, sequence numbers, reasoning state packing).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  ChatResponseSchema,
  ContextOverflow,
  DeltaSchema,
  FinishReason,
  ReasoningOptions_Effort,
  ResponseFormat_Type,
  Role,
  StreamEndSchema,
  ToolChoice_Mode,
} from "../../gen/llmgateway/v1/llm_pb.js";
import { GatewayError } from "../../src/errors.js";
import { create } from "../../src/lib/create.js";
import type { ParamPolicy } from "../../src/server/rest/parse.js";
import { unpackState } from "../../src/server/rest/reasoning-state.js";
import { responseOfItem } from "../../src/server/rest/responses/ids.js";
import { chatRequestOf, parseResponses } from "../../src/server/rest/responses/request.js";
import { unaryResponse } from "../../src/server/rest/responses/response.js";
import { ResponseEvents } from "../../src/server/rest/responses/stream.js";

const reject: ParamPolicy = { mode: "reject", warn: () => {} };
const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../fixtures/responses/${name}`, import.meta.url), "utf8")) as Record<
    string,
    unknown
  >;
const TOKEN = "0123456789abcdef0123456789abcdef";
const head = { id: `resp_${TOKEN}`, createdAt: 1, model: "smart", echo: {}, store: false };

function thrown(f: () => unknown): GatewayError {
  try {
    f();
  } catch (e: unknown) {
    if (e instanceof GatewayError) return e;
    throw e;
  }
  return expect.fail("expected an error");
}

describe("request", () => {
  it("maps every field of a full request", () => {
    const p = parseResponses(fixture("full.request.json"), reject);
    const req = chatRequestOf(p, p.input, reject);
    expect(p.stream).toBe(true);
    expect(p.store).toBe(true);
    expect(req.model).toBe("smart");
    expect(req.messages.map((m) => m.role)).toEqual([
      Role.SYSTEM,
      Role.SYSTEM,
      Role.USER,
      Role.ASSISTANT,
      Role.TOOL,
      Role.USER,
    ]);
    const user = req.messages[2];
    expect(user?.content.map((c) => c.part.case)).toEqual(["text", "image", "document"]);
    const doc = user?.content[2]?.part;
    expect(doc?.case === "document" && doc.value.mediaType).toBe("application/pdf");
    expect(doc?.case === "document" && doc.value.filename).toBe("a.pdf");
    const asst = req.messages[3];
    expect(asst?.content.map((c) => c.part.case)).toEqual(["reasoning", "text"]);
    const rs = asst?.content[0]?.part;
    expect(rs?.case === "reasoning" && rs.value).toMatchObject({
      provider: "openai",
      encryptedContent: "gAAAA-native",
      id: "rs_abc",
      text: "Thinking.",
    });
    expect(asst?.toolCalls[0]).toMatchObject({ id: "call_1", name: "lookup", argumentsJson: '{"q":"x"}' });
    expect(req.messages[4]?.toolCallId).toBe("call_1");
    expect(req.tools[0]).toMatchObject({ name: "lookup", builtinType: "" });
    expect(req.tools[1]).toMatchObject({
      builtinType: "web_search_preview",
      builtinJson: '{"type":"web_search_preview","search_context_size":"low"}',
    });
    expect(req.toolChoice?.choice).toEqual({ case: "mode", value: ToolChoice_Mode.AUTO });
    expect(req.responseFormat).toMatchObject({
      type: ResponseFormat_Type.JSON_SCHEMA,
      schemaName: "answer",
      strict: true,
    });
    expect(req.responseFormat?.jsonSchema).toBe(
      '{"type":"object","properties":{"z":{"type":"string"},"a":{"type":"string"}}}',
    );
    expect(req.reasoning).toMatchObject({
      effort: ReasoningOptions_Effort.HIGH,
      summary: "auto",
      includeReasoning: true,
    });
    expect(req.maxTokens).toBe(500);
    expect(req.temperature).toBe(0.2);
    expect(req.metadata).toEqual({ team: "search" });
    expect(req.user).toBe("u-1");
    expect(req.contextOverflow).toBe(ContextOverflow.TRIM);
    expect(p.echo["parallel_tool_calls"]).toBe(false);
  });

  it("reads packed reasoning state of another wire format back", () => {
    const packed =
      "llmgw1." + Buffer.from(JSON.stringify({ p: "anthropic", s: "sig" })).toString("base64url");
    const p = parseResponses(
      {
        model: "m",
        input: [
          { role: "user", content: "q" },
          {
            type: "reasoning",
            id: "rs_x",
            summary: [{ type: "summary_text", text: "t" }],
            encrypted_content: packed,
          },
        ],
      },
      reject,
    );
    const part = chatRequestOf(p, p.input, reject).messages[1]?.content[0]?.part;
    expect(part?.case === "reasoning" && part.value).toMatchObject({
      provider: "anthropic",
      signature: "sig",
      text: "t",
    });
  });

  it("refuses what it cannot honour, naming the field", () => {
    expect(
      thrown(() => parseResponses({ model: "m", input: "x", conversation: "c" }, reject)).message,
    ).toContain('"conversation"');
    expect(thrown(() => parseResponses({ model: "m", input: "x", frobnicate: 1 }, reject)).reason).toBe(
      "UNSUPPORTED_PARAMETER",
    );
    const warned: string[] = [];
    parseResponses({ model: "m", input: "x", frobnicate: 1 }, { mode: "warn", warn: (m) => warned.push(m) });
    expect(warned[0]).toContain("frobnicate");
    expect(thrown(() => parseResponses({ model: "m" }, reject)).message).toContain("input");
    const p = parseResponses({ model: "m", input: [{ type: "computer_call_output", call_id: "c" }] }, reject);
    expect(thrown(() => chatRequestOf(p, p.input, reject)).message).toContain('"computer_call_output"');
    const bad: unknown[] = [
      5,
      [5],
      [{ type: "reasoning", summary: [5] }],
      [{ role: "robot", content: "x" }],
      [{ type: "function_call", call_id: 1, name: "f", arguments: "{}" }],
      [{ role: "user", content: [{ type: "input_image", image_url: "ftp://x" }] }],
      [{ role: "assistant", content: [{ type: "input_image", image_url: "https://x" }] }],
    ];
    for (const input of bad) {
      const e = thrown(() => {
        const q = parseResponses({ model: "m", input }, reject);
        chatRequestOf(q, q.input, reject);
      });
      expect(e.reason).toBe("INVALID_REQUEST");
    }
    expect(thrown(() => parseResponses({ model: "m", input: "x", tools: [5] }, reject)).message).toContain(
      "tools[0]",
    );
    expect(
      parseResponses({ model: "m", input: "x", truncation: "disabled" }, reject).init.contextOverflow,
    ).toBe(ContextOverflow.REJECT);
  });
});

describe("response", () => {
  const answer = create(ChatResponseSchema, {
    id: "up-1",
    model: "anthropic/claude",
    provider: "anthropic",
    finishReason: FinishReason.LENGTH,
    usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15, cachedInputTokens: 2, reasoningTokens: 3 },
    message: {
      role: Role.ASSISTANT,
      content: [
        { part: { case: "reasoning", value: { text: "hmm", signature: "sig", provider: "anthropic" } } },
        {
          part: {
            case: "reasoning",
            value: { text: "", encryptedContent: "enc", provider: "openai", id: "rs_up" },
          },
        },
        { part: { case: "text", value: "Hello" } },
      ],
      toolCalls: [{ id: "call_9", name: "f", argumentsJson: "{}" }],
    },
  });

  it("builds reasoning, message and function_call items, incomplete on a length stop", () => {
    const r = unaryResponse(head, answer, TOKEN);
    expect(r["status"]).toBe("incomplete");
    expect(r["incomplete_details"]).toEqual({ reason: "max_output_tokens" });
    const out = r["output"] as Record<string, unknown>[];
    expect(out.map((o) => o["type"])).toEqual(["reasoning", "reasoning", "message", "function_call"]);
    expect(unpackState(String(out[0]?.["encrypted_content"]))).toMatchObject({
      provider: "anthropic",
      signature: "sig",
    });
    expect(out[1]).toMatchObject({ summary: [] });
    expect(unpackState(String(out[1]?.["encrypted_content"]))).toMatchObject({
      provider: "openai",
      encryptedContent: "enc",
      id: "rs_up",
    });
    expect(out[2]).toMatchObject({
      status: "incomplete",
      content: [{ type: "output_text", text: "Hello", annotations: [] }],
    });
    expect(out[3]).toMatchObject({ call_id: "call_9", name: "f", arguments: "{}" });
    expect(responseOfItem(String(out[3]?.["id"]))).toBe(`resp_${TOKEN}`);
    expect(r["usage"]).toEqual({
      input_tokens: 10,
      input_tokens_details: { cached_tokens: 2 },
      output_tokens: 5,
      output_tokens_details: { reasoning_tokens: 3 },
      total_tokens: 15,
    });
  });
});

describe("function call state", () => {
  it("carries a Gemini thought signature in call_id and hands it back on the next turn", () => {
    const answer = create(ChatResponseSchema, {
      finishReason: FinishReason.TOOL_CALLS,
      message: {
        role: Role.ASSISTANT,
        toolCalls: [
          { id: "call_g", name: "f", argumentsJson: "{}", signature: "c2ln", signatureProvider: "gemini" },
        ],
      },
    });
    const out = unaryResponse(head, answer, TOKEN)["output"] as Record<string, unknown>[];
    const callId = String(out[0]?.["call_id"]);
    expect(callId).toMatch(/^call_g~llmgw1\./);
    const p = parseResponses(
      {
        model: "m",
        input: [
          { role: "user", content: "q" },
          out[0],
          { type: "function_call_output", call_id: callId, output: "ok" },
        ],
      },
      reject,
    );
    const req = chatRequestOf(p, p.input, reject);
    expect(req.messages[1]?.toolCalls[0]).toMatchObject({
      id: "call_g",
      signature: "c2ln",
      signatureProvider: "gemini",
    });
    expect(req.messages[2]?.toolCallId).toBe("call_g");
  });
});

describe("stream events", () => {
  it("frames reasoning then text then a call, packing OpenAI state whose id came late", () => {
    const ev = new ResponseEvents(head, TOKEN);
    let sse = ev.start();
    sse += ev.delta(create(DeltaSchema, { reasoning: "hm", reasoningIndex: 0 }));
    sse += ev.delta(
      create(DeltaSchema, {
        reasoning: "",
        reasoningIndex: 0,
        reasoningState: {
          encryptedContent: "enc",
          provider: "openai",
          id: "rs_up",
          text: "",
          signature: "",
          redactedData: "",
        },
      }),
    );
    sse += ev.delta(create(DeltaSchema, { text: "Hi", reasoning: "", toolCalls: [] }));
    sse += ev.delta(
      create(DeltaSchema, {
        text: "",
        reasoning: "",
        toolCalls: [{ index: 0, id: "c1", name: "f", argumentsDelta: "{}" }],
      }),
    );
    const done = ev.end(create(StreamEndSchema, { finishReason: FinishReason.TOOL_CALLS }));
    sse += done.frames + ev.terminal(done.response);
    const events = sse
      .trim()
      .split("\n\n")
      .map((f) => {
        const [e, d] = f.split("\n");
        const data = JSON.parse(String(d).slice(6)) as { type: string; sequence_number: number };
        expect(e).toBe(`event: ${data.type}`);
        return data;
      });
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect(events.map((e) => e.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.reasoning_summary_part.added",
      "response.reasoning_summary_text.delta",
      "response.reasoning_summary_text.done",
      "response.reasoning_summary_part.done",
      "response.output_item.done",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.output_item.added",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.completed",
    ]);
    const rs = (done.response["output"] as Record<string, unknown>[])[0];
    expect(unpackState(String(rs?.["encrypted_content"]))).toMatchObject({
      provider: "openai",
      encryptedContent: "enc",
      id: "rs_up",
    });
  });
});
