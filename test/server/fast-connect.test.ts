// The Connect unary fast path (src/server/fast-unary.ts) against what Connect itself would answer:
// what it serves, what it leaves to Connect (compression, bad headers), deadlines and disconnects.
import http from "node:http";
import { gzipSync } from "node:zlib";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChatRequestSchema, ChatResponseSchema, Role } from "../../gen/llmgateway/v1/llm_pb.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";

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
  destroyAfterMs?: number,
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
    if (destroyAfterMs !== undefined) setTimeout(() => req.destroy(), destroyAfterMs);
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
    await post(PATH, { "content-type": "application/json" }, chat("mock/slow-5000"), 150).catch(
      () => undefined,
    );
    const t0 = performance.now();
    while (gw.app.gateway.inFlight > 0 && performance.now() - t0 < 2000)
      await new Promise((r) => setTimeout(r, 20));
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
    expect(err.code).toBe("invalid_argument");
    expect(err.message).toMatch(/exactly one message/);
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
