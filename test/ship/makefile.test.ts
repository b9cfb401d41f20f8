// The Makefile: every target prints the command it stands for (`make -n`; the docker targets cannot
// run here), `make help` lists them all, and the test-chat family makes real calls through a
// running gateway: the mock, and OpenAI / Anthropic fakes reached through OPENAI_BASE_URL /
// ANTHROPIC_BASE_URL.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AnthropicFake, startAnthropicFake } from "../fakes/anthropic.js";
import { type OpenAIFake, startOpenAIFake } from "../fakes/openai.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { freePort, type Ran, REPO, run } from "./support.js";

const make = (...args: string[]): Promise<Ran> =>
  run("make", ["--no-print-directory", ...args], { cwd: REPO });
const version = (JSON.parse(readFileSync(`${REPO}/package.json`, "utf8")) as { version: string }).version;

const dryRuns: [string, string[], string[]][] = [
  ["setup", [], ["npm ci --no-audit --no-fund"]],
  ["clean", [], ["rm -rf dist"]],
  ["build", [], ["npm run -s build"]],
  ["run", ["ARGS=--port 9090"], ["npm run -s build", "npm run -s start:prod -- --port 9090"]],
  ["run-dev", [], ["npx tsx watch src/main.ts"]],
  ["test", [], ["npm test"]],
  ["lint", [], ["npm run -s lint"]],
  ["format", [], ["npm run -s format"]],
  ["docker-build", [], [`docker build -t llm-gateway:${version} .`]],
  ["docker-stop", [], ["docker stop -t 15 llm-gateway", "docker rm llm-gateway"]],
  ["up", [], ["docker compose up -d --build"]],
  ["up-replicas", [], ["docker compose -f compose.replicas.yaml up -d --build"]],
  ["down", [], ["docker compose down", "docker compose -f compose.replicas.yaml down"]],
  [
    "test-chat",
    ["MODEL=llama3.2", "PROVIDER=ollama", "STREAM=true", "GATEWAY_URL=http://gw:9000"],
    [
      "node scripts/test-chat.mjs --url 'http://gw:9000' --stream 'true' --model 'llama3.2' --provider 'ollama'",
    ],
  ],
  [
    "test-ollama",
    [],
    [
      "node scripts/test-chat.mjs --url 'http://127.0.0.1:8080' --stream 'false' --model 'ollama/llama3.2:1b'",
    ],
  ],
  [
    "test-openai",
    [],
    [
      "node scripts/test-chat.mjs --url 'http://127.0.0.1:8080' --stream 'false' --model 'openai/gpt-4o-mini'",
    ],
  ],
  [
    "test-anthropic",
    ["STREAM=true"],
    [
      "node scripts/test-chat.mjs --url 'http://127.0.0.1:8080' --stream 'true' --model 'anthropic/claude-haiku-4-5'",
    ],
  ],
];

describe("Makefile targets (make -n)", () => {
  it.each(dryRuns)("make -n %s %j", async (target, vars, expected) => {
    const r = await make("-n", target, ...vars);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split("\n")).toEqual(expected);
  });

  it("make -n docker-run runs the image detached, keys passed through from the env", async () => {
    const r = await make("-n", "docker-run", "PORT=9000");
    const cmd = r.stdout
      .replace(/\\\n\s*/g, " ")
      .replace(/\s+/g, " ")
      .trim();
    expect(cmd).toBe(
      `docker run -d --name llm-gateway -p 9000:8080 -e OPENAI_API_KEY -e ANTHROPIC_API_KEY -e GEMINI_API_KEY ` +
        `-e OLLAMA_HOST -e LLMGW_LOG_LEVEL llm-gateway:${version}`,
    );
  });

  it("make (the default) is help and lists every target", async () => {
    const r = await make();
    expect(r.code).toBe(0);
    const listed = r.stdout.split("\n").flatMap((l) => /^ {2}([a-z-]+) /.exec(l)?.[1] ?? []);
    expect(listed.sort()).toEqual(["help", "docker-run", ...dryRuns.map(([t]) => t)].sort());
  });
});

describe("make test-chat family against a running gateway", () => {
  let openai: OpenAIFake;
  let anthropic: AnthropicFake;
  let gw: TestGateway;
  beforeAll(async () => {
    [openai, anthropic] = await Promise.all([
      startOpenAIFake({ apiKey: "sk-make-openai" }),
      startAnthropicFake({ apiKey: "sk-ant-make" }),
    ]);
    gw = await startGateway({
      env: {
        OPENAI_API_KEY: "sk-make-openai",
        OPENAI_BASE_URL: openai.url,
        ANTHROPIC_API_KEY: "sk-ant-make",
        ANTHROPIC_BASE_URL: anthropic.url,
      },
    });
  });
  afterAll(async () => {
    await gw?.close();
    await Promise.all([openai?.close(), anthropic?.close()]);
  });
  const url = () => `GATEWAY_URL=${gw.url}`;

  it.each(["false", "true"])(
    "make test-chat (mock, STREAM=%s) prints the answer and the gateway info",
    async (stream) => {
      const r = await make("test-chat", url(), "MODEL=echo", "PROVIDER=mock", `STREAM=${stream}`);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain("echo: Say hello in five words.");
      expect(r.stdout).toContain("model: mock/echo  provider: mock  finish: FINISH_REASON_STOP");
      expect(r.stdout).toMatch(/gateway: attempts 1, .*request id \S+/);
    },
  );

  it.each(["false", "true"])(
    "make test-openai (STREAM=%s) goes through the gateway to OpenAI's wire",
    async (stream) => {
      openai.reset();
      const r = await make("test-openai", url(), `STREAM=${stream}`);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain("provider: openai");
      expect(r.stdout).toMatch(/usage: in [1-9]\d*, out [1-9]\d*/);
      const calls = openai.requests.filter((q) => q.path === "/v1/chat/completions");
      expect(calls).toHaveLength(1);
      const sent = calls[0]!.body as { model: string; stream?: boolean };
      expect(sent.model).toBe("gpt-4o-mini");
      expect(sent.stream === true).toBe(stream === "true");
    },
  );

  it("make test-anthropic goes through the gateway to Anthropic's wire", async () => {
    anthropic.reset();
    const r = await make("test-anthropic", url());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("model: anthropic/claude-haiku-4-5");
    expect(r.stdout).toContain("provider: anthropic");
    expect(anthropic.requests.filter((q) => q.path === "/v1/messages")).toHaveLength(1);
  });

  it("fails (non-zero) with the gateway's error, or when no gateway answers", async () => {
    const unknown = await make("test-chat", url(), "MODEL=nope/x");
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('not_found: unknown provider "nope"');
    const down = await make("test-chat", `GATEWAY_URL=http://127.0.0.1:${await freePort()}`);
    expect(down.code).not.toBe(0);
    expect(down.stderr).toContain("unreachable");
  });
});
