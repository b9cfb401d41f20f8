// TypeScript client package: `npm pack` in clients/ts (prepack compiles gen/ and src/ into dist/),
// the tarball installed into a temp project (--prefer-offline: the peer dependencies come from the
// npm cache), and a script there (fixtures/ts-app.mjs) calling a real gateway over Connect, gRPC
// and gRPC-Web with createGatewayClient, collectStream and errorInfo.
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestGateway } from "../helpers/gateway.js";
import { CLIENT_KEY, clientGateway, type Ran, ROOT, runJson } from "./support.js";

const PKG = join(ROOT, "clients/ts");
const app = mkdtempSync(join(tmpdir(), "llmgw-ts-client-"));
const env = { PATH: `${join(process.execPath, "..")}:/usr/bin:/bin`, HOME: process.env["HOME"] ?? "/root" };
let gw: TestGateway | undefined;
let ran: Ran | undefined;
let packed: string[] = [];

interface Info {
  codeName: string;
  reason?: string;
  domain?: string;
  retryDelayMs?: number;
}
interface AppResult {
  [transport: string]: unknown;
  notFound: Info | null;
  noKey: Info | null;
  limited: Info | null;
}

beforeAll(async () => {
  const pack = await runJson(
    "/bin/sh",
    ["-c", `npm pack --json --pack-destination "${app}" | tr -d '\\n'; echo`],
    {
      cwd: PKG,
      env,
      timeoutMs: 180_000,
    },
  );
  const [info] = pack.json as { filename: string; files: { path: string }[] }[];
  if (!info) throw new Error(`npm pack printed no package: ${pack.stdout}`);
  packed = info.files.map((f) => f.path);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
  await runJson(
    "/bin/sh",
    [
      "-c",
      `npm install --prefer-offline --no-audit --no-fund --loglevel=error ./${info.filename} @bufbuild/protobuf@2.13.0 @connectrpc/connect@2.1.2 @connectrpc/connect-node@2.1.2 && echo '{}'`,
    ],
    { cwd: app, env, timeoutMs: 180_000 },
  );
  copyFileSync(join(ROOT, "test/clients/fixtures/ts-app.mjs"), join(app, "app.mjs"));
  gw = await clientGateway(12);
  ran = await runJson(process.execPath, ["app.mjs", gw.url, CLIENT_KEY], { cwd: app, env });
}, 360_000);
afterAll(async () => {
  await gw?.close();
  rmSync(app, { recursive: true, force: true });
  rmSync(join(PKG, "dist"), { recursive: true, force: true });
});

function res(): AppResult {
  if (!ran) throw new Error("the packed client did not run (see the beforeAll error)");
  return ran.json as AppResult;
}

describe("@llm-gateway/client (packed tarball, installed elsewhere)", () => {
  it("the tarball holds the compiled contract and helpers, no sources or tests", () => {
    expect(packed).toContain("dist/clients/ts/src/index.js");
    expect(packed).toContain("dist/clients/ts/src/index.d.ts");
    expect(packed).toContain("dist/gen/llmgateway/v1/llm_pb.js");
    expect(packed).toContain("dist/gen/google/rpc/error_details_pb.d.ts");
    expect(packed.filter((p) => p.endsWith(".ts") && !p.endsWith(".d.ts"))).toEqual([]);
    expect(readdirSync(app).some((f) => f.endsWith(".tgz"))).toBe(true);
  });

  it.each(["connect", "grpc", "grpc-web"])("%s: chat, and chatStream assembled by collectStream", (t) => {
    expect(res()[t]).toMatchObject({
      chat: { model: "mock/echo", text: `echo: hi over ${t}` },
      stream: { model: "mock/echo", text: "echo: one two three", finish: 1 },
    });
    const stream = (res()[t] as { stream: { id: string; total: number } }).stream;
    expect(stream.id).not.toBe("");
    expect(stream.total).toBeGreaterThan(0);
  });

  it("errorInfo: reason and domain for an unknown model and a missing key, retry delay for the rate limit", () => {
    const r = res();
    expect(r.notFound).toMatchObject({
      codeName: "NotFound",
      reason: "MODEL_NOT_FOUND",
      domain: "llmgateway",
    });
    expect(r.noKey).toMatchObject({ codeName: "Unauthenticated", reason: "API_KEY_INVALID" });
    expect(r.limited).toMatchObject({ codeName: "ResourceExhausted", reason: "RATE_LIMITED" });
    expect(r.limited?.retryDelayMs).toBeGreaterThan(0);
    expect(ran?.stdout).not.toContain(CLIENT_KEY);
  });
});
