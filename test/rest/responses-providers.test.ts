// The Responses door in front of providers whose reasoning / call state must survive a round trip:
// OpenAI over its own Responses wire (encrypted reasoning the strict fake only accepts back if it
// issued it; a built-in tool passed whole) and Gemini 3 (thought signatures on function calls,
// which the fake requires on the next turn), both through the official openai SDK.
import OpenAI from "openai";
import type { ResponseInputItem } from "openai/resources/responses/responses";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unpackState } from "../../src/server/rest/reasoning-state.js";
import { type GeminiFake, startGeminiFake } from "../fakes/gemini.js";
import { type OpenAIResponsesFake, startOpenAIResponsesFake } from "../fakes/openai-responses.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";

const OPENAI_KEY = "sk-upstream-resp-SECRET-91";
const GEMINI_KEY = "gemini-upstream-SECRET-92";

let openai: OpenAIResponsesFake;
let gemini: GeminiFake;
let gw: TestGateway;
let client: OpenAI;

beforeAll(async () => {
  openai = await startOpenAIResponsesFake({ apiKey: OPENAI_KEY });
  gemini = await startGeminiFake({ apiKey: GEMINI_KEY });
  gw = await startGateway({
    env: {
      OPENAI_API_KEY: OPENAI_KEY,
      OPENAI_BASE_URL: openai.url,
      GEMINI_API_KEY: GEMINI_KEY,
      GEMINI_BASE_URL: gemini.url,
    },
  });
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

afterAll(async () => {
  await gw?.close();
  await openai?.close();
  await gemini?.close();
});

describe("OpenAI over the Responses wire", () => {
  it("hands OpenAI's encrypted reasoning back so that the next turn verifies", async () => {
    const first = await client.responses.create({
      model: "openai/o3",
      input: "think first",
      reasoning: { effort: "low", summary: "auto" },
      store: false,
    });
    const rs = first.output.find((o) => o.type === "reasoning");
    expect(rs?.type === "reasoning" && rs.encrypted_content).toBeTruthy();
    expect(first.output_text).toContain("think first");
    openai.reset();
    const second = await client.responses.create({
      model: "openai/o3",
      input: [...(first.output as ResponseInputItem[]), { role: "user", content: "and then" }],
      store: false,
    });
    expect(second.status).toBe("completed");
    expect(second.output_text).toContain("and then");
    const sent = JSON.stringify(openai.requests.at(-1)?.body);
    expect(sent).toContain('"type":"reasoning"');
    expect(sent).toContain('"encrypted_content"');
  });

  it("passes a built-in tool whole to the provider that runs it", async () => {
    openai.reset();
    const r = await client.responses.create({
      model: "openai/gpt-4o",
      input: "news today?",
      tools: [{ type: "web_search_preview", search_context_size: "low" }],
      store: false,
    });
    expect(r.status).toBe("completed");
    const body = openai.requests.at(-1)?.body as { tools?: unknown[] };
    expect(openai.requests.at(-1)?.path).toBe("/v1/responses");
    expect(body.tools).toEqual([{ type: "web_search_preview", search_context_size: "low" }]);
  });
});

describe("Gemini 3 function calls", () => {
  it("carries thought signatures in call_id through a stateless tool loop", async () => {
    const tool = {
      type: "function" as const,
      name: "get_weather",
      parameters: { type: "object", properties: { city: { type: "string" } } },
      strict: false,
    };
    const input: ResponseInputItem[] = [{ role: "user", content: "weather in Paris and Rome?" }];
    const first = await client.responses.create({
      model: "gemini/gemini-3-pro+tools",
      input,
      tools: [tool],
      store: false,
    });
    const calls = first.output.filter((o) => o.type === "function_call");
    expect(calls.length).toBeGreaterThan(0);
    expect(calls[0]?.type === "function_call" && calls[0].call_id).toContain("~llmgw1.");
    input.push(...(first.output as ResponseInputItem[]));
    for (const c of calls) {
      if (c.type === "function_call")
        input.push({ type: "function_call_output", call_id: c.call_id, output: "sunny" });
    }
    const second = await client.responses.create({
      model: "gemini/gemini-3-pro",
      input,
      tools: [tool],
      store: false,
    });
    expect(second.status).toBe("completed");
    expect(second.output_text).not.toBe("");
    // The signature packed in the first call's call_id reached Gemini on that call's part.
    const packed = calls[0]?.type === "function_call" ? calls[0].call_id.split("~")[1] : undefined;
    const signature = unpackState(packed ?? "")?.signature;
    expect(signature).toBeTruthy();
    type GeminiBody = { contents: { parts: Record<string, unknown>[] }[] };
    const contents = (gemini.requests.at(-1)?.body as GeminiBody | undefined)?.contents ?? [];
    const callPart = contents.flatMap((c) => c.parts).find((p) => "functionCall" in p);
    expect(callPart?.["thoughtSignature"]).toBe(signature);
  });

  it("keeps upstream secrets out of the logs", () => {
    const all = gw.logs.join("\n");
    expect(all).not.toContain(OPENAI_KEY);
    expect(all).not.toContain(GEMINI_KEY);
  });
});
