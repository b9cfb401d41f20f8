// End-to-end: every protocol the one port speaks, through real clients — Connect (JSON / binary,
// HTTP/1.1 / HTTP/2), gRPC, gRPC-Web, @grpc/grpc-js with the .proto loaded at run time, `buf curl`
// with reflection, and plain HTTP/1.1 JSON POSTs — against a zero-config gateway (mock provider).
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { Capability, FinishReason, LLMService, Role, ServingStatus } from "../../gen/llmgateway/v1/llm_pb.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import {
  ClientConnections,
  chatReq,
  collect,
  connectJsonError,
  deltaText,
  grpcStatusDetails,
  post,
  ROOT,
  textOf,
} from "./helpers.js";

const run = promisify(execFile);
const CHAT_PATH = "/llmgateway.v1.LLMService/Chat";

let gw: TestGateway;
const conns = new ClientConnections();
const h2 = (url: string) => conns.h2(url);

beforeAll(async () => {
  gw = await startGateway();
});

afterAll(async () => {
  conns.close();
  await gw?.close();
});

const transports: { name: string; make: (url: string) => Transport }[] = [
  {
    name: "Connect JSON / HTTP/1.1",
    make: (baseUrl) =>
      createConnectTransport({ baseUrl, httpVersion: "1.1", nodeOptions: { agent: conns.agent() } }),
  },
  {
    name: "Connect binary / HTTP/1.1",
    make: (baseUrl) =>
      createConnectTransport({
        baseUrl,
        httpVersion: "1.1",
        useBinaryFormat: true,
        nodeOptions: { agent: conns.agent() },
      }),
  },
  {
    name: "Connect JSON / HTTP/2",
    make: (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "2", sessionManager: h2(baseUrl) }),
  },
  {
    name: "Connect binary / HTTP/2",
    make: (baseUrl) =>
      createConnectTransport({
        baseUrl,
        httpVersion: "2",
        useBinaryFormat: true,
        sessionManager: h2(baseUrl),
      }),
  },
  {
    name: "gRPC / HTTP/2",
    make: (baseUrl) => createGrpcTransport({ baseUrl, sessionManager: h2(baseUrl) }),
  },
  {
    name: "gRPC-Web / HTTP/1.1",
    make: (baseUrl) =>
      createGrpcWebTransport({ baseUrl, httpVersion: "1.1", nodeOptions: { agent: conns.agent() } }),
  },
  {
    name: "gRPC-Web / HTTP/2",
    make: (baseUrl) => createGrpcWebTransport({ baseUrl, httpVersion: "2", sessionManager: h2(baseUrl) }),
  },
];

/** Texts that must come back byte for byte. */
const LONG_TEXT = Array.from(
  { length: 100 },
  (_, i) => `${String(i).padStart(3, "0")}${"x".repeat(1020)}`,
).join(" ");
const EDGE_TEXTS: [string, string][] = [
  ["100 KB text", LONG_TEXT],
  ["unicode / emoji / RTL", "שלום 👋🏽 مرحبا"],
  ["HTML entities and tags", "&lt;b&gt; &amp; <script>alert(1)</script>"],
];

describe.each(transports)("$name", ({ make }) => {
  let client: ReturnType<typeof createClient<typeof LLMService>>;

  beforeAll(() => {
    client = createClient(LLMService, make(gw.url));
  });

  it("Chat: mock/echo answers, with usage and gateway info", async () => {
    const res = await client.chat(chatReq("mock/echo", "hello world"));
    expect(textOf(res.message?.content)).toBe("echo: hello world");
    expect(res.message?.role).toBe(Role.ASSISTANT);
    expect(res.model).toBe("mock/echo");
    expect(res.provider).toBe("mock");
    expect(res.finishReason).toBe(FinishReason.STOP);
    expect(res.usage).toMatchObject({ inputTokens: 3, outputTokens: 3, totalTokens: 6 });
    expect(res.gateway?.attempts).toBe(1);
    expect(res.gateway?.requestId).not.toBe("");
    expect(res.gateway?.attemptTrail.map((a) => [a.deployment, a.outcome])).toEqual([["mock/echo", "ok"]]);
  });

  it("ChatStream: start first, deltas make the answer, exactly one end with usage", async () => {
    const { events, error } = await collect(client.chatStream(chatReq("mock/echo", "one two three")));
    expect(error).toBeUndefined();
    const kinds = events.map((e) => e.event.case);
    expect(kinds[0]).toBe("start");
    expect(kinds.at(-1)).toBe("end");
    expect(kinds.filter((k) => k === "start")).toHaveLength(1);
    expect(kinds.filter((k) => k === "end")).toHaveLength(1);
    expect(kinds.filter((k) => k === "delta").length).toBeGreaterThan(1);
    const start = events[0]?.event;
    expect(start?.case === "start" && start.value).toMatchObject({ model: "mock/echo", provider: "mock" });
    expect(deltaText(events)).toBe("echo: one two three");
    const end = events.at(-1)?.event;
    if (end?.case !== "end") throw new Error("no end event");
    expect(end.value.finishReason).toBe(FinishReason.STOP);
    expect(end.value.usage).toMatchObject({ outputTokens: 4, estimated: false });
    expect(end.value.usage?.inputTokens).toBeGreaterThan(0);
    expect(end.value.gateway?.attempts).toBe(1);
    expect(end.value.gateway?.requestId).not.toBe("");
  });

  it("Embed: one deterministic vector per input", async () => {
    const req = { model: "mock/embed", inputs: ["alpha", "beta", "alpha"] };
    const a = await client.embed(req);
    const b = await client.embed(req);
    expect(a.model).toBe("mock/embed");
    expect(a.provider).toBe("mock");
    expect(a.embeddings.map((e) => e.index)).toEqual([0, 1, 2]);
    for (const e of a.embeddings) expect(e.values).toHaveLength(8);
    expect(a.embeddings[0]?.values).toEqual(a.embeddings[2]?.values);
    expect(a.embeddings[0]?.values).not.toEqual(a.embeddings[1]?.values);
    expect(b.embeddings.map((e) => e.values)).toEqual(a.embeddings.map((e) => e.values));
    expect(a.usage?.inputTokens).toBeGreaterThan(0);
    const short = await client.embed({ ...req, dimensions: 3 });
    for (const e of short.embeddings) expect(e.values).toHaveLength(3);
  });

  it("ListModels: the mock's models, filterable by capability", async () => {
    const all = await client.listModels({});
    expect(all.models.map((m) => m.id)).toEqual(expect.arrayContaining(["mock/echo", "mock/embed"]));
    const embed = await client.listModels({ capability: Capability.EMBEDDINGS });
    expect(embed.models.map((m) => m.id)).toEqual(["mock/embed"]);
  });

  it("GetModel: a known model, and NOT_FOUND with ErrorInfo for an unknown one", async () => {
    const got = await client.getModel({ id: "mock/echo" });
    expect(got.model).toMatchObject({ id: "mock/echo", provider: "mock" });
    const err = await client.getModel({ id: "nope/x" }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.NotFound);
    expect(err?.findDetails(ErrorInfoSchema)[0]).toMatchObject({
      reason: "MODEL_NOT_FOUND",
      domain: "llmgateway",
    });
  });

  it("Health: SERVING with the mock provider", async () => {
    const h = await client.health({});
    expect(h.status).toBe(ServingStatus.SERVING);
    expect(h.version).not.toBe("");
    expect(h.providers).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: "mock", type: "mock", status: ServingStatus.SERVING }),
      ]),
    );
  });

  it("CountTokens: the documented estimate", async () => {
    const res = await client.countTokens({
      model: "mock/echo",
      messages: chatReq("mock/echo", "hello world").messages,
    });
    // ceil(11 chars / 4) + 4 per message
    expect(res.inputTokens).toBe(7);
    expect(res.exact).toBe(false);
    expect(res.method).not.toBe("");
  });

  it("x-request-id sent by the client is echoed in the response header and gateway info", async () => {
    const rid = `e2e-${Math.random().toString(36).slice(2)}`;
    let echoed: string | null = null;
    const res = await client.chat(chatReq("mock/echo", "rid"), {
      headers: { "x-request-id": rid },
      onHeader: (h) => {
        echoed = h.get("x-request-id");
      },
    });
    expect(echoed).toBe(rid);
    expect(res.gateway?.requestId).toBe(rid);

    let streamEchoed: string | null = null;
    const { events } = await collect(
      client.chatStream(chatReq("mock/echo", "rid"), {
        headers: { "x-request-id": rid },
        onHeader: (h) => {
          streamEchoed = h.get("x-request-id");
        },
      }),
    );
    expect(streamEchoed).toBe(rid);
    const end = events.at(-1)?.event;
    expect(end?.case === "end" && end.value.gateway?.requestId).toBe(rid);
  });

  it("generates a request id when the client sends none", async () => {
    let echoed: string | null = null;
    const res = await client.chat(chatReq("mock/echo", "x"), {
      onHeader: (h) => {
        echoed = h.get("x-request-id");
      },
    });
    expect(echoed).toBeTruthy();
    expect(res.gateway?.requestId).toBe(echoed);
  });

  it.each(EDGE_TEXTS)("Chat and ChatStream return %s intact", async (_name, text) => {
    const res = await client.chat(chatReq("mock/echo", text));
    expect(textOf(res.message?.content)).toBe(`echo: ${text}`);
    const { events, error } = await collect(client.chatStream(chatReq("mock/echo", text)));
    expect(error).toBeUndefined();
    expect(deltaText(events)).toBe(`echo: ${text}`);
    expect(events.at(-1)?.event.case).toBe("end");
  });
});

// --- @grpc/grpc-js with the .proto loaded at run time -------------------------------------------

interface WirePart {
  text?: string;
  part?: string;
}
interface WireChatResponse {
  model: string;
  provider: string;
  message: { role: string; content: WirePart[] };
  finishReason: string;
  usage: { inputTokens: number; outputTokens: number; totalTokens: number };
  gateway: { attempts: number; requestId: string };
}
interface WireStreamEvent {
  event?: "start" | "delta" | "end";
  start?: { model: string; provider: string };
  delta?: { text: string };
  end?: { finishReason: string; usage: { outputTokens: number } };
}
interface WireChatRequest {
  model: string;
  messages: { role: string; content: { text: string }[] }[];
}
type UnaryCallback<T> = (err: grpc.ServiceError | null, res?: T) => void;
interface LlmGrpcClient extends grpc.Client {
  Chat(
    req: WireChatRequest,
    md: grpc.Metadata,
    opts: grpc.CallOptions,
    cb: UnaryCallback<WireChatResponse>,
  ): grpc.ClientUnaryCall;
  ChatStream(
    req: WireChatRequest,
    md: grpc.Metadata,
    opts: grpc.CallOptions,
  ): grpc.ClientReadableStream<WireStreamEvent>;
}
type LlmGrpcCtor = new (address: string, credentials: grpc.ChannelCredentials) => LlmGrpcClient;

const wireReq = (model: string, text: string): WireChatRequest => ({
  model,
  messages: [{ role: "ROLE_USER", content: [{ text }] }],
});

describe("@grpc/grpc-js (llm.proto loaded at run time, keepCase false)", () => {
  let client: LlmGrpcClient;

  beforeAll(() => {
    const def = protoLoader.loadSync("llmgateway/v1/llm.proto", {
      includeDirs: [path.join(ROOT, "proto")],
      keepCase: false,
      enums: String,
      longs: String,
      defaults: true,
      oneofs: true,
    });
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      llmgateway: { v1: { LLMService: LlmGrpcCtor } };
    };
    client = new pkg.llmgateway.v1.LLMService(`127.0.0.1:${gw.port}`, grpc.credentials.createInsecure());
  });

  afterAll(() => client?.close());

  const chat = (req: WireChatRequest, md = new grpc.Metadata()): Promise<WireChatResponse> =>
    new Promise((resolve, reject) => {
      client.Chat(req, md, { deadline: Date.now() + 10_000 }, (err, res) =>
        err || !res ? reject(err) : resolve(res),
      );
    });

  it("unary Chat", async () => {
    const md = new grpc.Metadata();
    md.set("x-request-id", "grpc-js-rid");
    const res = await chat(wireReq("mock/echo", "hello grpc"), md);
    expect(res.message.role).toBe("ROLE_ASSISTANT");
    expect(res.message.content.map((p) => p.text).join("")).toBe("echo: hello grpc");
    expect(res.message.content[0]?.part).toBe("text");
    expect(res).toMatchObject({ model: "mock/echo", provider: "mock", finishReason: "FINISH_REASON_STOP" });
    expect(res.usage.outputTokens).toBe(3);
    expect(res.gateway).toMatchObject({ attempts: 1, requestId: "grpc-js-rid" });
  });

  it("server-streaming ChatStream", async () => {
    const call = client.ChatStream(wireReq("mock/echo", "a b c"), new grpc.Metadata(), {
      deadline: Date.now() + 10_000,
    });
    const events: WireStreamEvent[] = [];
    await new Promise<void>((resolve, reject) => {
      call.on("data", (ev: WireStreamEvent) => events.push(ev));
      call.on("error", reject);
      call.on("end", resolve);
    });
    expect(events[0]?.event).toBe("start");
    expect(events[0]?.start).toMatchObject({ model: "mock/echo", provider: "mock" });
    expect(events.filter((e) => e.event === "end")).toHaveLength(1);
    expect(events.at(-1)?.event).toBe("end");
    expect(events.at(-1)?.end?.finishReason).toBe("FINISH_REASON_STOP");
    expect(events.map((e) => (e.event === "delta" ? e.delta?.text : "")).join("")).toBe("echo: a b c");
  });

  it("an unknown model fails NOT_FOUND with ErrorInfo in grpc-status-details-bin", async () => {
    const err = await chat(wireReq("nope/x", "hi")).then(
      () => undefined,
      (e: unknown) => e as grpc.ServiceError,
    );
    expect(err?.code).toBe(grpc.status.NOT_FOUND);
    const raw = err?.metadata.get("grpc-status-details-bin")[0];
    expect(Buffer.isBuffer(raw)).toBe(true);
    const decoded = grpcStatusDetails(raw as Buffer);
    expect(decoded.code).toBe(grpc.status.NOT_FOUND);
    expect(decoded.errorInfo).toMatchObject({ reason: "MODEL_NOT_FOUND", domain: "llmgateway" });
    expect(decoded.errorInfo?.metadata["provider"]).toBe("nope");
  });

  it("an invalid request fails INVALID_ARGUMENT with a BadRequest naming the field", async () => {
    const err = await chat({ model: "mock/echo", messages: [] }).then(
      () => undefined,
      (e: unknown) => e as grpc.ServiceError,
    );
    expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    const decoded = grpcStatusDetails(err?.metadata.get("grpc-status-details-bin")[0] as Buffer);
    expect(decoded.errorInfo?.reason).toBe("INVALID_REQUEST");
    expect(decoded.badRequest?.fieldViolations.map((v) => v.field)).toContain("messages");
  });
});

// --- buf curl with server reflection (no --schema) ---------------------------------------------

describe("buf curl (reflection, h2c)", () => {
  const bufBin = path.join(ROOT, "node_modules/.bin/buf");
  const bufCurl = async (...args: string[]): Promise<string> => {
    const { stdout } = await run(bufBin, ["curl", "--protocol", "grpc", "--http2-prior-knowledge", ...args], {
      timeout: 20_000,
    });
    return stdout;
  };
  const body = JSON.stringify({
    model: "mock/echo",
    messages: [{ role: "ROLE_USER", content: [{ text: "hi buf" }] }],
  });

  it("Chat", async () => {
    const out: unknown = JSON.parse(await bufCurl("-d", body, `${gw.url}${CHAT_PATH}`));
    expect(out).toMatchObject({
      model: "mock/echo",
      provider: "mock",
      message: { role: "ROLE_ASSISTANT", content: [{ text: "echo: hi buf" }] },
      gateway: { attempts: 1 },
    });
  });

  it("ChatStream", async () => {
    const out = await bufCurl("-d", body, `${gw.url}/llmgateway.v1.LLMService/ChatStream`);
    // One pretty-printed JSON object per message, each starting at column 0.
    const events = out
      .split(/\n(?=\{)/)
      .filter((s) => s.trim())
      .map((s): unknown => JSON.parse(s));
    expect(events[0]).toMatchObject({ start: { model: "mock/echo", provider: "mock" } });
    expect(events.at(-1)).toMatchObject({ end: { finishReason: "FINISH_REASON_STOP" } });
    const text = events
      .map((e) =>
        typeof e === "object" && e && "delta" in e ? ((e.delta as { text?: string }).text ?? "") : "",
      )
      .join("");
    expect(text).toBe("echo: hi buf");
  });

  it("--list-methods", async () => {
    const methods = (await bufCurl("--list-methods", gw.url)).split("\n").filter(Boolean);
    for (const m of ["Chat", "ChatStream", "Embed", "ListModels", "GetModel", "CountTokens", "Health"]) {
      expect(methods).toContain(`llmgateway.v1.LLMService/${m}`);
    }
  });
});

// --- plain HTTP/1.1 JSON POSTs (Connect unary) --------------------------------------------------

describe("plain JSON POST (node:http)", () => {
  const userMsg = { role: "ROLE_USER", content: [{ text: "plain" }] };

  it("200 with camelCase JSON", async () => {
    const res = await post(gw.url, CHAT_PATH, JSON.stringify({ model: "mock/echo", messages: [userMsg] }));
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    const out: unknown = JSON.parse(res.body);
    expect(out).toMatchObject({
      model: "mock/echo",
      provider: "mock",
      finishReason: "FINISH_REASON_STOP",
      message: { role: "ROLE_ASSISTANT", content: [{ text: "echo: plain" }] },
      usage: { inputTokens: 2, outputTokens: 2, totalTokens: 4 },
      gateway: { attempts: 1 },
    });
    expect(res.body).not.toContain("finish_reason");
    expect(res.body).not.toContain("input_tokens");
    expect(res.body).toContain("requestId");
  });

  it("unknown JSON field -> 400 invalid_argument", async () => {
    const res = await post(
      gw.url,
      CHAT_PATH,
      JSON.stringify({ model: "mock/echo", messages: [userMsg], nope: 1 }),
    );
    expect(res.status).toBe(400);
    const err = connectJsonError(res.body);
    expect(err.code).toBe("invalid_argument");
    expect(err.errorInfo?.reason).toBe("INVALID_REQUEST");
    expect(err.badRequest?.fieldViolations.map((v) => v.field)).toContain("nope");
  });

  it('unknown enum name ("role":"user") -> 400 invalid_argument (strict JSON)', async () => {
    const res = await post(
      gw.url,
      CHAT_PATH,
      JSON.stringify({ model: "mock/echo", messages: [{ role: "user", content: [{ text: "x" }] }] }),
    );
    expect(res.status).toBe(400);
    const err = connectJsonError(res.body);
    expect(err.code).toBe("invalid_argument");
    expect(err.errorInfo?.reason).toBe("INVALID_REQUEST");
    expect(err.badRequest?.fieldViolations.map((v) => v.field)).toContain("messages[0].role");
  });

  const invalid: [string, Record<string, unknown>, string][] = [
    [
      "ROLE_UNSPECIFIED",
      { model: "mock/echo", messages: [{ ...userMsg, role: "ROLE_UNSPECIFIED" }] },
      "messages[0].role",
    ],
    ["no messages", { model: "mock/echo", messages: [] }, "messages"],
    ["temperature 3", { model: "mock/echo", messages: [userMsg], temperature: 3 }, "temperature"],
    ["max_tokens 0", { model: "mock/echo", messages: [userMsg], maxTokens: 0 }, "max_tokens"],
    ["empty model", { model: "", messages: [userMsg] }, "model"],
  ];

  it.each(invalid)("%s -> 400 INVALID_REQUEST with a BadRequest violation", async (_name, body, field) => {
    const res = await post(gw.url, CHAT_PATH, JSON.stringify(body));
    expect(res.status).toBe(400);
    const err = connectJsonError(res.body);
    expect(err.code).toBe("invalid_argument");
    expect(err.errorInfo).toMatchObject({ reason: "INVALID_REQUEST", domain: "llmgateway" });
    expect(err.badRequest?.fieldViolations.map((v) => v.field)).toContain(field);
  });

  it("unknown model -> 404 not_found with ErrorInfo MODEL_NOT_FOUND", async () => {
    const res = await post(gw.url, CHAT_PATH, JSON.stringify({ model: "nope/x", messages: [userMsg] }));
    expect(res.status).toBe(404);
    const err = connectJsonError(res.body);
    expect(err.code).toBe("not_found");
    expect(err.errorInfo).toMatchObject({ reason: "MODEL_NOT_FOUND", domain: "llmgateway" });
  });
});

// --- server.max_request_bytes --------------------------------------------------------------------

describe("request larger than server.max_request_bytes", () => {
  let small: TestGateway;
  const smallConns = new ClientConnections();
  let connect: ReturnType<typeof createClient<typeof LLMService>>;
  let grpcClient: ReturnType<typeof createClient<typeof LLMService>>;

  beforeAll(async () => {
    small = await startGateway({ yaml: "server:\n  max_request_bytes: 1024\n" });
    connect = createClient(
      LLMService,
      createConnectTransport({
        baseUrl: small.url,
        httpVersion: "1.1",
        nodeOptions: { agent: smallConns.agent() },
      }),
    );
    grpcClient = createClient(
      LLMService,
      createGrpcTransport({ baseUrl: small.url, sessionManager: smallConns.h2(small.url) }),
    );
  });

  afterAll(async () => {
    smallConns.close();
    await small?.close();
  });

  const big = () => chatReq("mock/echo", "y".repeat(4096));

  it("Connect: RESOURCE_EXHAUSTED, and the gateway stays healthy", async () => {
    const err = await connect.chat(big()).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.ResourceExhausted);
    expect(err?.findDetails(ErrorInfoSchema)[0]?.reason).toBe("REQUEST_TOO_LARGE");
    expect((await connect.health({})).status).toBe(ServingStatus.SERVING);
    const ok = await connect.chat(chatReq("mock/echo", "still here"));
    expect(textOf(ok.message?.content)).toBe("echo: still here");
  });

  it("gRPC: RESOURCE_EXHAUSTED, and the same session keeps working", async () => {
    const err = await grpcClient.chat(big()).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.ResourceExhausted);
    expect(err?.findDetails(ErrorInfoSchema)[0]?.reason).toBe("REQUEST_TOO_LARGE");
    const ok = await grpcClient.chat(chatReq("mock/echo", "after"));
    expect(textOf(ok.message?.content)).toBe("echo: after");
  });

  it("plain POST: 429 resource_exhausted", async () => {
    const res = await post(
      small.url,
      CHAT_PATH,
      JSON.stringify({
        model: "mock/echo",
        messages: [{ role: "ROLE_USER", content: [{ text: "z".repeat(4096) }] }],
      }),
    );
    expect(res.status).toBe(429);
    const err = connectJsonError(res.body);
    expect(err.code).toBe("resource_exhausted");
    expect(err.errorInfo?.reason).toBe("REQUEST_TOO_LARGE");
  });
});
