// The catalog as clients meet it, through a real gateway and real fakes: ListModels filters, GetModel
// by id / catalog alias / config alias, CountTokens (exact BPE vs estimate), the pre-flight context
// window refusal (no upstream request), catalog-alias routing, and cost_usd = catalog price x usage.
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { encode } from "gpt-tokenizer/encoding/o200k_base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Capability, FinishReason, LLMService } from "../../gen/llmgateway/v1/llm_pb.js";
import { loadCatalog } from "../../src/catalog/index.js";
import { ClientConnections } from "../e2e/helpers.js";
import { type AnthropicFake, startAnthropicFake } from "../fakes/anthropic.js";
import { type OllamaFake, startOllamaFake } from "../fakes/ollama.js";
import { type OpenAIFake, startOpenAIFake } from "../fakes/openai.js";
import { messagesOf, promptTokens, wordCount } from "../fakes/openai-faults.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { failure, type LLMClient } from "./harness.js";
import { user } from "./scenario.js";

const YAML = `
defaults:
  retries: { max_attempts: 1 }
models:
  smart:
    deployments: [{ target: openai/gpt-4o }]
`;

let openai: OpenAIFake;
let anthropic: AnthropicFake;
let ollama: OllamaFake;
let gw: TestGateway;
let client: LLMClient;
const conns = new ClientConnections();
const catalog = loadCatalog();

beforeAll(async () => {
  [openai, anthropic, ollama] = await Promise.all([
    startOpenAIFake(),
    startAnthropicFake(),
    startOllamaFake(),
  ]);
  gw = await startGateway({
    yaml: YAML,
    env: {
      OPENAI_API_KEY: "sk-catalog-test",
      OPENAI_BASE_URL: openai.url,
      ANTHROPIC_API_KEY: "sk-ant-catalog-test",
      ANTHROPIC_BASE_URL: anthropic.url,
      OLLAMA_HOST: ollama.url,
    },
  });
  client = createClient(
    LLMService,
    createConnectTransport({ baseUrl: gw.url, httpVersion: "1.1", nodeOptions: { agent: conns.agent() } }),
  );
});

afterAll(async () => {
  conns.close();
  await gw?.close();
  await Promise.all([openai?.close(), anthropic?.close(), ollama?.close()]);
});

function entry(id: string) {
  const e = catalog.get(id);
  if (e === undefined) throw new Error(`catalog has no ${id}`);
  return e;
}

describe("ListModels", () => {
  it("filters by provider", async () => {
    const { models } = await client.listModels({ provider: "openai" });
    expect(models.length).toBeGreaterThan(1);
    for (const m of models) expect(m.provider).toBe("openai");
    expect(models.map((m) => m.id)).toContain("openai/gpt-4o");
  });

  it("filters by capability", async () => {
    const { models } = await client.listModels({ capability: Capability.EMBEDDINGS });
    const ids = models.map((m) => m.id);
    expect(ids).toContain("openai/text-embedding-3-small");
    expect(ids).not.toContain("openai/gpt-4o");
    for (const m of models) expect(m.capabilities).toContain(Capability.EMBEDDINGS);
  });

  it("filters by min_context_window", async () => {
    const { models } = await client.listModels({ minContextWindow: 1_000_000 });
    const ids = models.map((m) => m.id);
    expect(ids).toContain("openai/gpt-4.1");
    expect(ids).not.toContain("openai/gpt-4o");
    for (const m of models) expect(m.contextWindow).toBeGreaterThanOrEqual(1_000_000);
  });
});

describe("GetModel", () => {
  it("by catalog id", async () => {
    const { model } = await client.getModel({ id: "openai/gpt-4o" });
    const e = entry("openai/gpt-4o");
    expect(model).toMatchObject({ id: e.id, provider: "openai", contextWindow: e.contextWindow });
    expect(model?.aliases).toContain("gpt-4o");
  });

  it("by catalog alias", async () => {
    const { model } = await client.getModel({ id: "gpt-4o" });
    expect(model?.id).toBe("openai/gpt-4o");
  });

  it("by config alias", async () => {
    const { model } = await client.getModel({ id: "smart" });
    expect(model).toMatchObject({ id: "smart", aliasOf: "openai/gpt-4o", provider: "openai" });
    expect(model?.contextWindow).toBe(entry("openai/gpt-4o").contextWindow);
  });

  it("unknown -> NOT_FOUND", async () => {
    const e = await failure(() => client.getModel({ id: "openai/no-such-model" }));
    expect(e.code).toBe(Code.NotFound);
    expect(e.reason).toBe("MODEL_NOT_FOUND");
  });
});

describe("CountTokens", () => {
  const text = "The quick brown fox jumps over the lazy dog, twice: once in Paris, once in 東京.";

  it("exact for an OpenAI model (o200k BPE + per-message and reply-priming overhead)", async () => {
    const r = await client.countTokens({ model: "openai/gpt-4o", messages: [user(text)] });
    expect(r.exact).toBe(true);
    expect(r.method).toBe("o200k_base");
    expect(r.inputTokens).toBe(encode(text).length + 4 + 3);
  });

  it.each(["anthropic/claude-haiku-4-5", "ollama/llama3.2"])(
    "an estimate (exact: false) for %s",
    async (model) => {
      const r = await client.countTokens({ model, messages: [user(text)] });
      expect(r.exact).toBe(false);
      expect(r.method.startsWith("estimate:")).toBe(true);
      expect(r.inputTokens).toBe(Math.ceil(text.length / 4) + 4);
    },
  );
});

describe("context window pre-flight", () => {
  it.each([
    ["openai/gpt-4o", 200_000],
    ["anthropic/claude-haiku-4-5", 300_000],
  ])("%s with max_tokens %i -> CONTEXT_LENGTH_EXCEEDED, no upstream request", async (model, maxTokens) => {
    const before = openai.requests.length + anthropic.requests.length;
    const e = await failure(() => client.chat({ model, maxTokens, messages: [user("hello world")] }));
    expect(e.code).toBe(Code.InvalidArgument);
    expect(e.reason).toBe("CONTEXT_LENGTH_EXCEEDED");
    expect(e.metadata).toMatchObject({
      model,
      max_tokens: String(maxTokens),
      context_window: String(entry(model).contextWindow),
    });
    expect(Number(e.metadata["prompt_tokens"])).toBeGreaterThan(0);
    expect(openai.requests.length + anthropic.requests.length).toBe(before);
  });
});

describe("routing and cost", () => {
  it('the catalog alias "gpt-4o" routes to openai/gpt-4o', async () => {
    const from = openai.requests.length;
    const r = await client.chat({ model: "gpt-4o", messages: [user("hello world")] });
    expect(r.provider).toBe("openai");
    expect(r.model).toBe("openai/gpt-4o");
    const sent = openai.requests.slice(from).filter((q) => q.method === "POST");
    expect(sent).toHaveLength(1);
    expect(sent[0]?.body).toMatchObject({ model: "gpt-4o" });
  });

  it.each(["unary", "stream"])("cost_usd = catalog price x the fake's usage (%s)", async (how) => {
    const from = openai.requests.length;
    const req = { model: "openai/gpt-4o", messages: [user("what does this cost?")] };
    let cost = 0;
    if (how === "unary") cost = (await client.chat(req)).gateway?.costUsd ?? 0;
    else {
      for await (const ev of client.chatStream(req)) {
        if (ev.event.case === "end") {
          expect(ev.event.value.finishReason).toBe(FinishReason.STOP);
          cost = ev.event.value.gateway?.costUsd ?? 0;
        }
      }
    }
    // What the fake reported, recomputed from what it received (test/fakes/openai-faults.ts answerFor).
    const body = openai.requests.slice(from).find((q) => q.method === "POST")?.body;
    const input = promptTokens(messagesOf(body));
    const output = wordCount("echo: what does this cost?");
    const price = entry("openai/gpt-4o").price;
    if (price === undefined) throw new Error("openai/gpt-4o has no price in the catalog");
    // Costs are whole micro-dollars, rounded once, half up (gpt-4o's prices are exact in binary here).
    const expected = Math.round(input * price.input + output * price.output) / 1_000_000;
    expect(expected).toBeGreaterThan(0);
    expect(cost).toBe(expected);
  });

  it("a ConnectError is what the client sees for every refusal (sanity of the helper)", async () => {
    await expect(client.getModel({ id: "nope/nope" })).rejects.toBeInstanceOf(ConnectError);
  });
});
