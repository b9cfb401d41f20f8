// The shape of a conformance scenario and what it runs with: one call the scenario makes, the checks
// when the provider declares the feature, and the per-test context (client, profile, what the fake
// upstream received during this test only).

import type { MessageInitShape } from "@bufbuild/protobuf";
import type { CallOptions } from "@connectrpc/connect";
import { expect } from "vitest";
import {
  type ChatRequest,
  type ChatRequestSchema,
  type ChatStreamResponse,
  Role,
} from "../../gen/llmgateway/v1/llm_pb.js";
import type { Feature } from "../../src/providers/capabilities.js";
import type { TestGateway } from "../helpers/gateway.js";
import type { Collected, Protocol, Recorded, Upstream } from "./harness.js";
import type { Profile } from "./profiles.js";
import type { ScenarioClient } from "./rest-client.js";

export type ChatInit = MessageInitShape<typeof ChatRequestSchema>;
/** The plain-object form of a ChatRequest init. */
export type ChatFields = Exclude<ChatInit, ChatRequest>;

/** Everything one test of the table needs. */
export interface Ctx {
  p: Profile;
  protocol: Protocol;
  client: ScenarioClient;
  gw: TestGateway;
  /** This test's x-request-id (its log line is found by it). */
  rid: string;
  /** Call options carrying the request id and a deadline. */
  opts: CallOptions;
  /** Requests (GETs excluded) the chat or embed upstream received since the test began. */
  sent(side: "chat" | "embed"): Recorded[];
  /** Index in the chat upstream's request list where this test's requests start. */
  chatMark: number;
}

/** One row of the table. */
export interface Scenario {
  name: string;
  /** The capability that decides between `run` and "must be refused". */
  feature: Feature;
  /** Makes the scenario's call; what a refusal test also makes. */
  attempt(ctx: Ctx): Promise<unknown>;
  /** The call and every check, for a provider that declares the feature. */
  run(ctx: Ctx): Promise<void>;
}

/** Builds a row; `check` sees exactly what `call` returned. */
export function scenario<R>(s: {
  name: string;
  feature: Feature;
  call: (ctx: Ctx) => Promise<R>;
  check: (ctx: Ctx, r: R) => Promise<void> | void;
}): Scenario {
  return {
    name: s.name,
    feature: s.feature,
    attempt: s.call,
    run: async (ctx) => s.check(ctx, await s.call(ctx)),
  };
}

/** Builds the per-test context; marks where the fakes' request lists stand now. */
export function makeCtx(
  p: Profile,
  protocol: Protocol,
  client: ScenarioClient,
  gw: TestGateway,
  rid: string,
): Ctx {
  const mark = (u: Upstream | undefined) => u?.requests.length ?? 0;
  const chatMark = mark(p.chat);
  const embedMark = mark(p.embed);
  return {
    p,
    protocol,
    client,
    gw,
    rid,
    opts: { headers: { "x-request-id": rid }, timeoutMs: 9000 },
    chatMark,
    sent(side) {
      const u = side === "chat" ? p.chat : p.embed;
      const from = side === "chat" ? chatMark : embedMark;
      return (u?.requests ?? []).slice(from).filter((r) => r.method !== "GET");
    },
  };
}

/** The body of the one request this test sent upstream; runs `wire` on it (skipped for the mock). */
export function sentOnce(ctx: Ctx, side: "chat" | "embed", wire?: (body: unknown) => void): void {
  if (ctx.p.chat === undefined) return; // the mock: no network, nothing recorded
  const sent = ctx.sent(side);
  expect(sent, `${ctx.p.id}: upstream requests`).toHaveLength(1);
  wire?.(sent[0]?.body);
}

export const user = (text: string) => ({
  role: Role.USER,
  content: [{ part: { case: "text" as const, value: text } }],
});

/** A one-message chat request for the profile's model with `directives`. */
export function ask(p: Profile, directives: string[], extra: Partial<ChatFields> = {}): ChatFields {
  return { model: p.model(...directives), messages: [user("hello world")], ...extra };
}

/** Concatenated delta text. */
export function deltaText(events: readonly ChatStreamResponse[]): string {
  let s = "";
  for (const ev of events) if (ev.event.case === "delta") s += ev.event.value.text;
  return s;
}

/** Checks the stream's shape: `start` first, no empty deltas, exactly one `end`, last; no error. */
export function wellFormed(ctx: Ctx, c: Collected): void {
  expect(c.error, String(c.error)).toBeUndefined();
  const kinds = c.events.map((e) => e.event.case);
  expect(kinds[0]).toBe("start");
  expect(kinds.filter((k) => k === "start")).toHaveLength(1);
  expect(kinds.filter((k) => k === "end")).toHaveLength(1);
  expect(kinds.at(-1)).toBe("end");
  const start = c.events[0]?.event;
  if (start?.case === "start") expect(start.value.provider).toBe(ctx.p.id);
  const end = c.events.at(-1)?.event;
  if (end?.case === "end") expect(end.value.usage?.totalTokens ?? 0, "usage on the end").toBeGreaterThan(0);
  for (const ev of c.events) {
    if (ev.event.case !== "delta") continue;
    const d = ev.event.value;
    expect(
      d.text !== "" || d.toolCalls.length > 0 || d.reasoning !== "",
      "an empty delta was forwarded",
    ).toBe(true);
  }
}
