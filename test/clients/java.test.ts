// Java client: clients/java/example/Example.java compiled with javac against the committed
// clients/java/gen classes and Debian's jars (grpc-java 1.41 with its Netty transport,
// protobuf-java 3.21), then run against a real gateway — unary Chat, ChatStream, and errors whose
// grpc-status-details-bin decodes to google.rpc.ErrorInfo and RetryInfo.
import { readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestGateway } from "../helpers/gateway.js";
import { CLIENT_KEY, clientGateway, type Ran, ROOT, requireTools, runJson } from "./support.js";

const J = "/usr/share/java";
/** Debian jar -> the package that ships it. */
const JARS: Record<string, string> = {
  "grpc-api.jar": "libgrpc-java",
  "grpc-core.jar": "libgrpc-java",
  "grpc-context.jar": "libgrpc-java",
  "grpc-netty.jar": "libgrpc-java",
  "grpc-protobuf.jar": "libgrpc-java",
  "grpc-protobuf-lite.jar": "libgrpc-java",
  "grpc-stub.jar": "libgrpc-java",
  "protobuf.jar": "libprotobuf-java",
  "guava.jar": "libguava-java",
  "perfmark-api.jar": "libperfmark-java",
  "geronimo-annotation-1.3-spec.jar": "libgeronimo-annotation-1.3-spec-java",
  ...Object.fromEntries(
    [
      "buffer",
      "codec",
      "codec-http",
      "codec-http2",
      "codec-socks",
      "common",
      "handler",
      "handler-proxy",
      "resolver",
      "transport",
    ].map((m) => [`netty-${m}.jar`, "libnetty-java"]),
  ),
};

interface JavaErr {
  code: string;
  message: string;
  reason?: string;
  domain?: string;
  retry_delay_ms?: number;
}
interface JavaResult {
  chat: Record<string, string | number>;
  stream: { kinds: string[]; text: string };
  not_found?: JavaErr;
  limited?: JavaErr;
}

function javaFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? javaFiles(p) : p.endsWith(".java") ? [p] : [];
  });
}

let gw: TestGateway | undefined;
let ran: Ran | undefined;
const out = join(tmpdir(), `llmgw-clients-java-${process.pid}`);

beforeAll(async () => {
  requireTools({
    "/usr/bin/javac": "default-jdk-headless",
    ...Object.fromEntries(Object.entries(JARS).map(([jar, pkg]) => [join(J, jar), pkg])),
  });
  const cp = Object.keys(JARS)
    .map((jar) => join(J, jar))
    .join(":");
  const dir = join(ROOT, "clients/java");
  const sources = ["gen", "example"].flatMap((d) => javaFiles(join(dir, d))).map((p) => relative(dir, p));
  await runJson(
    "/bin/sh",
    ["-c", 'javac -nowarn -d "$OUT" -cp "$CP" "$@" && echo "{}"', "javac", ...sources],
    {
      cwd: dir,
      env: { OUT: out, CP: cp },
      timeoutMs: 240_000,
    },
  );
  gw = await clientGateway(4);
  ran = await runJson("java", ["-cp", `${out}:${cp}`, "Example", "--until-limited", `127.0.0.1:${gw.port}`], {
    env: { LLMGW_API_KEY: CLIENT_KEY },
  });
}, 300_000);
afterAll(async () => {
  await gw?.close();
  rmSync(out, { recursive: true, force: true });
});

function res(): JavaResult {
  if (!ran) throw new Error("the Java example did not run (see the beforeAll error)");
  return ran.json as JavaResult;
}

describe("Java client (clients/java, committed classes, Debian grpc-java + Netty)", () => {
  it("unary Chat", () => {
    expect(res().chat).toMatchObject({
      model: "mock/echo",
      provider: "mock",
      text: "echo: hello from java",
      finish_reason: "FINISH_REASON_STOP",
    });
    expect(res().chat["total_tokens"]).toBeGreaterThan(0);
  });

  it("ChatStream: start, deltas, end", () => {
    const { stream } = res();
    expect(stream.kinds[0]).toBe("START");
    expect(stream.kinds.at(-1)).toBe("END");
    expect(stream.kinds.filter((k) => k === "DELTA").length).toBeGreaterThan(1);
    expect(stream.text).toBe("echo: one two three four");
  });

  it("errors: ErrorInfo for an unknown model, RetryInfo for the rate limit", () => {
    const r = res();
    expect(r.not_found).toMatchObject({ code: "NOT_FOUND", reason: "MODEL_NOT_FOUND", domain: "llmgateway" });
    expect(r.limited).toMatchObject({ code: "RESOURCE_EXHAUSTED", reason: "RATE_LIMITED" });
    expect(r.limited?.retry_delay_ms).toBeGreaterThan(0);
  });
});
