// The floor: the least any Node gateway does. A bare keep-alive pass-through proxy that reads the
// client's JSON (same body the gateway gets), parses it once, builds and stringifies the upstream
// body, forwards it over an undici Pool, parses the upstream JSON and stringifies an answer back.
// POST .../Chat is unary; POST .../ChatStream pipes the upstream SSE through untouched.
// Usage: node --import tsx bench/floor.ts --port N --upstream http://127.0.0.1:U
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import { Pool } from "undici";

const arg = (name: string): string => process.argv[process.argv.indexOf(`--${name}`) + 1] ?? "";
const port = Number(arg("port"));
const pool = new Pool(arg("upstream"), { connections: 256, pipelining: 1, keepAliveTimeout: 30_000 });

interface ClientRequest {
  model: string;
  messages: { role: string; content: { text?: string }[] }[];
}

interface UpstreamResponse {
  id: string;
  model: string;
  choices: { message: { content: string | null }; finish_reason: string }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

const ROLES: Record<string, string> = {
  ROLE_SYSTEM: "system",
  ROLE_USER: "user",
  ROLE_ASSISTANT: "assistant",
  ROLE_TOOL: "tool",
};

function upstreamBody(req: ClientRequest, stream: boolean): string {
  const slash = req.model.indexOf("/");
  return JSON.stringify({
    model: req.model.slice(slash + 1),
    messages: req.messages.map((m) => ({
      role: ROLES[m.role] ?? "user",
      content: m.content.map((p) => p.text ?? "").join(""),
    })),
    ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  });
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  const body = JSON.parse(Buffer.concat(parts).toString("utf8")) as ClientRequest;
  const stream = req.url?.endsWith("/ChatStream") ?? false;
  const up = await pool.request({
    path: "/v1/chat/completions",
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer x" },
    body: upstreamBody(body, stream),
  });
  if (stream) {
    res.writeHead(up.statusCode, { "content-type": "text/event-stream" });
    await pipeline(up.body, res);
    return;
  }
  const u = (await up.body.json()) as UpstreamResponse;
  const choice = u.choices[0];
  const out = JSON.stringify({
    id: u.id,
    model: `openai/${u.model}`,
    provider: "openai",
    message: { role: "ROLE_ASSISTANT", content: [{ text: choice?.message.content ?? "" }] },
    finishReason: "FINISH_REASON_STOP",
    usage: {
      inputTokens: u.usage?.prompt_tokens ?? 0,
      outputTokens: u.usage?.completion_tokens ?? 0,
      totalTokens: u.usage?.total_tokens ?? 0,
    },
  });
  res.writeHead(up.statusCode, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(out),
  });
  res.end(out);
}

const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, (req, res) => {
  handle(req, res).catch((e: unknown) => {
    if (!res.headersSent) res.writeHead(502, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: String(e) }));
  });
});
server.listen(port, "127.0.0.1", () => process.stdout.write("ready\n"));
