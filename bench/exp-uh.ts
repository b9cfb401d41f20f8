import { create } from "@bufbuild/protobuf";
import { createConnectRouter } from "@connectrpc/connect";
import { ChatResponseSchema, LLMService, Role } from "../gen/llmgateway/v1/llm_pb.js";
const res = create(ChatResponseSchema, { id: "x", model: "m", message: { role: Role.ASSISTANT, content: [{ part: { case: "text", value: "hello" } }] } });
const router = createConnectRouter();
router.service(LLMService, { chat: async () => res } as never);
const h = router.handlers.find((x) => x.requestPath.endsWith("/Chat"))!;
const body = new TextEncoder().encode('{"model":"openai/gpt-4o-mini","messages":[{"role":"ROLE_USER","content":[{"text":"hello there"}]}]}');
async function one() {
  const ac = new AbortController();
  const r = await h({ httpVersion: "1.1", url: "http://x/llmgateway.v1.LLMService/Chat", method: "POST", header: new Headers({ "content-type": "application/json" }), body: (async function* () { yield body; })(), signal: ac.signal });
  for await (const _ of r.body ?? []) { /* drain */ }
}
for (let i = 0; i < 5000; i++) await one();
const n = 20000; const t = performance.now();
for (let i = 0; i < n; i++) await one();
console.log(((performance.now() - t) / n * 1000).toFixed(1), "us per call");
