// The REST door over plain node:http: request errors (malformed JSON, unknown / unsupported
// parameters, wrong types, n > 1, too large), stream failures before and after the first content,
// model ids with '/', the x-llmgw-* headers, and a client cancel aborting the upstream stream.
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OpenAIFake, startOpenAIFake } from "../fakes/openai.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";

const KEY = "sk-test-door-SECRET-0123456789";
let fake: OpenAIFake;
let gw: TestGateway;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

function call(
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${gw.url}${path}`, {
      method,
      headers: { "content-type": "application/json", ...headers },
    });
    req.on("response", (res) => {
      const parts: Buffer[] = [];
      res.on("data", (c: Buffer) => parts.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: Buffer.concat(parts).toString("utf8"),
        }),
      );
    });
    req.on("error", reject);
    req.end(body);
  });
}

const chat = (body: Record<string, unknown>, headers?: Record<string, string>) =>
  call("POST", "/v1/chat/completions", JSON.stringify(body), headers);
const msgs = [{ role: "user", content: "hello door" }];

function errorOf(a: Answer): { message: string; type: string; param: string | null; code: string } {
  return (
    JSON.parse(a.text) as { error: { message: string; type: string; param: string | null; code: string } }
  ).error;
}

beforeAll(async () => {
  fake = await startOpenAIFake({ apiKey: KEY });
  gw = await startGateway({
    env: { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: fake.url },
    yaml: "server:\n  max_request_bytes: 65536\n",
  });
});

afterAll(async () => {
  await gw?.close();
  await fake?.close();
});

describe("request errors", () => {
  it("malformed JSON is a 400 naming the body", async () => {
    const a = await call("POST", "/v1/chat/completions", '{"model": "mock/echo", "messages": [');
    expect(a.status).toBe(400);
    expect(errorOf(a).message).toContain("not valid JSON");
    expect(errorOf(a).type).toBe("invalid_request_error");
  });

  it("an unknown field is a 400 naming it", async () => {
    const a = await chat({ model: "mock/echo", messages: msgs, temprature: 1 });
    expect(a.status).toBe(400);
    expect(errorOf(a).param).toBe("temprature");
    expect(errorOf(a).message).toContain("temprature");
  });

  it("n = 2 is a 400 naming n", async () => {
    const a = await chat({ model: "mock/echo", messages: msgs, n: 2 });
    expect(a.status).toBe(400);
    expect(errorOf(a).param).toBe("n");
  });

  it("an unsupported OpenAI parameter is a 400 unsupported_parameter naming it", async () => {
    for (const [key, value] of [
      ["logit_bias", { "50256": -100 }],
      ["parallel_tool_calls", false],
      ["service_tier", "flex"],
    ] as const) {
      const a = await chat({ model: "mock/echo", messages: msgs, [key]: value });
      expect(a.status).toBe(400);
      expect(errorOf(a)).toMatchObject({ param: key, code: "unsupported_parameter" });
    }
    // Their default values change nothing, so they are accepted.
    const ok = await chat({ model: "mock/echo", messages: msgs, parallel_tool_calls: true, store: false });
    expect(ok.status).toBe(200);
  });

  it("wrong types are 400s naming the field", async () => {
    const notArray = await chat({ model: "mock/echo", messages: "hi" });
    expect(notArray.status).toBe(400);
    expect(errorOf(notArray).param).toBe("messages");
    const hot = await chat({ model: "mock/echo", messages: msgs, temperature: "hot" });
    expect(errorOf(hot).param).toBe("temperature");
    const tokens = await call(
      "POST",
      "/v1/embeddings",
      JSON.stringify({ model: "mock/embed", input: [[1, 2]] }),
    );
    expect(tokens.status).toBe(400);
    expect(errorOf(tokens).param).toBe("input");
  });

  it("unknown models are 404s; a body over max_request_bytes is a 413", async () => {
    const a = await chat({ model: "openai-nope/x", messages: msgs });
    expect(a.status).toBe(404);
    expect(errorOf(a).message).toContain("openai-nope");
    const big = await chat({ model: "mock/echo", messages: [{ role: "user", content: "x".repeat(70_000) }] });
    expect(big.status).toBe(413);
  });

  it("turns images into the contract's Image (data: URL -> bytes) and back upstream", async () => {
    const png = Buffer.from("fake-png-bytes").toString("base64");
    const content = [
      { type: "text", text: "what is this" },
      { type: "image_url", image_url: { url: `data:image/png;base64,${png}`, detail: "low" } },
      { type: "image_url", image_url: { url: "https://example.com/cat.jpg" } },
    ];
    const a = await chat({ model: "openai/gpt-4o-mini+t=img", messages: [{ role: "user", content }] });
    expect(a.status).toBe(200);
    const sent = fake.requests.find((r) => JSON.stringify(r.body).includes("t=img"))?.body as {
      messages: { content: unknown }[];
    };
    expect(sent.messages[0]?.content).toEqual(content);
  });
});

describe("streams", () => {
  it("a failure after the start ends with event: error and never [DONE]", async () => {
    const a = await chat({ model: "mock/cut", messages: msgs, stream: true });
    expect(a.status).toBe(200);
    expect(a.text).toContain('"content":"echo: "');
    expect(a.text).toMatch(/event: error\ndata: \{"error":\{.*"code":"upstream_stream_interrupted"/);
    expect(a.text).not.toContain("[DONE]");
  });

  it("a failure before any content is a plain HTTP error", async () => {
    const a = await chat({ model: "openai/gpt-4o-mini+status=503", messages: msgs, stream: true });
    expect(a.status).toBe(502);
    expect(a.headers["content-type"]).toBe("application/json");
    expect(errorOf(a).code).toBe("upstream_unavailable");
    expect(a.headers["x-llmgw-upstream-status"]).toBe("503");
    expect(a.headers["x-llmgw-provider"]).toBe("openai");
  });

  it("a client cancel mid-stream aborts the upstream request", async () => {
    fake.reset();
    const req = http.request(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
    });
    const firstChunk = new Promise<string>((resolve, reject) => {
      req.on("response", (res) => res.once("data", (c: Buffer) => resolve(c.toString("utf8"))));
      req.on("error", reject);
    });
    req.end(JSON.stringify({ model: "openai/gpt-4o-mini+chunk_delay=200", messages: msgs, stream: true }));
    expect(await firstChunk).toContain("chat.completion.chunk");
    req.destroy();
    expect(await fake.waitForAbort(0, 5000)).toBe(true);
  });
});

describe("models and headers", () => {
  it("retrieves a model id with '/' raw and percent-encoded", async () => {
    for (const path of ["/v1/models/openai%2Fgpt-4o-mini", "/v1/models/openai/gpt-4o-mini"]) {
      const a = await call("GET", path);
      expect(a.status).toBe(200);
      expect(JSON.parse(a.text)).toMatchObject({ id: "openai/gpt-4o-mini", object: "model" });
    }
    const missing = await call("GET", "/v1/models/openai%2Fnope");
    expect(missing.status).toBe(404);
    expect(errorOf(missing).type).toBe("not_found_error");
  });

  it("answers with x-request-id and x-llmgw-* headers, unary and streamed", async () => {
    const a = await chat({ model: "mock/echo", messages: msgs }, { "x-request-id": "door-rid-1" });
    expect(a.headers["x-request-id"]).toBe("door-rid-1");
    expect(a.headers["x-llmgw-provider"]).toBe("mock");
    expect(a.headers["x-llmgw-attempts"]).toBe("1");
    expect(a.headers["x-llmgw-cache"]).toBe("none");
    expect(a.headers["x-llmgw-cost-usd"]).toBe("0"); // the mock has no price
    const s = await chat(
      { model: "mock/echo", messages: msgs, stream: true },
      { "x-request-id": "door-rid-2" },
    );
    expect(s.headers["x-request-id"]).toBe("door-rid-2");
    expect(s.headers["x-llmgw-provider"]).toBe("mock");
    expect(s.text.endsWith("data: [DONE]\n\n")).toBe(true);
    const e = await chat({ model: "mock/error-429", messages: msgs });
    expect(e.status).toBe(429);
    expect(e.headers["retry-after"]).toBe("1");
    // Rate limited: retried on the same deployment after Retry-After (max_attempts 3 counts the first try).
    expect(e.headers["x-llmgw-attempts"]).toBe("3");
    const unknown = await call("GET", "/v2/nothing");
    expect(unknown.status).toBe(404);
    expect(errorOf(unknown).code).toBe("not_found");
  });
});
