// THE conformance table: every scenario, run against every provider through every protocol by
// conformance.test.ts. Each row names the capability it needs; a provider declaring it unsupported
// gets the same call and must refuse it (never answer as if it had honoured it).
import { Code } from "@connectrpc/connect";
import { expect } from "vitest";
import {
  type ChatResponse,
  type EmbedResponse,
  FinishReason,
  type ListModelsResponse,
  ReasoningOptions_Effort,
  ResponseFormat_Type,
  Role,
} from "../../gen/llmgateway/v1/llm_pb.js";
import { embeddingVector } from "../fakes/openai-faults.js";
import { type Collected, collect, expectFailed, failure, logLine, REST, seen } from "./harness.js";
import {
  CALL_ARGS,
  CALL_ID,
  EMBED_INPUTS,
  MAX_TOKENS,
  PNG,
  SCHEMA_JSON,
  SEED,
  STOP,
  SYSTEM,
  TOOL,
  TOOL_RESULT,
} from "./profiles.js";
import { ask, type Ctx, deltaText, type Scenario, scenario, sentOnce, user, wellFormed } from "./scenario.js";

function textOf(r: ChatResponse): string {
  let s = "";
  for (const p of r.message?.content ?? []) if (p.part.case === "text") s += p.part.value;
  return s;
}

/** A successful answer from this provider, stamped by the gateway for this request. */
function answered(ctx: Ctx, r: ChatResponse, finish = FinishReason.STOP): void {
  expect(r.provider).toBe(ctx.p.id);
  expect(r.model.startsWith(`${ctx.p.id}/`)).toBe(true);
  expect(r.finishReason).toBe(finish);
  expect(r.usage?.totalTokens ?? 0).toBeGreaterThan(0);
  expect(r.gateway?.requestId).toBe(ctx.rid);
}

const chat = (ctx: Ctx, req: ReturnType<typeof ask>) => ctx.client.chat(req, ctx.opts);
const stream = (ctx: Ctx, req: ReturnType<typeof ask>) => collect(ctx.client.chatStream(req, ctx.opts));

function endOf(c: Collected) {
  const ev = c.events.at(-1)?.event;
  return ev?.case === "end" ? ev.value : undefined;
}

/** The gateway's answer to an upstream that failed with `status`, per the README's error table. */
const ERRORS: [status: number, code: Code, reason: string][] = [
  [400, Code.InvalidArgument, "UPSTREAM_BAD_REQUEST"],
  [401, Code.Internal, "UPSTREAM_AUTH_FAILED"],
  [404, Code.NotFound, "UPSTREAM_MODEL_NOT_FOUND"],
  [429, Code.ResourceExhausted, "UPSTREAM_RATE_LIMITED"],
  [500, Code.Unavailable, "UPSTREAM_UNAVAILABLE"],
  [503, Code.Unavailable, "UPSTREAM_UNAVAILABLE"],
];

const errorRows: Scenario[] = ERRORS.map(([status, code, reason]) =>
  scenario({
    name: `upstream ${status} -> ${Code[code]} / ${reason}`,
    feature: "chat",
    call: (ctx) =>
      failure(() =>
        chat(ctx, ask(ctx.p, status === 429 ? [`status=${status}`, "retry_after=2"] : [`status=${status}`])),
      ),
    check: (ctx, e) => {
      expectFailed(ctx.protocol, e, code, reason);
      expect(e.metadata["provider"]).toBe(ctx.p.id);
      // REST errors carry no upstream status (ErrorInfo metadata has no OpenAI-JSON home).
      if (ctx.protocol !== REST) expect(e.metadata["upstream_status"]).toBe(String(status));
      if (status === 429) expect(e.retrySeconds).toBe(ctx.p.retrySeconds);
      sentOnce(ctx, "chat");
    },
  }),
);

export const SCENARIOS: Scenario[] = [
  scenario({
    name: "unary text",
    feature: "chat",
    call: (ctx) => chat(ctx, ask(ctx.p, [])),
    check: (ctx, r) => {
      answered(ctx, r);
      expect(textOf(r)).toBe("echo: hello world");
      sentOnce(ctx, "chat");
    },
  }),
  scenario({
    name: "streamed text (empty upstream chunks dropped)",
    feature: "stream",
    call: (ctx) => stream(ctx, ask(ctx.p, ["empty_chunks"])),
    check: (ctx, c) => {
      wellFormed(ctx, c);
      expect(deltaText(c.events)).toBe("echo: hello world");
      expect(endOf(c)?.finishReason).toBe(FinishReason.STOP);
      expect(endOf(c)?.gateway?.requestId).toBe(ctx.rid);
      sentOnce(ctx, "chat");
    },
  }),
  scenario({
    name: "system prompt",
    feature: "system_prompt",
    call: (ctx) =>
      chat(ctx, {
        model: ctx.p.model(),
        messages: [
          { role: Role.SYSTEM, content: [{ part: { case: "text", value: SYSTEM } }] },
          user("hello world"),
        ],
      }),
    check: (ctx, r) => {
      answered(ctx, r);
      expect(textOf(r)).toBe("echo: hello world");
      sentOnce(ctx, "chat", ctx.p.wire?.system);
    },
  }),
  scenario({
    name: "multi-turn",
    feature: "multi_turn",
    call: (ctx) =>
      chat(ctx, {
        model: ctx.p.model(),
        messages: [
          user("first question"),
          { role: Role.ASSISTANT, content: [{ part: { case: "text", value: "first answer" } }] },
          user("hello world"),
        ],
      }),
    check: (ctx, r) => {
      answered(ctx, r);
      expect(textOf(r)).toBe("echo: hello world");
      sentOnce(ctx, "chat", ctx.p.wire?.multiTurn);
    },
  }),
  scenario({
    name: "tool call (unary)",
    feature: "tools",
    call: (ctx) => chat(ctx, ask(ctx.p, ["tools"], { tools: [TOOL] })),
    check: (ctx, r) => {
      answered(ctx, r, FinishReason.TOOL_CALLS);
      const calls = r.message?.toolCalls ?? [];
      expect(calls).toHaveLength(1);
      expect(calls[0]?.name).toBe(TOOL.name);
      expect(calls[0]?.id).not.toBe("");
      expect(JSON.parse(calls[0]?.argumentsJson ?? "")).toEqual(CALL_ARGS);
      sentOnce(ctx, "chat", ctx.p.wire?.tools);
    },
  }),
  scenario({
    name: "tool call (streamed, argument deltas reassembled)",
    feature: "tool_stream",
    call: (ctx) => stream(ctx, ask(ctx.p, ["tools"], { tools: [TOOL] })),
    check: (ctx, c) => {
      wellFormed(ctx, c);
      const calls = new Map<number, { id: string; name: string; args: string; fragments: number }>();
      for (const ev of c.events) {
        if (ev.event.case !== "delta") continue;
        for (const f of ev.event.value.toolCalls) {
          const call = calls.get(f.index);
          if (call === undefined) {
            calls.set(f.index, { id: f.id, name: f.name, args: f.argumentsDelta, fragments: 1 });
          } else {
            expect(f.id, "id on the first fragment only").toBe("");
            expect(f.name, "name on the first fragment only").toBe("");
            call.args += f.argumentsDelta;
            call.fragments++;
          }
        }
      }
      expect([...calls.keys()]).toEqual([0]);
      const call = calls.get(0);
      expect(call?.id).not.toBe("");
      expect(call?.name).toBe(TOOL.name);
      expect(JSON.parse(call?.args ?? "")).toEqual(CALL_ARGS);
      expect(endOf(c)?.finishReason).toBe(FinishReason.TOOL_CALLS);
      sentOnce(ctx, "chat", ctx.p.wire?.tools);
    },
  }),
  scenario({
    name: "tool result round trip",
    feature: "tool_result",
    call: (ctx) =>
      chat(ctx, {
        model: ctx.p.model(),
        tools: [TOOL],
        messages: [
          user("weather in Paris?"),
          {
            role: Role.ASSISTANT,
            toolCalls: [{ id: CALL_ID, name: TOOL.name, argumentsJson: JSON.stringify(CALL_ARGS) }],
          },
          { role: Role.TOOL, toolCallId: CALL_ID, content: [{ part: { case: "text", value: TOOL_RESULT } }] },
        ],
      }),
    check: (ctx, r) => {
      answered(ctx, r);
      sentOnce(ctx, "chat", ctx.p.wire?.toolResult);
    },
  }),
  scenario({
    name: "image input (bytes)",
    feature: "vision",
    call: (ctx) =>
      chat(ctx, {
        model: ctx.p.model(),
        messages: [
          {
            role: Role.USER,
            content: [
              { part: { case: "text", value: "what is this?" } },
              {
                part: {
                  case: "image",
                  value: { source: { case: "data", value: PNG }, mediaType: "image/png" },
                },
              },
            ],
          },
        ],
      }),
    check: (ctx, r) => {
      answered(ctx, r);
      sentOnce(ctx, "chat", ctx.p.wire?.vision);
    },
  }),
  scenario({
    name: "JSON-schema output",
    feature: "json_schema",
    call: (ctx) =>
      chat(
        ctx,
        ask(ctx.p, [], {
          responseFormat: {
            type: ResponseFormat_Type.JSON_SCHEMA,
            jsonSchema: SCHEMA_JSON,
            schemaName: "reply",
            strict: true,
          },
        }),
      ),
    check: (ctx, r) => {
      answered(ctx, r);
      sentOnce(ctx, "chat", ctx.p.wire?.schema);
    },
  }),
  scenario({
    name: "embeddings",
    feature: "embeddings",
    call: (ctx): Promise<EmbedResponse> =>
      ctx.client.embed({ model: ctx.p.embedModel, inputs: EMBED_INPUTS }, ctx.opts),
    check: (ctx, r) => {
      expect(r.provider).toBe(ctx.p.id);
      expect(r.gateway?.requestId).toBe(ctx.rid);
      expect(r.embeddings.map((e) => e.index)).toEqual([0, 1]);
      r.embeddings.forEach((e, i) => {
        expect(e.values).toHaveLength(8);
        // The fakes embed deterministically (mock: its own hash), so the vectors are known.
        if (ctx.p.id === "mock") return;
        const want = embeddingVector(EMBED_INPUTS[i] ?? "", 8);
        for (const [j, v] of e.values.entries()) expect(v).toBeCloseTo(want[j] ?? Number.NaN, 5);
      });
      expect(r.embeddings[0]?.values).not.toEqual(r.embeddings[1]?.values);
      if (ctx.p.embed !== undefined) sentOnce(ctx, "embed", ctx.p.wire?.embed);
    },
  }),
  scenario({
    name: "stop sequences",
    feature: "stop_sequences",
    call: (ctx) => chat(ctx, ask(ctx.p, [], { stop: STOP })),
    check: (ctx, r) => {
      answered(ctx, r);
      sentOnce(ctx, "chat", ctx.p.wire?.stop);
    },
  }),
  scenario({
    name: "max_tokens reached -> FINISH_REASON_LENGTH",
    feature: "max_tokens_length",
    // A prompt whose echo is longer than MAX_TOKENS words: the mock's tokens are words, and the
    // fakes cut at max_tokens on the "length" directive whatever the text.
    call: (ctx) =>
      chat(
        ctx,
        ask(ctx.p, ["length"], {
          maxTokens: MAX_TOKENS,
          messages: [user("count to ten in words please, one by one")],
        }),
      ),
    check: (ctx, r) => {
      answered(ctx, r, FinishReason.LENGTH);
      sentOnce(ctx, "chat", ctx.p.wire?.maxTokens);
    },
  }),
  scenario({
    name: "seed",
    feature: "seed",
    call: (ctx) => chat(ctx, ask(ctx.p, [], { seed: BigInt(SEED) })),
    check: (ctx, r) => {
      answered(ctx, r);
      sentOnce(ctx, "chat", ctx.p.wire?.seed);
    },
  }),
  scenario({
    name: "reasoning (effort, reasoning text returned)",
    feature: "reasoning",
    call: (ctx) =>
      chat(
        ctx,
        ask(ctx.p, ["thinking"], {
          reasoning: { effort: ReasoningOptions_Effort.MEDIUM, includeReasoning: true },
        }),
      ),
    check: (ctx, r) => {
      answered(ctx, r);
      expect(textOf(r)).toBe("echo: hello world");
      // Over REST the text is asked for with `include_reasoning` and returned as `reasoning_content`.
      if (ctx.p.reasoningText) expect(r.reasoning).not.toBe("");
      const w = ctx.p.wire;
      sentOnce(ctx, "chat", w && ((body) => w.reasoning(body, true)));
    },
  }),
  scenario({
    name: "list models (the provider's own list)",
    feature: "list_models",
    call: (ctx): Promise<ListModelsResponse> => ctx.client.listModels({ provider: ctx.p.id }, ctx.opts),
    check: (ctx, r) => {
      expect(r.models.map((m) => m.id)).toContain(ctx.p.listed);
      for (const m of r.models) expect(m.provider).toBe(ctx.p.id);
      // Cached for minutes per gateway: the first protocol's call is the one the fake saw.
      const path = ctx.p.listPath;
      if (path !== undefined)
        expect(ctx.p.chat?.requests.some((q) => q.method === "GET" && q.path === path)).toBe(true);
    },
  }),
  ...errorRows,
  scenario({
    name: "upstream 503 before the stream starts -> UNAVAILABLE, no events",
    feature: "stream",
    call: (ctx) => stream(ctx, ask(ctx.p, ["status=503"])),
    check: (ctx, c) => {
      expect(c.events).toHaveLength(0);
      expectFailed(ctx.protocol, seenOf(c), Code.Unavailable, "UPSTREAM_UNAVAILABLE");
      sentOnce(ctx, "chat");
    },
  }),
  scenario({
    name: "stream broken mid-way -> UPSTREAM_STREAM_INTERRUPTED, no end",
    feature: "stream",
    call: (ctx) => stream(ctx, ask(ctx.p, ["drop=2"])),
    check: (ctx, c) => {
      const kinds = c.events.map((e) => e.event.case);
      expect(kinds[0]).toBe("start");
      expect(kinds).toContain("delta");
      expect(kinds).not.toContain("end");
      expectFailed(ctx.protocol, seenOf(c), Code.Unavailable, "UPSTREAM_STREAM_INTERRUPTED", {
        inStream: true,
      });
      sentOnce(ctx, "chat");
    },
  }),
  scenario({
    name: "client cancel -> upstream request aborted",
    feature: "stream",
    call: async (ctx) => {
      const ac = new AbortController();
      let deltas = 0;
      try {
        for await (const ev of ctx.client.chatStream(ask(ctx.p, ["stall"]), {
          ...ctx.opts,
          signal: ac.signal,
        })) {
          if (ev.event.case === "delta" && ++deltas === 1) ac.abort();
        }
      } catch {
        // the abort surfaces as the client's own cancellation
      }
      return deltas;
    },
    check: async (ctx, deltas) => {
      expect(deltas).toBe(1);
      const up = ctx.p.chat;
      if (up?.waitForAbort !== undefined) expect(await up.waitForAbort(ctx.chatMark, 10_000)).toBe(true);
      expect((await logLine(ctx.gw, ctx.rid))["code"]).toBe("CANCELLED");
    },
  }),
];

function seenOf(c: Collected) {
  expect(c.error, "the stream should have failed").toBeDefined();
  return seen(c.error);
}
