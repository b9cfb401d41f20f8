// Test helpers for the cache: fail-fast ioredis clients with a unique key prefix per run, a throwaway
// redis-server on a free port (for tests that freeze it), and request / answer fixtures.

import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createServer } from "node:net";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Redis } from "ioredis";
import {
  type ChatRequest,
  ChatRequestSchema,
  type ChatResponse,
  ChatResponseSchema,
  type ChatStreamResponse,
  ChatStreamResponseSchema,
  FinishReason,
  Role,
} from "../../gen/llmgateway/v1/llm_pb.js";
import { waitFor } from "../helpers/wait.js";

/** A key prefix no other run shares. */
export function uniquePrefix(): string {
  return `test:cache:${randomUUID()}:`;
}

/** An ioredis client that fails fast like the gateway's (no offline queue, no resend, no retries). */
export function fastRedis(port = 6379): Redis {
  const r = new Redis({
    host: "127.0.0.1",
    port,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 500,
    commandTimeout: 1000,
    retryStrategy: () => 100,
    protocol: 2,
  });
  r.on("error", () => {});
  return r;
}

/** Resolves once the client is ready. */
export async function ready(r: Redis): Promise<void> {
  if (r.status === "ready") return;
  await new Promise<void>((resolve) => r.once("ready", () => resolve()));
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

/** A redis-server of our own (no persistence), so a test can STOP / CONT / kill it. */
export async function startRedis(): Promise<{ port: number; proc: ChildProcess; stop: () => void }> {
  const port = await freePort();
  const proc = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    {
      stdio: "ignore",
    },
  );
  const probe = fastRedis(port);
  try {
    await waitFor(
      async () => {
        await ready(probe);
        return (await probe.ping()) === "PONG";
      },
      { what: `redis-server on port ${port} to answer` },
    );
  } finally {
    probe.disconnect();
  }
  const stop = () => {
    if (proc.pid) {
      try {
        process.kill(proc.pid, "SIGCONT");
      } catch {}
    }
    proc.kill("SIGKILL");
  };
  return { port, proc, stop };
}

/** A chat request to vary. */
export function chatRequest(
  init: Omit<MessageInitShape<typeof ChatRequestSchema>, "$typeName"> = {},
): ChatRequest {
  return create(ChatRequestSchema, {
    model: "mock/echo",
    messages: [{ role: Role.USER, content: [{ part: { case: "text", value: "hello" } }] }],
    ...init,
  });
}

/** A whole answer. */
export function chatResponse(text: string): ChatResponse {
  return create(ChatResponseSchema, {
    id: "r1",
    model: "mock/echo",
    provider: "mock",
    message: { role: Role.ASSISTANT, content: [{ part: { case: "text", value: text } }] },
    finishReason: FinishReason.STOP,
    usage: { inputTokens: 3, outputTokens: 5, totalTokens: 8 },
  });
}

/** A stream: start, `n` deltas, end. */
export function streamEvents(n: number): ChatStreamResponse[] {
  const out: ChatStreamResponse[] = [
    create(ChatStreamResponseSchema, {
      event: { case: "start", value: { id: "s1", model: "mock/echo", provider: "mock" } },
    }),
  ];
  for (let i = 0; i < n; i++) {
    out.push(create(ChatStreamResponseSchema, { event: { case: "delta", value: { text: `t${i} ` } } }));
  }
  out.push(
    create(ChatStreamResponseSchema, {
      event: {
        case: "end",
        value: { finishReason: FinishReason.STOP, usage: { inputTokens: 1, outputTokens: n } },
      },
    }),
  );
  return out;
}

/** Text of a stream's deltas, in order. */
export function streamText(events: readonly ChatStreamResponse[]): string {
  return events.map((e) => (e.event.case === "delta" ? e.event.value.text : `[${e.event.case}]`)).join("");
}
