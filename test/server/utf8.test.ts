// Invalid UTF-8 in a request (issue 14 §3) is refused with INVALID_ARGUMENT / INVALID_REQUEST naming
// the field — Connect JSON (fast path and Connect's own handler), Connect proto, gRPC (plain and
// gzip), gRPC-Web and the REST door — never silently replaced with U+FFFD. Valid text (U+FFFD
// included) still goes through byte for byte.
import { isUtf8 } from "node:buffer";
import http2 from "node:http2";
import { gzipSync } from "node:zlib";
import { toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChatRequestSchema, Role } from "../../gen/llmgateway/v1/llm_pb.js";
import { create } from "../../src/lib/create.js";
import { firstInvalidUtf8, jsonUtf8Field, protoUtf8Field } from "../../src/server/utf8.js";
import { connectJsonError, grpcStatusDetails, post } from "../e2e/helpers.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";

const FIELD = "messages[1].content[0].text";
const CHAT = "/llmgateway.v1.LLMService/Chat";

/** A ChatRequest whose second message's text holds "é" with its lead byte replaced by 0xFF. */
function badProto(): Buffer {
  const req = create(ChatRequestSchema, {
    model: "mock/echo",
    messages: [
      { role: Role.SYSTEM, content: [{ part: { case: "text", value: "be brief" } }] },
      { role: Role.USER, content: [{ part: { case: "text", value: "caf\u00e9 au lait" } }] },
    ],
  });
  const b = Buffer.from(toBinary(ChatRequestSchema, req));
  b[b.indexOf(Buffer.from("\u00e9"))] = 0xff;
  return b;
}

/** Connect JSON with the same defect. */
function badJson(): Buffer {
  const text = JSON.stringify({
    model: "mock/echo",
    messages: [
      { role: "ROLE_SYSTEM", content: [{ text: "be brief" }] },
      { role: "ROLE_USER", content: [{ text: "caf\u00e9 au lait" }] },
    ],
  });
  const b = Buffer.from(text);
  b[b.indexOf(Buffer.from("\u00e9"))] = 0xff;
  return b;
}

function envelope(flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flags;
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

/** One gRPC call over HTTP/2 with raw bytes; the trailers. */
function grpcCall(url: string, body: Buffer, headers: Record<string, string> = {}) {
  return new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
    const session = http2.connect(url);
    session.on("error", reject);
    const s = session.request({
      ":method": "POST",
      ":path": CHAT,
      "content-type": "application/grpc",
      te: "trailers",
      ...headers,
    });
    let trailers: http2.IncomingHttpHeaders = {};
    let head: http2.IncomingHttpHeaders = {};
    s.on("response", (h) => {
      head = h;
    });
    s.on("trailers", (t) => {
      trailers = t;
    });
    s.resume();
    s.on("end", () => {
      session.close();
      resolve({ ...head, ...trailers });
    });
    s.on("error", reject);
    s.end(body);
  });
}

describe("units", () => {
  it("firstInvalidUtf8 agrees with node's isUtf8 (overlongs, surrogates, > U+10FFFF, cut sequences)", () => {
    const cases = [
      [0x61, 0xc3, 0xa9],
      [0xc0, 0x80],
      [0xed, 0xa0, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xf0, 0x9f, 0x98, 0x80],
      [0xe2, 0x82],
      [0xef, 0xbf, 0xbd],
      [0x80],
      [0xf5, 0x80, 0x80, 0x80],
    ];
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let i = 0; i < 2000; i++) cases.push(Array.from({ length: 1 + (rand() % 8) }, () => rand() % 256));
    for (const c of cases) {
      const b = Uint8Array.from(c);
      expect(firstInvalidUtf8(b) === -1, c.join(",")).toBe(isUtf8(b));
    }
    expect(firstInvalidUtf8(Buffer.from([0x61, 0x62, 0xc3, 0x28]))).toBe(2);
  });

  it("the field is found in JSON text and in the protobuf binary encoding", () => {
    expect(jsonUtf8Field(badJson())).toBe(FIELD);
    expect(protoUtf8Field(ChatRequestSchema, badProto())).toBe(FIELD);
    expect(
      protoUtf8Field(
        ChatRequestSchema,
        Buffer.from(toBinary(ChatRequestSchema, create(ChatRequestSchema, {}))),
      ),
    ).toBe(undefined);
    expect(jsonUtf8Field(Buffer.from([0x7b, 0xff, 0x7d]))).toBe("(body)"); // outside any string
  });
});

describe("through the gateway", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({});
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("Connect JSON (fast path, and Connect's handler for a gzip body): 400 invalid_argument naming the field", async () => {
    const plain = await post(gw.url, CHAT, badJson());
    const gz = await post(gw.url, CHAT, gzipSync(badJson()), {
      "content-type": "application/json",
      "content-encoding": "gzip",
    });
    for (const r of [plain, gz]) {
      expect(r.status).toBe(400);
      const e = connectJsonError(r.body);
      expect(e.code).toBe("invalid_argument");
      expect(e.errorInfo?.reason).toBe("INVALID_REQUEST");
      expect(e.badRequest?.fieldViolations[0]?.field).toBe(FIELD);
      expect(e.message).toContain("UTF-8");
    }
  });

  it("Connect streaming JSON: the end-stream error names the field", async () => {
    const r = await post(gw.url, "/llmgateway.v1.LLMService/ChatStream", envelope(0, badJson()), {
      "content-type": "application/connect+json",
    });
    expect(r.status).toBe(200);
    const end = JSON.parse(r.body.slice(r.body.indexOf("{"))) as { error: { code: string; message: string } };
    expect(end.error.code).toBe("invalid_argument");
    expect(end.error.message).toContain(FIELD);
  });

  it("Connect proto: 400 invalid_argument naming the field (was: an unnamed decode error)", async () => {
    const r = await post(gw.url, CHAT, badProto(), { "content-type": "application/proto" });
    expect(r.status).toBe(400);
    const e = connectJsonError(r.body);
    expect(e.code).toBe("invalid_argument");
    expect(e.badRequest?.fieldViolations[0]?.field).toBe(FIELD);
  });

  it("gRPC (fast path, and gzip through Connect's handler): INVALID_ARGUMENT with the field in BadRequest", async () => {
    const plain = await grpcCall(gw.url, envelope(0, badProto()));
    const gz = await grpcCall(gw.url, envelope(1, gzipSync(badProto())), { "grpc-encoding": "gzip" });
    for (const t of [plain, gz]) {
      expect(t["grpc-status"]).toBe("3");
      const d = grpcStatusDetails(Buffer.from(String(t["grpc-status-details-bin"]), "base64"));
      expect(d.errorInfo?.reason).toBe("INVALID_REQUEST");
      expect(d.badRequest?.fieldViolations[0]?.field).toBe(FIELD);
    }
  });

  it("gRPC-Web: INVALID_ARGUMENT naming the field (was: INTERNAL)", async () => {
    const r = await post(gw.url, CHAT, envelope(0, badProto()), {
      "content-type": "application/grpc-web+proto",
    });
    const text = Buffer.from(r.body, "latin1").toString();
    const status = /grpc-status:\s*(\d+)/.exec(text)?.[1] ?? r.headers["grpc-status"];
    expect(status).toBe("3");
    const details =
      /grpc-status-details-bin:\s*(\S+)/.exec(text)?.[1] ?? String(r.headers["grpc-status-details-bin"]);
    expect(grpcStatusDetails(Buffer.from(details, "base64")).badRequest?.fieldViolations[0]?.field).toBe(
      FIELD,
    );
  });

  it("gRPC-Web with the JSON codec: INVALID_ARGUMENT naming the field", async () => {
    const r = await post(gw.url, CHAT, envelope(0, badJson()), {
      "content-type": "application/grpc-web+json",
    });
    const status = /grpc-status:\s*(\d+)/.exec(r.body)?.[1] ?? r.headers["grpc-status"];
    expect(status).toBe("3");
    expect(decodeURIComponent(/grpc-message:\s*(\S+)/.exec(r.body)?.[1] ?? "")).toContain(FIELD);
  });

  it("REST: 400 invalid_request_error with param naming the field", async () => {
    const b = Buffer.from(
      JSON.stringify({
        model: "mock/echo",
        messages: [{ role: "user", content: [{ type: "text", text: "caf\u00e9" }] }],
      }),
    );
    b[b.indexOf(Buffer.from("\u00e9"))] = 0xff;
    const r = await post(gw.url, "/v1/chat/completions", b);
    expect(r.status).toBe(400);
    const e = JSON.parse(r.body).error;
    expect(e.type).toBe("invalid_request_error");
    expect(e.param).toBe("messages[0].content[0].text");
  });

  it("valid text, U+FFFD and astral characters included, goes through unchanged", async () => {
    const text = "ok \ufffd \u{1f600} caf\u00e9";
    const r = await post(
      gw.url,
      CHAT,
      JSON.stringify({ model: "mock/echo", messages: [{ role: "ROLE_USER", content: [{ text }] }] }),
    );
    expect(r.status).toBe(200);
    expect(r.body).toContain(text);
    const rest = await post(
      gw.url,
      "/v1/chat/completions",
      JSON.stringify({ model: "mock/echo", messages: [{ role: "user", content: text }] }),
    );
    expect(rest.status).toBe(200);
    expect(rest.body).toContain(text);
  });
});
