// Cache keys: canonical (order-insensitive where order does not change the answer), sensitive to every
// answer-changing field, blind to labels and routing hints, and scoped per tenant.
import { create, fromBinary, fromJson, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  ChatRequestSchema,
  EmbedRequestSchema,
  ReasoningOptions_Effort,
  ResponseFormat_Type,
  Role,
  ToolChoice_Mode,
} from "../../gen/llmgateway/v1/llm_pb.js";
import { cacheKey, canonicalJson } from "../../src/cache/index.js";
import { chatRequest } from "./helpers.js";

describe("cacheKey", () => {
  it("is a hex SHA-256", () => {
    expect(cacheKey(chatRequest(), "a")).toMatch(/^[0-9a-f]{64}$/);
  });

  it("ignores field order, metadata order and JSON key order of provider options", () => {
    const a = fromJson(ChatRequestSchema, {
      model: "mock/echo",
      temperature: 0.2,
      messages: [{ role: "ROLE_USER", content: [{ text: "hi" }] }],
      metadata: { a: "1", b: "2" },
      providerOptionsJson: '{"openai":{"x":1,"y":[{"b":1,"a":2}]},"anthropic":{}}',
    });
    const b = fromJson(ChatRequestSchema, {
      providerOptionsJson: '{"anthropic":{},"openai":{"y":[{"a":2,"b":1}],"x":1}}',
      metadata: { b: "2", a: "1" },
      messages: [{ content: [{ text: "hi" }], role: "ROLE_USER" }],
      temperature: 0.2,
      model: "mock/echo",
    });
    expect(cacheKey(a, "t")).toBe(cacheKey(b, "t"));
    // Same request decoded from binary (with an unknown field appended) -> same key.
    const bytes = toBinary(ChatRequestSchema, a);
    const withUnknown = new Uint8Array([...bytes, 0xf8, 0x0f, 0x01]); // field 255, varint 1
    const c = fromBinary(ChatRequestSchema, withUnknown);
    expect(cacheKey(c, "t")).toBe(cacheKey(a, "t"));
  });

  it("changes with every field that changes the answer", () => {
    const base = chatRequest();
    const k = cacheKey(base, "t");
    const variants = [
      chatRequest({ model: "mock/other" }),
      chatRequest({
        messages: [{ role: Role.USER, content: [{ part: { case: "text", value: "hello!" } }] }],
      }),
      chatRequest({
        messages: [{ role: Role.SYSTEM, content: [{ part: { case: "text", value: "hello" } }] }],
      }),
      chatRequest({ temperature: 0 }),
      chatRequest({ temperature: 0.5 }),
      chatRequest({ topP: 0.9 }),
      chatRequest({ maxTokens: 10 }),
      chatRequest({ stop: ["x"] }),
      chatRequest({ seed: 7n }),
      chatRequest({ tools: [{ name: "f", parametersJson: "{}" }] }),
      chatRequest({ toolChoice: { choice: { case: "mode", value: ToolChoice_Mode.REQUIRED } } }),
      chatRequest({ responseFormat: { type: ResponseFormat_Type.JSON_OBJECT } }),
      chatRequest({ presencePenalty: 1 }),
      chatRequest({ frequencyPenalty: 1 }),
      chatRequest({ reasoning: { effort: ReasoningOptions_Effort.HIGH } }),
      chatRequest({ reasoning: { includeReasoning: true } }),
      chatRequest({ providerOptionsJson: '{"openai":{"x":1}}' }),
    ];
    const keys = new Set(variants.map((v) => cacheKey(v, "t")));
    expect(keys.size).toBe(variants.length);
    expect(keys.has(k)).toBe(false);
    // Tool schemas stay verbatim: key order inside parameters_json may matter to a model.
    const t1 = chatRequest({ tools: [{ name: "f", parametersJson: '{"a":1,"b":2}' }] });
    const t2 = chatRequest({ tools: [{ name: "f", parametersJson: '{"b":2,"a":1}' }] });
    expect(cacheKey(t1, "t")).not.toBe(cacheKey(t2, "t"));
  });

  it("ignores metadata, user, cache control, fallbacks and hedging (documented)", () => {
    const k = cacheKey(chatRequest(), "t");
    expect(cacheKey(chatRequest({ metadata: { team: "x" } }), "t")).toBe(k);
    expect(cacheKey(chatRequest({ user: "end-user-42" }), "t")).toBe(k);
    expect(cacheKey(chatRequest({ cache: { enabled: true, noStore: true, ttlS: 5 } }), "t")).toBe(k);
    expect(cacheKey(chatRequest({ fallbackModels: ["mock/b"] }), "t")).toBe(k);
    expect(cacheKey(chatRequest({ hedgeAfterMs: 50 }), "t")).toBe(k);
    expect(cacheKey(chatRequest({ temperature: -0 }), "t")).toBe(
      cacheKey(chatRequest({ temperature: 0 }), "t"),
    );
  });

  it("is scoped: tenants, unary vs stream, chat vs embed never collide", () => {
    const r = chatRequest();
    expect(cacheKey(r, "tenant-a")).not.toBe(cacheKey(r, "tenant-b"));
    expect(cacheKey(r, "a")).not.toBe(cacheKey(r, "a", "stream"));
    // A scope cannot be crafted to collide with another scope + mode.
    expect(cacheKey(r, "a;unary")).not.toBe(cacheKey(r, "a"));
    const e1 = create(EmbedRequestSchema, { model: "mock/e", inputs: ["x", "y"] });
    const e2 = create(EmbedRequestSchema, {
      model: "mock/e",
      inputs: ["x", "y"],
      user: "u",
      cache: { enabled: true },
    });
    const e3 = create(EmbedRequestSchema, { model: "mock/e", inputs: ["y", "x"] });
    const e4 = create(EmbedRequestSchema, { model: "mock/e", inputs: ["x", "y"], dimensions: 256 });
    expect(cacheKey(e1, "a")).toBe(cacheKey(e2, "a"));
    expect(new Set([e1, e3, e4].map((e) => cacheKey(e, "a"))).size).toBe(3);
    expect(cacheKey(e1, "a")).not.toBe(cacheKey(chatRequest({ model: "mock/e" }), "a"));
  });

  it("canonicalJson sorts keys recursively and keeps non-JSON verbatim", () => {
    expect(canonicalJson('{"b":{"d":1,"c":2},"a":[{"y":1,"x":2}]}')).toBe(
      '{"a":[{"x":2,"y":1}],"b":{"c":2,"d":1}}',
    );
    expect(canonicalJson("not json")).toBe("not json");
    expect(canonicalJson("")).toBe("");
  });
});
