// context_overflow TRIM as a pure function (src/gateway/context-trim.ts) on fixture conversations:
// what is dropped first, what is never dropped, tool calls kept with their results, reasoning parts
// going with their turn, the middle cut and its marker, images counted as the estimator counts them,
// and the same request refitted to different windows.
import { describe, expect, it } from "vitest";
import {
  type ChatRequest,
  ChatRequestSchema,
  type Message,
  MessageSchema,
  Role,
} from "../../gen/llmgateway/v1/llm_pb.js";
import { estimateTokens } from "../../src/catalog/tokens.js";
import { cutMarker, KEEP_EDGE_CHARS, trimToFit } from "../../src/gateway/context-trim.js";
import { create } from "../../src/lib/create.js";

const count = (ms: readonly Message[]) => estimateTokens(ms);
const fill = (tag: string, n: number) => `${tag}:${"x".repeat(n)}`;

function text(role: Role, t: string, name = ""): Message {
  return create(MessageSchema, { role, name, content: [{ part: { case: "text", value: t } }] });
}
const sys = (t: string) => text(Role.SYSTEM, t);
const user = (t: string) => text(Role.USER, t);
const assistant = (t: string) => text(Role.ASSISTANT, t);

function calls(...ids: string[]): Message {
  return create(MessageSchema, {
    role: Role.ASSISTANT,
    toolCalls: ids.map((id) => ({ id, name: "lookup", argumentsJson: `{"q":"${fill(id, 200)}"}` })),
  });
}
function result(id: string, n = 400): Message {
  return create(MessageSchema, {
    role: Role.TOOL,
    toolCallId: id,
    content: [{ part: { case: "text", value: fill(`result ${id}`, n) } }],
  });
}
function thinking(id: string, answer: string): Message {
  return create(MessageSchema, {
    role: Role.ASSISTANT,
    content: [
      {
        part: {
          case: "reasoning",
          value: { text: `thinking ${id}`, signature: `sig-${id}`, provider: "anthropic", id },
        },
      },
      { part: { case: "text", value: answer } },
    ],
  });
}
function request(messages: Message[], maxTokens?: number): ChatRequest {
  return create(ChatRequestSchema, { model: "m/small", messages, ...(maxTokens ? { maxTokens } : {}) });
}

/** The text of every message, for asserting which ones were kept. */
function texts(r: ChatRequest): string[] {
  return r.messages.map((m) => {
    const t = m.content.find((p) => p.part.case === "text");
    if (t?.part.case === "text") return t.part.value.slice(0, 12);
    return m.toolCalls.map((c) => `call ${c.id}`).join(",");
  });
}

/** Every ROLE_TOOL message right after (or among) the calls it answers, and every call answered. */
function toolPairsIntact(ms: readonly Message[]): boolean {
  for (let i = 0; i < ms.length; i++) {
    const m = ms[i] as Message;
    if (m.role === Role.TOOL) {
      let j = i - 1;
      while (j >= 0 && ms[j]?.role === Role.TOOL) j--;
      if (!ms[j]?.toolCalls.some((c) => c.id === m.toolCallId)) return false;
    }
    for (const c of m.toolCalls) if (!ms.some((x) => x.toolCallId === c.id)) return false;
  }
  return true;
}

const chat = [
  sys("you are terse"),
  user(fill("u1", 800)),
  assistant(fill("a1", 800)),
  user(fill("u2", 800)),
  assistant(fill("a2", 800)),
  user(fill("u3 last", 100)),
];

describe("trimToFit", () => {
  it("leaves a request that fits alone (same object, nothing reported)", () => {
    const req = request(chat);
    const out = trimToFit(req, { window: 10_000, reserve: 100, count });
    expect(out?.request).toBe(req);
    expect(out?.trim.droppedMessages).toBe(0);
    expect(out?.trim.cutChars).toBe(0);
  });

  it("drops the oldest whole turns first, keeping the system prompt and the last user turn", () => {
    const req = request(chat, 50);
    const before = count(chat);
    // Room for everything but the first turn (u1 + a1).
    const window = count([chat[0] as Message, ...chat.slice(3)]) + 50;
    const out = trimToFit(req, { window, reserve: 50, count });
    expect(texts(out?.request as ChatRequest)).toEqual([
      "you are ters",
      "u2:xxxxxxxxx",
      "a2:xxxxxxxxx",
      "u3 last:xxxx",
    ]);
    expect(out?.trim).toMatchObject({
      droppedMessages: 2,
      cutChars: 0,
      inputTokensBefore: before,
      inputTokensAfter: count(out?.request.messages ?? []),
      contextWindow: window,
    });
    expect((out?.trim.inputTokensAfter ?? 0) + 50).toBeLessThanOrEqual(window);
    expect(req.messages).toHaveLength(6); // the original is untouched
  });

  it("keeps a conversation opening with a user message (turns go whole, not single messages)", () => {
    const out = trimToFit(request(chat), { window: count(chat) - 10, reserve: 0, count });
    const first = out?.request.messages.find((m) => m.role !== Role.SYSTEM);
    expect(first?.role).toBe(Role.USER);
    expect(out?.trim.droppedMessages).toBe(2);
  });

  it("drops an assistant's tool calls together with every tool result answering them", () => {
    const agent = [
      sys("agent"),
      user(fill("task", 100)),
      calls("c1", "c2"),
      result("c1"),
      result("c2"),
      calls("c3"),
      result("c3"),
      calls("c4"),
      result("c4", 100),
    ];
    const full = count(agent);
    for (
      let window = full - 1;
      window > count([agent[0], agent[1], agent[7], agent[8]] as Message[]);
      window -= 37
    ) {
      const out = trimToFit(request(agent), { window, reserve: 0, count });
      expect(out).toBeDefined();
      const ms = out?.request.messages ?? [];
      expect(toolPairsIntact(ms)).toBe(true);
      expect(ms[0]?.role).toBe(Role.SYSTEM);
      expect(texts(out?.request as ChatRequest)[1]).toBe("task:xxxxxxx"); // the last user turn
      expect(ms.at(-1)?.toolCallId).toBe("c4"); // what the model answers now
      expect(count(ms)).toBeLessThanOrEqual(window);
    }
    // The first round (a call of c1 + c2 and both results) goes as one unit of 3 messages.
    const one = trimToFit(request(agent), { window: full - 1, reserve: 0, count });
    expect(one?.trim.droppedMessages).toBe(3);
    expect(texts(one?.request as ChatRequest)).toEqual([
      "agent",
      "task:xxxxxxx",
      "call c3",
      "result c3:xx",
      "call c4",
      "result c4:xx",
    ]);
  });

  it("drops a tool result with its call even when it does not sit right after it", () => {
    const ms = [
      sys("s"),
      user(fill("u1", 100)),
      calls("c1"),
      user(fill("u2", 100)),
      result("c1"),
      assistant("a"),
      user("last"),
    ];
    const out = trimToFit(request(ms), { window: count(ms) - 1, reserve: 0, count });
    expect(out?.request.messages.some((m) => m.toolCallId === "c1")).toBe(false);
    expect(toolPairsIntact(out?.request.messages ?? [])).toBe(true);
  });

  it("never drops a system prompt, wherever it sits", () => {
    const ms = [
      sys("first"),
      user(fill("u1", 800)),
      sys("mid-conversation rule"),
      assistant(fill("a1", 800)),
      user("now"),
    ];
    const out = trimToFit(request(ms), { window: 30, reserve: 0, count });
    expect(texts(out?.request as ChatRequest)).toEqual(["first", "mid-conversa", "now"]);
  });

  it("takes reasoning parts away with their turn and leaves those of kept turns as they were", () => {
    const ms = [
      sys("s"),
      user(fill("u1", 400)),
      thinking("r1", fill("a1", 400)),
      user(fill("u2", 40)),
      thinking("r2", "ok"),
      user("last"),
    ];
    const out = trimToFit(request(ms), { window: count(ms) - 50, reserve: 0, count });
    const reasoning = out?.request.messages.flatMap((m) =>
      m.content.flatMap((p) => (p.part.case === "reasoning" ? [p.part.value] : [])),
    );
    expect(reasoning?.map((r) => r.signature)).toEqual(["sig-r2"]);
    expect(out?.trim.droppedMessages).toBe(2);
  });

  it("cuts the middle of the longest user text with a visible marker once nothing else can go", () => {
    const long = `HEAD-${"a".repeat(3000)}${"b".repeat(3000)}-TAIL`;
    const ms = [sys("s"), user(fill("old", 400)), assistant("a"), user(long)];
    const window = 800;
    const out = trimToFit(request(ms), { window, reserve: 100, count });
    expect(out).toBeDefined();
    const last = out?.request.messages.at(-1)?.content[0]?.part;
    const cutText = last?.case === "text" ? last.value : "";
    const cut = out?.trim.cutChars ?? 0;
    expect(cut).toBeGreaterThan(0);
    expect(cutText.startsWith("HEAD-aaaa")).toBe(true);
    expect(cutText.endsWith("bbbb-TAIL")).toBe(true);
    expect(cutText).toContain(cutMarker(cut));
    expect(cutText.length).toBe(long.length - cut + cutMarker(cut).length);
    expect(out?.trim.droppedMessages).toBe(2); // the older turn went first
    expect(count(out?.request.messages ?? []) + 100).toBeLessThanOrEqual(window);
    // The fewest characters: one fewer would not fit.
    const less = `${long.slice(0, (long.length - cut + 1) >> 1)}${cutMarker(cut - 1)}${long.slice(long.length - (long.length - cut + 1 - ((long.length - cut + 1) >> 1)))}`;
    expect(count([ms[0] as Message, user(less)]) + 100).toBeGreaterThan(window);
  });

  it("cuts the longest user text, not the system prompt nor a shorter user text", () => {
    const ms = [
      sys(fill("system", 1000)),
      user(fill("short", 300)),
      assistant("a"),
      user(fill("long", 2000)),
    ];
    // Nothing to drop before the last user message other than its turn: u + a go, then the cut.
    const out = trimToFit(request(ms), { window: 500, reserve: 0, count });
    const [s, u] = out?.request.messages ?? [];
    expect(s?.content[0]?.part.value).toBe(fill("system", 1000));
    expect(u?.content[0]?.part.value).toContain("characters trimmed by the gateway");
  });

  it("never splits a surrogate pair when it cuts", () => {
    const emoji = "\u{1F600}".repeat(2000);
    const out = trimToFit(request([user(emoji)]), { window: 300, reserve: 0, count });
    const part = out?.request.messages[0]?.content[0]?.part;
    const value = part?.case === "text" ? part.value : "";
    expect(value).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
  });

  it("returns undefined when even the system prompt and a fully cut last turn do not fit", () => {
    const ms = [sys(fill("huge system", 4000)), user(fill("u", 2000))];
    expect(trimToFit(request(ms), { window: 500, reserve: 0, count })).toBeUndefined();
    // A short last turn cannot be cut at all (a marker would only make it longer).
    expect(
      trimToFit(request([sys(fill("s", 800)), user("hi")]), { window: 100, reserve: 0, count }),
    ).toBeUndefined();
    // The output reserve counts: the same prompt fits without it.
    const small = [sys("s"), user(fill("u", 2 * KEEP_EDGE_CHARS + 400))];
    expect(trimToFit(request(small), { window: 100, reserve: 99, count })).toBeUndefined();
    expect(trimToFit(request(small), { window: 100, reserve: 0, count })).toBeDefined();
  });

  it("refits the same original to each window: a larger one keeps more", () => {
    const req = request(chat, 64);
    const small = trimToFit(req, { window: 400, reserve: 64, count });
    const large = trimToFit(req, { window: count(chat) - 100 + 64, reserve: 64, count });
    expect(small?.trim.droppedMessages).toBe(4);
    expect(large?.trim.droppedMessages).toBe(2);
    expect(large?.request.messages.length).toBeGreaterThan(small?.request.messages.length ?? 0);
    expect(small?.trim.contextWindow).toBe(400);
    expect(req.messages).toHaveLength(chat.length);
  });

  it("counts images as the estimator counts them (the same estimate the window check uses)", () => {
    const image = create(MessageSchema, {
      role: Role.USER,
      content: [
        {
          part: {
            case: "image",
            value: { source: { case: "data", value: new Uint8Array(100_000) }, mediaType: "image/png" },
          },
        },
        { part: { case: "text", value: "what is this?" } },
      ],
    });
    const ms = [sys("s"), image, assistant(fill("a", 400)), user("and now?")];
    const before = count(ms);
    // The image's bytes are not text: it weighs what the estimator gives it, no more.
    const out = trimToFit(request(ms), { window: before, reserve: 0, count });
    expect(out?.request.messages).toHaveLength(4);
    const trimmed = trimToFit(request(ms), { window: before - 1, reserve: 0, count });
    expect(trimmed?.trim.inputTokensBefore).toBe(before);
    expect(trimmed?.trim.droppedMessages).toBe(2); // the image's turn went whole
    expect(trimmed?.trim.inputTokensAfter).toBe(count([ms[0] as Message, ms[3] as Message]));
  });

  it("uses the counter it is given (an exact tokenizer's, or a scaled estimate)", () => {
    const doubled = (m: readonly Message[]) => 2 * count(m);
    const req = request(chat);
    const once = trimToFit(req, { window: count(chat) - 10, reserve: 0, count });
    const twice = trimToFit(req, { window: count(chat) - 10, reserve: 0, count: doubled });
    expect(once?.trim.droppedMessages).toBe(2);
    expect(twice?.trim.droppedMessages).toBe(4);
    expect(twice?.trim.inputTokensBefore).toBe(2 * count(chat));
  });
});
