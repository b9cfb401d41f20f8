// Tests gRPC health and server reflection against a real h2c server with buf curl and grpc-js, plus reflection details in memory.
import { execFile } from "node:child_process";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { create, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, file_google_protobuf_duration } from "@bufbuild/protobuf/wkt";
import { type ConnectRouter, createClient, createRouterTransport } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { file_google_rpc_error_details } from "../../gen/google/rpc/error_details_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import * as v1 from "../../gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { file_llmgateway_v1_llm } from "../../gen/llmgateway/v1/llm_pb.js";
import { createHealthState, type HealthState, registerGrpcHealth } from "../../src/server/grpc-health.js";
import { registerReflection } from "../../src/server/reflection.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const bufBin = path.join(root, "node_modules/.bin/buf");
const healthProto = path.join(root, "proto/grpc/health/v1/health.proto");
const run = promisify(execFile);
const LLM = "llmgateway.v1.LLMService";

const state = createHealthState([LLM]);
let listeners = 0;
/** `state` with a count of live onChange subscriptions, to see Watch clean up after the client leaves. */
const countingState: HealthState = {
  status: (s) => state.status(s),
  services: () => state.services(),
  onChange(listener) {
    listeners++;
    const off = state.onChange(listener);
    return () => {
      listeners--;
      off();
    };
  },
};

const routes = (router: ConnectRouter): void => {
  registerGrpcHealth(router, countingState);
  registerReflection(router, [file_llmgateway_v1_llm]);
};

let server: http2.Http2Server;
const sessions = new Set<http2.ServerHttp2Session>();
let base = "";

beforeAll(async () => {
  server = http2.createServer(connectNodeAdapter({ routes }));
  server.on("session", (s) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const s of sessions) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function bufCurl(...args: string[]): Promise<string> {
  const { stdout } = await run(bufBin, ["curl", "--http2-prior-knowledge", "--protocol", "grpc", ...args], {
    timeout: 20_000,
  });
  return stdout;
}

describe("buf curl (no --schema: descriptors come from reflection)", () => {
  const expectLlmMethods = (out: string): void => {
    const methods = out.split("\n").filter(Boolean);
    for (const m of ["Chat", "ChatStream", "Embed", "ListModels", "GetModel", "CountTokens", "Health"]) {
      expect(methods).toContain(`${LLM}/${m}`);
    }
    expect(methods).toContain("grpc.health.v1.Health/Check");
    expect(methods).toContain("grpc.health.v1.Health/Watch");
  };

  it("lists methods with the default reflection protocol", async () => {
    expectLlmMethods(await bufCurl("--list-methods", `http://${base}`));
  });

  it.each(["grpc-v1", "grpc-v1alpha"])("lists methods with --reflect-protocol %s", async (protocol) => {
    expectLlmMethods(await bufCurl("--reflect-protocol", protocol, "--list-methods", `http://${base}`));
  });

  it("lists services", async () => {
    const services = (await bufCurl("--list-services", `http://${base}`)).split("\n").filter(Boolean);
    expect(services).toEqual(
      expect.arrayContaining([LLM, "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"]),
    );
  });

  it.each(["grpc-v1", "grpc-v1alpha"])(
    "calls Health/Check with the schema from %s reflection",
    async (protocol) => {
      const out = await bufCurl(
        "--reflect-protocol",
        protocol,
        "-d",
        JSON.stringify({ service: LLM }),
        `http://${base}/grpc.health.v1.Health/Check`,
      );
      expect(JSON.parse(out)).toEqual({ status: "SERVING" });
    },
  );

  it("reports NOT_FOUND for an unknown service through buf curl", async () => {
    const err = await bufCurl(
      "-d",
      JSON.stringify({ service: "nope.v1.Nope" }),
      `http://${base}/grpc.health.v1.Health/Check`,
    ).then(
      () => undefined,
      (e: unknown) => e as { stderr: string },
    );
    expect(err?.stderr).toMatch(/not_found/i);
  });
});

interface WireHealthResponse {
  status: string;
}
interface GrpcHealthClient extends grpc.Client {
  Check(
    req: { service: string },
    options: grpc.CallOptions,
    callback: (err: grpc.ServiceError | null, res?: WireHealthResponse) => void,
  ): grpc.ClientUnaryCall;
  Watch(req: { service: string }): grpc.ClientReadableStream<WireHealthResponse>;
}
type GrpcHealthCtor = new (address: string, credentials: grpc.ChannelCredentials) => GrpcHealthClient;

describe("grpc-js client (health.proto loaded at run time)", () => {
  let client: GrpcHealthClient;

  beforeAll(() => {
    const definition = protoLoader.loadSync(healthProto, { keepCase: true, enums: String, defaults: true });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      grpc: { health: { v1: { Health: GrpcHealthCtor } } };
    };
    client = new loaded.grpc.health.v1.Health(base, grpc.credentials.createInsecure());
  });

  afterAll(() => client.close());

  const check = (service: string): Promise<WireHealthResponse> =>
    new Promise((resolve, reject) => {
      client.Check({ service }, { deadline: Date.now() + 5_000 }, (err, res) =>
        err ? reject(err) : resolve(res!),
      );
    });

  it("Check: overall server and a named service are SERVING", async () => {
    expect(await check("")).toEqual({ status: "SERVING" });
    expect(await check(LLM)).toEqual({ status: "SERVING" });
  });

  it("Check: unknown service fails with NOT_FOUND", async () => {
    await expect(check("nope.v1.Nope")).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
  });

  /** Collects Watch messages; `next()` resolves with the next one. */
  function watch(service: string): { next: () => Promise<string>; call: grpc.ClientReadableStream<unknown> } {
    const call = client.Watch({ service });
    const received: string[] = [];
    const waiters: ((s: string) => void)[] = [];
    call.on("data", (msg: WireHealthResponse) => {
      const w = waiters.shift();
      if (w) w(msg.status);
      else received.push(msg.status);
    });
    call.on("error", () => {}); // CANCELLED after call.cancel()
    const next = (): Promise<string> => {
      const s = received.shift();
      return s !== undefined ? Promise.resolve(s) : new Promise((resolve) => waiters.push(resolve));
    };
    return { next, call };
  }

  it("Watch: sends SERVING, then NOT_SERVING after set(), and unsubscribes when the client leaves", async () => {
    const w = watch(LLM);
    expect(await w.next()).toBe("SERVING");
    expect(listeners).toBe(1);
    state.set(LLM, "NOT_SERVING");
    expect(await w.next()).toBe("NOT_SERVING");
    state.set(LLM, "SERVING");
    expect(await w.next()).toBe("SERVING");
    w.call.cancel();
    await expect.poll(() => listeners, { timeout: 10_000 }).toBe(0);
    expect(await check(LLM)).toEqual({ status: "SERVING" });
  });

  it("Watch: unknown service gets SERVICE_UNKNOWN and stays open until it becomes known", async () => {
    const w = watch("later.v1.Later");
    expect(await w.next()).toBe("SERVICE_UNKNOWN");
    state.set("later.v1.Later", "NOT_SERVING");
    expect(await w.next()).toBe("NOT_SERVING");
    w.call.cancel();
    await expect.poll(() => listeners, { timeout: 10_000 }).toBe(0);
  });
});

describe("reflection and health semantics (in-memory router transport)", () => {
  const transport = createRouterTransport((router) => {
    registerGrpcHealth(router, countingState);
    registerReflection(router, [file_llmgateway_v1_llm, file_google_rpc_error_details]);
  });
  const v1Client = createClient(v1.ServerReflection, transport);
  const v1alphaClient = createClient(v1alpha.ServerReflection, transport);

  async function ask(
    reqs: v1.ServerReflectionRequest["messageRequest"][],
  ): Promise<v1.ServerReflectionResponse[]> {
    async function* requests(): AsyncGenerator<v1.ServerReflectionRequest> {
      for (const messageRequest of reqs) yield create(v1.ServerReflectionRequestSchema, { messageRequest });
    }
    const out: v1.ServerReflectionResponse[] = [];
    for await (const res of v1Client.serverReflectionInfo(requests())) out.push(res);
    return out;
  }

  const fileNames = (res: v1.ServerReflectionResponse | undefined): string[] => {
    if (res?.messageResponse.case !== "fileDescriptorResponse") throw new Error(`not a file response`);
    return res.messageResponse.value.fileDescriptorProto.map(
      (b) => fromBinary(FileDescriptorProtoSchema, b).name,
    );
  };

  it("lists the given files' services plus every service on the router", async () => {
    const [res] = await ask([{ case: "listServices", value: "" }]);
    expect(res?.messageResponse.case).toBe("listServicesResponse");
    const names =
      res?.messageResponse.case === "listServicesResponse" ? res.messageResponse.value.service : [];
    expect(names.map((s) => s.name)).toEqual([
      "grpc.health.v1.Health",
      "grpc.reflection.v1.ServerReflection",
      "grpc.reflection.v1alpha.ServerReflection",
      LLM,
    ]);
    expect(res?.originalRequest?.messageRequest.case).toBe("listServices");
  });

  it("answers file_containing_symbol for services, methods, messages, nested and top-level enums", async () => {
    const symbols = [
      LLM,
      `${LLM}.ChatStream`,
      "llmgateway.v1.ChatRequest",
      "llmgateway.v1.ToolChoice.Mode",
      "llmgateway.v1.Role",
      "grpc.health.v1.HealthCheckResponse.ServingStatus",
    ];
    const res = await ask(symbols.map((value) => ({ case: "fileContainingSymbol" as const, value })));
    expect(res.map((r) => fileNames(r)[0])).toEqual([
      "llmgateway/v1/llm.proto",
      "llmgateway/v1/llm.proto",
      "llmgateway/v1/llm.proto",
      "llmgateway/v1/llm.proto",
      "llmgateway/v1/llm.proto",
      "grpc/health/v1/health.proto",
    ]);
  });

  it("returns a file with its transitive dependencies, well-known types included", async () => {
    const [byName, bySymbol] = await ask([
      { case: "fileByFilename", value: "google/rpc/error_details.proto" },
      { case: "fileContainingSymbol", value: "google.rpc.BadRequest.FieldViolation" },
    ]);
    expect(fileNames(byName)).toEqual(["google/rpc/error_details.proto", "google/protobuf/duration.proto"]);
    expect(fileNames(bySymbol)).toEqual(fileNames(byName));
    const duration = await ask([{ case: "fileByFilename", value: "google/protobuf/duration.proto" }]);
    expect(fileNames(duration[0])).toEqual([file_google_protobuf_duration.proto.name]);
  });

  it("answers unknown symbols, files and extensions with NOT_FOUND error responses", async () => {
    const res = await ask([
      { case: "fileContainingSymbol", value: "nope.v1.Nope" },
      { case: "fileByFilename", value: "nope.proto" },
      {
        case: "fileContainingExtension",
        value: create(v1.ExtensionRequestSchema, { containingType: LLM, extensionNumber: 1000 }),
      },
    ]);
    for (const r of res) {
      expect(r.messageResponse.case).toBe("errorResponse");
      expect(r.messageResponse.value).toMatchObject({ errorCode: 5 });
    }
  });

  it("v1alpha shares the same answers", async () => {
    async function* one(): AsyncGenerator<v1alpha.ServerReflectionRequest> {
      yield create(v1alpha.ServerReflectionRequestSchema, {
        host: "h",
        messageRequest: { case: "fileContainingSymbol", value: `${LLM}.Chat` },
      });
    }
    const out: v1alpha.ServerReflectionResponse[] = [];
    for await (const r of v1alphaClient.serverReflectionInfo(one())) out.push(r);
    expect(out).toHaveLength(1);
    expect(out[0]?.validHost).toBe("h");
    expect(out[0]?.messageResponse.case).toBe("fileDescriptorResponse");
  });

  it("health List reports every known service", async () => {
    const res = await createClient(Health, transport).list({});
    expect(res.statuses[""]?.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    expect(Object.keys(res.statuses)).toContain(LLM);
  });
});
