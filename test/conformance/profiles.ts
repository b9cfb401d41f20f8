// One profile per provider for the conformance suite: how to name a model with fake directives,
// which fake records its calls, and where that provider's wire puts each feature (asserted on the
// request body the fake recorded). The scenarios (scenarios.ts) are the same for every provider.
import { expect } from "vitest";
import type { ProviderType } from "../../src/providers/index.js";
import type { Upstream, World } from "./harness.js";

/** The same values every scenario sends, so every profile can look for them. */
export const SYSTEM = "Be terse.";
export const TOOL = {
  name: "get_weather",
  description: "Current weather in a city",
  parametersJson: '{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}',
};
export const TOOL_PARAMS: unknown = JSON.parse(TOOL.parametersJson);
export const CALL_ID = "call_conf_1";
export const CALL_ARGS = { city: "Paris" };
export const TOOL_RESULT = "sunny";
export const SCHEMA_JSON =
  '{"type":"object","properties":{"answer":{"type":"string"}},"required":["answer"],"additionalProperties":false}';
export const SCHEMA: unknown = JSON.parse(SCHEMA_JSON);
/** A 1x1 transparent PNG. */
export const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=",
  "base64",
);
export const PNG_B64 = PNG.toString("base64");
export const STOP = ["END", "HALT"];
export const MAX_TOKENS = 5;
export const SEED = 42;
export const EMBED_INPUTS = ["alpha", "beta"];
/** ReasoningOptions.effort MEDIUM maps to this budget on Anthropic and Gemini. */
export const MEDIUM_BUDGET = 8192;

/** Assertions on the upstream request body, per feature; absent for the mock (nothing recorded). */
export interface WireChecks {
  system(body: unknown): void;
  multiTurn(body: unknown): void;
  tools(body: unknown): void;
  toolResult(body: unknown): void;
  vision(body: unknown): void;
  schema(body: unknown): void;
  stop(body: unknown): void;
  maxTokens(body: unknown): void;
  seed(body: unknown): void;
  /** `withText`: the request asked for the reasoning text too (include_reasoning; not over REST). */
  reasoning(body: unknown, withText: boolean): void;
  embed(body: unknown): void;
}

/** A provider as the scenarios drive it. */
export interface Profile {
  id: ProviderType;
  /** "provider/model+directive+..." (the mock maps directives onto its model names). */
  model(...directives: string[]): string;
  embedModel: string;
  /** Where chat calls land (undefined for the mock: no network). */
  chat?: Upstream;
  /** Where embedding calls land. */
  embed?: Upstream;
  /** An id ListModels can only know from the provider's own list, and the path the list is read from. */
  listed: string;
  listPath?: string;
  /** RetryInfo the gateway must relay for `status=429+retry_after=2` (the mock always says 1 s). */
  retrySeconds: number;
  /** The wire returns reasoning text (OpenAI's chat completions never do, whatever the effort). */
  reasoningText: boolean;
  wire?: WireChecks;
}

const has = (body: unknown, shape: Record<string, unknown>) => expect(body).toMatchObject(shape);

/** OpenAI's chat-completions body (also Hugging Face's router, which speaks it). */
function openaiWire(maxTokensField: string): WireChecks {
  return {
    system: (b) =>
      has(b, {
        messages: [
          { role: "system", content: SYSTEM },
          { role: "user", content: "hello world" },
        ],
      }),
    multiTurn: (b) => has(b, { messages: [{ role: "user" }, { role: "assistant" }, { role: "user" }] }),
    tools: (b) =>
      has(b, {
        tools: [
          {
            type: "function",
            function: { name: TOOL.name, description: TOOL.description, parameters: TOOL_PARAMS },
          },
        ],
      }),
    toolResult: (b) =>
      has(b, {
        messages: [
          { role: "user" },
          {
            role: "assistant",
            tool_calls: [
              {
                id: CALL_ID,
                type: "function",
                function: { name: TOOL.name, arguments: JSON.stringify(CALL_ARGS) },
              },
            ],
          },
          { role: "tool", tool_call_id: CALL_ID, content: TOOL_RESULT },
        ],
      }),
    vision: (b) =>
      has(b, {
        messages: [
          {
            content: [
              { type: "text" },
              { type: "image_url", image_url: { url: `data:image/png;base64,${PNG_B64}` } },
            ],
          },
        ],
      }),
    schema: (b) =>
      has(b, {
        response_format: {
          type: "json_schema",
          json_schema: { name: "reply", schema: SCHEMA, strict: true },
        },
      }),
    stop: (b) => has(b, { stop: STOP }),
    maxTokens: (b) => has(b, { [maxTokensField]: MAX_TOKENS }),
    seed: (b) => has(b, { seed: SEED }),
    reasoning: (b) => has(b, { reasoning_effort: "medium" }),
    embed: (b) => has(b, { input: EMBED_INPUTS }),
  };
}

const anthropicWire: WireChecks = {
  system: (b) => has(b, { system: SYSTEM, messages: [{ role: "user" }] }),
  multiTurn: (b) => has(b, { messages: [{ role: "user" }, { role: "assistant" }, { role: "user" }] }),
  tools: (b) =>
    has(b, { tools: [{ name: TOOL.name, description: TOOL.description, input_schema: TOOL_PARAMS }] }),
  toolResult: (b) =>
    has(b, {
      messages: [
        { role: "user" },
        {
          role: "assistant",
          content: [{ type: "tool_use", id: CALL_ID, name: TOOL.name, input: CALL_ARGS }],
        },
        { role: "user", content: [{ type: "tool_result", tool_use_id: CALL_ID, content: TOOL_RESULT }] },
      ],
    }),
  vision: (b) =>
    has(b, {
      messages: [
        {
          content: [
            { type: "text" },
            { type: "image", source: { type: "base64", media_type: "image/png", data: PNG_B64 } },
          ],
        },
      ],
    }),
  schema: (b) => has(b, { output_config: { format: { type: "json_schema", schema: SCHEMA } } }),
  stop: (b) => has(b, { stop_sequences: STOP }),
  maxTokens: (b) => has(b, { max_tokens: MAX_TOKENS }),
  seed: (b) => has(b, { seed: SEED }),
  reasoning: (b) => has(b, { thinking: { type: "enabled", budget_tokens: MEDIUM_BUDGET } }),
  embed: () => expect.fail("Anthropic has no embeddings API"),
};

const geminiWire: WireChecks = {
  system: (b) =>
    has(b, {
      systemInstruction: { parts: [{ text: SYSTEM }] },
      contents: [{ role: "user", parts: [{ text: "hello world" }] }],
    }),
  multiTurn: (b) => has(b, { contents: [{ role: "user" }, { role: "model" }, { role: "user" }] }),
  tools: (b) =>
    has(b, {
      tools: [
        {
          functionDeclarations: [{ name: TOOL.name, description: TOOL.description, parameters: TOOL_PARAMS }],
        },
      ],
    }),
  toolResult: (b) =>
    has(b, {
      contents: [
        { role: "user" },
        { role: "model", parts: [{ functionCall: { name: TOOL.name, args: CALL_ARGS } }] },
        {
          role: "user",
          parts: [{ functionResponse: { name: TOOL.name, response: { result: TOOL_RESULT } } }],
        },
      ],
    }),
  vision: (b) =>
    has(b, {
      contents: [
        { parts: [{ text: "what is this?" }, { inlineData: { mimeType: "image/png", data: PNG_B64 } }] },
      ],
    }),
  schema: (b) =>
    has(b, { generationConfig: { responseMimeType: "application/json", responseJsonSchema: SCHEMA } }),
  stop: (b) => has(b, { generationConfig: { stopSequences: STOP } }),
  maxTokens: (b) => has(b, { generationConfig: { maxOutputTokens: MAX_TOKENS } }),
  seed: (b) => has(b, { generationConfig: { seed: SEED } }),
  reasoning: (b, withText) => {
    has(b, { generationConfig: { thinkingConfig: { thinkingBudget: MEDIUM_BUDGET } } });
    const thinking = (b as { generationConfig: { thinkingConfig: { includeThoughts?: unknown } } })
      .generationConfig.thinkingConfig;
    expect(thinking.includeThoughts).toBe(withText ? true : undefined);
  },
  embed: (b) =>
    has(b, {
      requests: EMBED_INPUTS.map((text) => ({
        model: "models/gemini-embedding-001",
        content: { parts: [{ text }] },
      })),
    }),
};

const ollamaWire: WireChecks = {
  system: (b) =>
    has(b, {
      messages: [
        { role: "system", content: SYSTEM },
        { role: "user", content: "hello world" },
      ],
    }),
  multiTurn: (b) => has(b, { messages: [{ role: "user" }, { role: "assistant" }, { role: "user" }] }),
  tools: (b) =>
    has(b, {
      tools: [
        {
          type: "function",
          function: { name: TOOL.name, description: TOOL.description, parameters: TOOL_PARAMS },
        },
      ],
    }),
  toolResult: (b) =>
    has(b, {
      messages: [
        { role: "user" },
        { role: "assistant", tool_calls: [{ function: { name: TOOL.name, arguments: CALL_ARGS } }] },
        { role: "tool", content: TOOL_RESULT, tool_name: TOOL.name },
      ],
    }),
  vision: (b) => has(b, { messages: [{ role: "user", content: "what is this?", images: [PNG_B64] }] }),
  schema: (b) => has(b, { format: SCHEMA }),
  stop: (b) => has(b, { options: { stop: STOP } }),
  maxTokens: (b) => has(b, { options: { num_predict: MAX_TOKENS } }),
  seed: (b) => has(b, { options: { seed: SEED } }),
  reasoning: (b) => has(b, { think: true }),
  embed: (b) => has(b, { input: EMBED_INPUTS }),
};

/** Mock model names for the directives the scenarios use (everything else answers as echo). */
function mockModel(...directives: string[]): string {
  for (const d of directives) {
    if (d.startsWith("status=")) return `mock/error-${d.slice("status=".length)}`;
    if (d.startsWith("drop=")) return "mock/cut";
    if (d === "stall") return "mock/stall";
  }
  return "mock/echo";
}

const directed =
  (prefix: string) =>
  (...directives: string[]): string =>
    [prefix, ...directives].join("+");

/** Every provider's profile, wired to the started world. */
export function profiles(w: World): Record<ProviderType, Profile> {
  const f = w.fakes;
  return {
    openai: {
      id: "openai",
      model: directed("openai/gpt-4o-mini"),
      embedModel: "openai/text-embedding-3-small",
      chat: f.openai,
      embed: f.openai,
      listed: "openai/gpt-4o",
      listPath: "/v1/models",
      retrySeconds: 2,
      reasoningText: false,
      wire: openaiWire("max_completion_tokens"),
    },
    anthropic: {
      id: "anthropic",
      model: directed("anthropic/claude-haiku-4-5"),
      embedModel: "anthropic/claude-haiku-4-5",
      chat: f.anthropic,
      embed: f.anthropic,
      listed: "anthropic/claude-opus-4-1",
      listPath: "/v1/models",
      retrySeconds: 2,
      reasoningText: true,
      wire: anthropicWire,
    },
    gemini: {
      id: "gemini",
      model: directed("gemini/gemini-2.5-flash"),
      embedModel: "gemini/gemini-embedding-001",
      chat: f.gemini,
      embed: f.gemini,
      listed: "gemini/gemini-2.0-flash-lite",
      listPath: "/v1beta/models",
      retrySeconds: 2,
      reasoningText: true,
      wire: geminiWire,
    },
    ollama: {
      id: "ollama",
      model: directed("ollama/llama3.2"),
      embedModel: "ollama/nomic-embed-text",
      chat: f.ollama,
      embed: f.ollama,
      listed: "ollama/qwen3:8b",
      listPath: "/api/tags",
      retrySeconds: 2,
      reasoningText: true,
      wire: ollamaWire,
    },
    huggingface: {
      id: "huggingface",
      model: directed("huggingface/meta-llama/Llama-3.1-8B-Instruct"),
      embedModel: "huggingface/sentence-transformers/all-MiniLM-L6-v2",
      chat: f.hfChat,
      embed: f.hfEmbed,
      listed: "huggingface/gpt-4o-mini",
      listPath: "/v1/models",
      retrySeconds: 2,
      reasoningText: false,
      wire: {
        ...openaiWire("max_tokens"),
        embed: (b) => has(b, { inputs: EMBED_INPUTS }),
      },
    },
    mock: {
      id: "mock",
      model: mockModel,
      embedModel: "mock/embed",
      listed: "mock/echo",
      retrySeconds: 1,
      reasoningText: false,
    },
  };
}
