// Polyglot gRPC: a Python client (Debian's python3-grpcio) with stubs generated at test time by
// Debian's protoc + grpc_python_plugin calls the gateway over cleartext HTTP/2 — unary Chat,
// server-streaming ChatStream, and an error whose `grpc-status-details-bin` trailer decodes to
// google.rpc.Status carrying google.rpc.ErrorInfo (test/python/client.py does the calls and prints
// one JSON object).
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startGateway, type TestGateway } from "../helpers/gateway.js";

const run = promisify(execFile);

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CLIENT = fileURLToPath(new URL("./client.py", import.meta.url));
const PYTHON = "/usr/bin/python3";
const PROTOC = "/usr/bin/protoc";
const GRPC_PLUGIN = "/usr/bin/grpc_python_plugin";
const PACKAGES = "python3-grpcio protobuf-compiler protobuf-compiler-grpc libprotobuf-dev";
const PROTOS = ["llmgateway/v1/llm.proto", "google/rpc/status.proto", "google/rpc/error_details.proto"];

interface StreamEvent {
  kind: string;
  text?: string;
  model?: string;
  provider?: string;
  finish_reason?: string;
  total_tokens?: number;
}

interface PyResult {
  grpcio: string;
  chat: {
    model: string;
    provider: string;
    text: string;
    role: string;
    finish_reason: string;
    usage: { input_tokens: number; output_tokens: number; total_tokens: number };
    request_id: string;
    x_request_id: string;
    code: string;
  };
  stream: { code: string; events: StreamEvent[]; text: string };
  error: {
    raised: boolean;
    code?: string;
    details?: string;
    has_status_details_bin?: boolean;
    status?: { code: number; message: string };
    error_infos?: { reason: string; domain: string; metadata: Record<string, string> }[];
    other_detail_types?: string[];
  };
}

function isPyResult(v: unknown): v is PyResult {
  return typeof v === "object" && v !== null && "chat" in v && "stream" in v && "error" in v && "grpcio" in v;
}

/** Why the setup failed, if it did. */
let setupError: Error | undefined;
let gw: TestGateway | undefined;
let stubDir: string | undefined;
let result: PyResult | undefined;
let stderr = "";

/** Fails (never skips) with the Debian packages to install when the toolchain is missing. */
async function checkToolchain(): Promise<void> {
  const missing: string[] = [];
  if (!existsSync(PYTHON)) missing.push(`${PYTHON} (python3)`);
  if (!existsSync(PROTOC)) missing.push(`${PROTOC} (protobuf-compiler)`);
  if (!existsSync(GRPC_PLUGIN)) missing.push(`${GRPC_PLUGIN} (protobuf-compiler-grpc)`);
  if (!existsSync("/usr/include/google/protobuf/any.proto"))
    missing.push("/usr/include/google/protobuf/*.proto (libprotobuf-dev)");
  if (existsSync(PYTHON)) {
    try {
      await run(PYTHON, ["-c", "import grpc, google.protobuf"], { timeout: 20_000 });
    } catch {
      missing.push("python module grpc (python3-grpcio)");
    }
  }
  if (missing.length > 0) {
    throw new Error(
      `Python gRPC toolchain missing: ${missing.join(", ")} — run \`apt-get install -y ${PACKAGES}\``,
    );
  }
}

beforeAll(async () => {
  try {
    await checkToolchain();
    stubDir = mkdtempSync(join(tmpdir(), "llmgw-pystubs-"));
    await run(
      PROTOC,
      [
        "-I",
        "proto",
        `--python_out=${stubDir}`,
        `--grpc_python_out=${stubDir}`,
        `--plugin=protoc-gen-grpc_python=${GRPC_PLUGIN}`,
        ...PROTOS.map((p) => `proto/${p}`),
      ],
      { cwd: ROOT, timeout: 30_000 },
    );
    gw = await startGateway();
    const target = `127.0.0.1:${gw.port}`;
    const out = await run(PYTHON, [CLIENT, target, stubDir], {
      cwd: ROOT,
      timeout: 30_000,
      // Debian's modules only; keep a user's PYTHONPATH / pyenv out of it.
      env: { PATH: "/usr/bin:/bin", LANG: "C.UTF-8", PYTHONDONTWRITEBYTECODE: "1" },
    }).catch((e: unknown) => {
      const err = e as { message?: string; stdout?: string; stderr?: string };
      throw new Error(
        `client.py failed: ${err.message ?? String(e)}\nstdout: ${err.stdout}\nstderr: ${err.stderr}`,
      );
    });
    stderr = out.stderr;
    const lines = out.stdout.trim().split("\n");
    const parsed: unknown = JSON.parse(lines.at(-1) ?? "");
    if (!isPyResult(parsed)) throw new Error(`unexpected client.py output: ${out.stdout}`);
    result = parsed;
  } catch (e: unknown) {
    setupError = e instanceof Error ? e : new Error(String(e));
  }
}, 60_000);

// A broken setup (e.g. a missing package) fails every test with its message; nothing is skipped.
beforeEach(() => {
  if (setupError) throw setupError;
});

afterAll(async () => {
  await gw?.close();
  if (stubDir) rmSync(stubDir, { recursive: true, force: true });
});

function res(): PyResult {
  if (!result) throw new Error("client.py did not run (see the beforeAll error)");
  return result;
}

describe("Python grpcio client (protoc-generated stubs)", () => {
  it("unary Chat to mock/echo", () => {
    const { chat } = res();
    expect(chat).toMatchObject({
      code: "OK",
      model: "mock/echo",
      provider: "mock",
      text: "echo: hello from python",
      role: "ROLE_ASSISTANT",
      finish_reason: "FINISH_REASON_STOP",
    });
    expect(chat.usage.total_tokens).toBe(chat.usage.input_tokens + chat.usage.output_tokens);
    expect(chat.usage.total_tokens).toBeGreaterThan(0);
    expect(chat.request_id).not.toBe("");
    expect(chat.x_request_id).toBe(chat.request_id);
  });

  it("server-streaming ChatStream: start, deltas word by word, end", () => {
    const { stream } = res();
    expect(stream.code).toBe("OK");
    const kinds = stream.events.map((e) => e.kind);
    expect(kinds[0]).toBe("start");
    expect(kinds.at(-1)).toBe("end");
    expect(kinds.slice(1, -1).every((k) => k === "delta")).toBe(true);
    expect(kinds.filter((k) => k === "delta").length).toBeGreaterThan(1);
    expect(stream.text).toBe("echo: one two three four");
    expect(stream.events[0]).toMatchObject({ model: "mock/echo", provider: "mock" });
    expect(stream.events.at(-1)).toMatchObject({ finish_reason: "FINISH_REASON_STOP" });
    // Each event was also printed as a JSON line.
    const printed = stderr
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l): unknown => JSON.parse(l));
    expect(printed).toEqual(stream.events);
  });

  it("an unknown model: NOT_FOUND, grpc-status-details-bin decodes to Status with ErrorInfo", () => {
    const { error } = res();
    expect(error.raised).toBe(true);
    expect(error.code).toBe("NOT_FOUND");
    expect(error.has_status_details_bin).toBe(true);
    expect(error.status?.code).toBe(5); // google.rpc.Code.NOT_FOUND
    expect(error.status?.message).toBe(error.details);
    expect(error.error_infos).toEqual([
      expect.objectContaining({ reason: "MODEL_NOT_FOUND", domain: "llmgateway" }),
    ]);
  });
});
