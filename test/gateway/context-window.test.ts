// The context-window decisions around the trim (src/gateway/context-window.ts): which policy a call
// follows, the output reserve of a trimmed prompt, and when a TRIM call is trimmed, sent as it is, or
// refused exactly as a REJECT call would be.
import { describe, expect, it } from "vitest";
import {
  ChatRequestSchema,
  ContextOverflow,
  type Message,
  MessageSchema,
  Role,
} from "../../gen/llmgateway/v1/llm_pb.js";
import { type CatalogEntry, estimateTokens } from "../../src/catalog/index.js";
import { GatewayError } from "../../src/errors.js";
import { fitToWindow, outputReserve, overflowMode } from "../../src/gateway/context-window.js";
import { create } from "../../src/lib/create.js";

function model(window: number): CatalogEntry {
  return {
    id: "test/small",
    provider: "test",
    upstream: "small",
    family: "small",
    tokenizer: "estimate",
    capabilities: ["chat"],
    contextWindow: window,
    maxOutputTokens: 0,
    aliases: [],
  };
}
const msg = (role: Role, value: string): Message =>
  create(MessageSchema, { role, content: [{ part: { case: "text", value } }] });
/** A system prompt, `turns` turns of 400 characters per message, and a short question. */
function req(turns: number, system = "s", maxTokens?: number) {
  const messages = [msg(Role.SYSTEM, system)];
  for (let i = 0; i < turns; i++)
    messages.push(msg(Role.USER, "u".repeat(400)), msg(Role.ASSISTANT, "a".repeat(400)));
  messages.push(msg(Role.USER, "why?"));
  return create(ChatRequestSchema, { model: "test/small", messages, ...(maxTokens ? { maxTokens } : {}) });
}

describe("overflowMode", () => {
  it("takes the request's value over the configured one, the configured one when unset", () => {
    const r = (contextOverflow: ContextOverflow) => create(ChatRequestSchema, { contextOverflow });
    expect(overflowMode(r(ContextOverflow.UNSPECIFIED), "trim")).toBe("trim");
    expect(overflowMode(r(ContextOverflow.UNSPECIFIED), "reject")).toBe("reject");
    expect(overflowMode(r(ContextOverflow.REJECT), "trim")).toBe("reject");
    expect(overflowMode(r(ContextOverflow.TRIM), "reject")).toBe("trim");
  });
});

describe("outputReserve", () => {
  it("is max_tokens when set, else the default reserve capped at a quarter of the window", () => {
    expect(outputReserve(req(0, "s", 700), 1000, 1024)).toBe(700);
    expect(outputReserve(req(0), 1000, 1024)).toBe(250);
    expect(outputReserve(req(0), 128_000, 1024)).toBe(1024);
  });
});

describe("fitToWindow (an estimated model)", () => {
  it("leaves a prompt that fits with its reserve alone", () => {
    const r = req(2);
    const out = fitToWindow(model(estimateTokens(r.messages) + 250), r, 250);
    expect(out).toEqual({ request: r });
  });

  it("trims a prompt over the window even where the reject check's slack would let it through", () => {
    const r = req(2, "s", 10);
    const window = estimateTokens(r.messages) - 20; // over by 30 with the reserve; under the 1.25 slack
    const out = fitToWindow(model(window), r, 1024);
    expect(out instanceof Promise).toBe(false);
    const fitted = out as Exclude<typeof out, Promise<unknown>>;
    expect(fitted.trim?.droppedMessages).toBe(2);
    expect((fitted.trim?.inputTokensAfter ?? 0) + 10).toBeLessThanOrEqual(window);
  });

  it("sends as it is what cannot be trimmed to fit but the reject check would pass", () => {
    const r = req(0, "x".repeat(800), 10);
    const window = estimateTokens(r.messages); // the system prompt alone; over by the reserve only
    expect(fitToWindow(model(window), r, 1024)).toEqual({ request: r });
  });

  it("refuses with CONTEXT_LENGTH_EXCEEDED what cannot fit and the reject check refuses", () => {
    const r = req(1, "x".repeat(4000));
    let err: unknown;
    try {
      fitToWindow(model(200), r, 1024);
    } catch (e: unknown) {
      err = e;
    }
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).reason).toBe("CONTEXT_LENGTH_EXCEEDED");
    expect((err as GatewayError).details.metadata?.["context_window"]).toBe("200");
  });

  it("leaves a model without a known window alone", () => {
    const r = req(50);
    expect(fitToWindow(model(0), r, 1024)).toEqual({ request: r });
    expect(fitToWindow(undefined, r, 1024)).toEqual({ request: r });
  });
});
