// The mock provider and the contract's newer fields: top_k and cache hints accepted, text documents
// echoed, other documents and built-in tools refused like the real wires refuse them.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ChatRequestSchema, FinishReason, Role } from "../../gen/llmgateway/v1/llm_pb.js";
import { GatewayError } from "../../src/errors.js";
import { createMockProvider } from "../../src/providers/mock/index.js";
import { rejection } from "./helpers.js";

const mock = createMockProvider();
const opts = { signal: new AbortController().signal, model: "echo", requestId: "r" };
const req = (init: MessageInitShape<typeof ChatRequestSchema>) =>
  create(ChatRequestSchema, { model: "mock/echo", ...init });
const doc = (value: Record<string, unknown>) => ({ part: { case: "document" as const, value } });

describe("mock: newer fields", () => {
  it("accepts top_k and cache hints; echoes text documents with the text", async () => {
    const r = await mock.chat(
      req({
        topK: 3,
        messages: [
          {
            role: Role.USER,
            content: [
              doc({ source: { case: "text", value: "notes " } }),
              { part: { case: "text", value: "hi" }, cacheHint: {} },
            ],
          },
        ],
      }),
      opts,
    );
    expect(r.message?.content[0]?.part.value).toBe("echo: notes hi");
  });

  it("refuses a PDF document (UNSUPPORTED_PARAMETER) and built-in tools (even under warn)", async () => {
    const pdf = req({
      messages: [
        {
          role: Role.USER,
          content: [
            doc({ source: { case: "data", value: new Uint8Array([1]) }, mediaType: "application/pdf" }),
          ],
        },
      ],
    });
    const e = await rejection(mock.chat(pdf, opts));
    expect([(e as GatewayError).reason, (e as GatewayError).details.metadata?.["parameter"]]).toEqual([
      "UNSUPPORTED_PARAMETER",
      "documents",
    ]);
    const builtin = req({
      messages: [{ role: Role.USER, content: [{ part: { case: "text", value: "hi" } }] }],
      tools: [{ builtinType: "web_search_preview", builtinJson: "{}" }],
    });
    const lenient = createMockProvider({ unsupportedParams: "warn", warn: () => {} });
    const b = await rejection(lenient.chat(builtin, opts));
    expect(b).toBeInstanceOf(GatewayError);
    expect((b as GatewayError).message).toContain("runs only on OpenAI with wire: responses");
  });

  it("honours max_tokens (its tokens are words: cut with LENGTH) and stop (cut before it, reported), unary and streamed; seed is accepted", async () => {
    const user = [
      { role: Role.USER, content: [{ part: { case: "text" as const, value: "one two three four" } }] },
    ];
    const cut = await mock.chat(req({ maxTokens: 2, seed: 7n, messages: user }), opts);
    expect(cut.message?.content[0]?.part.value).toBe("echo: one");
    expect(cut.finishReason).toBe(FinishReason.LENGTH);
    expect(cut.usage?.outputTokens).toBe(2);
    const stopped = await mock.chat(req({ stop: ["zzz", " three"], messages: user }), opts);
    expect(stopped.message?.content[0]?.part.value).toBe("echo: one two");
    expect(stopped).toMatchObject({ finishReason: FinishReason.STOP, stopSequence: " three" });
    let text = "";
    let end: { finishReason: FinishReason; stopSequence: string } | undefined;
    for await (const ev of mock.chatStream(req({ stop: [" three"], maxTokens: 50, messages: user }), opts)) {
      if (ev.event.case === "delta") text += ev.event.value.text;
      if (ev.event.case === "end") end = ev.event.value;
    }
    expect(text).toBe("echo: one two");
    expect(end).toMatchObject({ finishReason: FinishReason.STOP, stopSequence: " three" });
  });
});
