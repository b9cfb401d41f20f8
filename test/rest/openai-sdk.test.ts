// The REST door through the official `openai` SDK (unmodified: baseURL + apiKey, default retries
// on): chat, streams (helper and raw), tools, json_schema, embeddings (base64), models, the error
// classes per status, and proof that SDK retries do not multiply the gateway's own attempts.
import OpenAI, {
  APIError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  RateLimitError,
} from "openai";
import type { ChatCompletionCreateParamsNonStreaming } from "openai/resources/chat/completions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OpenAIFake, type RecordedRequest, startOpenAIFake } from "../fakes/openai.js";
import { embeddingVector, TOOL_ARGS } from "../fakes/openai-faults.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";

const KEY = "sk-test-rest-SECRET-0123456789";
const TOOL = {
  type: "function" as const,
  function: {
    name: "get_weather",
    description: "Current weather in a city",
    parameters: { type: "object", properties: { zeta: { type: "string" }, alpha: { type: "number" } } },
  },
};
const SCHEMA = {
  type: "object",
  properties: { zeta: { type: "string" }, alpha: { type: "integer" } },
  required: ["zeta", "alpha"],
  additionalProperties: false,
};
const ALIAS_YAML = `models:
  twin:
    deployments:
      - { target: "openai/gpt-4o+status=503+t=twin-a", weight: 2 }
      - { target: "openai/gpt-4o+status=503+t=twin-b", weight: 1 }
`;

let fake: OpenAIFake;
let gw: TestGateway;
let gwBadKey: TestGateway;
let gwTight: TestGateway;
let gwDraining: TestGateway;
let client: OpenAI;

function sdk(g: TestGateway): OpenAI {
  return new OpenAI({ baseURL: `${g.url}/v1`, apiKey: "sk-client-key" });
}

function upstream(tag: string): RecordedRequest[] {
  return fake.requests.filter((r) => {
    const m = (r.body as { model?: unknown } | undefined)?.model;
    return typeof m === "string" && m.split("+").includes(`t=${tag}`);
  });
}

async function failure(p: Promise<unknown>): Promise<APIError> {
  try {
    await p;
  } catch (e: unknown) {
    expect(e).toBeInstanceOf(APIError);
    return e as APIError;
  }
  return expect.fail("expected the call to fail");
}

const user = (text: string) => [{ role: "user" as const, content: text }];

beforeAll(async () => {
  fake = await startOpenAIFake({ apiKey: KEY });
  const env = { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: fake.url };
  gw = await startGateway({ env, yaml: ALIAS_YAML });
  gwBadKey = await startGateway({
    env: { OPENAI_API_KEY: "sk-wrong-key-000000", OPENAI_BASE_URL: fake.url },
  });
  gwTight = await startGateway({ env, yaml: "defaults:\n  timeouts: { request_ms: 300 }\n" });
  gwDraining = await startGateway({ env });
  void gwDraining.app.gateway.drain(); // refuses every call with SHUTTING_DOWN, port still open
  client = sdk(gw);
});

afterAll(async () => {
  await Promise.all([gw, gwBadKey, gwTight, gwDraining].map((g) => g?.close()));
  await fake?.close();
});

describe("chat", () => {
  it("answers a unary call with a chat.completion", async () => {
    const res = await client.chat.completions.create({
      model: "openai/gpt-4o-mini",
      messages: user("hi there"),
    });
    expect(res.object).toBe("chat.completion");
    expect(res.model).toBe("openai/gpt-4o-mini");
    expect(res.choices[0]?.message.content).toContain("hi there");
    expect(res.choices[0]?.finish_reason).toBe("stop");
    expect(res.usage?.total_tokens).toBe(
      (res.usage?.prompt_tokens ?? 0) + (res.usage?.completion_tokens ?? 0),
    );
    const raw = await client.chat.completions
      .create({ model: "mock/echo", messages: user("hdr") })
      .withResponse();
    expect(raw.response.headers.get("x-llmgw-provider")).toBe("mock");
    expect(raw.response.headers.get("x-llmgw-attempts")).toBe("1");
    expect(raw.data.choices[0]?.message.content).toBe("echo: hdr");
  });

  it("streams with the helper and assembles the final completion", async () => {
    const stream = client.chat.completions.stream({
      model: "openai/gpt-4o-mini",
      messages: user("stream me please"),
      stream_options: { include_usage: true },
    });
    let text = "";
    stream.on("content", (delta) => {
      text += delta;
    });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe(text);
    expect(text).toContain("stream me please");
    expect(final.usage?.completion_tokens).toBeGreaterThan(0);
  });

  it("streams raw chunks with include_usage: role first, usage chunk last", async () => {
    const chunks = [];
    const stream = await client.chat.completions.create({
      model: "mock/echo",
      messages: user("one two three"),
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const c of stream) chunks.push(c);
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: "assistant", content: "", refusal: null });
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    expect(text).toBe("echo: one two three");
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe("stop");
    expect(chunks.at(-1)?.choices).toEqual([]);
    expect(chunks.at(-1)?.usage?.total_tokens).toBeGreaterThan(0);
  });

  it("calls tools unary and streamed (arguments reassembled), sending the schema upstream verbatim", async () => {
    const unary = await client.chat.completions.create({
      model: "openai/gpt-4o-mini+tools+t=tool-u",
      messages: user("weather?"),
      tools: [TOOL],
      tool_choice: { type: "function", function: { name: "get_weather" } },
    });
    const call = unary.choices[0]?.message.tool_calls?.[0];
    expect(call?.type === "function" ? call.function.arguments : "").toBe(TOOL_ARGS);
    expect(unary.choices[0]?.finish_reason).toBe("tool_calls");
    const sent = upstream("tool-u")[0]?.body as { tools: unknown; tool_choice: unknown };
    expect(JSON.stringify(sent.tools)).toBe(JSON.stringify([TOOL]));
    expect(sent.tool_choice).toEqual({ type: "function", function: { name: "get_weather" } });

    const final = await client.chat.completions
      .stream({ model: "openai/gpt-4o-mini+tools", messages: user("weather?"), tools: [TOOL] })
      .finalChatCompletion();
    const streamed = final.choices[0]?.message.tool_calls?.[0];
    expect(streamed?.type === "function" ? streamed.function.arguments : "").toBe(TOOL_ARGS);
    expect(streamed?.type === "function" ? streamed.function.name : "").toBe("get_weather");
  });

  it("passes a json_schema response_format through with its key order", async () => {
    await client.chat.completions.create({
      model: "openai/gpt-4o-mini+t=schema",
      messages: user("json please"),
      response_format: { type: "json_schema", json_schema: { name: "thing", schema: SCHEMA, strict: true } },
      max_completion_tokens: 50,
      seed: 7,
      stop: "END",
    });
    const sent = upstream("schema")[0]?.body as Record<string, unknown>;
    expect(JSON.stringify(sent["response_format"])).toBe(
      JSON.stringify({ type: "json_schema", json_schema: { name: "thing", schema: SCHEMA, strict: true } }),
    );
    expect(sent["max_completion_tokens"]).toBe(50);
    expect(sent["seed"]).toBe(7);
    expect(sent["stop"]).toEqual(["END"]);
  });
});

describe("embeddings and models", () => {
  it("embeds with the SDK's default base64 encoding (little-endian float32)", async () => {
    const res = await client.embeddings.create({
      model: "openai/text-embedding-3-small",
      input: ["alpha", "beta"],
      dimensions: 8,
    });
    expect(res.data).toHaveLength(2);
    const want = embeddingVector("beta", 8).map(Math.fround);
    expect(res.data[1]?.embedding).toEqual(want);
    const floats = await client.embeddings.create({
      model: "mock/embed",
      input: "same",
      encoding_format: "float",
    });
    const b64 = await client.embeddings.create({ model: "mock/embed", input: "same" });
    expect(b64.data[0]?.embedding).toEqual(floats.data[0]?.embedding.map(Math.fround));
  });

  it("lists models and retrieves one whose id contains '/'", async () => {
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toContain("openai/gpt-4o-mini");
    expect(ids).toContain("twin");
    const m = await client.models.retrieve("openai/gpt-4o");
    expect(m.id).toBe("openai/gpt-4o");
    expect(m.owned_by).toBe("openai");
  });
});

describe("errors", () => {
  it("400 BadRequestError names the parameter", async () => {
    const err = await failure(
      client.chat.completions.create({ model: "mock/echo", messages: user("x"), logprobs: true }),
    );
    expect(err).toBeInstanceOf(BadRequestError);
    expect(err.param).toBe("logprobs");
    expect(err.code).toBe("unsupported_parameter");
  });

  it("404 NotFoundError for an unknown model", async () => {
    const err = await failure(client.chat.completions.create({ model: "nope/x", messages: user("x") }));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.message).toContain("nope");
  });

  it("429 RateLimitError with Retry-After, from the mock and from the OpenAI fake", async () => {
    const err = await failure(
      client.chat.completions.create({ model: "mock/error-429", messages: user("x") }),
    );
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err.headers?.get("retry-after")).toBe("1");

    const upstreamErr = await failure(
      client.chat.completions.create({
        model: "openai/gpt-4o-mini+status=429+retry_after=2+t=rl",
        messages: user("x"),
      }),
    );
    expect(upstreamErr).toBeInstanceOf(RateLimitError);
    expect(upstreamErr.headers?.get("retry-after")).toBe("2");
    // One gateway attempt per SDK try: the SDK's 2 default retries, each after Retry-After.
    expect(upstream("rl")).toHaveLength(3);
  });

  it("502 for the gateway's own upstream key failing (not AuthenticationError), no SDK retry", async () => {
    const err = await failure(
      sdk(gwBadKey).chat.completions.create({ model: "openai/gpt-4o-mini+t=badkey", messages: user("x") }),
    );
    expect(err.status).toBe(502);
    expect(err).toBeInstanceOf(InternalServerError);
    expect(err).not.toBeInstanceOf(AuthenticationError);
    expect(err.headers?.get("x-should-retry")).toBe("false");
    expect(upstream("badkey")).toHaveLength(1);
  });

  it("504 when the deadline passes, 503 while shutting down", async () => {
    const slow = await failure(
      sdk(gwTight).chat.completions.create(
        { model: "mock/slow-2000", messages: user("x") },
        { maxRetries: 0 },
      ),
    );
    expect(slow.status).toBe(504);
    const down = await failure(
      sdk(gwDraining).chat.completions.create({ model: "mock/echo", messages: user("x") }),
    );
    expect(down.status).toBe(503);
    expect((down.error as { code?: string }).code).toBe("shutting_down");
  });

  it("does not multiply retries: the fake sees exactly the gateway's attempts", async () => {
    const params = {
      model: "openai/gpt-4o+status=503+t=fb-a",
      messages: user("x"),
      fallback_models: ["openai/gpt-4o+status=503+t=fb-b"],
    } as ChatCompletionCreateParamsNonStreaming & { fallback_models: string[] };
    const err = await failure(client.chat.completions.create(params));
    expect(err.status).toBe(502);
    expect(err.headers?.get("x-should-retry")).toBe("false");
    // Each deployment gets its first try and retries (max_attempts 3) before the next is tried.
    expect(err.headers?.get("x-llmgw-attempts")).toBe("6");
    expect(upstream("fb-a")).toHaveLength(3);
    expect(upstream("fb-b")).toHaveLength(3);

    const alias = await failure(client.chat.completions.create({ model: "twin", messages: user("x") }));
    expect(alias.status).toBe(502);
    expect(alias.headers?.get("x-llmgw-attempts")).toBe("6");
    expect(upstream("twin-a")).toHaveLength(3);
    expect(upstream("twin-b")).toHaveLength(3);
  });
});
