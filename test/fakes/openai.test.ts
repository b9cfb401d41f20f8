// The OpenAI fake is trusted only because the official `openai` SDK parses what it sends:
// unary, streams (raw and through the stream helper), tool calls, embeddings, models, errors,
// retries and aborts.
import OpenAI, {
  APIConnectionError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  UnprocessableEntityError,
} from "openai";
import type { ChatCompletionChunk } from "openai/resources/chat/completions";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { waitFor } from "../helpers/wait.js";
import { type OpenAIFake, startOpenAIFake } from "./openai.js";

const API_KEY = "sk-test-0123456789abcdefXYZ";
let fake: OpenAIFake;
let client: OpenAI;

beforeAll(async () => {
  fake = await startOpenAIFake({ apiKey: API_KEY });
  client = new OpenAI({ baseURL: fake.url, apiKey: API_KEY, maxRetries: 0, logLevel: "off" });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.reset();
});

const hello = [{ role: "user" as const, content: "hello there world" }];
const weatherTool = {
  type: "function" as const,
  function: {
    name: "get_weather",
    description: "Weather for a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};

async function collect(
  model: string,
  extra: { include_usage?: boolean } = {},
): Promise<ChatCompletionChunk[]> {
  const stream = await client.chat.completions.create({
    model,
    messages: hello,
    stream: true,
    ...(extra.include_usage ? { stream_options: { include_usage: true } } : {}),
  });
  const chunks: ChatCompletionChunk[] = [];
  for await (const c of stream) chunks.push(c);
  return chunks;
}

function textOf(chunks: ChatCompletionChunk[]): string {
  return chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
}

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error("expected the call to fail");
}

describe("openai fake: chat completions", () => {
  it("answers a unary call the SDK parses", async () => {
    const r = await client.chat.completions.create({ model: "gpt-4o-mini", messages: hello });
    expect(r.id).toMatch(/^chatcmpl-fake\d+$/);
    expect(r.object).toBe("chat.completion");
    expect(r.model).toBe("gpt-4o-mini");
    expect(r.choices[0]?.message.content).toBe("echo: hello there world");
    expect(r.choices[0]?.finish_reason).toBe("stop");
    expect(r.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 });
    const rec = fake.requests[0];
    expect(rec?.method).toBe("POST");
    expect(rec?.path).toBe("/v1/chat/completions");
    expect(rec?.headers["authorization"]).toBe(`Bearer ${API_KEY}`);
    expect(rec?.body).toMatchObject({ model: "gpt-4o-mini", messages: hello });
    expect(rec?.finished).toBe(true);
    expect(rec?.aborted).toBe(false);
  });

  it("takes the text parts of array content and answers as the base model", async () => {
    const r = await client.chat.completions.create({
      model: "gpt-4o+length",
      messages: [
        { role: "system", content: "be brief" },
        {
          role: "user",
          content: [
            { type: "text", text: "part one " },
            { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } },
            { type: "text", text: "part two" },
          ],
        },
      ],
    });
    expect(r.model).toBe("gpt-4o");
    expect(r.choices[0]?.message.content).toBe("echo: part one part two");
    expect(r.choices[0]?.finish_reason).toBe("length");
  });

  it("streams word chunks like OpenAI", async () => {
    const chunks = await collect("gpt-4o-mini");
    expect(chunks[0]?.choices[0]?.delta).toMatchObject({ role: "assistant", content: "" });
    expect(chunks.every((c) => c.object === "chat.completion.chunk" && c.id === chunks[0]?.id)).toBe(true);
    expect(textOf(chunks)).toBe("echo: hello there world");
    expect(chunks.slice(1, -1).map((c) => c.choices[0]?.delta.content)).toEqual([
      "echo: ",
      "hello ",
      "there ",
      "world",
    ]);
    const last = chunks.at(-1);
    expect(last?.choices[0]?.finish_reason).toBe("stop");
    expect(last?.choices[0]?.delta).toEqual({});
    expect(chunks.some((c) => c.usage)).toBe(false);
    expect(fake.requests[0]?.headers["accept"]).toBeDefined();
  });

  it("sends a usage chunk with empty choices when include_usage is set", async () => {
    const chunks = await collect("gpt-4o-mini", { include_usage: true });
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 });
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);

    const noUsage = await collect("gpt-4o-mini+no_usage", { include_usage: true });
    expect(noUsage.some((c) => c.usage)).toBe(false);
    expect(noUsage.at(-1)?.choices[0]?.finish_reason).toBe("stop");
  });

  it("works with the SDK stream helper and finalChatCompletion()", async () => {
    const stream = client.chat.completions.stream({
      model: "gpt-4o-mini+empty_chunks",
      messages: hello,
      stream_options: { include_usage: true },
    });
    const deltas: string[] = [];
    stream.on("content", (delta) => deltas.push(delta));
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe("echo: hello there world");
    expect(final.choices[0]?.finish_reason).toBe("stop");
    expect(final.usage?.total_tokens).toBe(9);
    expect(deltas.join("")).toBe("echo: hello there world");
  });

  it("answers a tool call unary", async () => {
    const r = await client.chat.completions.create({
      model: "gpt-4o-mini+tools",
      messages: hello,
      tools: [weatherTool],
    });
    const choice = r.choices[0];
    expect(choice?.finish_reason).toBe("tool_calls");
    expect(choice?.message.content).toBeNull();
    const call = choice?.message.tool_calls?.[0];
    expect(call?.type).toBe("function");
    if (call?.type !== "function") throw new Error("expected a function tool call");
    expect(call.id).toMatch(/^call_/);
    expect(call.function.name).toBe("get_weather");
    expect(JSON.parse(call.function.arguments)).toEqual({ city: "Paris" });
  });

  it("streams a tool call the SDK reassembles", async () => {
    const chunks = await client.chat.completions.create({
      model: "gpt-4o-mini+tools",
      messages: hello,
      tools: [{ ...weatherTool, function: { ...weatherTool.function, name: "lookup_city" } }],
      stream: true,
    });
    const raw: ChatCompletionChunk[] = [];
    for await (const c of chunks) raw.push(c);
    expect(raw[0]?.choices[0]?.delta.tool_calls?.[0]).toMatchObject({
      index: 0,
      type: "function",
      function: { name: "lookup_city", arguments: "" },
    });
    expect(raw.length).toBeGreaterThan(3);

    const stream = client.chat.completions.stream({
      model: "gpt-4o-mini+tools",
      messages: hello,
      tools: [weatherTool],
    });
    const done: string[] = [];
    stream.on("tool_calls.function.arguments.done", (e) => done.push(e.arguments));
    const final = await stream.finalChatCompletion();
    const call = final.choices[0]?.message.tool_calls?.[0];
    if (call?.type !== "function") throw new Error("expected a function tool call");
    expect(call.function.name).toBe("get_weather");
    expect(JSON.parse(call.function.arguments)).toEqual({ city: "Paris" });
    expect(final.choices[0]?.finish_reason).toBe("tool_calls");
    expect(done).toEqual(['{"city":"Paris"}']);
  });

  it("serves the content-shape faults: null_content, no_choices", async () => {
    const nul = await client.chat.completions.create({ model: "gpt-4o-mini+null_content", messages: hello });
    expect(nul.choices[0]?.message.content).toBeNull();
    expect(nul.choices[0]?.message.tool_calls).toBeUndefined();
    const nulStream = await collect("gpt-4o-mini+null_content");
    expect(nulStream.slice(1, -1).every((c) => c.choices[0]?.delta.content === null)).toBe(true);

    const none = await client.chat.completions.create({ model: "gpt-4o-mini+no_choices", messages: hello });
    expect(none.choices).toEqual([]);
  });
});

describe("openai fake: embeddings and models", () => {
  it("answers embeddings the SDK decodes (base64 by default) and floats on request", async () => {
    const a = await client.embeddings.create({ model: "text-embedding-3-small", input: "hi" });
    expect(a.object).toBe("list");
    expect(a.model).toBe("text-embedding-3-small");
    expect(a.data[0]?.embedding).toHaveLength(8);
    expect(a.usage).toEqual({ prompt_tokens: 1, total_tokens: 1 });
    expect(fake.requests[0]?.body).toMatchObject({ encoding_format: "base64" });

    const b = await client.embeddings.create({
      model: "text-embedding-3-small",
      input: ["hi", "there"],
      encoding_format: "float",
    });
    expect(b.data.map((d) => d.index)).toEqual([0, 1]);
    expect(Array.from(b.data[0]?.embedding ?? [])).toEqual(Array.from(a.data[0]?.embedding ?? []));
    expect(b.data[1]?.embedding).not.toEqual(b.data[0]?.embedding);

    const c = await client.embeddings.create({
      model: "text-embedding-3-small",
      input: "hi",
      dimensions: 32,
    });
    expect(c.data[0]?.embedding).toHaveLength(32);
  });

  it("applies fault directives to embeddings", async () => {
    const e = await caught(
      client.embeddings.create({ model: "text-embedding-3-small+status=429", input: "x" }),
    );
    expect(e).toBeInstanceOf(RateLimitError);
  });

  it("lists and retrieves models", async () => {
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toEqual(["gpt-4o-mini", "gpt-4o", "text-embedding-3-small"]);
    const m = await client.models.retrieve("gpt-4o");
    expect(m).toMatchObject({ id: "gpt-4o", object: "model", owned_by: "system" });
    const e = await caught(client.models.retrieve("gpt-9"));
    expect(e).toBeInstanceOf(NotFoundError);
    expect((e as NotFoundError).code).toBe("model_not_found");
  });

  it("answers unknown paths with an OpenAI 404 body", async () => {
    const r = await fetch(`${fake.url}/nope`, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect(r.status).toBe(404);
    expect(await r.json()).toEqual({
      error: {
        message: "Invalid URL (GET /v1/nope)",
        type: "invalid_request_error",
        param: null,
        code: null,
      },
    });
  });
});

describe("openai fake: errors the SDK classifies", () => {
  const chat = (model: string, c: OpenAI = client) =>
    caught(c.chat.completions.create({ model, messages: hello }));

  it("401 for a wrong key, without echoing the key", async () => {
    const bad = new OpenAI({ baseURL: fake.url, apiKey: "sk-wrong-key-abcdefxyz", maxRetries: 0 });
    const e = await chat("gpt-4o-mini", bad);
    expect(e).toBeInstanceOf(AuthenticationError);
    expect((e as AuthenticationError).code).toBe("invalid_api_key");
    expect((e as AuthenticationError).message).toContain("Incorrect API key provided: sk-...xyz.");
    expect((e as AuthenticationError).message).not.toContain("sk-wrong-key-abcdefxyz");
    expect(await chat("gpt-4o-mini+status=401")).toBeInstanceOf(AuthenticationError);
  });

  it("400 / 403 / 404 / 422 / 500 map to the SDK's classes", async () => {
    const bad = await chat("gpt-4o-mini+status=400");
    expect(bad).toBeInstanceOf(BadRequestError);
    expect((bad as BadRequestError).type).toBe("invalid_request_error");
    expect(await chat("gpt-4o-mini+status=403")).toBeInstanceOf(PermissionDeniedError);
    const nf = await chat("gpt-5-nope+status=404");
    expect(nf).toBeInstanceOf(NotFoundError);
    expect((nf as NotFoundError).message).toContain("The model `gpt-5-nope` does not exist");
    expect(await chat("gpt-4o-mini+status=422")).toBeInstanceOf(UnprocessableEntityError);
    const ise = await chat("gpt-4o-mini+status=500");
    expect(ise).toBeInstanceOf(InternalServerError);
    expect((ise as InternalServerError).type).toBe("server_error");
    expect((ise as InternalServerError).requestID).toMatch(/^req_/);
    const gw = await chat("gpt-4o-mini+status=502");
    expect(gw).toBeInstanceOf(InternalServerError);
    expect((gw as InternalServerError).code).toBe(502);
  });

  it("context_length and content_filter carry OpenAI's codes", async () => {
    const ctx = await chat("gpt-4o-mini+context_length");
    expect(ctx).toBeInstanceOf(BadRequestError);
    expect((ctx as BadRequestError).code).toBe("context_length_exceeded");
    expect((ctx as BadRequestError).param).toBe("messages");
    const cf = await chat("gpt-4o-mini+content_filter");
    expect(cf).toBeInstanceOf(BadRequestError);
    expect((cf as BadRequestError).code).toBe("content_filter");
  });

  it("429 rate limit exposes Retry-After / retry-after-ms / x-should-retry", async () => {
    const e = await chat("gpt-4o-mini+status=429+retry_after=7+retry_after_ms=6500+should_retry=true");
    expect(e).toBeInstanceOf(RateLimitError);
    const rl = e as RateLimitError;
    expect(rl.code).toBe("rate_limit_exceeded");
    expect(rl.type).toBe("requests");
    expect(rl.headers?.get("retry-after")).toBe("7");
    expect(rl.headers?.get("retry-after-ms")).toBe("6500");
    expect(rl.headers?.get("x-should-retry")).toBe("true");
  });

  it("quota 429 is a RateLimitError with code insufficient_quota", async () => {
    const e = await chat("gpt-4o-mini+quota");
    expect(e).toBeInstanceOf(RateLimitError);
    expect((e as RateLimitError).code).toBe("insufficient_quota");
    expect((e as RateLimitError).type).toBe("insufficient_quota");
  });

  it("malformed bodies make the SDK throw, unary and streamed", async () => {
    const unary = await chat("gpt-4o-mini+malformed");
    expect(unary).toBeInstanceOf(Error);
    const streamed = await caught(collect("gpt-4o-mini+malformed"));
    expect(streamed).toBeInstanceOf(Error);
  });

  it("reset and drop surface as connection failures", async () => {
    expect(await chat("gpt-4o-mini+reset")).toBeInstanceOf(APIConnectionError);
    expect(await chat("gpt-4o-mini+drop")).toBeInstanceOf(Error);
    const got: ChatCompletionChunk[] = [];
    const e = await caught(
      (async () => {
        const s = await client.chat.completions.create({
          model: "gpt-4o-mini+drop=2",
          messages: hello,
          stream: true,
        });
        for await (const c of s) got.push(c);
      })(),
    );
    expect(e).toBeInstanceOf(Error);
    expect(textOf(got)).toBe("echo: hello ");
    expect(fake.requests.every((r) => !r.aborted && !r.finished)).toBe(true);
  });
});

describe("openai fake: retries and aborts", () => {
  it("the SDK retries a 503 (fail_times=1) and succeeds", async () => {
    const retrying = new OpenAI({ baseURL: fake.url, apiKey: API_KEY, maxRetries: 1 });
    const model = "gpt-4o-mini+status=503+fail_times=1+retry_after_ms=10";
    const r = await retrying.chat.completions.create({ model, messages: hello });
    expect(r.choices[0]?.message.content).toBe("echo: hello there world");
    expect(fake.requests).toHaveLength(2);
    expect(fake.requests[1]?.headers["x-stainless-retry-count"]).toBe("1");
  });

  it("x-should-retry: false stops the SDK from retrying", async () => {
    const retrying = new OpenAI({ baseURL: fake.url, apiKey: API_KEY, maxRetries: 2 });
    const model = "gpt-4o-mini+status=503+should_retry=false";
    const e = await caught(retrying.chat.completions.create({ model, messages: hello }));
    expect(e).toBeInstanceOf(InternalServerError);
    expect(fake.requests).toHaveLength(1);
  });

  it("an aborted stream is recorded as aborted", async () => {
    const ac = new AbortController();
    const stream = await client.chat.completions.create(
      { model: "gpt-4o-mini+stall", messages: hello, stream: true },
      { signal: ac.signal },
    );
    const got: ChatCompletionChunk[] = [];
    // The stall leaves the stream open forever: the loop ends only because the abort closed it
    // (the SDK's stream iterator ends quietly on abort instead of throwing).
    for await (const c of stream) {
      got.push(c);
      if (got.length === 2) ac.abort();
    }
    expect(got).toHaveLength(2);
    expect(textOf(got)).toBe("echo: ");
    expect(await fake.waitForAbort(0, 5000)).toBe(true);
    expect(fake.requests[0]?.aborted).toBe(true);
    expect(fake.requests[0]?.finished).toBe(false);
  });

  it("a client leaving during delay= is recorded as aborted; finished calls are not", async () => {
    const ac = new AbortController();
    const p = caught(
      client.chat.completions.create(
        { model: "gpt-4o-mini+delay=10000", messages: hello },
        { signal: ac.signal },
      ),
    );
    await waitFor(() => fake.requests.length === 1, { what: "the request to reach the fake" });
    ac.abort();
    expect(await p).toBeInstanceOf(APIUserAbortError);
    expect(await fake.waitForAbort(0, 5000)).toBe(true);

    await client.chat.completions.create({ model: "gpt-4o-mini+delay=20", messages: hello });
    // A later call answered after it: an abort of the finished call would have been recorded by now.
    await client.chat.completions.create({ model: "gpt-4o-mini", messages: hello });
    expect(fake.requests[1]?.aborted).toBe(false);
    expect(fake.requests[1]?.finished).toBe(true);
  });

  it("close() does not hang on stalled calls and open keep-alive sockets", async () => {
    const other = await startOpenAIFake();
    const c = new OpenAI({ baseURL: other.url, apiKey: "sk-any", maxRetries: 0 });
    await c.models.list();
    const stalled = caught(c.chat.completions.create({ model: "gpt-4o-mini+stall", messages: hello }));
    const streaming = caught(
      (async () => {
        const s = await c.chat.completions.create({
          model: "gpt-4o-mini+stall",
          messages: hello,
          stream: true,
        });
        for await (const _ of s) {
          // the stall sends one content chunk, then nothing until close() cuts the connection
        }
      })(),
    );
    await waitFor(() => other.requests.length >= 3, { what: "all three calls to reach the fake" });
    await other.close();
    expect(await stalled).toBeInstanceOf(APIConnectionError);
    expect(other.requests[1]?.finished).toBe(false);
    expect(await streaming).toBeInstanceOf(Error);
  });
});
