// context_overflow end to end: a real gateway in front of the OpenAI fake, with small context windows
// set through the YAML catalog. A long conversation is refused by default (nothing sent upstream),
// trimmed when the request asks (Connect, unary and stream) or the model's config says so (REST door,
// the openai SDK: x-llmgw-context-trimmed), refitted per deployment on fallback (each window its own
// trim, from the original request), and still refused when even the minimum does not fit.
import { Code } from "@connectrpc/connect";
import OpenAI, { BadRequestError } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ChatRequest,
  ChatRequestSchema,
  ContextOverflow,
  type Message,
  MessageSchema,
  Role,
} from "../../gen/llmgateway/v1/llm_pb.js";
import { type CatalogEntry, countPromptTokens, estimateTokens } from "../../src/catalog/index.js";
import { create } from "../../src/lib/create.js";
import type { RecordedRequest } from "../fakes/openai.js";
import type { TestGateway } from "../helpers/gateway.js";
import { collect, failure, KEY, type LLMClient, Rig, reasonOf } from "../resilience/harness.js";

const entry = (id: string, window: number, tokenizer = "estimate") => `
  "openai/${id}":
    provider: openai
    upstream: "${id}"
    family: ${id.split("+")[0]}
    tokenizer: ${tokenizer}
    capabilities: [chat, stream]
    context_window: ${window}
    max_output_tokens: 100
    aliases: []`;

const YAML = `
defaults: { retries: { max_attempts: 1 } }
catalog:${entry("tiny+t=tiny", 400)}${entry("tiny+t=cfg", 400)}${entry("tiny+t=down+status=500", 400)}${entry("medium+t=up", 1200)}${entry("bpe+t=bpe", 700, "o200k")}
models:
  trimmed: { deployments: [{ target: "openai/tiny+t=cfg" }], context_overflow: trim }
  small-then-large:
    deployments: [{ target: "openai/tiny+t=down+status=500" }]
    fallbacks: ["openai/medium+t=up"]
    context_overflow: trim
`;

/** About 200 estimated tokens of text, tagged so the upstream's copy can be recognised. */
const turnText = (tag: string) => `${tag} ${"lorem ipsum dolor sit amet ".repeat(30)}`;

/** System prompt, four user/assistant turns, and the question. */
function conversation(question = "final question?"): Message[] {
  const ms: Message[] = [text(Role.SYSTEM, "be brief")];
  for (let i = 1; i <= 4; i++) {
    ms.push(text(Role.USER, turnText(`user${i}`)), text(Role.ASSISTANT, turnText(`assistant${i}`)));
  }
  ms.push(text(Role.USER, question));
  return ms;
}

function text(role: Role, value: string): Message {
  return create(MessageSchema, { role, content: [{ part: { case: "text", value } }] });
}

function request(
  model: string,
  extra: { contextOverflow?: ContextOverflow; maxTokens?: number } = {},
): ChatRequest {
  return create(ChatRequestSchema, { model, messages: conversation(), ...extra });
}

/** The first word of each message the upstream received ("be", "user3", ..., "final"). */
function received(r: RecordedRequest | undefined): string[] {
  const ms = (r?.body as { messages?: { content: unknown }[] } | undefined)?.messages ?? [];
  return ms.map((m) => {
    const c = m.content;
    const t = typeof c === "string" ? c : Array.isArray(c) ? String((c[0] as { text?: string }).text) : "";
    return t.split(" ")[0] ?? "";
  });
}

let rig: Rig;
let gw: TestGateway;
let client: LLMClient;
let sdk: OpenAI;

beforeAll(async () => {
  rig = await Rig.start();
  ({ gw, client } = await rig.gateway(YAML));
  sdk = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await rig?.close();
});

describe("context_overflow", () => {
  it("refuses a prompt over the window by default, sending nothing upstream", async () => {
    const before = estimateTokens(conversation());
    expect(before).toBeGreaterThan(400 * 1.25);
    const err = await failure(client.chat(request("openai/tiny+t=tiny")));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(reasonOf(err)).toBe("CONTEXT_LENGTH_EXCEEDED");
    expect(err.rawMessage).toContain("context window of openai/tiny+t=tiny (400 tokens)");
    // Asking for reject explicitly is the same.
    const again = await failure(
      client.chat(request("openai/tiny+t=tiny", { contextOverflow: ContextOverflow.REJECT })),
    );
    expect(reasonOf(again)).toBe("CONTEXT_LENGTH_EXCEEDED");
    expect(rig.requests("tiny")).toHaveLength(0);
  });

  it("trims per request over Connect: oldest turns dropped, system prompt and question kept", async () => {
    rig.fake.reset();
    const res = await client.chat(request("openai/tiny+t=tiny", { contextOverflow: ContextOverflow.TRIM }));
    expect(res.message?.content[0]?.part.value).toBe("echo: final question?");
    const sent = rig.requests("tiny");
    expect(sent).toHaveLength(1);
    // Window 400, output reserve min(1024, 400 / 4) = 100: every older turn had to go.
    expect(received(sent[0])).toEqual(["be", "final"]);
    const trim = res.gateway?.contextTrim;
    expect(trim).toMatchObject({
      droppedMessages: 8,
      cutChars: 0,
      inputTokensBefore: estimateTokens(conversation()),
      contextWindow: 400,
    });
    expect(trim?.inputTokensAfter).toBe(
      estimateTokens([text(Role.SYSTEM, "be brief"), text(Role.USER, "final question?")]),
    );
    const line = gw.logs.find(
      (l) => l.includes(`"rid":"${res.gateway?.requestId}"`) && l.includes('"msg":"call"'),
    );
    expect(line).toContain('"context_trim":{"dropped_messages":8,"cut_chars":0');
  });

  it("trims a stream the same way and reports it in the end event", async () => {
    rig.fake.reset();
    const { events, error } = await collect(
      client.chatStream(
        request("openai/tiny+t=tiny", { contextOverflow: ContextOverflow.TRIM, maxTokens: 50 }),
      ),
    );
    expect(error).toBeUndefined();
    const end = events.at(-1)?.event;
    expect(end?.case).toBe("end");
    const trim = end?.case === "end" ? end.value.gateway?.contextTrim : undefined;
    expect(received(rig.requests("tiny")[0])).toEqual(["be", "final"]);
    expect(trim?.droppedMessages).toBe(8);
    expect((trim?.inputTokensAfter ?? 0) + 50).toBeLessThanOrEqual(400);
  });

  it("trims per config over REST, with the x-llmgw-context-trimmed header; the request's reject wins", async () => {
    rig.fake.reset();
    const messages = [
      { role: "system" as const, content: "be brief" },
      ...[1, 2, 3].flatMap((i) => [
        { role: "user" as const, content: turnText(`user${i}`) },
        { role: "assistant" as const, content: turnText(`assistant${i}`) },
      ]),
      { role: "user" as const, content: "rest question" },
    ];
    const raw = await sdk.chat.completions.create({ model: "trimmed", messages }).withResponse();
    expect(raw.data.choices[0]?.message.content).toBe("echo: rest question");
    expect(raw.response.headers.get("x-llmgw-context-trimmed")).toBe("dropped=6;cut=0");
    expect(received(rig.requests("cfg")[0])).toEqual(["be", "rest"]);
    // Not trimmed: no header.
    const small = await sdk.chat.completions
      .create({ model: "trimmed", messages: [{ role: "user", content: "short" }] })
      .withResponse();
    expect(small.response.headers.get("x-llmgw-context-trimmed")).toBeNull();
    // The request's extension field wins over the model's config.
    const refused = await sdk.chat.completions
      .create({
        model: "trimmed",
        messages,
        context_overflow: "reject",
      } as OpenAI.ChatCompletionCreateParamsNonStreaming)
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(BadRequestError);
    expect((refused as BadRequestError).code).toBe("context_length_exceeded");
    const bad = await sdk.chat.completions
      .create({
        model: "trimmed",
        messages,
        context_overflow: "drop",
      } as OpenAI.ChatCompletionCreateParamsNonStreaming)
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(BadRequestError);
    expect((bad as BadRequestError).param).toBe("context_overflow");
    expect(rig.requests("cfg")).toHaveLength(2);
  });

  it("refits on fallback: each deployment gets the original trimmed to its own window", async () => {
    rig.fake.reset();
    const res = await client.chat(request("small-then-large"));
    expect(res.gateway?.attemptTrail.map((a) => a.deployment)).toEqual([
      "openai/tiny+t=down+status=500",
      "openai/medium+t=up",
    ]);
    const small = received(rig.requests("down")[0]);
    const large = received(rig.requests("up")[0]);
    expect(small).toEqual(["be", "final"]);
    // Window 1200, reserve 300: the two newest turns fit beside the system prompt and the question.
    expect(large).toEqual(["be", "user3", "assistant3", "user4", "assistant4", "final"]);
    // GatewayInfo tells what the deployment that answered got.
    expect(res.gateway?.contextTrim).toMatchObject({ droppedMessages: 4, contextWindow: 1200 });
    expect(res.gateway?.attemptTrail.map((a) => a.outcome)).toEqual(["UPSTREAM_UNAVAILABLE", "ok"]);
  });

  it("fits an exact-tokenizer model by its BPE count", async () => {
    rig.fake.reset();
    const res = await client.chat(
      request("openai/bpe+t=bpe", { contextOverflow: ContextOverflow.TRIM, maxTokens: 40 }),
    );
    const got = received(rig.requests("bpe")[0]);
    const kept = conversation().filter((m) => {
      const p = m.content[0]?.part;
      return p?.case === "text" && got.includes(p.value.split(" ")[0] ?? "");
    });
    const bpe = { tokenizer: "o200k" } as CatalogEntry;
    const exact = await countPromptTokens(bpe, kept, []);
    const trim = res.gateway?.contextTrim;
    expect(trim?.inputTokensAfter).toBe(exact.tokens);
    expect(exact.tokens + 40).toBeLessThanOrEqual(700);
    // The BPE count keeps two turns where chars / 4 would keep one; one more turn would not fit.
    expect(got).toEqual(["be", "user3", "assistant3", "user4", "assistant4", "final"]);
    expect(estimateTokens(kept) + 40).toBeGreaterThan(700);
    const more = [kept[0] as Message, ...conversation().slice(3, 5), ...kept.slice(1)];
    expect((await countPromptTokens(bpe, more, [])).tokens + 40).toBeGreaterThan(700);
    expect(trim?.inputTokensBefore).toBe((await countPromptTokens(bpe, conversation(), [])).tokens);
    expect(got.at(-1)).toBe("final");
    expect(trim?.droppedMessages).toBe(conversation().length - kept.length);
  });

  it("cuts the question's middle when nothing else can go, and refuses when even that cannot fit", async () => {
    rig.fake.reset();
    const long = `start ${"many words of a long question ".repeat(120)} end`;
    const res = await client.chat(
      create(ChatRequestSchema, {
        model: "openai/tiny+t=tiny",
        contextOverflow: ContextOverflow.TRIM,
        messages: [text(Role.SYSTEM, "be brief"), text(Role.USER, long)],
      }),
    );
    const cut = res.gateway?.contextTrim?.cutChars ?? 0;
    expect(cut).toBeGreaterThan(0);
    const body = rig.requests("tiny")[0]?.body as { messages: { content: string }[] };
    const sent = body.messages[1]?.content ?? "";
    expect(sent).toContain(`[... ${cut} characters trimmed by the gateway ...]`);
    expect(sent.startsWith("start many words")).toBe(true);
    expect(sent.endsWith(" end")).toBe(true);

    const huge = create(ChatRequestSchema, {
      model: "openai/tiny+t=tiny",
      contextOverflow: ContextOverflow.TRIM,
      messages: [text(Role.SYSTEM, "rule ".repeat(1000)), ...conversation().slice(1)],
    });
    const err = await failure(client.chat(huge));
    expect(reasonOf(err)).toBe("CONTEXT_LENGTH_EXCEEDED");
    expect(rig.requests("tiny")).toHaveLength(1);
  });

  it("rejects an unknown context_overflow value", async () => {
    const err = await failure(
      client.chat(request("openai/tiny+t=tiny", { contextOverflow: 7 as ContextOverflow })),
    );
    expect(err.code).toBe(Code.InvalidArgument);
    expect(reasonOf(err)).toBe("INVALID_REQUEST");
    expect(err.rawMessage).toContain("context_overflow");
  });

  it("keeps the KEY out of every log line", () => {
    expect(gw.logs.some((l) => l.includes(KEY))).toBe(false);
  });
});
