// A zero-latency fake OpenAI upstream for the benchmark: POST /v1/chat/completions answers at
// once with a fixed small JSON, or (stream: true) with a few SSE chunks + usage + [DONE].
// Usage: node --import tsx bench/upstream.ts --port N   (prints "ready" on stdout when listening)
import { createServer } from "node:http";

const port = Number(process.argv[process.argv.indexOf("--port") + 1]);

const UNARY = Buffer.from(
  JSON.stringify({
    id: "chatcmpl-bench",
    object: "chat.completion",
    created: 1741569952,
    model: "gpt-4o-mini",
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: "Hello! How can I help?", refusal: null },
        logprobs: null,
        finish_reason: "stop",
      },
    ],
    usage: { prompt_tokens: 9, completion_tokens: 7, total_tokens: 16 },
  }),
);

function chunk(delta: object, finish: string | null): object {
  const base = {
    id: "chatcmpl-bench",
    object: "chat.completion.chunk",
    created: 1694268190,
    model: "gpt-4o-mini",
  };
  return { ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], usage: null };
}

const USAGE = {
  id: "chatcmpl-bench",
  object: "chat.completion.chunk",
  created: 1694268190,
  model: "gpt-4o-mini",
  choices: [],
  usage: { prompt_tokens: 9, completion_tokens: 7, total_tokens: 16 },
};

/** Each event is written separately, all in the same tick: a fast upstream, not a single blob. */
const EVENTS: Buffer[] = [
  chunk({ role: "assistant", content: "Hello" }, null),
  chunk({ content: "! How can" }, null),
  chunk({ content: " I help?" }, null),
  chunk({}, "stop"),
  USAGE,
]
  .map((e) => Buffer.from(`data: ${JSON.stringify(e)}\n\n`))
  .concat(Buffer.from("data: [DONE]\n\n"));

const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, (req, res) => {
  const parts: Buffer[] = [];
  req.on("data", (c: Buffer) => parts.push(c));
  req.on("end", () => {
    if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
      res.writeHead(404).end();
      return;
    }
    // A real upstream parses the request; so does this one (the cost is the same for every target).
    const body = JSON.parse(Buffer.concat(parts).toString("utf8")) as { stream?: boolean };
    if (body.stream) {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      for (const e of EVENTS) res.write(e);
      res.end();
      return;
    }
    res.writeHead(200, { "content-type": "application/json", "content-length": UNARY.length });
    res.end(UNARY);
  });
});
server.listen(port, "127.0.0.1", () => process.stdout.write("ready\n"));
