// The Gemini fake is trusted only because the official `@google/genai` SDK parses what it sends:
// generateContent, streams, function calling, thoughts, embeddings, the paged model list, errors
// (ApiError with the HTTP status) and aborts.
import { ApiError, FinishReason, type GenerateContentResponse, GoogleGenAI } from "@google/genai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { waitFor } from "../helpers/wait.js";
import { FAKE_GEMINI_MODELS, type GeminiFake, startGeminiFake } from "./gemini.js";

const API_KEY = "AIzaFakeKey0123456789abcdefghijklmnopq";
let fake: GeminiFake;
let ai: GoogleGenAI;

beforeAll(async () => {
  fake = await startGeminiFake({ apiKey: API_KEY });
  ai = new GoogleGenAI({ apiKey: API_KEY, httpOptions: { baseUrl: fake.url } });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.reset();
});

const weather = {
  functionDeclarations: [
    {
      name: "get_weather",
      description: "Weather for a city",
      parametersJsonSchema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
    },
  ],
};

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e: unknown) {
    return e;
  }
  throw new Error("expected the call to fail");
}

async function streamed(model: string, config: Record<string, unknown> = {}) {
  const chunks: GenerateContentResponse[] = [];
  const stream = await ai.models.generateContentStream({ model, contents: "hello there world", config });
  for await (const c of stream) chunks.push(c);
  return chunks;
}

describe("gemini fake: generateContent", () => {
  it("answers a call the SDK parses; the key travels in x-goog-api-key only", async () => {
    const r = await ai.models.generateContent({
      model: "gemini-2.5-flash",
      contents: "hello there world",
      config: { systemInstruction: "be brief", temperature: 0.1, maxOutputTokens: 50 },
    });
    expect(r.text).toBe("echo: hello there world");
    expect(r.candidates?.[0]?.finishReason).toBe(FinishReason.STOP);
    expect(r.modelVersion).toBe("gemini-2.5-flash");
    expect(r.responseId).toMatch(/^[\w-]+$/);
    expect(r.usageMetadata).toMatchObject({
      promptTokenCount: 7,
      candidatesTokenCount: 4,
      totalTokenCount: 11,
    });
    const rec = fake.requests[0]!;
    expect([rec.method, rec.path, rec.keyInUrl, rec.headers["x-goog-api-key"]]).toEqual([
      "POST",
      "/v1beta/models/gemini-2.5-flash:generateContent",
      false,
      API_KEY,
    ]);
    expect(rec.body).toMatchObject({
      contents: [{ role: "user", parts: [{ text: "hello there world" }] }],
      systemInstruction: { parts: [{ text: "be brief" }] },
      generationConfig: { temperature: 0.1, maxOutputTokens: 50 },
    });
  });

  it("function calling: the SDK sees functionCalls, then sends a functionResponse back", async () => {
    const r = await ai.models.generateContent({
      model: "gemini-2.5-flash+tools",
      contents: "weather in Paris?",
      config: { tools: [weather] },
    });
    expect(r.functionCalls).toEqual([{ name: "get_weather", args: { city: "Paris" } }]);
    const r2 = await ai.models.generateContent({
      model: "gemini-2.5-flash",
      contents: [
        { role: "user", parts: [{ text: "weather in Paris?" }] },
        { role: "model", parts: [{ functionCall: { name: "get_weather", args: { city: "Paris" } } }] },
        { role: "user", parts: [{ functionResponse: { name: "get_weather", response: { temp: 21 } } }] },
      ],
      config: { tools: [weather] },
    });
    expect(r2.text).toBe("echo: weather in Paris?");
  });

  it.each([
    ["length", FinishReason.MAX_TOKENS],
    ["safety", FinishReason.SAFETY],
    ["malformed_call", FinishReason.MALFORMED_FUNCTION_CALL],
  ])("+%s -> finishReason %s", async (directive, finish) => {
    const r = await ai.models.generateContent({ model: `gemini-2.5-flash+${directive}`, contents: "hi" });
    expect(r.candidates?.[0]?.finishReason).toBe(finish);
  });

  it("a blocked prompt has promptFeedback and no candidates", async () => {
    const r = await ai.models.generateContent({ model: "gemini-2.5-flash+blocked", contents: "bad" });
    expect(r.candidates).toBeUndefined();
    expect(r.promptFeedback?.blockReason).toBe("SAFETY");
  });

  it("thinking: thought parts only when includeThoughts, thoughts counted apart", async () => {
    const r = await ai.models.generateContent({
      model: "gemini-2.5-flash+thinking",
      contents: "think",
      config: { thinkingConfig: { includeThoughts: true, thinkingBudget: 1024 } },
    });
    const parts = r.candidates?.[0]?.content?.parts ?? [];
    expect(parts.map((p) => p.thought === true)).toEqual([true, false]);
    expect(r.text).toBe("echo: think");
    expect(r.usageMetadata?.thoughtsTokenCount).toBe(12);
    const plain = await ai.models.generateContent({ model: "gemini-2.5-flash+thinking", contents: "think" });
    expect(plain.candidates?.[0]?.content?.parts).toHaveLength(1);
  });
});

describe("gemini fake: streamGenerateContent", () => {
  it("streams words over alt=sse, finishReason and full usage on the last chunk", async () => {
    const chunks = await streamed("gemini-2.5-flash");
    expect(chunks.map((c) => c.text).join("")).toBe("echo: hello there world");
    expect(chunks.length).toBe(4);
    const last = chunks.at(-1)!;
    expect(last.candidates?.[0]?.finishReason).toBe(FinishReason.STOP);
    expect(last.usageMetadata?.candidatesTokenCount).toBe(4);
    expect(fake.requests[0]!.url).toBe("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
  });

  it("streams a whole function call in one chunk", async () => {
    const chunks = await streamed("gemini-2.5-flash+tools", { tools: [weather] });
    expect(chunks.flatMap((c) => c.functionCalls ?? [])).toEqual([
      { name: "get_weather", args: { city: "Paris" } },
    ]);
  });

  it("a dropped stream fails the SDK's read", async () => {
    const err = await caught(streamed("gemini-2.5-flash+drop=1"));
    expect(err).toBeInstanceOf(Error);
  });
});

describe("gemini fake: embeddings and models", () => {
  it("embedContent (the SDK batches) returns one vector per input", async () => {
    const r = await ai.models.embedContent({
      model: "gemini-embedding-001",
      contents: ["alpha", "beta"],
      config: { outputDimensionality: 4 },
    });
    expect(r.embeddings?.map((e) => e.values?.length)).toEqual([4, 4]);
    expect(fake.requests[0]!.path).toBe("/v1beta/models/gemini-embedding-001:batchEmbedContents");
  });

  it("models.list pages through every model", async () => {
    const pager = await ai.models.list({ config: { pageSize: 2 } });
    const names: string[] = [];
    for await (const m of pager) names.push(m.name ?? "");
    expect(names).toEqual(FAKE_GEMINI_MODELS.map((m) => m.name));
    expect(fake.requests.length).toBe(3);
  });
});

describe("gemini fake: errors", () => {
  it.each([
    [400, "INVALID_ARGUMENT"],
    [403, "PERMISSION_DENIED"],
    [404, "NOT_FOUND"],
    [429, "RESOURCE_EXHAUSTED"],
    [500, "INTERNAL"],
    [503, "UNAVAILABLE"],
    [504, "DEADLINE_EXCEEDED"],
  ])("status=%i -> ApiError %s", async (status, name) => {
    const err = await caught(
      ai.models.generateContent({ model: `gemini-2.5-flash+status=${status}`, contents: "x" }),
    );
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(status);
    expect(JSON.parse((err as ApiError).message)).toMatchObject({ error: { code: status, status: name } });
  });

  it("a wrong key is 400 API_KEY_INVALID, as Gemini answers it", async () => {
    const bad = new GoogleGenAI({ apiKey: "AIzaWrongKey", httpOptions: { baseUrl: fake.url } });
    const err = await caught(bad.models.generateContent({ model: "gemini-2.5-flash", contents: "x" }));
    expect((err as ApiError).status).toBe(400);
    expect((err as ApiError).message).toContain("API_KEY_INVALID");
  });

  it("an abort reaches the fake", async () => {
    const ac = new AbortController();
    const p = caught(
      ai.models.generateContent({
        model: "gemini-2.5-flash+delay=5000",
        contents: "x",
        config: { abortSignal: ac.signal },
      }),
    );
    await waitFor(() => fake.requests.length === 1, { what: "the request to reach the fake" });
    ac.abort();
    expect(await p).toBeInstanceOf(Error);
    expect(await fake.waitForAbort(0, 5000)).toBe(true);
  });
});

describe("gemini fake: thought signatures (Gemini 3-style models)", () => {
  const ask = { role: "user", parts: [{ text: "weather in Paris?" }] };
  const answer = {
    role: "user",
    parts: [{ functionResponse: { name: "get_weather", response: { temp: 21 } } }],
  };
  const followUp = (call: Record<string, unknown>) =>
    ai.models.generateContent({
      model: "gemini-3-flash",
      contents: [ask, { role: "model", parts: [call] }, answer],
      config: { tools: [weather] },
    });

  it("signs the function call; the follow-up turn must send it back on that part", async () => {
    const r = await ai.models.generateContent({
      model: "gemini-3-flash+tools",
      contents: "weather in Paris?",
      config: { tools: [weather] },
    });
    const part = r.candidates?.[0]?.content?.parts?.[0];
    expect(part?.functionCall).toEqual({ name: "get_weather", args: { city: "Paris" } });
    const signature = part?.thoughtSignature ?? "";
    expect(signature).toMatch(/^[A-Za-z0-9+/=]{16,}$/);

    const ok = await followUp({ functionCall: part?.functionCall, thoughtSignature: signature });
    expect(ok.text).toBe("echo: weather in Paris?");

    const missing = await caught(followUp({ functionCall: part?.functionCall }));
    expect(missing).toBeInstanceOf(ApiError);
    expect((missing as ApiError).status).toBe(400);
    const body = JSON.parse((missing as ApiError).message) as { error: { status: string; message: string } };
    expect(body.error.status).toBe("INVALID_ARGUMENT");
    expect(body.error.message).toContain("missing a `thought_signature`");

    const forged = await caught(followUp({ functionCall: part?.functionCall, thoughtSignature: "c2lnbmVk" }));
    expect((forged as ApiError).status).toBe(400);
    expect((forged as ApiError).message).toContain("Corrupted thought signature");

    // Gemini's documented dummy for calls it did not make is accepted.
    const dummy = await followUp({
      functionCall: part?.functionCall,
      thoughtSignature: "skip_thought_signature_validator",
    });
    expect(dummy.text).toBe("echo: weather in Paris?");
  });

  it("parallel calls: only the first is signed, and only it must come back signed", async () => {
    const r = await ai.models.generateContent({
      model: "gemini-3-flash+tools+parallel",
      contents: "weather in Paris and Rome?",
      config: { tools: [weather] },
    });
    const parts = r.candidates?.[0]?.content?.parts ?? [];
    expect(parts.map((p) => [p.functionCall?.args, typeof p.thoughtSignature])).toEqual([
      [{ city: "Paris" }, "string"],
      [{ city: "Rome" }, "undefined"],
    ]);
    const back = await ai.models.generateContent({
      model: "gemini-3-flash",
      contents: [ask, { role: "model", parts }, answer],
      config: { tools: [weather] },
    });
    expect(back.text).toBe("echo: weather in Paris?");
  });

  it("an earlier turn is not validated; a Gemini 2.5 model validates no turn", async () => {
    const later = { role: "user", parts: [{ text: "and tomorrow?" }] };
    const unsigned = { role: "model", parts: [{ functionCall: { name: "get_weather", args: {} } }] };
    const old = await ai.models.generateContent({
      model: "gemini-3-flash",
      contents: [ask, unsigned, answer, { role: "model", parts: [{ text: "21" }] }, later],
    });
    expect(old.text).toBe("echo: and tomorrow?");
    const v25 = await ai.models.generateContent({
      model: "gemini-2.5-flash",
      contents: [ask, unsigned, answer],
    });
    expect(v25.text).toBe("echo: weather in Paris?");
  });

  it("a streamed text answer's signature comes last, on an empty text part", async () => {
    const chunks = await streamed("gemini-3-flash");
    expect(chunks.map((c) => c.text ?? "").join("")).toBe("echo: hello there world");
    const last = chunks.at(-1)?.candidates?.[0];
    expect(last?.content?.parts).toEqual([{ text: "", thoughtSignature: expect.any(String) }]);
    expect(last?.finishReason).toBe(FinishReason.STOP);
  });
});
