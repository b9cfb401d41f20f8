Error.stackTraceLimit = Number(process.env.STL ?? 10);
import http from "node:http";
import { create } from "@bufbuild/protobuf";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { ChatResponseSchema, LLMService, Role } from "../gen/llmgateway/v1/llm_pb.js";
const mode = process.argv[2];
const res = create(ChatResponseSchema, { id: "x", model: "m", message: { role: Role.ASSISTANT, content: [{ part: { case: "text", value: "hello" } }] } });
const handler = connectNodeAdapter({ acceptCompression: process.env.NOCOMP ? [] : undefined, routes: (r) => r.service(LLMService, { chat: async () => res } as never) });
const plain = (req: http.IncomingMessage, out: http.ServerResponse) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => { JSON.parse(Buffer.concat(chunks).toString()); out.writeHead(200, { "content-type": "application/json" }); out.end(JSON.stringify({ id: "x", model: "m" })); });
};
http.createServer(mode === "plain" ? plain : handler).listen(19005, "127.0.0.1");
process.on("SIGINT", () => process.exit(0));
