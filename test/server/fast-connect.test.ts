// The Connect and gRPC fast paths (src/server/fast-connect.ts, fast-grpc.ts) against what Connect
// itself would answer: what they serve, what they leave to Connect (compression, bad headers),
// deadlines, errors and disconnects.
import http from "node:http";
import http2 from "node:http2";
import { gzipSync } from "node:zlib";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ChatRequestSchema,
  ChatResponseSchema,
  ChatStreamResponseSchema,
  Role,
} from "../../gen/llmgateway/v1/llm_pb.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { waitFor } from "../helpers/wait.js";

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => {
  await gw.close();
});

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function post(
  path: string,
  headers: Record<string, string>,
  body: Buffer | string,
  /** The client disconnects once this resolves. */
  destroyWhen?: Promise<unknown>,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port: gw.port, method: "POST", path, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
    void destroyWhen?.then(() => req.destroy());
  });
}

const chat = (model: string, text = "hi") =>
  JSON.stringify({ model, messages: [{ role: "ROLE_USER", content: [{ text }] }] });
const PATH = "/llmgateway.v1.LLMService/Chat";

describe("Connect unary fast path", () => {
  it("answers JSON with content-type, content-length and the request id", async () => {
    const r = await post(
      PATH,
      { "content-type": "application/json", "x-request-id": "rid-fast-1" },
      chat("mock/echo"),
    );
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toBe("application/json");
    expect(Number(r.headers["content-length"])).toBe(r.body.length);
    expect(r.headers["x-request-id"]).toBe("rid-fast-1");
    expect(JSON.parse(r.body.toString()).message.content[0].text).toBe("echo: hi");
  });

  it("answers binary protobuf as application/proto", async () => {
    const req = create(ChatRequestSchema, {
      model: "mock/echo",
      messages: [{ role: Role.USER, content: [{ part: { case: "text", value: "bin" } }] }],
    });
    const r = await post(
      PATH,
      { "content-type": "application/proto" },
      Buffer.from(toBinary(ChatRequestSchema, req)),
    );
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toBe("application/proto");
    const res = fromBinary(ChatResponseSchema, r.body);
    expect(res.message?.content[0]?.part.value).toBe("echo: bin");
  });

  it("leaves a gzip-compressed request to Connect, which answers it", async () => {
    const r = await post(
      PATH,
      { "content-type": "application/json", "content-encoding": "gzip" },
      gzipSync(Buffer.from(chat("mock/echo", "zipped"))),
    );
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString()).message.content[0].text).toBe("echo: zipped");
  });

  it("leaves a malformed timeout header to Connect (invalid_argument)", async () => {
    const r = await post(
      PATH,
      { "content-type": "application/json", "connect-timeout-ms": "soon" },
      chat("mock/echo"),
    );
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body.toString()).code).toBe("invalid_argument");
  });

  it("honours connect-timeout-ms: deadline_exceeded long before the slow upstream answers", async () => {
    const t0 = performance.now();
    const r = await post(
      PATH,
      { "content-type": "application/json", "connect-timeout-ms": "200" },
      chat("mock/slow-5000"),
    );
    expect(performance.now() - t0).toBeLessThan(3000);
    const body = JSON.parse(r.body.toString());
    expect(body.code).toBe("deadline_exceeded");
    expect(body.details[0].debug.reason).toBe("DEADLINE_EXCEEDED");
  });

  it("a client that disconnects cancels the call (nothing stays in flight)", async () => {
    // Disconnect once the call is in flight in the gateway.
    const inFlight = waitFor(() => gw.app.gateway.inFlight > 0, { what: "the call to be in flight" });
    await post(PATH, { "content-type": "application/json" }, chat("mock/slow-20000"), inFlight).catch(
      () => undefined,
    );
    await inFlight;
    await waitFor(() => gw.app.gateway.inFlight === 0, { what: "the cancelled call to leave the gateway" });
    expect(gw.app.gateway.inFlight).toBe(0);
    expect(gw.logs.some((l) => l.includes('"reason":"CANCELLED"'))).toBe(true);
  });

  it("malformed JSON is INVALID_REQUEST", async () => {
    const r = await post(PATH, { "content-type": "application/json" }, "{not json");
    expect(r.status).toBe(400);
    const body = JSON.parse(r.body.toString());
    expect(body.code).toBe("invalid_argument");
    expect(body.details[0].debug.reason).toBe("INVALID_REQUEST");
  });

  it("streams ChatStream as Connect envelopes ending with an end-stream message", async () => {
    const msg = Buffer.from(chat("mock/echo", "one two"));
    const env = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), msg]);
    env.writeUInt32BE(msg.length, 1);
    const r = await post(STREAM, { "content-type": "application/connect+json" }, env);
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toBe("application/connect+json");
    const frames = unframe(r.body);
    const last = frames.at(-1);
    expect(last?.flags).toBe(2);
    expect(JSON.parse(last?.text ?? "")).toEqual({});
    const events = frames.slice(0, -1).map((f) => JSON.parse(f.text));
    expect(Object.keys(events[0])).toEqual(["start"]);
    expect(
      events
        .filter((e) => e.delta)
        .map((e) => e.delta.text)
        .join(""),
    ).toBe("echo: one two");
    expect(Object.keys(events.at(-1))).toEqual(["end"]);
  });

  it("a stream error and a malformed envelope end the stream with an error end-stream message", async () => {
    const msg = Buffer.from(chat("nope/x"));
    const env = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), msg]);
    env.writeUInt32BE(msg.length, 1);
    const r = await post(STREAM, { "content-type": "application/connect+json" }, env);
    const frames = unframe(r.body);
    expect(frames).toHaveLength(1);
    expect(JSON.parse(frames[0]?.text ?? "").error.code).toBe("not_found");
    const bad = await post(
      STREAM,
      { "content-type": "application/connect+json" },
      Buffer.from([0, 0, 0, 0, 99, 1]),
    );
    const err = JSON.parse(unframe(bad.body)[0]?.text ?? "").error;
    // Handed back to Connect's handler, which answers in its own words (fast-differential.test.ts).
    expect(err.code).toBe("invalid_argument");
    expect(err.message).toMatch(/incomplete envelope/);
  });
});

const STREAM = "/llmgateway.v1.LLMService/ChatStream";

function unframe(buf: Buffer): { flags: number; text: string }[] {
  const out: { flags: number; text: string }[] = [];
  for (let i = 0; i + 5 <= buf.length; ) {
    const len = buf.readUInt32BE(i + 1);
    out.push({ flags: buf[i] ?? -1, text: buf.subarray(i + 5, i + 5 + len).toString("utf8") });
    i += 5 + len;
  }
  return out;
}

/** One gRPC call over a raw HTTP/2 client: headers, the response messages and the trailers. */
async function grpcCall(
  method: string,
  req: Uint8Array,
  headers: Record<string, string> = {},
  compress = false,
): Promise<{ headers: http2.IncomingHttpHeaders; messages: Buffer[]; trailers: http2.IncomingHttpHeaders }> {
  const session = http2.connect(`http://127.0.0.1:${gw.port}`);
  try {
    const payload = compress ? gzipSync(req) : Buffer.from(req);
    const env = Buffer.alloc(5 + payload.length);
    env[0] = compress ? 1 : 0;
    env.writeUInt32BE(payload.length, 1);
    payload.copy(env, 5);
    const stream = session.request({
      ":method": "POST",
      ":path": `/llmgateway.v1.LLMService/${method}`,
      "content-type": "application/grpc+proto",
      te: "trailers",
      ...(compress ? { "grpc-encoding": "gzip" } : {}),
      ...headers,
    });
    return await new Promise((resolve, reject) => {
      let head: http2.IncomingHttpHeaders = {};
      let trailers: http2.IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      stream.on("response", (h) => {
        head = h;
        if (h["grpc-status"] !== undefined) trailers = h; // trailers-only
      });
      stream.on("trailers", (t) => {
        trailers = t;
      });
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("error", reject);
      stream.on("end", () => {
        const all = Buffer.concat(chunks);
        const messages: Buffer[] = [];
        for (let i = 0; i + 5 <= all.length; ) {
          const len = all.readUInt32BE(i + 1);
          messages.push(all.subarray(i + 5, i + 5 + len));
          i += 5 + len;
        }
        resolve({ headers: head, messages, trailers });
      });
      stream.end(env);
    });
  } finally {
    session.close();
  }
}

const chatBin = (model: string, text = "hi") =>
  toBinary(
    ChatRequestSchema,
    create(ChatRequestSchema, {
      model,
      messages: [{ role: Role.USER, content: [{ part: { case: "text", value: text } }] }],
    }),
  );

describe("gRPC fast path (HTTP/2, application/grpc+proto)", () => {
  it("answers a unary call: one message, grpc-status 0 in the trailers, the request id", async () => {
    const r = await grpcCall("Chat", chatBin("mock/echo", "grpc fast"), { "x-request-id": "rid-grpc-1" });
    expect(r.headers[":status"]).toBe(200);
    expect(r.headers["content-type"]).toBe("application/grpc+proto");
    expect(r.headers["x-request-id"]).toBe("rid-grpc-1");
    expect(r.trailers["grpc-status"]).toBe("0");
    expect(r.messages).toHaveLength(1);
    const res = fromBinary(ChatResponseSchema, r.messages[0] as Buffer);
    expect(res.message?.content[0]?.part.value).toBe("echo: grpc fast");
  });

  it("an error ends with its status and grpc-status-details-bin (ErrorInfo)", async () => {
    const r = await grpcCall("Chat", chatBin("nope/nothing"));
    expect(r.trailers["grpc-status"]).toBe("5");
    expect(typeof r.trailers["grpc-status-details-bin"]).toBe("string");
    expect(r.messages).toHaveLength(0);
  });

  it("honours grpc-timeout: DEADLINE_EXCEEDED long before the slow upstream answers", async () => {
    const t0 = performance.now();
    const r = await grpcCall("Chat", chatBin("mock/slow-3000"), { "grpc-timeout": "200m" });
    expect(r.trailers["grpc-status"]).toBe("4");
    expect(performance.now() - t0).toBeLessThan(2500);
  });

  it("leaves a gzip-compressed request to Connect, which answers it", async () => {
    const r = await grpcCall("Chat", chatBin("mock/echo", "zipped"), {}, true);
    expect(r.trailers["grpc-status"]).toBe("0");
    expect(r.messages).toHaveLength(1);
  });

  it("streams ChatStream: start, deltas, end, then grpc-status 0", async () => {
    const r = await grpcCall("ChatStream", chatBin("mock/echo", "one two three"));
    expect(r.trailers["grpc-status"]).toBe("0");
    const events = r.messages.map((m) => fromBinary(ChatStreamResponseSchema, m).event.case);
    expect(events[0]).toBe("start");
    expect(events.at(-1)).toBe("end");
    expect(events.filter((e) => e === "delta").length).toBeGreaterThanOrEqual(3);
  });

  it("a stream cut after it started ends with an error status and no end event", async () => {
    const r = await grpcCall("ChatStream", chatBin("mock/cut", "one two three"));
    expect(r.trailers["grpc-status"]).toBe("14");
    const events = r.messages.map((m) => fromBinary(ChatStreamResponseSchema, m).event.case);
    expect(events[0]).toBe("start");
    expect(events).not.toContain("end");
  });
});
