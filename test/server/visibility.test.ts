// What a caller without a key may see (issue 14 §3): with keys configured, ListModels, GetModel,
// CountTokens, Health and GET /v1/models[/{id}] need a key on every protocol; a key restricted to
// some models sees only those; Health's per-deployment detail needs the admin key; grpc.health.v1
// (liveness, readiness) and (by default) /metrics stay open; /metrics behind the admin key or on its own port.
import { createHash } from "node:crypto";
import http from "node:http";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import {
  Health as GrpcHealth,
  HealthCheckResponse_ServingStatus,
} from "../../gen/grpc/health/v1/health_pb.js";
import { LLMService, Role, ServingStatus } from "../../gen/llmgateway/v1/llm_pb.js";
import { ClientConnections, chatReq } from "../e2e/helpers.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";

const KEY = "llmgw-visibility-full-aaaaaaaaaaaaaaaaaaaa";
const NARROW = "llmgw-visibility-narrow-bbbbbbbbbbbbbbbbb";
const ADMIN = "llmgw-visibility-admin-cccccccccccccccccc";
const sha = (k: string) => createHash("sha256").update(k).digest("hex");
const bearer = (k: string) => ({ authorization: `Bearer ${k}` });

/** GET with node:http; the whole answer. */
function get(url: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>(
    (resolve, reject) => {
      const req = http.get(url, { headers, agent: false, timeout: 10_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
        res.on("error", reject);
      });
      req.on("timeout", () => req.destroy(new Error("request timed out")));
      req.on("error", reject);
    },
  );
}

/** The ConnectError a call fails with (undefined when it succeeds). */
async function failure(p: Promise<unknown>): Promise<ConnectError | undefined> {
  return p.then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );
}

const countReq = (model: string) => ({
  model,
  messages: [{ role: Role.USER, content: [{ part: { case: "text" as const, value: "hello" } }] }],
});

describe("with keys configured", () => {
  let gw: TestGateway;
  const conns = new ClientConnections();
  let transports: Record<string, Transport>;

  beforeAll(async () => {
    gw = await startGateway({
      yaml: `
models:
  safe: { deployments: [{ target: mock/echo }] }
auth: { admin_sha256: ${sha(ADMIN)} }
keys:
  - { name: full, sha256: ${sha(KEY)} }
  - { name: narrow, sha256: ${sha(NARROW)}, models: [mock/echo, safe] }
`,
    });
    transports = {
      connectJson: createConnectTransport({ baseUrl: gw.url, httpVersion: "1.1", useBinaryFormat: false }),
      connectProto: createConnectTransport({ baseUrl: gw.url, httpVersion: "1.1", useBinaryFormat: true }),
      grpc: createGrpcTransport({ baseUrl: gw.url, sessionManager: conns.h2(gw.url) }),
      grpcWeb: createGrpcWebTransport({ baseUrl: gw.url, httpVersion: "1.1" }),
    };
    // A call, so Health has a deployment (mock/echo) to report.
    const c = createClient(LLMService, transports["connectJson"] as Transport);
    await c.chat(chatReq("mock/echo", "hi"), { headers: bearer(KEY) });
  });
  afterAll(async () => {
    conns.close();
    await gw?.close();
  });

  it("ListModels, GetModel, CountTokens, Health: UNAUTHENTICATED / API_KEY_INVALID without a key or with a wrong one, on every protocol", async () => {
    for (const [name, t] of Object.entries(transports)) {
      const c = createClient(LLMService, t);
      for (const headers of [{}, bearer("llmgw-not-a-key-zzzzzzzzzzzzzz")]) {
        const calls = {
          listModels: () => c.listModels({}, { headers }),
          getModel: () => c.getModel({ id: "mock/echo" }, { headers }),
          countTokens: () => c.countTokens(countReq("mock/echo"), { headers }),
          health: () => c.health({}, { headers }),
        };
        for (const [rpc, call] of Object.entries(calls)) {
          const e = await failure(call());
          expect(e?.code, `${name} ${rpc}`).toBe(Code.Unauthenticated);
          expect(e?.findDetails(ErrorInfoSchema)[0]?.reason, `${name} ${rpc}`).toBe("API_KEY_INVALID");
          expect(e?.message ?? "").not.toContain("zzzzzzzz");
        }
      }
      // With a key: answers.
      expect((await c.listModels({}, { headers: bearer(KEY) })).models.length, name).toBeGreaterThan(2);
      expect((await c.getModel({ id: "mock/echo" }, { headers: bearer(KEY) })).model?.id, name).toBe(
        "mock/echo",
      );
      expect(
        (await c.countTokens(countReq("mock/echo"), { headers: bearer(KEY) })).inputTokens,
        name,
      ).toBeGreaterThan(0);
      expect((await c.health({}, { headers: bearer(KEY) })).status, name).toBe(ServingStatus.SERVING);
    }
  });

  it("a key restricted to some models lists only those, and GetModel / CountTokens refuse the others without saying whether they exist", async () => {
    for (const [name, t] of Object.entries(transports)) {
      const c = createClient(LLMService, t);
      const ids = (await c.listModels({}, { headers: bearer(NARROW) })).models.map((m) => m.id).sort();
      expect(ids, name).toEqual(["mock/echo", "safe"]);
      expect((await c.getModel({ id: "safe" }, { headers: bearer(NARROW) })).model?.id).toBe("safe");
      for (const id of ["mock/embed", "no/such-model"]) {
        const e = await failure(c.getModel({ id }, { headers: bearer(NARROW) }));
        expect(e?.code, `${name} ${id}`).toBe(Code.PermissionDenied);
        expect(e?.findDetails(ErrorInfoSchema)[0]?.reason).toBe("MODEL_NOT_ALLOWED");
      }
      const e = await failure(c.countTokens(countReq("mock/embed"), { headers: bearer(NARROW) }));
      expect(e?.code, name).toBe(Code.PermissionDenied);
      // The unrestricted key sees them all.
      const all = (await c.listModels({}, { headers: bearer(KEY) })).models.map((m) => m.id);
      expect(all).toContain("mock/embed");
    }
  });

  it("Health: a gateway key gets the statuses without the deployment list; the admin key gets the detail", async () => {
    for (const [name, t] of Object.entries(transports)) {
      const c = createClient(LLMService, t);
      const summary = await c.health({}, { headers: bearer(KEY) });
      expect(summary.status, name).toBe(ServingStatus.SERVING);
      expect(summary.readiness, name).toBe(ServingStatus.SERVING);
      expect(
        summary.providers.map((p) => p.name),
        name,
      ).toContain("mock");
      expect(summary.deployments, name).toEqual([]);
      const full = await c.health({}, { headers: bearer(ADMIN) });
      expect(
        full.deployments.map((d) => d.target),
        name,
      ).toContain("mock/echo");
      expect(full.deployments[0]?.breaker, name).toBe("closed");
      // The admin key is not a gateway key: it does not list models.
      expect((await failure(c.listModels({}, { headers: bearer(ADMIN) })))?.code, name).toBe(
        Code.Unauthenticated,
      );
    }
  });

  it("REST GET /v1/models[/{id}]: 401 in OpenAI's error shape without a key; a restricted key sees its models", async () => {
    for (const path of ["/v1/models", "/v1/models/mock%2Fecho"]) {
      const none = await get(gw.url + path);
      expect(none.status, path).toBe(401);
      const err = JSON.parse(none.body).error;
      expect(err.type).toBe("authentication_error");
      expect(err.code).toBe("api_key_invalid");
      expect((await get(gw.url + path, bearer("llmgw-wrong-key-zzzzzzzzzz"))).status, path).toBe(401);
      expect((await get(gw.url + path, { "x-api-key": KEY })).status, path).toBe(200);
    }
    const list = JSON.parse((await get(`${gw.url}/v1/models`, bearer(NARROW))).body) as {
      data: { id: string }[];
    };
    expect(list.data.map((m) => m.id).sort()).toEqual(["mock/echo", "safe"]);
    const denied = await get(`${gw.url}/v1/models/mock%2Fembed`, bearer(NARROW));
    expect(denied.status).toBe(403);
    expect(JSON.parse(denied.body).error.code).toBe("model_not_allowed");
  });

  it("grpc.health.v1 (liveness, readiness) and /metrics stay open for probes and scrapers", async () => {
    for (const t of [transports["grpc"], transports["connectJson"]] as Transport[]) {
      const h = createClient(GrpcHealth, t);
      for (const service of ["", "liveness", "readiness"])
        expect((await h.check({ service })).status, service).toBe(HealthCheckResponse_ServingStatus.SERVING);
    }
    const m = await get(`${gw.url}/metrics`);
    expect(m.status).toBe(200);
    expect(m.body).toContain("# TYPE");
  });
});

describe("without keys (zero config)", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ yaml: "models:\n  safe: { deployments: [{ target: mock/echo }] }\n" });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("everything stays open, Health detail included", async () => {
    const c = createClient(LLMService, createConnectTransport({ baseUrl: gw.url, httpVersion: "1.1" }));
    await c.chat(chatReq("mock/echo", "hi"));
    expect((await c.listModels({})).models.map((m) => m.id)).toContain("mock/embed");
    expect((await c.getModel({ id: "safe" })).model?.aliasOf).toBe("mock/echo");
    expect((await c.countTokens(countReq("mock/echo"))).inputTokens).toBeGreaterThan(0);
    expect((await c.health({})).deployments.map((d) => d.target)).toContain("mock/echo");
    expect((await get(`${gw.url}/v1/models`)).status).toBe(200);
  });
});

describe("keys configured with auth.allow_anonymous", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({
      yaml: `
auth: { allow_anonymous: true, admin_sha256: ${sha(ADMIN)} }
keys: [{ name: full, sha256: ${sha(KEY)} }]
`,
    });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("keyless callers are let in as for chat, and Health still keeps its detail for the admin key", async () => {
    const c = createClient(LLMService, createConnectTransport({ baseUrl: gw.url, httpVersion: "1.1" }));
    await c.chat(chatReq("mock/echo", "hi"));
    expect((await c.listModels({})).models.map((m) => m.id)).toContain("mock/embed");
    const h = await c.health({});
    expect(h.status).toBe(ServingStatus.SERVING);
    expect(h.deployments).toEqual([]);
    expect((await c.health({}, { headers: bearer(ADMIN) })).deployments.length).toBeGreaterThan(0);
    // A wrong key is still refused (anonymous means no key, not any key).
    expect((await failure(c.listModels({}, { headers: bearer("llmgw-wrong-key-zzzzzzzzzz") })))?.code).toBe(
      Code.Unauthenticated,
    );
  });
});

describe("/metrics options", () => {
  it("metrics_auth: admin — the admin key scrapes; no key or a gateway key gets 401 and no metrics", async () => {
    const gw = await startGateway({
      yaml: `
auth: { admin_sha256: ${sha(ADMIN)} }
keys: [{ name: full, sha256: ${sha(KEY)} }]
telemetry: { metrics_auth: admin }
`,
    });
    try {
      for (const headers of [{}, bearer(KEY), { "x-api-key": "wrong" }] as Record<string, string>[]) {
        const r = await get(`${gw.url}/metrics`, headers);
        expect(r.status).toBe(401);
        expect(r.headers["www-authenticate"]).toContain("Bearer");
        expect(r.body).not.toContain("# TYPE");
      }
      const ok = await get(`${gw.url}/metrics`, bearer(ADMIN));
      expect(ok.status).toBe(200);
      expect(ok.body).toContain("# TYPE");
    } finally {
      await gw.close();
    }
  });

  it("metrics_auth: admin without auth.admin_sha256 is a config error", async () => {
    await expect(startGateway({ yaml: "telemetry: { metrics_auth: admin }\n" })).rejects.toThrow(
      /telemetry.metrics_auth: admin needs auth.admin_sha256/,
    );
  });

  it("metrics_listen or metrics_auth with telemetry.metrics: false is a config error (it would do nothing)", async () => {
    await expect(
      startGateway({ yaml: `telemetry: { metrics: false, metrics_listen: "127.0.0.1:0" }\n` }),
    ).rejects.toThrow(/telemetry.metrics is false/);
  });

  it("metrics_listen: /metrics on its own listener only, not on the main port", async () => {
    const gw = await startGateway({ yaml: `telemetry: { metrics_listen: "127.0.0.1:0" }\n` });
    try {
      const port = gw.app.metricsPort;
      expect(port).toBeGreaterThan(0);
      expect(port).not.toBe(gw.port);
      const own = await get(`http://127.0.0.1:${port}/metrics`);
      expect(own.status).toBe(200);
      expect(own.body).toContain("# TYPE");
      expect((await get(`http://127.0.0.1:${port}/v1/models`)).status).toBe(404);
      const main = await get(`${gw.url}/metrics`);
      expect(main.status).toBe(404);
      expect(main.body).not.toContain("# TYPE");
    } finally {
      await gw.close();
    }
  });
});
