// The compiled JSON decoder against protobuf-es itself: whatever it accepts must decode to exactly
// protobuf-es's message (same binary and JSON encodings, `equals`); whatever protobuf-es rejects or
// treats specially, it must leave to protobuf-es (return undefined).
import {
  create,
  type DescMessage,
  equals,
  fromJson,
  type JsonValue,
  toBinary,
  toJsonString,
} from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  ChatRequestSchema,
  CountTokensRequestSchema,
  EmbedRequestSchema,
  Role,
} from "../../gen/llmgateway/v1/llm_pb.js";
import { compileJsonDecoder } from "../../src/lib/json-decoder.js";

const STRICT = { ignoreUnknownFields: false } as const;

/** protobuf-es's verdict: the message, or "error". */
function reference<D extends DescMessage>(schema: D, json: unknown) {
  try {
    return fromJson(schema, json as JsonValue, STRICT);
  } catch {
    return "error" as const;
  }
}

/** Accepted -> identical to protobuf-es; returns whether it was accepted. */
function check<D extends DescMessage>(schema: D, json: unknown): boolean {
  const fast = compileJsonDecoder(schema)?.(json);
  const ref = reference(schema, json);
  if (fast === undefined) return false;
  expect(ref).not.toBe("error");
  if (ref === "error") return true;
  expect(equals(schema, fast, ref)).toBe(true);
  expect(Buffer.from(toBinary(schema, fast)).equals(Buffer.from(toBinary(schema, ref)))).toBe(true);
  expect(toJsonString(schema, fast)).toBe(toJsonString(schema, ref));
  return true;
}

const typical = {
  model: "openai/gpt-4o-mini",
  messages: [
    { role: "ROLE_SYSTEM", content: [{ text: "be brief" }] },
    { role: "ROLE_USER", content: [{ text: "hello ✓ 😀" }], name: "bob" },
  ],
  temperature: 0.2,
  topP: 1,
  maxTokens: 100,
  stop: ["\n\n"],
  fallbackModels: ["anthropic/claude-haiku-4-5"],
  user: "u-1",
  metadata: { team: "checkout", "a b": "" },
  presencePenalty: -0.5,
  hedgeAfterMs: 0,
  providerOptionsJson: '{"x":1}',
};

describe("compiled JSON decoder = protobuf-es fromJson", () => {
  it("decodes the common request shapes itself", () => {
    expect(check(ChatRequestSchema, typical)).toBe(true);
    expect(
      check(ChatRequestSchema, { model: "m", messages: [{ role: "ROLE_USER", content: [{ text: "" }] }] }),
    ).toBe(true);
    expect(check(ChatRequestSchema, {})).toBe(true);
    expect(
      check(ChatRequestSchema, { temperature: 0, maxTokens: 0, cache: { enabled: false, noStore: true } }),
    ).toBe(true);
    expect(check(ChatRequestSchema, { temperature: -0 })).toBe(true);
    expect(check(EmbedRequestSchema, { model: "openai/text-embedding-3-small", inputs: ["a", "b"] })).toBe(
      true,
    );
    expect(check(CountTokensRequestSchema, { model: "m", messages: [] })).toBe(true);
  });

  it("leaves everything unusual to protobuf-es", () => {
    const cases: unknown[] = [
      { max_tokens: 5 }, // proto field name
      { nope: 1 }, // unknown field
      { model: null },
      { maxTokens: "5" }, // number as string
      { maxTokens: 1.5 },
      { maxTokens: 2 ** 31 },
      { temperature: "NaN" },
      { seed: 5 }, // int64
      { messages: [{ role: 1 }] }, // enum by number
      { messages: [{ role: "ROLE_NOPE" }] },
      { messages: [{ content: [{ text: "a", image: { url: "x" } }] }] }, // two oneof members
      { messages: [null] },
      { messages: [{ content: [{ image: { data: "AAEC", mediaType: "image/png" } }] }] }, // bytes
      { model: "\uD800" }, // lone surrogate
      { stop: "x" },
      { metadata: { a: 1 } },
      [],
      "x",
      null,
    ];
    for (const c of cases) expect(check(ChatRequestSchema, c)).toBe(false);
  });

  it("2,000 random requests built from real messages (and their JSON) decode identically", () => {
    let s = 7;
    const r = () => {
      s = (s * 1664525 + 1013904223) >>> 0;
      return s / 2 ** 32;
    };
    const words = ["", "hi", 'q"uote', "ünï", "😀", "a\nb"];
    const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)] as T;
    let accepted = 0;
    for (let i = 0; i < 2000; i++) {
      const msg = create(ChatRequestSchema, {
        model: pick(words),
        messages: Array.from({ length: Math.floor(r() * 3) }, () => ({
          role: pick([Role.SYSTEM, Role.USER, Role.ASSISTANT]),
          content: Array.from({ length: Math.floor(r() * 3) }, () => ({
            part: { case: "text" as const, value: pick(words) },
          })),
        })),
        ...(r() < 0.5 ? { temperature: Math.round(r() * 200) / 100 } : {}),
        ...(r() < 0.5 ? { maxTokens: Math.floor(r() * 4096) } : {}),
        stop: r() < 0.3 ? [pick(words)] : [],
        metadata: r() < 0.3 ? { k: pick(words) } : {},
      });
      const json = JSON.parse(toJsonString(ChatRequestSchema, msg)) as unknown;
      if (check(ChatRequestSchema, json)) accepted++;
    }
    expect(accepted).toBe(2000);
  });
});
