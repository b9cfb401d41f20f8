#!/usr/bin/env node
// `make test-chat`: one real chat call through a running gateway (Connect JSON: unary Chat, or the
// ChatStream server stream), printing the answer and what the gateway did. No dependencies.
//   node scripts/test-chat.mjs [--url U] [--model M] [--provider P] [--stream true|false] [--prompt T]
// Defaults from the env: GATEWAY_URL (http://127.0.0.1:8080), MODEL (mock/echo), PROVIDER, STREAM,
// PROMPT, LLMGW_API_KEY (sent as a bearer key when set). Exit 0 on an answer, 1 on any error.
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    model: { type: "string" },
    provider: { type: "string" },
    stream: { type: "string" },
    prompt: { type: "string" },
  },
});
const env = process.env;
const base = values.url || env.GATEWAY_URL || "http://127.0.0.1:8080";
const provider = values.provider ?? env.PROVIDER ?? "";
const rawModel = values.model || env.MODEL || "mock/echo";
const model = provider && !rawModel.startsWith(`${provider}/`) ? `${provider}/${rawModel}` : rawModel;
const streamFlag = (values.stream ?? env.STREAM ?? "false").toLowerCase();
if (!["true", "false", "1", "0", ""].includes(streamFlag))
  fail(`STREAM must be true or false, not "${streamFlag}"`);
const stream = streamFlag === "true" || streamFlag === "1";
const prompt = values.prompt || env.PROMPT || "Say hello in five words.";
const request = { model, messages: [{ role: "ROLE_USER", content: [{ text: prompt }] }] };
const headers = { "connect-protocol-version": "1" };
if (env.LLMGW_API_KEY) headers.authorization = `Bearer ${env.LLMGW_API_KEY}`;

function fail(msg) {
  process.stderr.write(`test-chat: ${msg}\n`);
  process.exit(1);
}

function printInfo(info) {
  const u = info.usage ?? {};
  const g = info.gateway ?? {};
  const lines = [
    `model: ${info.model ?? "?"}  provider: ${info.provider ?? "?"}  finish: ${info.finishReason ?? "?"}`,
    `usage: in ${u.inputTokens ?? 0}, out ${u.outputTokens ?? 0}${u.estimated ? " (estimated)" : ""}`,
    `gateway: attempts ${g.attempts ?? 0}, cache ${g.cache ?? "-"}, ` +
      `latency ${Number(g.latencyMs ?? 0).toFixed(1)} ms (upstream ${Number(g.upstreamLatencyMs ?? 0).toFixed(1)} ms), ` +
      `cost $${Number(g.costUsd ?? 0).toFixed(6)}, request id ${g.requestId ?? "?"}`,
  ];
  process.stdout.write(`\n--\n${lines.join("\n")}\n`);
}

function connectError(status, body) {
  try {
    const e = JSON.parse(body);
    return `${e.code ?? `HTTP ${status}`}: ${e.message ?? body}`;
  } catch {
    return `HTTP ${status}: ${body.slice(0, 500)}`;
  }
}

async function unary() {
  const res = await fetch(new URL("/llmgateway.v1.LLMService/Chat", base), {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify(request),
  });
  const text = await res.text();
  if (res.status !== 200) fail(connectError(res.status, text));
  const r = JSON.parse(text);
  const answer = (r.message?.content ?? []).map((p) => p.text ?? "").join("");
  process.stdout.write(answer);
  printInfo({
    model: r.model,
    provider: r.provider,
    finishReason: r.finishReason,
    usage: r.usage,
    gateway: r.gateway,
  });
}

/** Connect streaming: each message is flags (1 byte) + length (4 bytes, big-endian) + JSON. */
async function streaming() {
  const json = Buffer.from(JSON.stringify(request));
  const frame = Buffer.alloc(5 + json.length);
  frame.writeUInt32BE(json.length, 1);
  json.copy(frame, 5);
  const res = await fetch(new URL("/llmgateway.v1.LLMService/ChatStream", base), {
    method: "POST",
    headers: { ...headers, "content-type": "application/connect+json" },
    body: frame,
  });
  if (res.status !== 200) fail(connectError(res.status, await res.text()));
  const info = {};
  let buf = Buffer.alloc(0);
  for await (const chunk of res.body) {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 5 && buf.length >= 5 + buf.readUInt32BE(1)) {
      const flags = buf[0];
      const msg = JSON.parse(buf.subarray(5, 5 + buf.readUInt32BE(1)).toString("utf8") || "{}");
      buf = buf.subarray(5 + buf.readUInt32BE(1));
      if (flags & 0x02) {
        if (msg.error) fail(`\n${msg.error.code ?? "error"}: ${msg.error.message ?? ""}`);
        if (!info.gateway) fail("\nthe stream ended without its end event");
        printInfo(info);
        return;
      }
      if (msg.start) Object.assign(info, { model: msg.start.model, provider: msg.start.provider });
      if (msg.delta?.text) process.stdout.write(msg.delta.text);
      if (msg.end)
        Object.assign(info, {
          finishReason: msg.end.finishReason,
          usage: msg.end.usage,
          gateway: msg.end.gateway,
        });
    }
  }
  fail("\nthe connection closed before the end of the stream");
}

process.stdout.write(`${stream ? "ChatStream" : "Chat"} ${model} via ${base}\n`);
try {
  await (stream ? streaming() : unary());
} catch (e) {
  const cause = e?.cause?.code ?? e?.cause?.message;
  fail(`${base} unreachable or broken answer: ${e?.message ?? e}${cause ? ` (${cause})` : ""}`);
}
