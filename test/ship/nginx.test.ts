// deploy/nginx.conf: `nginx -t` accepts it, then real traffic through a running nginx to two real
// gateways — REST, a server-sent-events stream passed on unbuffered, Connect JSON on :8080, and gRPC
// (grpc_pass) on the h2c port. The test copy changes only what cannot work here: the upstream host
// "gateway" (a Docker DNS name, unresolvable outside compose, and nginx -t resolves upstream names)
// becomes the two loopback gateways, the listen ports become free loopback ports, and /tmp paths
// move into the test's own folder, and the access log goes to a file there (/dev/stdout cannot be
// reopened when stdout is a socket, as a spawned child's is; in a container it is a pipe).
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LLMService, Role } from "../../gen/llmgateway/v1/llm_pb.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { waitFor } from "../helpers/wait.js";
import { collect, freePort, repoPath, run } from "./support.js";

const source = readFileSync(repoPath("deploy/nginx.conf"), "utf8");
let dir = "";
let conf = "";
let httpPort = 0;
let grpcPort = 0;
const gateways: TestGateway[] = [];
let nginx: ChildProcess | undefined;
let nginxOut: ReturnType<typeof collect> | undefined;

/** The test copy of deploy/nginx.conf (see the file comment for why each change). */
function testCopy(upstreams: number[]): string {
  const servers = upstreams.map((p) => `server 127.0.0.1:${p} max_fails=0;`).join("\n    ");
  const out = source
    .replaceAll("server gateway:8080 max_fails=0;", servers)
    .replace("listen 8080;", `listen 127.0.0.1:${httpPort};`)
    .replace("listen 8081 http2;", `listen 127.0.0.1:${grpcPort} http2;`)
    .replaceAll("/tmp/", `${dir}/`)
    .replace("access_log /dev/stdout;", `access_log ${dir}/access.log;`);
  expect(out).not.toContain("gateway:8080");
  expect(out).not.toMatch(/\/tmp\/nginx/);
  return out;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "llmgw-nginx-"));
  chmodSync(dir, 0o755); // nginx's workers (an unprivileged user) use the temp folders in it
  [httpPort, grpcPort] = [await freePort(), await freePort()];
  gateways.push(await startGateway(), await startGateway());
  conf = join(dir, "nginx.conf");
  writeFileSync(conf, testCopy(gateways.map((g) => g.port)));
});

afterAll(async () => {
  if (nginx?.pid !== undefined && nginx.exitCode === null) {
    nginx.kill("SIGTERM");
    await nginxOut?.exited;
  }
  await Promise.all(gateways.map((g) => g.close()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const chatBody = (text: string) =>
  JSON.stringify({ model: "mock/echo", messages: [{ role: "ROLE_USER", content: [{ text }] }] });

describe("deploy/nginx.conf", () => {
  it("passes nginx -t", async () => {
    const r = await run("nginx", ["-t", "-c", conf, "-p", dir]);
    expect(r.stderr).toContain("syntax is ok");
    expect(r.code, r.stderr).toBe(0);
  });

  it("balances HTTP/1.1 calls (REST and Connect) across the replicas", async () => {
    nginx = spawn("nginx", ["-c", conf, "-p", dir, "-g", "daemon off;"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    nginxOut = collect(nginx);
    const base = `http://127.0.0.1:${httpPort}`;
    await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, {
      what: `nginx serving /readyz (nginx stderr: ${nginxOut.out().stderr.slice(0, 300)})`,
    });
    for (let i = 0; i < 6; i++) {
      const rest = await fetch(`${base}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "mock/echo", messages: [{ role: "user", content: `rest ${i}` }] }),
      });
      expect(rest.status).toBe(200);
      expect(
        ((await rest.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content,
      ).toBe(`echo: rest ${i}`);
    }
    const connect = await fetch(`${base}/llmgateway.v1.LLMService/Chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: chatBody("connect"),
    });
    expect(
      ((await connect.json()) as { message: { content: { text: string }[] } }).message.content[0]?.text,
    ).toBe("echo: connect");
    const served = gateways.map((g) => g.logs.filter((l) => l.includes('"model":"mock/echo"')).length);
    expect(
      served.every((n) => n > 0),
      `calls per replica: ${served}`,
    ).toBe(true);
  });

  it("passes server-sent events on as they come (no buffering)", async () => {
    // mock/stall sends its first word, then holds the stream open: it can only arrive unbuffered.
    const ctl = new AbortController();
    const res = await fetch(`http://127.0.0.1:${httpPort}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "mock/stall",
        stream: true,
        messages: [{ role: "user", content: "wait" }],
      }),
      signal: ctl.signal,
    });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const reader = res.body!.getReader();
    let seen = "";
    while (!seen.includes("echo: ")) {
      const { value, done } = await reader.read();
      expect(done).toBe(false);
      seen += Buffer.from(value!).toString("utf8");
    }
    expect(seen).toMatch(/^data: /);
    expect(seen).not.toContain("[DONE]");
    ctl.abort();
  });

  it("routes gRPC over h2c with grpc_pass: unary and server streaming, trailers intact", async () => {
    const client = createClient(LLMService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${grpcPort}` }));
    const unary = await client.chat({
      model: "mock/echo",
      messages: [{ role: Role.USER, content: [{ part: { case: "text", value: "grpc" } }] }],
    });
    expect(unary.message?.content[0]?.part).toEqual({ case: "text", value: "echo: grpc" });
    let text = "";
    let ended = false;
    for await (const ev of client.chatStream({
      model: "mock/echo",
      messages: [{ role: Role.USER, content: [{ part: { case: "text", value: "streamed over grpc" } }] }],
    })) {
      if (ev.event.case === "delta") text += ev.event.value.text;
      if (ev.event.case === "end") ended = true;
    }
    expect(text).toBe("echo: streamed over grpc");
    expect(ended).toBe(true);
    // A gRPC error status travels in the trailers nginx must keep.
    await expect(client.chat({ model: "nope/x", messages: [] })).rejects.toMatchObject({
      code: expect.any(Number),
    });
  });
});
