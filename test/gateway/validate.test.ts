// validateChat on the contract's newer fields: top_k, documents, cache hints, built-in tools and
// reasoning parts — every violation named by its field path, all of them at once.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ChatRequestSchema, Role } from "../../gen/llmgateway/v1/llm_pb.js";
import { GatewayError } from "../../src/errors.js";
import { validateChat } from "../../src/gateway/validate.js";

const text = (value: string) => ({ part: { case: "text" as const, value } });
const ask = { role: Role.USER, content: [text("hi")] };

/** The violated field paths (none: []). */
function violations(init: MessageInitShape<typeof ChatRequestSchema>): string[] {
  try {
    validateChat(create(ChatRequestSchema, { model: "mock/echo", messages: [ask], ...init }));
  } catch (e: unknown) {
    if (!(e instanceof GatewayError)) throw e;
    expect([e.code, e.reason]).toEqual(["INVALID_ARGUMENT", "INVALID_REQUEST"]);
    return (e.details.violations ?? []).map((v) => v.field);
  }
  return [];
}

describe("validateChat: newer fields", () => {
  it("top_k must be > 0", () => {
    expect(violations({ topK: 0 })).toEqual(["top_k"]);
    expect(violations({ topK: 40 })).toEqual([]);
  });

  it("documents: a source, and media_type with data", () => {
    const doc = (value: Record<string, unknown>) => ({ part: { case: "document" as const, value } });
    expect(
      violations({
        messages: [
          {
            role: Role.USER,
            content: [
              doc({}),
              doc({ source: { case: "data", value: new Uint8Array([1]) } }),
              doc({ source: { case: "data", value: new Uint8Array([1]) }, mediaType: "application/pdf" }),
              doc({ source: { case: "text", value: "notes" } }),
            ],
          },
        ],
      }),
    ).toEqual(["messages[0].content[0].document", "messages[0].content[1].document.media_type"]);
  });

  it("cache hints: type empty or ephemeral, ttl_s > 0 (content parts and tools)", () => {
    expect(
      violations({
        messages: [
          {
            role: Role.USER,
            content: [
              { ...text("a"), cacheHint: { type: "persistent" } },
              { ...text("b"), cacheHint: { ttlS: 0 } },
              { ...text("c"), cacheHint: { type: "ephemeral", ttlS: 3600 } },
            ],
          },
        ],
        tools: [{ name: "f", cacheHint: { ttlS: -1 } }],
      }),
    ).toEqual([
      "messages[0].content[0].cache_hint.type",
      "messages[0].content[1].cache_hint.ttl_s",
      "tools[0].cache_hint.ttl_s",
    ]);
  });

  it("built-in tools: builtin_json a JSON object, no name needed; builtin_json needs builtin_type", () => {
    expect(
      violations({
        tools: [{ builtinType: "web_search_preview", builtinJson: '{"type":"web_search_preview"}' }],
      }),
    ).toEqual([]);
    expect(
      violations({
        tools: [
          { builtinType: "file_search" },
          { builtinType: "file_search", builtinJson: "[1]" },
          { builtinType: "file_search", builtinJson: "{oops" },
          { name: "f", builtinJson: "{}" },
          { name: "" },
        ],
      }),
    ).toEqual([
      "tools[0].builtin_json",
      "tools[1].builtin_json",
      "tools[2].builtin_json",
      "tools[3].builtin_type",
      "tools[4].name",
    ]);
  });

  it("reasoning parts only in assistant messages", () => {
    const r = {
      part: { case: "reasoning" as const, value: { text: "t", signature: "s", provider: "anthropic" } },
    };
    expect(
      violations({
        messages: [
          { role: Role.USER, content: [r, text("x")] },
          { role: Role.ASSISTANT, content: [r, text("y")] },
          { role: Role.SYSTEM, content: [r] },
        ],
      }),
    ).toEqual(["messages[0].content[0].reasoning", "messages[2].content[0].reasoning"]);
  });
});
