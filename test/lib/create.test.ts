// The compiled `create` against protobuf-es's own: for every message type of the contract (and the
// vendored google.rpc / grpc ones), thousands of random initialisers — plain objects, messages
// already built, nulls, byte arrays as number lists, oneofs with known and unknown cases — must give
// deeply identical messages (same keys, same zero values, same prototypes).
import { type DescField, type DescMessage, create as reflectCreate } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import * as details from "../../gen/google/rpc/error_details_pb.js";
import * as status from "../../gen/google/rpc/status_pb.js";
import * as health from "../../gen/grpc/health/v1/health_pb.js";
import * as reflection from "../../gen/grpc/reflection/v1/reflection_pb.js";
import * as admin from "../../gen/llmgateway/v1/admin_pb.js";
import * as llm from "../../gen/llmgateway/v1/llm_pb.js";
import { create } from "../../src/lib/create.js";

const schemas: DescMessage[] = [];
for (const mod of [llm, admin, status, details, health, reflection]) {
  for (const v of Object.values(mod)) {
    if (typeof v === "object" && v !== null && (v as { kind?: unknown }).kind === "message") {
      schemas.push(v as DescMessage);
    }
  }
}

/** A small deterministic PRNG, so a failure reproduces. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

type Init = Record<string, unknown>;

function generator(r: () => number) {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)] as T;
  const scalar = (f: DescField): unknown => {
    const t = f.scalar ?? 9;
    switch (t) {
      case 9: // string
        return pick(["", "a", "ünï 😀", "x".repeat(40)]);
      case 8: // bool
        return r() < 0.5;
      case 12: // bytes
        return r() < 0.5 ? new Uint8Array([1, 2, 3]) : [4, 5];
      case 3:
      case 4:
      case 6:
      case 16:
      case 18: // 64-bit
        return r() < 0.5 ? BigInt(Math.floor(r() * 1e6)) : Math.floor(r() * 1e6);
      default:
        return pick([0, 1, -1, 2.5, 1e9]);
    }
  };
  const message = (desc: DescMessage, depth: number): unknown => {
    if (depth > 3) return {};
    const init: Init = {};
    for (const member of desc.members) {
      if (r() < 0.35) continue;
      if (r() < 0.05) {
        init[member.localName] = r() < 0.5 ? null : undefined;
        continue;
      }
      if (member.kind === "oneof") {
        const f = pick(member.fields);
        init[member.localName] =
          r() < 0.1
            ? { case: undefined }
            : r() < 0.1
              ? { case: "nope", value: 1 }
              : { case: f.localName, value: single(f, depth) };
        continue;
      }
      init[member.localName] = value(member, depth);
    }
    // Sometimes an already built message (kept as is), sometimes the plain initialiser.
    return r() < 0.2 ? reflectCreate(desc, init) : init;
  };
  const single = (f: DescField, depth: number): unknown => {
    if (f.fieldKind === "message") return message(f.message, depth + 1);
    if (f.fieldKind === "enum") return pick(f.enum.values).number;
    return scalar(f);
  };
  const value = (f: DescField, depth: number): unknown => {
    switch (f.fieldKind) {
      case "list": {
        const n = Math.floor(r() * 3);
        const out: unknown[] = [];
        for (let i = 0; i < n; i++) {
          out.push(
            f.listKind === "message"
              ? message(f.message, depth + 1)
              : f.listKind === "enum"
                ? pick(f.enum.values).number
                : scalar(f),
          );
        }
        return out;
      }
      case "map": {
        const out: Init = {};
        for (const k of ["a", "b"].slice(0, Math.floor(r() * 3))) {
          out[k] =
            f.mapKind === "message"
              ? message(f.message, depth + 1)
              : f.mapKind === "enum"
                ? pick(f.enum.values).number
                : scalar(f);
        }
        return out;
      }
      default:
        return single(f, depth);
    }
  };
  return message;
}

describe("compiled create = protobuf-es create", () => {
  it(`covers ${schemas.length} message types`, () => {
    expect(schemas.length).toBeGreaterThan(40);
    expect(schemas.map((s) => s.typeName)).toContain("llmgateway.v1.ChatRequest");
  });

  it("zero messages are identical, and fresh each time (no shared lists, maps or oneofs)", () => {
    for (const s of schemas) {
      const a = create(s);
      expect(a).toStrictEqual(reflectCreate(s));
      const b = create(s) as unknown as Record<string, unknown>;
      for (const k of Object.keys(b)) {
        if (typeof b[k] === "object" && b[k] !== null) expect(b[k]).not.toBe((a as Init)[k]);
      }
    }
  });

  it("a message of the type is returned as is", () => {
    for (const s of schemas) {
      const m = reflectCreate(s);
      expect(create(s, m as never)).toBe(m);
    }
  });

  it("200 random initialisers per type give identical messages", () => {
    const r = rng(7);
    const gen = generator(r);
    let checked = 0;
    for (const s of schemas) {
      for (let i = 0; i < 200; i++) {
        const init = gen(s, 0) as Init;
        expect(create(s, init as never)).toStrictEqual(reflectCreate(s, init as never));
        checked++;
      }
    }
    expect(checked).toBe(schemas.length * 200);
  });

  it("the hot messages: a chat answer built from plain values", () => {
    const init = {
      id: "c1",
      model: "m",
      message: {
        role: llm.Role.ASSISTANT,
        content: [{ part: { case: "text" as const, value: "hi" } }],
        toolCalls: [{ id: "t", name: "f", argumentsJson: "{}" }],
      },
      finishReason: llm.FinishReason.STOP,
      usage: { inputTokens: 3, outputTokens: 4, totalTokens: 7 },
    };
    const ours = create(llm.ChatResponseSchema, init);
    expect(ours).toStrictEqual(reflectCreate(llm.ChatResponseSchema, init));
    expect(ours.message?.$typeName).toBe("llmgateway.v1.Message");
    expect(ours.message?.content[0]?.$typeName).toBe("llmgateway.v1.ContentPart");
  });
});
