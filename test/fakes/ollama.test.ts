// The Ollama fake is trusted only because the official `ollama` SDK parses what it sends: chat
// unary and streamed, thinking, tool calls, embed, list, version, and errors (ResponseError with
// status_code, error lines and cut streams).
import { Ollama } from "ollama";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { OLLAMA_TAGS, OLLAMA_THINKING, type OllamaFake, startOllamaFake } from "./ollama.js";
import { embeddingVector } from "./openai-faults.js";

let fake: OllamaFake;
let client: Ollama;

beforeAll(async () => {
  fake = await startOllamaFake();
  client = new Ollama({ host: fake.url });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.reset();
});

const hello = [{ role: "user", content: "hello there world" }];
const weather = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Weather for a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};

async function caught(p: Promise<unknown>): Promise<Error & { status_code?: number }> {
  try {
    await p;
  } catch (e: unknown) {
    if (e instanceof Error) return e;
    throw e;
  }
  throw new Error("expected the call to fail");
}

describe("ollama fake: chat", () => {
  it("answers a unary chat the SDK parses", async () => {
    const r = await client.chat({ model: "llama3.2", messages: hello, stream: false });
    expect(r.message).toEqual({ role: "assistant", content: "echo: hello there world" });
    expect([r.done, r.done_reason, r.model]).toEqual([true, "stop", "llama3.2"]);
    expect(r.prompt_eval_count).toBeGreaterThan(0);
    expect(r.eval_count).toBe(4);
    expect(fake.requests[0]?.path).toBe("/api/chat");
  });

  it("streams NDJSON the SDK iterates to the done line", async () => {
    const stream = await client.chat({ model: "llama3.2", messages: hello, stream: true });
    const parts: string[] = [];
    let last: { done: boolean; done_reason: string; eval_count: number } | undefined;
    for await (const c of stream) {
      parts.push(c.message.content);
      last = c;
    }
    expect(parts.join("")).toBe("echo: hello there world");
    expect(parts.length).toBe(5);
    expect([last?.done, last?.done_reason, last?.eval_count]).toEqual([true, "stop", 4]);
  });

  it("streams thinking apart from content when think is on", async () => {
    const stream = await client.chat({ model: "qwen3+thinking", messages: hello, stream: true, think: true });
    let thinking = "";
    let content = "";
    for await (const c of stream) {
      thinking += c.message.thinking ?? "";
      content += c.message.content;
    }
    expect([thinking, content]).toEqual([OLLAMA_THINKING, "echo: hello there world"]);
    const unary = await client.chat({ model: "qwen3+thinking", messages: hello, think: true });
    expect(unary.message.thinking).toBe(OLLAMA_THINKING);
  });

  it("answers tool calls with object arguments, unary and streamed", async () => {
    const r = await client.chat({ model: "llama3.2+tools", messages: hello, tools: [weather] });
    expect(r.message.tool_calls).toEqual([
      { function: { name: "get_weather", arguments: { city: "Paris" } } },
    ]);
    const stream = await client.chat({
      model: "llama3.2+tools",
      messages: hello,
      tools: [weather],
      stream: true,
    });
    const calls: unknown[] = [];
    for await (const c of stream) calls.push(...(c.message.tool_calls ?? []));
    expect(calls).toEqual(r.message.tool_calls);
    expect(fake.requests[0]?.body).toEqual(expect.objectContaining({ tools: [weather] }));
  });

  it("reports length and other done reasons", async () => {
    const r = await client.chat({ model: "llama3.2+length", messages: hello });
    expect(r.done_reason).toBe("length");
    const odd = await client.chat({ model: "llama3.2+unknown_done", messages: hello });
    expect(odd.done_reason).toBe("confused");
  });
});

describe("ollama fake: embed, list, version", () => {
  it("embeds a batch", async () => {
    const r = await client.embed({ model: "nomic-embed-text", input: ["a", "b c"] });
    expect(r.embeddings).toEqual([embeddingVector("a", 8), embeddingVector("b c", 8)]);
    expect(r.prompt_eval_count).toBe(2);
    const short = await client.embed({ model: "nomic-embed-text", input: "x", dimensions: 4 });
    expect(short.embeddings[0]).toHaveLength(4);
  });

  it("lists models and the version", async () => {
    const list = await client.list();
    expect(list.models.map((m) => m.name)).toEqual(OLLAMA_TAGS);
    expect((await client.version()).version).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe("ollama fake: errors", () => {
  it.each([
    { model: "llama3.2+not_found", status: 404, text: /model "llama3.2" not found, try pulling it first/ },
    { model: "llama3.2+status=400", status: 400, text: /does not support tools/ },
    { model: "llama3.2+status=500", status: 500, text: /llama runner process has terminated/ },
    { model: "llama3.2+status=503", status: 503, text: /server busy/ },
  ])("$model -> ResponseError $status", async ({ model, status, text }) => {
    const e = await caught(client.chat({ model, messages: hello }));
    expect([e.name, e.status_code]).toEqual(["ResponseError", status]);
    expect(e.message).toMatch(text);
    const embedErr = await caught(client.embed({ model, input: ["a"] }));
    expect(embedErr.status_code).toBe(status);
  });

  it("an error line mid-stream makes the SDK throw its message", async () => {
    const stream = await client.chat({ model: "llama3.2+stream_error", messages: hello, stream: true });
    const e = await caught(
      (async () => {
        for await (const _ of stream) {
          // consume
        }
      })(),
    );
    expect(e.message).toMatch(/llama runner process has terminated/);
  });

  it("a stream cut before the done line fails in the SDK", async () => {
    const stream = await client.chat({ model: "llama3.2+drop=2", messages: hello, stream: true });
    const seen: string[] = [];
    const e = await caught(
      (async () => {
        for await (const c of stream) seen.push(c.message.content);
      })(),
    );
    expect(seen.length).toBeLessThanOrEqual(2);
    expect(e).toBeInstanceOf(Error);
  });

  it("connection reset and fail_times", async () => {
    const e = await caught(client.chat({ model: "llama3.2+reset", messages: hello }));
    expect(e).toBeInstanceOf(Error);
    await expect(client.chat({ model: "m+status=500+fail_times=1", messages: hello })).rejects.toThrow();
    const ok = await client.chat({ model: "m+status=500+fail_times=1", messages: hello });
    expect(ok.message.content).toBe("echo: hello there world");
  });

  it("sees the client abort a stalled stream", async () => {
    const stream = await client.chat({ model: "llama3.2+stall", messages: hello, stream: true });
    const it0 = stream[Symbol.asyncIterator]();
    await it0.next();
    stream.abort();
    await it0.next().catch(() => undefined);
    expect(await fake.waitForAbort(0, 5000)).toBe(true);
  });
});
