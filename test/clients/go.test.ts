// Go client: clients/go/example (the committed clients/go/gen stubs, grpc-go and genproto from
// Debian's /usr/share/gocode, built offline in GOPATH mode) calls a real gateway — unary Chat,
// ChatStream, and errors whose details decode to google.rpc.ErrorInfo and RetryInfo.
import { mkdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestGateway } from "../helpers/gateway.js";
import { CLIENT_KEY, clientGateway, type Ran, ROOT, requireTools, runJson } from "./support.js";

interface GoErr {
  code: string;
  message: string;
  reason?: string;
  domain?: string;
  retry_delay_ms?: number;
}
interface GoResult {
  chat: Record<string, string | number>;
  stream: { kinds: string[]; text: string };
  not_found?: GoErr;
  limited?: GoErr;
}

let gw: TestGateway | undefined;
let ran: Ran | undefined;
// A fixed GOPATH (not a fresh temp dir) keeps Go's build cache warm between runs.
const gopath = join(tmpdir(), "llmgw-clients-gopath");

beforeAll(async () => {
  requireTools({
    "/usr/bin/go": "golang-go",
    "/usr/share/gocode/src/google.golang.org/grpc/server.go": "golang-google-grpc-dev",
    "/usr/share/gocode/src/google.golang.org/protobuf/proto/proto.go": "golang-google-protobuf-dev",
    "/usr/share/gocode/src/github.com/golang/protobuf/proto/registry.go":
      "golang-github-golang-protobuf-1-5-dev",
  });
  // GOPATH mode: the module's import path maps onto a symlink to clients/go; everything else comes
  // from Debian's Go sources. No module proxy, no network.
  rmSync(gopath, { recursive: true, force: true });
  mkdirSync(join(gopath, "src/llm-gateway/clients"), { recursive: true });
  symlinkSync(join(ROOT, "clients/go"), join(gopath, "src/llm-gateway/clients/go"));
  const bin = join(gopath, "example");
  const env = {
    GO111MODULE: "off",
    GOPATH: `${gopath}:/usr/share/gocode`,
    GOPROXY: "off",
    GOFLAGS: "",
    GOCACHE: join(tmpdir(), "llmgw-gocache"),
    HOME: gopath,
  };
  await runJson("/bin/sh", ["-c", `go build -o ${bin} ./example && echo '{}'`], {
    cwd: join(gopath, "src/llm-gateway/clients/go"),
    env,
    timeoutMs: 240_000,
  });
  gw = await clientGateway(4);
  ran = await runJson(bin, ["-until-limited", `127.0.0.1:${gw.port}`], {
    env: { LLMGW_API_KEY: CLIENT_KEY },
  });
}, 300_000);
afterAll(async () => {
  await gw?.close();
  rmSync(gopath, { recursive: true, force: true });
});

function res(): GoResult {
  if (!ran) throw new Error("the Go example did not run (see the beforeAll error)");
  return ran.json as GoResult;
}

describe("Go client (clients/go, committed stubs, Debian grpc-go)", () => {
  it("unary Chat with the x-request-id header", () => {
    const { chat } = res();
    expect(chat).toMatchObject({
      model: "mock/echo",
      provider: "mock",
      text: "echo: hello from go",
      finish_reason: "FINISH_REASON_STOP",
    });
    expect(chat["total_tokens"]).toBeGreaterThan(0);
    expect(chat["request_id"]).not.toBe("");
    expect(chat["x_request_id"]).toBe(chat["request_id"]);
  });

  it("ChatStream: start, deltas, end", () => {
    const { stream } = res();
    expect(stream.kinds[0]).toBe("start");
    expect(stream.kinds.at(-1)).toBe("end:FINISH_REASON_STOP");
    expect(stream.kinds.filter((k) => k === "delta").length).toBeGreaterThan(1);
    expect(stream.text).toBe("echo: one two three four");
  });

  it("errors: ErrorInfo for an unknown model, RetryInfo for the rate limit", () => {
    const r = res();
    expect(r.not_found).toMatchObject({ code: "NotFound", reason: "MODEL_NOT_FOUND", domain: "llmgateway" });
    expect(r.limited).toMatchObject({ code: "ResourceExhausted", reason: "RATE_LIMITED" });
    expect(r.limited?.retry_delay_ms).toBeGreaterThan(0);
  });
});
