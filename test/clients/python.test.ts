// Python client: clients/python/example.py (Debian's python3-grpcio) with the committed stubs in
// clients/python/gen calls a real gateway over cleartext HTTP/2 gRPC — unary Chat, server-streaming
// ChatStream, Embed, and errors whose `grpc-status-details-bin` trailer decodes to google.rpc.Status
// carrying ErrorInfo (unknown model) and RetryInfo (the key's rate limit).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestGateway } from "../helpers/gateway.js";
import { CLIENT_KEY, clientGateway, type Ran, requireTools, runJson } from "./support.js";

interface ErrorDetails {
  code: string;
  message: string;
  status_code?: number;
  reason?: string;
  domain?: string;
  metadata?: Record<string, string>;
  retry_delay_ms?: number;
}
interface PyResult {
  chat: {
    model: string;
    provider: string;
    text: string;
    role: string;
    finish_reason: string;
    usage: { input: number; output: number; total: number };
    request_id: string;
    x_request_id: string;
  };
  stream: { events: Record<string, unknown>[]; text: string };
  embed: { model: string; indexes: number[]; dims: number[] };
  not_found: ErrorDetails | null;
  limited: ErrorDetails | null;
}

let gw: TestGateway | undefined;
let ran: Ran | undefined;

beforeAll(async () => {
  requireTools({ "/usr/bin/python3": "python3-grpcio" });
  gw = await clientGateway(5);
  ran = await runJson(
    "/usr/bin/python3",
    ["clients/python/example.py", `127.0.0.1:${gw.port}`, "--until-limited"],
    {
      env: { LLMGW_API_KEY: CLIENT_KEY, PYTHONDONTWRITEBYTECODE: "1" },
    },
  );
}, 90_000);
afterAll(async () => {
  await gw?.close();
});

function res(): PyResult {
  if (!ran) throw new Error("example.py did not run (see the beforeAll error)");
  return ran.json as PyResult;
}

describe("Python client (clients/python, committed stubs)", () => {
  it("unary Chat", () => {
    const { chat } = res();
    expect(chat).toMatchObject({
      model: "mock/echo",
      provider: "mock",
      text: "echo: hello from python",
      role: "ROLE_ASSISTANT",
      finish_reason: "FINISH_REASON_STOP",
    });
    expect(chat.usage.total).toBe(chat.usage.input + chat.usage.output);
    expect(chat.usage.total).toBeGreaterThan(0);
    expect(chat.request_id).not.toBe("");
    expect(chat.x_request_id).toBe(chat.request_id);
  });

  it("server-streaming ChatStream: start, deltas, end; each event printed as it came", () => {
    const { stream } = res();
    const kinds = stream.events.map((e) => e["kind"]);
    expect(kinds[0]).toBe("start");
    expect(kinds.at(-1)).toBe("end");
    expect(kinds.slice(1, -1).every((k) => k === "delta")).toBe(true);
    expect(kinds.filter((k) => k === "delta").length).toBeGreaterThan(1);
    expect(stream.text).toBe("echo: one two three four");
    expect(stream.events[0]).toMatchObject({ model: "mock/echo", provider: "mock" });
    expect(stream.events.at(-1)).toMatchObject({ finish_reason: "FINISH_REASON_STOP" });
    const printed = (ran?.stderr ?? "")
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l): unknown => JSON.parse(l));
    expect(printed).toEqual(stream.events);
  });

  it("Embed: one vector per input, in order", () => {
    const { embed } = res();
    expect(embed.model).toBe("mock/embed");
    expect(embed.indexes).toEqual([0, 1]);
    expect(embed.dims[0]).toBeGreaterThan(0);
    expect(embed.dims[1]).toBe(embed.dims[0]);
  });

  it("unknown model: NOT_FOUND with google.rpc.ErrorInfo in grpc-status-details-bin", () => {
    const { not_found } = res();
    expect(not_found).toMatchObject({
      code: "NOT_FOUND",
      status_code: 5,
      reason: "MODEL_NOT_FOUND",
      domain: "llmgateway",
    });
    expect(not_found?.message).not.toBe("");
  });

  it("the key's rate limit: RESOURCE_EXHAUSTED with ErrorInfo RATE_LIMITED and RetryInfo", () => {
    const { limited } = res();
    expect(limited).toMatchObject({ code: "RESOURCE_EXHAUSTED", status_code: 8, reason: "RATE_LIMITED" });
    expect(limited?.retry_delay_ms).toBeGreaterThan(0);
    expect(ran?.stdout).not.toContain(CLIENT_KEY);
  });
});
