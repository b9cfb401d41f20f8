// Gateway API keys on every protocol, model allow-lists (fallbacks included), anonymous per-IP
// limits behind trusted proxies, rate-limit headers, concurrency limits, and keys kept out of
// logs and errors. In-memory limits here (no Redis); test/limits covers Redis.
import { createHash } from "node:crypto";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { LLMService } from "../../gen/llmgateway/v1/llm_pb.js";
import { TrustedProxies } from "../../src/auth/ip.js";
import { KeyRing, presentedKey } from "../../src/auth/keys.js";
import { ModelAllowList } from "../../src/auth/models.js";
import { ClientConnections, chatReq, post } from "../e2e/helpers.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { chat } from "../limits/helpers.js";

const KEY = "llmgw-auth-test-key-aaaaaaaaaaaaaaaaaaaa";
const NARROW = "llmgw-auth-test-narrow-bbbbbbbbbbbbbbbb";
const ONE = "llmgw-auth-test-one-cccccccccccccccccccc";
const sha = (k: string) => createHash("sha256").update(k).digest("hex");

describe("units", () => {
  it("keys: found by digest, compared in constant time; Bearer or x-api-key", () => {
    const ring = new KeyRing([{ name: "a", sha256: sha(KEY) }]);
    expect(ring.find(KEY)?.name).toBe("a");
    expect(ring.find(`${KEY}x`)).toBeUndefined();
    expect(presentedKey(`Bearer ${KEY}`, undefined)).toBe(KEY);
    expect(presentedKey(`bearer  ${KEY} `, undefined)).toBe(KEY);
    expect(presentedKey(undefined, KEY)).toBe(KEY);
    expect(presentedKey("Basic abc", undefined)).toBeUndefined();
  });

  it("client IP: the peer, or the X-Forwarded-For hop a trusted proxy added (IPv4 and IPv6)", () => {
    const p = new TrustedProxies(["10.0.0.0/8", "fd00::/8", "192.0.2.7"]);
    expect(p.clientIp("203.0.113.9", "1.2.3.4")).toBe("203.0.113.9"); // untrusted peer: header ignored
    expect(p.clientIp("10.1.2.3", "1.2.3.4")).toBe("1.2.3.4");
    expect(p.clientIp("::ffff:10.1.2.3", "spoofed, 1.2.3.4")).toBe("1.2.3.4"); // only the proxy's hop
    expect(p.clientIp("10.1.2.3", "9.9.9.9, 1.2.3.4, 10.0.0.5")).toBe("1.2.3.4"); // proxy chain
    expect(p.clientIp("fd00::1", "2001:db8::5")).toBe("2001:db8::5");
    expect(p.clientIp("192.0.2.7", "[2001:db8::6]")).toBe("2001:db8::6");
    expect(p.clientIp("2001:db8::1", "1.2.3.4")).toBe("2001:db8::1");
    expect(new TrustedProxies([]).clientIp("10.1.2.3", "1.2.3.4")).toBe("10.1.2.3");
    expect(() => new TrustedProxies(["nope/8"])).toThrow(/trusted_proxies/);
  });

  it("allow-lists: exact names and * patterns", () => {
    const a = new ModelAllowList(["smart", "openai/*"]);
    expect(a.allows("smart")).toBe(true);
    expect(a.allows("openai/gpt-4o")).toBe(true);
    expect(a.allows("anthropic/claude")).toBe(false);
    expect(new ModelAllowList(["*"]).all).toBe(true);
  });
});

describe("gateway keys", () => {
  let gw: TestGateway;
  const conns = new ClientConnections();

  beforeAll(async () => {
    gw = await startGateway({
      yaml: `
models:
  safe: { deployments: [{ target: mock/echo }], fallbacks: [mock/flaky-0] }
keys:
  - { name: full, sha256: ${sha(KEY)}, limits: { rpm: 1000, tpm: 100000 } }
  - { name: narrow, sha256: ${sha(NARROW)}, models: [mock/echo, safe] }
  - { name: one, sha256: ${sha(ONE)}, limits: { concurrent: 1 } }
`,
    });
  });
  afterAll(async () => {
    conns.close();
    await gw?.close();
  });

  it("REST: missing or unknown key -> 401 API_KEY_INVALID; Bearer and x-api-key work; x-ratelimit headers", async () => {
    const body = JSON.stringify({ model: "mock/echo", messages: [{ role: "user", content: "hi" }] });
    const none = await post(gw.url, "/v1/chat/completions", body);
    expect(none.status).toBe(401);
    expect(JSON.parse(none.body).error.code).toBe("api_key_invalid");
    const wrong = await post(gw.url, "/v1/chat/completions", body, {
      "content-type": "application/json",
      authorization: "Bearer llmgw-wrong-key-zzzzzzzz",
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body).not.toContain("llmgw-wrong-key-zzzzzzzz");
    const forms: Record<string, string>[] = [{ authorization: `Bearer ${KEY}` }, { "x-api-key": KEY }];
    for (const h of forms) {
      const ok = await post(gw.url, "/v1/chat/completions", body, {
        "content-type": "application/json",
        ...h,
      });
      expect(ok.status).toBe(200);
      expect(ok.headers["x-ratelimit-limit-requests"]).toBe("1000");
      expect(Number(ok.headers["x-ratelimit-remaining-requests"])).toBeLessThan(1000);
      expect(ok.headers["x-ratelimit-limit-tokens"]).toBe("100000");
      expect(ok.headers["x-ratelimit-reset-requests"]).toMatch(/^\d+(\.\d+)?m?s$/);
    }
    const stream = await post(
      gw.url,
      "/v1/chat/completions",
      JSON.stringify({ model: "mock/echo", stream: true, messages: [{ role: "user", content: "hi" }] }),
      { "content-type": "application/json", "x-api-key": KEY },
    );
    expect(stream.status).toBe(200);
    expect(stream.headers["x-ratelimit-limit-requests"]).toBe("1000");
  });

  it("Connect, gRPC and gRPC-Web: UNAUTHENTICATED without a key; with one, an answer and x-ratelimit headers", async () => {
    const transports = {
      connect: createConnectTransport({ baseUrl: gw.url, httpVersion: "1.1" }),
      grpc: createGrpcTransport({ baseUrl: gw.url, sessionManager: conns.h2(gw.url) }),
      grpcweb: createGrpcWebTransport({ baseUrl: gw.url, httpVersion: "1.1" }),
    };
    for (const [name, t] of Object.entries(transports)) {
      const client = createClient(LLMService, t);
      const err = await client.chat(chatReq("mock/echo", "hi")).then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
      expect(err?.code, name).toBe(Code.Unauthenticated);
      expect(err?.findDetails(ErrorInfoSchema)[0]?.reason, name).toBe("API_KEY_INVALID");
      let headers: Headers | undefined;
      const res = await client.chat(chatReq("mock/echo", "hi"), {
        headers: { authorization: `Bearer ${KEY}` },
        onHeader: (h) => {
          headers = h;
        },
      });
      expect(res.provider, name).toBe("mock");
      expect(headers?.get("x-ratelimit-limit-requests"), name).toBe("1000");
      // Streams too.
      let sh: Headers | undefined;
      const events = [];
      for await (const ev of client.chatStream(chatReq("mock/echo", "hi"), {
        headers: { "x-api-key": KEY },
        onHeader: (h) => {
          sh = h;
        },
      }))
        events.push(ev);
      expect(events.at(-1)?.event.case, name).toBe("end");
      expect(sh?.get("x-ratelimit-remaining-requests"), name).toMatch(/^\d+$/);
    }
  });

  it("allow-list: a model or fallback outside it -> PERMISSION_DENIED / MODEL_NOT_ALLOWED, before any provider call", async () => {
    const h = { authorization: `Bearer ${NARROW}` };
    expect((await chat(gw.url, "mock/echo", h)).status).toBe(200);
    expect((await chat(gw.url, "safe", h)).status).toBe(200); // an allowed alias covers its own fallbacks
    const denied = await chat(gw.url, "mock/slow-10", h);
    expect(denied.code).toBe("permission_denied");
    expect(denied.reason).toBe("MODEL_NOT_ALLOWED");
    const body = JSON.stringify({
      model: "mock/echo",
      fallbackModels: ["mock/error-503"],
      messages: [{ role: "ROLE_USER", content: [{ text: "hi" }] }],
    });
    const r = await post(gw.url, "/llmgateway.v1.LLMService/Chat", body, {
      "content-type": "application/json",
      ...h,
    });
    expect(r.status).toBe(403);
    expect(r.body).toContain("mock/error-503");
    // REST too.
    const rest = await post(
      gw.url,
      "/v1/chat/completions",
      JSON.stringify({ model: "mock/slow-10", messages: [{ role: "user", content: "hi" }] }),
      { "content-type": "application/json", ...h },
    );
    expect(rest.status).toBe(403);
    expect(JSON.parse(rest.body).error.code).toBe("model_not_allowed");
    const lines = gw.logs.filter((l) => l.includes('"reason":"MODEL_NOT_ALLOWED"'));
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toContain('"attempts":0');
  });

  it("allow-list: deployments the plan would add on its own (catalog equivalents) are dropped", () => {
    const g = gw.app.gateway;
    const caller = g.guard.identify({ apiKey: NARROW });
    const plan = g.router.plan("mock/echo");
    const echo = plan.deployments[0];
    if (!echo) throw new Error("no deployment");
    plan.deployments.push({ ...echo, model: "slow-1", target: "mock/slow-1" });
    g.guard.authorize(caller, "mock/echo", [], plan);
    expect(plan.deployments.map((d) => d.target)).toEqual(["mock/echo"]);
  });

  it("concurrency limit -> RESOURCE_EXHAUSTED / CONCURRENCY_LIMITED; the slot is freed after", async () => {
    const h = { "x-api-key": ONE };
    const [a, b] = await Promise.all([chat(gw.url, "mock/slow-300", h), chat(gw.url, "mock/slow-300", h)]);
    const codes = [a?.status, b?.status].sort();
    expect(codes).toEqual([200, 429]);
    const limited = a?.status === 429 ? a : b;
    expect(limited?.reason).toBe("CONCURRENCY_LIMITED");
    expect((await chat(gw.url, "mock/echo", h)).status).toBe(200);
  });

  it("keys never appear in logs", () => {
    const all = gw.logs.join("\n");
    expect(all).toContain('"caller":"full"');
    for (const k of [KEY, NARROW, ONE, "llmgw-wrong-key-zzzzzzzz"]) expect(all).not.toContain(k);
  });
});

describe("anonymous callers, per client IP", () => {
  it("behind a trusted proxy: limits per X-Forwarded-For hop; from anyone else the header is ignored", async () => {
    const yaml = (proxies: string) => `
server: { trusted_proxies: [${proxies}] }
auth: { allow_anonymous: true }
keys: [{ name: k, sha256: ${sha(KEY)} }]
limits: { anonymous: { rpm: 2 } }
`;
    const trusted = await startGateway({ yaml: yaml('"127.0.0.0/8", "::1/128"') });
    try {
      const from = (ip: string) =>
        chat(trusted.url, "mock/echo", { "x-forwarded-for": `198.51.100.1, ${ip}` });
      expect((await from("203.0.113.5")).status).toBe(200);
      expect((await from("203.0.113.5")).status).toBe(200);
      const third = await from("203.0.113.5");
      expect(third.status).toBe(429);
      expect(third.reason).toBe("RATE_LIMITED");
      expect(third.retryMs).toBeGreaterThan(0);
      expect(third.headers["x-ratelimit-limit-requests"]).toBe("2");
      expect((await from("203.0.113.6")).status).toBe(200); // another client, its own bucket
      // A key still works and is not limited by the anonymous bucket.
      expect((await chat(trusted.url, "mock/echo", { "x-api-key": KEY })).status).toBe(200);
      // A wrong key is still refused (anonymous access is for callers without one).
      expect((await chat(trusted.url, "mock/echo", { "x-api-key": "llmgw-nope" })).status).toBe(401);
    } finally {
      await trusted.close();
    }
    const untrusted = await startGateway({ yaml: yaml('"10.0.0.0/8"') });
    try {
      const from = (ip: string) => chat(untrusted.url, "mock/echo", { "x-forwarded-for": ip });
      expect((await from("203.0.113.7")).status).toBe(200);
      expect((await from("203.0.113.8")).status).toBe(200);
      expect((await from("203.0.113.9")).status).toBe(429); // all one peer: 127.0.0.1
    } finally {
      await untrusted.close();
    }
  });

  it("no keys configured: open, warned once at start", async () => {
    const open = await startGateway({ yaml: "models: {}\n" });
    try {
      expect((await chat(open.url, "mock/echo")).status).toBe(200);
      expect(open.logs.filter((l) => l.includes("no gateway keys configured")).length).toBe(1);
    } finally {
      await open.close();
    }
  });
});
