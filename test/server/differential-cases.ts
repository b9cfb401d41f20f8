// The requests test/server/fast-differential.test.ts sends, byte for byte, to a gateway with the
// fast paths and to one without: each must get the same answer.
import { BIG, CHAT, CJ, CP, env, G, json, proto, type Req, SJ, SP, STREAM, UNKNOWN_FIELD } from "./wire.js";

/** Calls both doors of the Connect protocol (HTTP/1.1 and HTTP/2) serve; gRPC ones are HTTP/2 only. */
export const connectCases: [string, Req][] = [
  ["unary JSON", { path: CHAT, headers: CJ, body: json("mock/echo") }],
  [
    "unary JSON, charset and protocol version",
    {
      path: CHAT,
      headers: { ...CJ, "content-type": "application/json; charset=utf-8", "connect-protocol-version": "1" },
      body: json("mock/echo"),
    },
  ],
  ["unary proto", { path: CHAT, headers: CP, body: proto("mock/echo") }],
  [
    "unary proto with an unknown field",
    { path: CHAT, headers: CP, body: Buffer.concat([proto("mock/echo"), UNKNOWN_FIELD]) },
  ],
  [
    "unary JSON with an unknown field",
    { path: CHAT, headers: CJ, body: json("mock/echo", "hi", { nope: 1 }) },
  ],
  [
    "unary JSON, bad enum name",
    { path: CHAT, headers: CJ, body: Buffer.from('{"model":"mock/echo","messages":[{"role":"user"}]}') },
  ],
  ["unary, model not found (ErrorInfo)", { path: CHAT, headers: CJ, body: json("mock/nope") }],
  ["unary, upstream 429 (RetryInfo)", { path: CHAT, headers: CJ, body: json("mock/error-429") }],
  [
    "unary, deadline",
    { path: CHAT, headers: { ...CJ, "connect-timeout-ms": "150" }, body: json("mock/slow-5000") },
  ],
  [
    "unary, deadline not reached",
    { path: CHAT, headers: { ...CJ, "connect-timeout-ms": "60000" }, body: json("mock/echo") },
  ],
  [
    "unary, metadata (trace context, custom headers)",
    {
      path: CHAT,
      headers: {
        ...CJ,
        traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "x-custom": "v",
        "x-custom-bin": "AAE=",
      },
      body: json("mock/echo"),
    },
  ],
  [
    "unary, no request id",
    {
      path: CHAT,
      headers: { "content-type": "application/json", "x-request-id": "" },
      body: json("mock/echo"),
    },
  ],
  ["unary, large message", { path: CHAT, headers: CJ, body: json("mock/echo", BIG) }],
  ["unary, too large", { path: CHAT, headers: CJ, body: json("mock/echo", `${BIG}${BIG}`) }],
  ["unary JSON, empty body", { path: CHAT, headers: CJ, body: Buffer.alloc(0) }],
  ["unary proto, empty message", { path: CHAT, headers: CP, body: Buffer.alloc(0) }],
  ["unary JSON, not JSON", { path: CHAT, headers: CJ, body: Buffer.from("{nope") }],
  [
    "unary JSON, invalid UTF-8",
    {
      path: CHAT,
      headers: CJ,
      body: Buffer.concat([Buffer.from('{"model":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
    },
  ],
  ["ListModels", { path: "/llmgateway.v1.LLMService/ListModels", headers: CJ, body: Buffer.from("{}") }],
  ["stream JSON", { path: STREAM, headers: SJ, body: env(json("mock/echo", "one two three")) }],
  ["stream proto", { path: STREAM, headers: SP, body: env(proto("mock/echo", "one two three")) }],
  ["stream, error before the first message", { path: STREAM, headers: SJ, body: env(json("mock/nope")) }],
  ["stream, cut mid-way", { path: STREAM, headers: SJ, body: env(json("mock/cut", "one two three")) }],
  [
    "stream, deadline",
    { path: STREAM, headers: { ...SJ, "connect-timeout-ms": "150" }, body: env(json("mock/slow-5000")) },
  ],
  ["stream, empty envelope", { path: STREAM, headers: SP, body: env(Buffer.alloc(0)) }],
  ["stream, no envelope", { path: STREAM, headers: SJ, body: Buffer.alloc(0), handedBack: true }],
  [
    "stream, two messages",
    {
      path: STREAM,
      headers: SJ,
      body: Buffer.concat([env(json("mock/echo")), env(json("mock/echo"))]),
      handedBack: true,
    },
  ],
  ["stream, large message", { path: STREAM, headers: SJ, body: env(json("mock/echo", BIG)) }],
  [
    "unary, accepts gzip, br: a large answer compressed",
    { path: CHAT, headers: { ...CJ, "accept-encoding": "gzip, deflate, br" }, body: json("mock/echo", BIG) },
  ],
  [
    "unary, accepts br: a small answer as it is",
    { path: CHAT, headers: { ...CJ, "accept-encoding": "br" }, body: json("mock/echo") },
  ],
  [
    "unary, accepts gzip: an error",
    { path: CHAT, headers: { ...CJ, "accept-encoding": "gzip" }, body: json("mock/nope") },
  ],
  [
    "stream, accepts gzip: large messages compressed",
    {
      path: STREAM,
      headers: { ...SJ, "connect-accept-encoding": "gzip" },
      body: env(json("mock/echo", BIG)),
    },
  ],
  [
    "stream, accepts gzip: an error",
    {
      path: STREAM,
      headers: { ...SP, "connect-accept-encoding": "gzip" },
      body: env(proto("mock/cut", "one two")),
    },
  ],
];

export const grpcCases: [string, Req][] = [
  ["gRPC unary", { path: CHAT, headers: G, body: env(proto("mock/echo")) }],
  [
    "gRPC unary, +proto",
    {
      path: CHAT,
      headers: { ...G, "content-type": "application/grpc+proto" },
      body: env(proto("mock/echo")),
    },
  ],
  [
    "gRPC unary, unknown field",
    { path: CHAT, headers: G, body: env(Buffer.concat([proto("mock/echo"), UNKNOWN_FIELD])) },
  ],
  ["gRPC unary, model not found (details)", { path: CHAT, headers: G, body: env(proto("mock/nope")) }],
  ["gRPC unary, upstream 429", { path: CHAT, headers: G, body: env(proto("mock/error-429")) }],
  [
    "gRPC unary, deadline",
    { path: CHAT, headers: { ...G, "grpc-timeout": "150m" }, body: env(proto("mock/slow-5000")) },
  ],
  [
    "gRPC unary, metadata",
    { path: CHAT, headers: { ...G, "x-custom": "v", "x-custom-bin": "AAE=" }, body: env(proto("mock/echo")) },
  ],
  ["gRPC unary, large", { path: CHAT, headers: G, body: env(proto("mock/echo", BIG)) }],
  ["gRPC unary, too large", { path: CHAT, headers: G, body: env(proto("mock/echo", `${BIG}${BIG}`)) }],
  ["gRPC unary, empty message", { path: CHAT, headers: G, body: env(Buffer.alloc(0)) }],
  ["gRPC unary, no envelope", { path: CHAT, headers: G, body: Buffer.alloc(0), handedBack: true }],
  [
    "gRPC unary, compressed flag without grpc-encoding",
    { path: CHAT, headers: G, body: env(proto("mock/echo"), 1), handedBack: true },
  ],
  ["gRPC stream", { path: STREAM, headers: G, body: env(proto("mock/echo", "one two three")) }],
  ["gRPC stream, error first", { path: STREAM, headers: G, body: env(proto("mock/nope")) }],
  ["gRPC stream, cut mid-way", { path: STREAM, headers: G, body: env(proto("mock/cut", "one two three")) }],
  [
    "gRPC stream, deadline",
    { path: STREAM, headers: { ...G, "grpc-timeout": "150m" }, body: env(proto("mock/slow-5000")) },
  ],
  [
    "gRPC unary, grpc-accept-encoding as grpc-js sends it, a large answer",
    {
      path: CHAT,
      headers: { ...G, "grpc-accept-encoding": "identity,deflate,gzip" },
      body: env(proto("mock/echo", BIG)),
    },
  ],
  [
    "gRPC stream, grpc-accept-encoding gzip",
    { path: STREAM, headers: { ...G, "grpc-accept-encoding": "gzip" }, body: env(proto("mock/echo", BIG)) },
  ],
  [
    "gRPC unary, grpc-accept-encoding gzip, an error",
    { path: CHAT, headers: { ...G, "grpc-accept-encoding": "gzip" }, body: env(proto("mock/nope")) },
  ],
];
