// The connect-es and protobuf-es internals the fast paths (src/server/fast-connect.ts, fast-grpc.ts)
// and our compiled codecs (src/lib/create.ts, json-encoder.ts, json-decoder.ts) rely on, pinned by
// their behaviour on fixed inputs. They are marked @private upstream: an upgrade may change them.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fromJsonString, create as reflectCreate, toJsonString } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  codeToHttpStatus,
  endStreamToJson,
  errorToJsonBytes,
  parseTimeout,
} from "@connectrpc/connect/protocol-connect";
import { parseTimeout as parseGrpcTimeout, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { describe, expect, it } from "vitest";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { ChatRequestSchema, Role } from "../../gen/llmgateway/v1/llm_pb.js";
import { create } from "../../src/lib/create.js";
import { decodeJson } from "../../src/lib/json-decoder.js";
import { jsonEncoder } from "../../src/lib/json-encoder.js";

const LOAD_BEARING =
  "the pinned @connectrpc/* 2.1.2 and @bufbuild/protobuf 2.13.0 are load-bearing: the fast paths " +
  "(src/server/fast-connect.ts, fast-grpc.ts) re-implement Connect's handler with these private " +
  "internals. After an upgrade, re-check each one here, then run test/server/fast-differential.test.ts " +
  "(the fast paths against Connect's own handler) before changing the pins";

const require = createRequire(import.meta.url);
function installed(pkg: string): string {
  const main = require.resolve(pkg);
  let dir = dirname(main);
  for (;;) {
    try {
      const p = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        name?: string;
        version: string;
      };
      if (p.name === pkg) return p.version;
    } catch {}
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json for ${pkg}`);
    dir = up;
  }
}

describe(`pinned library internals (${LOAD_BEARING})`, () => {
  it("the installed versions are the pinned ones", () => {
    expect(installed("@connectrpc/connect"), LOAD_BEARING).toBe("2.1.2");
    expect(installed("@connectrpc/connect-node"), LOAD_BEARING).toBe("2.1.2");
    expect(installed("@bufbuild/protobuf"), LOAD_BEARING).toBe("2.13.0");
    const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { dependencies: Record<string, string> };
    expect(pkg.dependencies["@connectrpc/connect"], `${LOAD_BEARING}: pin it exactly`).toBe("2.1.2");
    expect(pkg.dependencies["@bufbuild/protobuf"], `${LOAD_BEARING}: pin it exactly`).toBe("2.13.0");
  });

  it("Connect's parseTimeout: milliseconds, at most 10 digits, else an error", () => {
    const max = Number.MAX_SAFE_INTEGER;
    expect(parseTimeout(null, max), LOAD_BEARING).toEqual({ timeoutMs: undefined });
    expect(parseTimeout("1500", max), LOAD_BEARING).toEqual({ timeoutMs: 1500 });
    expect(parseTimeout("soon", max).error?.code, LOAD_BEARING).toBe(Code.InvalidArgument);
    expect(parseTimeout("12345678901", max).error, LOAD_BEARING).toBeInstanceOf(ConnectError);
  });

  it("gRPC's parseTimeout: value and unit (H M S m u n), else an error", () => {
    const max = Number.MAX_SAFE_INTEGER;
    expect(parseGrpcTimeout("1S", max), LOAD_BEARING).toEqual({ timeoutMs: 1000 });
    expect(parseGrpcTimeout("200m", max), LOAD_BEARING).toEqual({ timeoutMs: 200 });
    expect(parseGrpcTimeout("2H", max), LOAD_BEARING).toEqual({ timeoutMs: 7_200_000 });
    expect(parseGrpcTimeout(null, max), LOAD_BEARING).toEqual({ timeoutMs: undefined });
    expect(parseGrpcTimeout("1s", max).error, LOAD_BEARING).toBeInstanceOf(ConnectError);
  });

  const info = create(ErrorInfoSchema, { reason: "R", domain: "d", metadata: { k: "v" } });
  const withDetail = () =>
    new ConnectError("bad thing", Code.NotFound, { "x-meta": "m" }, [{ desc: ErrorInfoSchema, value: info }]);

  it("errorToJsonBytes: the Connect error body, byte for byte", () => {
    const plain = Buffer.from(
      errorToJsonBytes(new ConnectError("boom", Code.Internal), undefined),
    ).toString();
    expect(plain, LOAD_BEARING).toBe('{"code":"internal","message":"boom"}');
    const rich = Buffer.from(errorToJsonBytes(withDetail(), undefined)).toString();
    expect(rich, LOAD_BEARING).toBe(
      '{"code":"not_found","message":"bad thing","details":[{"type":"google.rpc.ErrorInfo",' +
        '"debug":{"reason":"R","domain":"d","metadata":{"k":"v"}},"value":"CgFSEgFkGgYKAWsSAXY"}]}',
    );
    expect(codeToHttpStatus(Code.NotFound), LOAD_BEARING).toBe(404);
    expect(codeToHttpStatus(Code.ResourceExhausted), LOAD_BEARING).toBe(429);
    expect(codeToHttpStatus(Code.DeadlineExceeded), LOAD_BEARING).toBe(504);
  });

  it("endStreamToJson: {} for success, the error (and its metadata) otherwise", () => {
    expect(JSON.stringify(endStreamToJson(new Headers(), undefined, undefined)), LOAD_BEARING).toBe("{}");
    expect(
      JSON.stringify(endStreamToJson(new Headers(), new ConnectError("gone", Code.Unavailable), undefined)),
      LOAD_BEARING,
    ).toBe('{"error":{"code":"unavailable","message":"gone"}}');
    const trailers = new Headers({ "x-t": "1" });
    expect(JSON.stringify(endStreamToJson(trailers, undefined, undefined)), LOAD_BEARING).toBe(
      '{"metadata":{"x-t":["1"]}}',
    );
  });

  it("setTrailerStatus: grpc-status 0, or the error's metadata, status, message and details", () => {
    const ok: Record<string, string> = {};
    setTrailerStatus(new Headers(), undefined).forEach((v, k) => {
      ok[k] = v;
    });
    expect(ok, LOAD_BEARING).toEqual({ "grpc-status": "0" });
    const bad: Record<string, string> = {};
    setTrailerStatus(new Headers(), withDetail()).forEach((v, k) => {
      bad[k] = v;
    });
    expect(bad, LOAD_BEARING).toEqual({
      "x-meta": "m",
      "grpc-status": "5",
      "grpc-message": "bad%20thing",
      "grpc-status-details-bin":
        "CAUSCWJhZCB0aGluZxo6Cih0eXBlLmdvb2dsZWFwaXMuY29tL2dvb2dsZS5ycGMuRXJyb3JJbmZvEg4KAVISAWQaBgoBaxIBdg",
    });
  });

  it("our compiled create and JSON codecs agree with protobuf-es (test/lib/create.test.ts has every type)", () => {
    const init = {
      model: "m",
      messages: [{ role: Role.USER, content: [{ part: { case: "text" as const, value: "hi" } }] }],
      maxTokens: 5,
    };
    const a = create(ChatRequestSchema, init);
    const b = reflectCreate(ChatRequestSchema, init);
    expect(a, LOAD_BEARING).toStrictEqual(b);
    const text = toJsonString(ChatRequestSchema, b);
    expect(jsonEncoder(ChatRequestSchema)(a), LOAD_BEARING).toBe(text);
    expect(
      decodeJson(ChatRequestSchema, text, (t) => fromJsonString(ChatRequestSchema, t)),
      LOAD_BEARING,
    ).toStrictEqual(fromJsonString(ChatRequestSchema, text));
  });
});
