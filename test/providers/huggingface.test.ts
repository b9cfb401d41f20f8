import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { ChatRequestSchema, EmbedRequestSchema, FinishReason } from "../../gen/llmgateway/v1/llm_pb.js";
import { GatewayError, UpstreamError } from "../../src/errors.js";
import {
  featureExtractionUrl,
  fromHFFeatureExtraction,
  meanPool,
  toHFFeatureExtractionRequest,
} from "../../src/providers/huggingface/embed.js";
import { fromHFHttpError, redactHFSecrets } from "../../src/providers/huggingface/errors.js";
import { createHuggingFaceProvider } from "../../src/providers/huggingface/index.js";
import type { Provider } from "../../src/providers/types.js";
import { type HuggingFaceFake, startHuggingFaceFake, tokenRows } from "../fakes/huggingface.js";
import { FAKE_MODELS, type OpenAIFake, startOpenAIFake } from "../fakes/openai.js";
import { embeddingVector } from "../fakes/openai-faults.js";
import { fixtures, rejection } from "./helpers.js";

const { read, json } = fixtures("huggingface");
const ctx = { provider: "huggingface", model: "BAAI/bge-small-en-v1.5", count: 2, inputChars: 10 };

describe("embed.ts", () => {
  it("pooled.response.json: one vector per input, usage estimated chars/4", () => {
    const r = fromHFFeatureExtraction(json("pooled.response.json"), ctx);
    expect(r.embeddings.map((e) => [e.index, e.values.length])).toEqual([
      [0, 4],
      [1, 4],
    ]);
    expect(r.embeddings[1]!.values).toEqual([-0.4, 0.5, 0, 0.25]);
    expect([r.usage?.inputTokens, r.usage?.totalTokens, r.usage?.estimated, r.model, r.provider]).toEqual([
      3,
      3,
      true,
      "BAAI/bge-small-en-v1.5",
      "huggingface",
    ]);
  });

  it("token-level.response.json: 2D per input is mean-pooled", () => {
    const r = fromHFFeatureExtraction(json("token-level.response.json"), ctx);
    expect(r.embeddings.map((e) => e.values)).toEqual([
      [2, 3, 4],
      [1, 0, 1],
    ]);
    expect(meanPool([[1], [2], [6]])).toEqual([3]);
  });

  it.each([
    { why: "not an array", body: { error: "x" }, count: 1 },
    { why: "count mismatch", body: [[1, 2]], count: 2 },
    { why: "strings", body: [["a", "b"]], count: 1 },
    { why: "ragged token rows", body: [[[1, 2], [3]]], count: 1 },
    { why: "empty vector", body: [[]], count: 1 },
  ])("$why -> protocol", ({ body, count }) => {
    expect(() => fromHFFeatureExtraction(body, { ...ctx, count })).toThrowError(
      expect.objectContaining({ kind: "protocol" }),
    );
  });

  it("a bare vector answers a single input", () => {
    const r = fromHFFeatureExtraction([0.5, 0.25], { ...ctx, count: 1 });
    expect(r.embeddings[0]!.values).toEqual([0.5, 0.25]);
  });

  it("request body and URL; dimensions and user are unsupported (reject or warn)", () => {
    expect(featureExtractionUrl("https://h/models/", "BAAI/bge small")).toBe(
      "https://h/models/BAAI/bge%20small/pipeline/feature-extraction",
    );
    const req = create(EmbedRequestSchema, { inputs: ["a", "b"], dimensions: 64, user: "u" });
    const err = (() => {
      try {
        toHFFeatureExtractionRequest(req, { provider: "huggingface" });
      } catch (e: unknown) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(GatewayError);
    expect([(err as GatewayError).reason, (err as GatewayError).details.metadata?.["parameter"]]).toEqual([
      "UNSUPPORTED_PARAMETER",
      "dimensions",
    ]);
    const warnings: string[] = [];
    const body = toHFFeatureExtractionRequest(req, {
      provider: "huggingface",
      unsupportedParams: "warn",
      warn: (m) => warnings.push(m),
    });
    expect(body).toEqual({ inputs: ["a", "b"] });
    expect(warnings).toEqual([expect.stringContaining('"dimensions"'), expect.stringContaining('"user"')]);
  });
});

describe("errors.ts", () => {
  it.each([
    { status: 503, file: "loading.error.json", kind: "unavailable", retry: 20_000 },
    { status: 401, file: "invalid-token.error.json", kind: "auth", retry: undefined },
    { status: 400, file: "validation.error.json", kind: "bad_request", retry: undefined },
    { status: 400, file: "too-long.error.json", kind: "context_length", retry: undefined },
    { status: 402, file: "credits.error.json", kind: "quota", retry: undefined },
    { status: 404, file: "not-found.error.json", kind: "not_found", retry: undefined },
  ])("$status $file -> $kind", ({ status, file, kind, retry }) => {
    const e = fromHFHttpError({ status, body: read(file), headers: {}, provider: "huggingface", model: "m" });
    expect([e.kind, e.status, e.opts.retryAfterMs, e.opts.model]).toEqual([kind, status, retry, "m"]);
    expect(e.message).not.toBe("");
  });

  it("Retry-After wins over estimated_time; list errors are joined; tokens are redacted", () => {
    const loading = fromHFHttpError({
      status: 503,
      body: read("loading.error.json"),
      headers: { "retry-after": "3" },
      provider: "hf",
    });
    expect(loading.opts.retryAfterMs).toBe(3000);
    const list = fromHFHttpError({ status: 422, body: '{"error":["a","b"]}', headers: {}, provider: "hf" });
    expect([list.kind, list.message]).toEqual(["bad_request", "a; b"]);
    expect(redactHFSecrets("token hf_abcdefghijklmnop is invalid")).toBe("token [redacted] is invalid");
  });
});

describe("provider against the OpenAI and HF fakes", () => {
  const TOKEN = "hf_testTOKEN0123456789abcdef";
  let chatFake: OpenAIFake;
  let hfFake: HuggingFaceFake;
  let p: Provider;
  const call = (model: string, signal = new AbortController().signal) => ({
    model,
    signal,
    requestId: "rid-9",
  });
  const embedReq = (inputs: string[]) => create(EmbedRequestSchema, { inputs });
  const chatReq = create(ChatRequestSchema, {
    messages: [{ role: 2, content: [{ part: { case: "text", value: "hi there" } }] }],
  });

  beforeAll(async () => {
    chatFake = await startOpenAIFake({ apiKey: TOKEN });
    hfFake = await startHuggingFaceFake({ apiKey: TOKEN });
    p = createHuggingFaceProvider({
      name: "hf",
      baseUrl: chatFake.url,
      embedBaseUrl: `${hfFake.url}/`,
      apiKey: TOKEN,
    });
  });
  afterAll(async () => {
    await p.close();
    await Promise.all([chatFake.close(), hfFake.close()]);
  });
  beforeEach(() => {
    chatFake.reset();
    hfFake.reset();
  });

  it("chat and stream go through the OpenAI-compatible router with the HF token", async () => {
    const r = await p.chat(chatReq, call("meta-llama/Llama-3.1-8B-Instruct"));
    const part = r.message?.content[0]?.part;
    expect([part?.value, r.provider, r.finishReason, p.type]).toEqual([
      "echo: hi there",
      "hf",
      FinishReason.STOP,
      "huggingface",
    ]);
    expect(chatFake.requests[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    let text = "";
    for await (const ev of p.chatStream(chatReq, call("meta-llama/Llama-3.1-8B-Instruct"))) {
      if (ev.event.case === "delta") text += ev.event.value.text;
    }
    expect(text).toBe("echo: hi there");
  });

  it("listModels from the router; chat errors are classified with the HF provider name", async () => {
    const models = await p.listModels(new AbortController().signal);
    expect(models.map((m) => m.id)).toEqual(FAKE_MODELS.map((m) => `hf/${m.id}`));
    const err = await rejection(p.chat(chatReq, call("x+status=429+retry_after=1")));
    expect([(err as UpstreamError).kind, (err as UpstreamError).provider]).toEqual(["rate_limited", "hf"]);
  });

  it("embed: pipeline path, {inputs}, bearer token, pooled vectors", async () => {
    const r = await p.embed(embedReq(["hello world", "b"]), call("BAAI/bge-small-en-v1.5"));
    expect(r.embeddings.map((e) => e.values)).toEqual([
      embeddingVector("hello world", 8),
      embeddingVector("b", 8),
    ]);
    expect([r.usage?.inputTokens, r.usage?.estimated]).toEqual([3, true]);
    const rec = hfFake.requests[0]!;
    expect([rec.path, rec.body, rec.headers.authorization, rec.headers["x-request-id"]]).toEqual([
      "/hf-inference/models/BAAI/bge-small-en-v1.5/pipeline/feature-extraction",
      { inputs: ["hello world", "b"] },
      `Bearer ${TOKEN}`,
      "rid-9",
    ]);
  });

  it("embed: token-level answers are mean-pooled", async () => {
    const r = await p.embed(embedReq(["a b c"]), call("sentence-transformers/raw+token_level+dims=3"));
    const rows = tokenRows("a b c", 3);
    const mean = [0, 1, 2].map((i) => rows.reduce((s, row) => s + row[i]!, 0) / rows.length);
    expect(r.embeddings[0]!.values.map((v) => v.toFixed(5))).toEqual(mean.map((v) => v.toFixed(5)));
  });

  it.each([
    { model: "BAAI/bge-small-en-v1.5+loading", kind: "unavailable", retry: 20_000 },
    { model: "m+status=401", kind: "auth", retry: undefined },
    { model: "m+status=402", kind: "quota", retry: undefined },
    { model: "m+status=404", kind: "not_found", retry: undefined },
    { model: "m+status=429", kind: "rate_limited", retry: undefined },
    { model: "m+status=500", kind: "unavailable", retry: undefined },
  ])("embed $model -> $kind", async ({ model, kind, retry }) => {
    const err = await rejection(p.embed(embedReq(["a"]), call(model)));
    expect(err).toBeInstanceOf(UpstreamError);
    const e = err as UpstreamError;
    expect([e.kind, e.provider, e.opts.retryAfterMs]).toEqual([kind, "hf", retry]);
    expect(e.message).not.toContain(TOKEN);
  });

  it("embed abort: the caller's reason surfaces and the fake sees the close", async () => {
    const ac = new AbortController();
    const pending = p.embed(embedReq(["a"]), call("m+delay=5000", ac.signal));
    await vi.waitFor(() => expect(hfFake.requests.length).toBe(1), { timeout: 10_000 });
    const reason = new Error("deadline");
    ac.abort(reason);
    expect(await rejection(pending)).toBe(reason);
    await vi.waitFor(() => expect(hfFake.requests[0]?.aborted).toBe(true), { timeout: 10_000 });
  });
});
