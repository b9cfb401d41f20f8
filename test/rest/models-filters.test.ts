// GET /v1/models filters (?provider, ?capability, ?min_context_window) and the catalog's extra fields.
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type TestGateway } from "../helpers/gateway.js";

interface Entry {
  id: string;
  object: string;
  owned_by: string;
  capabilities?: string[];
  context_window?: number;
  max_output_tokens?: number;
  input_price_per_million?: number;
  output_price_per_million?: number;
}

let gw: TestGateway;

beforeAll(async () => {
  // The openai preset on a closed port: its own list fails (logged), the catalog's entries remain.
  gw = await startGateway({
    env: { OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: "http://127.0.0.1:9/v1" },
    yaml: "models:\n  smart:\n    deployments:\n      - target: openai/gpt-4o\n",
  });
});
afterAll(() => gw.close());

async function list(
  query = "",
): Promise<{ status: number; body: { data: Entry[]; error?: { param: string } } }> {
  const r = await fetch(`${gw.url}/v1/models${query}`);
  return { status: r.status, body: (await r.json()) as { data: Entry[]; error?: { param: string } } };
}

describe("GET /v1/models", () => {
  it("carries capabilities, context window, max output and prices next to OpenAI's fields", async () => {
    const { status, body } = await list();
    expect(status).toBe(200);
    const m = body.data.find((e) => e.id === "openai/gpt-4o");
    expect(m).toMatchObject({
      object: "model",
      owned_by: "openai",
      capabilities: ["chat", "stream", "tools", "vision", "json_schema"],
      context_window: 128000,
      max_output_tokens: 16384,
      input_price_per_million: 2.5,
      output_price_per_million: 10,
    });
    // A config alias carries its first deployment's prices.
    expect(body.data.find((e) => e.id === "smart")).toMatchObject({ input_price_per_million: 2.5 });
  });

  it("filters by capability, provider and min_context_window", async () => {
    const emb = await list("?capability=embeddings");
    expect(emb.body.data.length).toBeGreaterThan(0);
    for (const e of emb.body.data) expect(e.capabilities).toContain("embeddings");
    expect(emb.body.data.some((e) => e.id === "openai/text-embedding-3-small")).toBe(true);

    const openai = await list("?provider=openai");
    expect(openai.body.data.length).toBeGreaterThan(0);
    for (const e of openai.body.data) expect(e.owned_by).toBe("openai");
    expect(openai.body.data.some((e) => e.id === "smart")).toBe(false);

    const big = await list("?min_context_window=100000&capability=vision");
    expect(big.body.data.some((e) => e.id === "openai/gpt-4o")).toBe(true);
    for (const e of big.body.data) {
      expect(e.context_window).toBeGreaterThanOrEqual(100000);
      expect(e.capabilities).toContain("vision");
    }
    expect((await list("?min_context_window=2000000000")).body.data).toEqual([]);
  });

  it("refuses an unknown capability or a bad min_context_window with 400 naming the parameter", async () => {
    const bad = await list("?capability=telepathy");
    expect(bad.status).toBe(400);
    expect(bad.body.error?.param).toBe("capability");
    const neg = await list("?min_context_window=-5");
    expect(neg.status).toBe(400);
    expect(neg.body.error?.param).toBe("min_context_window");
    expect((await list("?provider=nope")).status).toBe(404);
  });

  it("GET /v1/models/{id} carries the same fields", async () => {
    const r = await fetch(`${gw.url}/v1/models/openai%2Fgpt-4o-mini`);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({
      id: "openai/gpt-4o-mini",
      object: "model",
      context_window: 128000,
      input_price_per_million: 0.15,
      output_price_per_million: 0.6,
    });
  });

  it("the openai SDK's models.list() and retrieve() still work", async () => {
    const client = new OpenAI({ apiKey: "none", baseURL: `${gw.url}/v1` });
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toContain("openai/gpt-4o");
    const one = await client.models.retrieve("smart");
    expect(one.id).toBe("smart");
    expect(one.object).toBe("model");
  });
});
