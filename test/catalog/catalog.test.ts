// The model catalog: models.json validates and covers every provider, aliases and equivalents
// hold together, costs come out to the exact dollar, overrides merge, and CountTokens is exact
// with a lazily loaded BPE for OpenAI models and the documented estimate for the rest.
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  Capability,
  type Message,
  MessageSchema,
  Role,
  type Tool,
  ToolSchema,
  UsageSchema,
} from "../../gen/llmgateway/v1/llm_pb.js";
import {
  builtinEntries,
  CAPABILITY_NAMES,
  Catalog,
  CatalogError,
  countPromptTokens,
  countTokensExact,
  estimateTokens,
  loadCatalog,
  tokenizerLoaded,
} from "../../src/catalog/index.js";
import data from "../../src/catalog/models.json" with { type: "json" };

const PROVIDERS = [
  "openai",
  "anthropic",
  "gemini",
  "groq",
  "mistral",
  "xai",
  "together",
  "ollama",
  "huggingface",
] as const;

function text(role: Role, value: string, name = ""): Message {
  return create(MessageSchema, { role, name, content: [{ part: { case: "text", value } }] });
}

const messages: Message[] = [
  text(Role.SYSTEM, "You are a terse assistant. Answer in one sentence."),
  text(Role.USER, "What is the capital of France? Explain the etymology of its name, too.", "alice"),
];
const tools: Tool[] = [
  create(ToolSchema, {
    name: "get_weather",
    description: "Current weather for a city.",
    parametersJson: '{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}',
  }),
];

function usage(input: number, output: number, cached = 0, written = 0, reasoning = 0) {
  return create(UsageSchema, {
    inputTokens: input,
    outputTokens: output,
    totalTokens: input + output,
    cachedInputTokens: cached,
    cacheWriteTokens: written,
    reasoningTokens: reasoning,
  });
}

// First in the file: nothing above may have loaded a BPE table.
describe("tokenizer laziness", () => {
  it("loads no BPE table until the first exact count", async () => {
    const catalog = loadCatalog();
    const llama = await countPromptTokens(catalog.get("groq/llama-3.1-8b-instant"), messages, tools);
    expect(llama.exact).toBe(false);
    expect(tokenizerLoaded()).toBe(false);
    const exact = await countPromptTokens(catalog.get("gpt-4o"), messages, tools);
    expect(exact.exact).toBe(true);
    expect(tokenizerLoaded()).toBe(true);
  });
});

describe("models.json", () => {
  const catalog = loadCatalog();

  it("validates and is sorted by id, with a price date and source", () => {
    const ids = data.models.map((m) => m.id);
    expect(ids).toEqual([...ids].sort());
    expect(builtinEntries()).toHaveLength(ids.length);
    expect(data.prices_taken).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(data.source).toMatch(/outdated/);
    expect(catalog.list().map((e) => e.id)).toEqual(ids);
  });

  it("has every provider the gateway speaks", () => {
    const have = new Set(catalog.list().map((e) => e.provider));
    for (const p of PROVIDERS) expect(have, p).toContain(p);
  });

  it("has the models the gateway promises", () => {
    for (const id of [
      "openai/gpt-5",
      "openai/text-embedding-3-large",
      "anthropic/claude-sonnet-4-5",
      "gemini/gemini-embedding-001",
      "groq/openai/gpt-oss-120b",
      "together/meta-llama/Llama-3.3-70B-Instruct-Turbo",
      "ollama/nomic-embed-text",
      "huggingface/sentence-transformers/all-MiniLM-L6-v2",
    ]) {
      expect(catalog.get(id)?.id, id).toBe(id);
    }
  });

  it("uses an OpenAI BPE only for OpenAI-tokenized models", () => {
    for (const e of catalog.list()) {
      const openaiFamily = e.provider === "openai" || e.family === "gpt-oss";
      if (!openaiFamily) expect(e.tokenizer, e.id).toBe("estimate");
      if (/llama|claude|gemini|mistral/i.test(e.id)) expect(e.tokenizer, e.id).toBe("estimate");
    }
    expect(catalog.get("openai/gpt-4o")?.tokenizer).toBe("o200k");
    expect(catalog.get("openai/text-embedding-3-small")?.tokenizer).toBe("cl100k");
  });

  it("prices local models at zero and every hosted one but Hugging Face", () => {
    expect(catalog.get("ollama/llama3.2")?.price).toEqual({ input: 0, output: 0 });
    expect(catalog.get("ollama/nomic-embed-text")?.price).toEqual({ input: 0, output: 0 });
    for (const e of catalog.list()) {
      if (e.provider !== "huggingface") expect(e.price, e.id).toBeDefined();
    }
  });

  it("resolves aliases, and no alias is claimed twice or shadows an id", () => {
    expect(catalog.get("gpt-4o")?.id).toBe("openai/gpt-4o");
    expect(catalog.get("claude-sonnet")?.id).toBe("anthropic/claude-sonnet-4-5");
    expect(catalog.get("gemini-flash")?.id).toBe("gemini/gemini-2.5-flash");
    expect(catalog.get("gpt-oss-120b")?.id).toBe("groq/openai/gpt-oss-120b");
    expect(catalog.get("no-such-model")).toBeUndefined();
    const ids = new Set(catalog.list().map((e) => e.id));
    const seen = new Map<string, string>();
    for (const e of catalog.list()) {
      for (const a of e.aliases) {
        expect(seen.get(a), `${a} claimed by ${seen.get(a)} and ${e.id}`).toBeUndefined();
        expect(ids.has(a), a).toBe(false);
        seen.set(a, e.id);
      }
    }
  });

  it("gives every model a group whose equivalents are on other providers", () => {
    for (const e of catalog.list()) {
      expect(e.equivalence, e.id).toBeDefined();
      const eq = catalog.equivalents(e.id);
      expect(eq.length, e.id).toBeGreaterThan(0);
      for (const other of eq) {
        expect(other.provider, e.id).not.toBe(e.provider);
        expect(other.id).not.toBe(e.id);
        expect(other.equivalence).toBe(e.equivalence);
      }
    }
    const chat = catalog.equivalents("claude-sonnet").map((e) => e.id);
    expect(chat).toContain("openai/gpt-4o");
    expect(chat).not.toContain("anthropic/claude-opus-4-1");
    expect(catalog.equivalents("openai/text-embedding-3-small").map((e) => e.id)).toContain(
      "mistral/mistral-embed",
    );
    expect(catalog.equivalents("unknown/model")).toEqual([]);
  });

  it("filters equivalents by the capabilities a request needs", () => {
    const all = catalog.equivalents("openai/gpt-4o-mini");
    const vision = catalog.equivalents("openai/gpt-4o-mini", ["vision", "tools"]);
    expect(all.some((e) => e.id === "groq/llama-3.1-8b-instant")).toBe(true);
    expect(vision.some((e) => e.id === "groq/llama-3.1-8b-instant")).toBe(false);
    expect(vision.map((e) => e.id)).toContain("gemini/gemini-2.5-flash-lite");
  });
});

describe("costUsd", () => {
  const catalog = loadCatalog();

  it("prices 1M in + 1M out on gpt-4o at 2.50 + 10.00", () => {
    expect(catalog.costUsd("openai/gpt-4o", usage(1_000_000, 1_000_000))).toBe(12.5);
    expect(catalog.costUsd("gpt-4o", usage(1_000_000, 0))).toBe(2.5);
  });

  it("bills cached input at the cached rate and the rest at the input rate", () => {
    // gpt-4o-mini: 0.15 in, 0.075 cached, 0.60 out. 1000 prompt tokens, 400 of them cached, 200 out.
    const usd = catalog.costUsd("openai/gpt-4o-mini", usage(1000, 200, 400));
    expect(usd).toBe((600 * 0.15 + 400 * 0.075 + 200 * 0.6) / 1e6);
    expect(usd).toBe(0.00024);
  });

  it("bills Anthropic cache writes and reads at their own rates", () => {
    // claude-sonnet-4-5: 3 in, 0.30 read, 3.75 write, 15 out.
    const usd = catalog.costUsd("claude-sonnet", usage(10_000, 1_000, 6_000, 3_000));
    expect(usd).toBe(0.003 + 0.0018 + 0.01125 + 0.015);
  });

  it("counts reasoning inside output, not on top of it", () => {
    expect(catalog.costUsd("openai/o3", usage(0, 1_000_000, 0, 0, 900_000))).toBe(8);
  });

  it("rounds once, half up, to the micro-dollar and never goes negative on inconsistent counts", () => {
    // gpt-4.1-nano: 3 x 0.10 + 7 x 0.40 = 3.1 micro-dollars -> 3.
    expect(catalog.costUsd("gpt-4.1-nano", usage(3, 7))).toBe(0.000003);
    // 50 cached of a 10-token prompt: 10 cached x 1.25 = 12.5 micro-dollars -> 13 (half up).
    expect(catalog.costUsd("gpt-4o", usage(10, 0, 50))).toBe(0.000013);
  });

  it("is undefined for unknown models and unpriced ones, zero for local ones", () => {
    expect(catalog.costUsd("nope/nope", usage(1, 1))).toBeUndefined();
    expect(catalog.costUsd("huggingface/meta-llama/Llama-3.1-8B-Instruct", usage(1, 1))).toBeUndefined();
    expect(catalog.costUsd("ollama/llama3.2", usage(1_000_000, 1_000_000))).toBe(0);
  });
});

describe("overrides", () => {
  it("merge per field onto an existing entry, price per sub-field", () => {
    const catalog = loadCatalog({
      "openai/gpt-4o": { price: { input: 2 }, aliases: ["gpt-4o", "omni"] },
    });
    const e = catalog.get("omni");
    expect(e?.id).toBe("openai/gpt-4o");
    expect(e?.price).toEqual({ input: 2, output: 10, cachedInput: 1.25 });
    expect(e?.contextWindow).toBe(128000);
    expect(catalog.costUsd("gpt-4o", usage(1_000_000, 1_000_000))).toBe(12);
    expect(loadCatalog().get("gpt-4o")?.price?.input).toBe(2.5);
  });

  it("add a new model with defaults from its id", () => {
    const catalog = loadCatalog({
      "openai-eu/gpt-4o": {
        capabilities: ["chat", "stream"],
        tokenizer: "o200k",
        price: { input: 2.75, output: 11 },
        equivalence: "frontier",
      },
    });
    const e = catalog.get("openai-eu/gpt-4o");
    expect(e).toMatchObject({ provider: "openai-eu", upstream: "gpt-4o", contextWindow: 0, aliases: [] });
    expect(catalog.equivalents("openai-eu/gpt-4o").map((x) => x.id)).toContain("openai/gpt-4o");
    expect(catalog.list().map((x) => x.id)).toEqual([...catalog.list().map((x) => x.id)].sort());
  });

  it("fail loudly, naming the id, on a bad field, a missing price part or a stolen alias", () => {
    expect(() => loadCatalog({ "openai/gpt-4o": { price: { input: -1 } } })).toThrow(/openai\/gpt-4o/);
    expect(() => loadCatalog({ "openai/gpt-4o": { colour: "blue" } as never })).toThrow(CatalogError);
    expect(() => loadCatalog({ "acme/thing": { price: { input: 1 } } })).toThrow(/acme\/thing/);
    expect(() => loadCatalog({ "acme/thing": { capabilities: ["chat"], aliases: ["gpt-4o"] } })).toThrow(
      /alias "gpt-4o" is claimed by both "acme\/thing" and "openai\/gpt-4o"/,
    );
    expect(() => loadCatalog({ "openai/gpt-4o": { provider: "azure" } })).toThrow(/provider\/upstream/);
    expect(() =>
      loadCatalog({ "acme/thing": { capabilities: ["chat"], aliases: ["openai/gpt-4o"] } }),
    ).toThrow(/"openai\/gpt-4o" is the id of another model/);
  });

  it("reject a bad built-in entry by its id", () => {
    const [first] = builtinEntries();
    if (!first) throw new Error("empty catalog");
    const bad = { ...first, contextWindow: -5 };
    expect(() => new Catalog([bad])).toThrow(new RegExp(first.id));
    expect(() => new Catalog([first, first])).toThrow(/appears twice/);
  });
});

describe("toModelInfo", () => {
  const catalog = loadCatalog();

  it("maps capabilities to the contract's enum and drops reasoning", () => {
    const e = catalog.get("openai/gpt-5");
    if (!e) throw new Error("gpt-5 missing");
    const info = catalog.toModelInfo(e);
    expect(info.id).toBe("openai/gpt-5");
    expect(info.provider).toBe("openai");
    expect(info.upstreamModel).toBe("gpt-5");
    expect(info.capabilities).toEqual([
      Capability.CHAT,
      Capability.STREAM,
      Capability.TOOLS,
      Capability.VISION,
      Capability.JSON_SCHEMA,
    ]);
    expect(info.contextWindow).toBe(400000);
    expect(info.maxOutputTokens).toBe(128000);
    expect(info.aliases).toEqual(["gpt-5"]);
    expect(info.aliasOf).toBe("");
  });

  it("maps every capability name but reasoning", () => {
    const emb = catalog.get("openai/text-embedding-3-small");
    if (!emb) throw new Error("embedding model missing");
    expect(catalog.toModelInfo(emb).capabilities).toEqual([Capability.EMBEDDINGS]);
    const all = loadCatalog({ "x/all": { capabilities: [...CAPABILITY_NAMES] } }).get("x/all");
    if (!all) throw new Error("override missing");
    expect(catalog.toModelInfo(all).capabilities).toHaveLength(CAPABILITY_NAMES.length - 1);
  });
});

describe("countPromptTokens", () => {
  const catalog = loadCatalog();

  it("counts exactly with o200k for an OpenAI model", async () => {
    const { countTokens } = await import("gpt-tokenizer/encoding/o200k_base");
    const n = (s: string) => countTokens(s);
    const expected =
      3 + // reply priming
      4 +
      n("You are a terse assistant. Answer in one sentence.") +
      4 +
      n("alice") +
      n("What is the capital of France? Explain the etymology of its name, too.") +
      n(tools[0]?.name ?? "") +
      n(tools[0]?.description ?? "") +
      n(tools[0]?.parametersJson ?? "");
    const got = await countPromptTokens(catalog.get("gpt-4o"), messages, tools);
    expect(got).toEqual({ tokens: expected, exact: true, method: "o200k_base" });
  });

  it("counts text with cl100k for the embedding models", async () => {
    const { countTokens } = await import("gpt-tokenizer/encoding/cl100k_base");
    const s = "The quick brown fox jumps over the lazy dog.";
    expect(await countTokensExact("cl100k", s)).toBe(countTokens(s));
    expect(await countTokensExact("o200k", "")).toBe(0);
  });

  it("counts special-token text as text instead of throwing", async () => {
    const n = await countTokensExact("o200k", "hi <|endoftext|> there");
    expect(n).toBeGreaterThan(3);
  });

  it("falls back to the estimate for Llama, Claude and unknown models", async () => {
    const estimate = estimateTokens(
      messages,
      tools.reduce((s, t) => s + t.name.length + t.description.length + t.parametersJson.length, 0),
    );
    for (const model of ["groq/llama-3.3-70b-versatile", "claude-sonnet", "nope/nope"]) {
      const got = await countPromptTokens(catalog.get(model), messages, tools);
      expect(got, model).toEqual({ tokens: estimate, exact: false, method: "estimate:chars/4+4/message" });
    }
    const chars = 50 + 70; // the two messages' text
    expect(estimateTokens(messages)).toBe(Math.ceil(chars / 4) + 8);
  });

  it("is not exact when images are in the prompt", async () => {
    const withImage = create(MessageSchema, {
      role: Role.USER,
      content: [
        { part: { case: "text", value: "What is this?" } },
        { part: { case: "image", value: { source: { case: "url", value: "https://example.com/a.png" } } } },
      ],
    });
    const got = await countPromptTokens(catalog.get("gpt-4o"), [withImage], []);
    expect(got.exact).toBe(false);
    expect(got.method).toBe("o200k_base+85/image");
  });
});
