// TLS on the one port (server.tls), against a throwaway CA made here with openssl: ALPN h2 and
// http/1.1 for grpc-js, Connect, gRPC-Web, REST and curl; mutual TLS where a verified client
// certificate stands for a gateway key (keys[].client_cert); wrong, missing and revoked refused;
// certificate files re-read on reload.
import { X509Certificate } from "node:crypto";
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import tls from "node:tls";
import { createClient } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminService } from "../../gen/llmgateway/v1/admin_pb.js";
import { newKey } from "../../src/auth/keys.js";
import { loadConfig } from "../../src/config/index.js";
import { implementedTypes, presetInfo } from "../../src/providers/index.js";
import { ROOT } from "../e2e/helpers.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { type Issued, TestPki } from "../helpers/pki.js";
import { chatAs, reasonOf, refusedByTls, TlsClients } from "./tls-clients.js";

const pki = new TestPki();
const ca = pki.ca("ca", "Test CA");
pki.ca("other", "Other CA");
const server1 = pki.server("server1", "ca");
const server2 = pki.server("server2", "ca");
const billing = pki.client("billing", "ca", "billing", ["URI:spiffe://test/billing"]);
const ops = pki.client("ops", "ca", "ops");
const stranger = pki.client("stranger", "ca", "stranger");
// The same names as billing's, from a CA the gateway does not trust.
const rogue = pki.client("rogue", "other", "billing", ["URI:spiffe://test/billing"]);
// The files the gateway reads; the reload test swaps their contents.
const live = { cert: join(pki.dir, "live.crt"), key: join(pki.dir, "live.key") };
copyFileSync(server1.certFile, live.cert);
copyFileSync(server1.keyFile, live.key);

const full = newKey();
const admin = newKey();
const fp = (c: Issued) => new X509Certificate(c.cert).fingerprint256;

function yaml(clientAuth: "optional" | "require"): string {
  return `
server:
  tls: { cert_file: ${live.cert}, key_file: ${live.key}, client_ca_file: ${ca.certFile}, client_auth: ${clientAuth} }
auth: { admin_sha256: ${admin.sha256} }
keys:
  - { name: full, sha256: ${full.sha256}, limits: { rpm: 1000 } }
  - { name: billing, client_cert: "URI:spiffe://test/billing", limits: { rpm: 500 } }
  - { name: ops, client_cert: "CN=ops", limits: { rpm: 300 } }
`;
}

const clients = new TlsClients(ca);
const { transport, curl, handshake } = clients;
afterAll(() => clients.close());

describe("server.tls, client_auth: require", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ yaml: yaml("require") });
  });
  afterAll(async () => {
    clients.close();
    await gw?.close();
  });

  it("serves https with ALPN h2 and http/1.1 on the one port; cleartext is refused", async () => {
    expect(gw.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(await handshake(gw.port, ["h2", "http/1.1"], billing)).toEqual({
      fingerprint: fp(server1),
      alpn: "h2",
    });
    expect((await handshake(gw.port, ["http/1.1"], billing)).alpn).toBe("http/1.1");
    await expect(curl([`http://127.0.0.1:${gw.port}/v1/models`], billing)).rejects.toThrow();
  });

  it("TLS 1.2 clients are served; renegotiation (a way to swap certificates mid-connection) is refused", async () => {
    const s = tls.connect({
      host: "127.0.0.1",
      port: gw.port,
      maxVersion: "TLSv1.2",
      ca: ca.cert,
      cert: billing.cert,
      key: billing.key,
    });
    await new Promise<void>((resolve, reject) => {
      s.once("secureConnect", resolve);
      s.once("error", reject);
    });
    expect(s.getProtocol()).toBe("TLSv1.2");
    const closed = new Promise<void>((resolve) => s.once("close", () => resolve()));
    s.on("error", () => {});
    s.resume(); // read, so the server's close is seen
    s.renegotiate({ rejectUnauthorized: true }, () => {});
    await closed;
    expect(s.destroyed).toBe(true);
  });

  it("a certificate mapped to a key needs no bearer key: Connect (h2, h1.1) and gRPC-Web", async () => {
    for (const kind of ["connect-h2", "connect-h1", "grpc-web"] as const) {
      expect(await chatAs(transport(gw.url, kind, billing)), kind).toBe("500");
      expect(await chatAs(transport(gw.url, kind, ops)), kind).toBe("300");
    }
  });

  it("a bearer key wins over the certificate; a valid certificate that names no key is keyless", async () => {
    const t = transport(gw.url, "connect-h2", billing);
    expect(await chatAs(t, { authorization: `Bearer ${full.key}` })).toBe("1000");
    expect(reasonOf(await chatAs(t, { authorization: "Bearer llmgw-not-a-key" }))).toBe(
      "Unauthenticated API_KEY_INVALID",
    );
    expect(reasonOf(await chatAs(transport(gw.url, "connect-h2", stranger)))).toBe(
      "Unauthenticated API_KEY_INVALID",
    );
    expect(
      await chatAs(transport(gw.url, "connect-h2", stranger), { authorization: `Bearer ${full.key}` }),
    ).toBe("1000");
  });

  it("a missing or untrusted client certificate is refused at the TLS layer, even with a valid bearer key", async () => {
    for (const c of [undefined, rogue]) {
      for (const kind of ["connect-h2", "connect-h1"] as const) {
        const r = await chatAs(transport(gw.url, kind, c), { authorization: `Bearer ${full.key}` });
        // No certificate: the handshake fails with TLS alert 116; an untrusted one: closed right after it.
        expect(refusedByTls(r), `${kind} ${c ? "rogue" : "none"}: ${String(r)}`).toBe(true);
        if (!c) expect(String(r)).toMatch(/certificate required/);
      }
    }
    await expect(curl([`${gw.url}/v1/models`, "-H", `authorization: Bearer ${full.key}`])).rejects.toThrow(
      /curl/,
    );
    await expect(
      curl([`${gw.url}/v1/models`, "-H", `authorization: Bearer ${full.key}`], rogue),
    ).rejects.toThrow(/curl/);
  });

  it("grpc-js over TLS: the mapped certificate is the key; without a certificate, UNAVAILABLE", async () => {
    const def = protoLoader.loadSync("llmgateway/v1/llm.proto", {
      includeDirs: [join(ROOT, "proto")],
      enums: String,
      defaults: true,
      oneofs: true,
    });
    type Res = { provider: string; message: { content: { text?: string }[] } };
    type Client = grpc.Client & {
      Chat(
        r: unknown,
        md: grpc.Metadata,
        o: grpc.CallOptions,
        cb: (e: grpc.ServiceError | null, r?: Res) => void,
      ): void;
    };
    const Ctor = (
      grpc.loadPackageDefinition(def) as unknown as {
        llmgateway: { v1: { LLMService: new (a: string, c: grpc.ChannelCredentials) => Client } };
      }
    ).llmgateway.v1.LLMService;
    const call = (creds: grpc.ChannelCredentials) => {
      const client = new Ctor(`127.0.0.1:${gw.port}`, creds);
      const req = { model: "mock/echo", messages: [{ role: "ROLE_USER", content: [{ text: "grpc tls" }] }] };
      return new Promise<Res | grpc.ServiceError>((resolve) => {
        client.Chat(req, new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (e, r) => {
          client.close();
          resolve(e ?? (r as Res));
        });
      });
    };
    const ok = await call(grpc.credentials.createSsl(ca.cert, billing.key, billing.cert));
    expect(ok).toMatchObject({ provider: "mock", message: { content: [{ text: "echo: grpc tls" }] } });
    const none = await call(grpc.credentials.createSsl(ca.cert));
    expect((none as grpc.ServiceError).code).toBe(grpc.status.UNAVAILABLE);
    const wrong = await call(grpc.credentials.createSsl(ca.cert, rogue.key, rogue.cert));
    expect((wrong as grpc.ServiceError).code).toBe(grpc.status.UNAVAILABLE);
  });

  it("curl: REST over HTTP/2 and HTTP/1.1, Connect JSON and gRPC-Web with the certificate as the key", async () => {
    const body = JSON.stringify({ model: "mock/echo", messages: [{ role: "user", content: "curl" }] });
    for (const v of ["--http2", "--http1.1"]) {
      const r = await curl(
        [v, `${gw.url}/v1/chat/completions`, "-H", "content-type: application/json", "-d", body],
        billing,
      );
      expect(r.status, v).toBe(200);
      expect(r.version, v).toBe(v === "--http2" ? "2" : "1.1");
      expect(JSON.parse(r.body).choices[0].message.content).toBe("echo: curl");
    }
    const connectBody = JSON.stringify({
      model: "mock/echo",
      messages: [{ role: "ROLE_USER", content: [{ text: "cj" }] }],
    });
    const cj = await curl(
      [`${gw.url}/llmgateway.v1.LLMService/Chat`, "-H", "content-type: application/json", "-d", connectBody],
      billing,
    );
    expect(cj.status).toBe(200);
    expect(JSON.parse(cj.body).provider).toBe("mock");
    // gRPC-Web with the JSON codec: one enveloped message (flag 0, 4-byte length).
    const msg = Buffer.from(connectBody);
    const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), msg]);
    frame.writeUInt32BE(msg.length, 1);
    const file = join(pki.dir, "grpc-web.bin");
    writeFileSync(file, frame);
    const gw1 = await curl(
      [
        `${gw.url}/llmgateway.v1.LLMService/Chat`,
        "-H",
        "content-type: application/grpc-web+json",
        "--data-binary",
        `@${file}`,
      ],
      billing,
    );
    expect(gw1.status).toBe(200);
    expect(gw1.body).toContain('"provider":"mock"');
    expect(gw1.body).toMatch(/grpc-status: ?0\r\n/);
  });

  it("a revoked key's certificate is refused (AdminService RevokeKey on a config key)", async () => {
    const t = transport(gw.url, "connect-h1", ops);
    expect(await chatAs(t)).toBe("300");
    const adminClient = createClient(AdminService, transport(gw.url, "connect-h1", billing));
    await adminClient.revokeKey({ name: "ops" }, { headers: { authorization: `Bearer ${admin.key}` } });
    expect(reasonOf(await chatAs(t))).toBe("Unauthenticated API_KEY_INVALID");
    expect(reasonOf(await chatAs(transport(gw.url, "connect-h2", ops)))).toBe(
      "Unauthenticated API_KEY_INVALID",
    );
    expect(await chatAs(t, { authorization: `Bearer ${full.key}` })).toBe("1000");
  });

  it("reload re-reads the certificate files: new connections get the new certificate; unusable files are refused", async () => {
    const reload = () =>
      gw.app.reload(
        loadConfig({
          argv: ["--port", "0", "--config", gw.app.config.configPath],
          env: {},
          presets: presetInfo,
          implementedTypes,
        }),
      );
    copyFileSync(server2.certFile, live.cert);
    copyFileSync(server2.keyFile, live.key);
    expect(reload()).toMatchObject({ ok: true });
    expect((await handshake(gw.port, ["h2"], billing)).fingerprint).toBe(fp(server2));
    expect(await chatAs(transport(gw.url, "connect-h2", billing))).toBe("500");
    // A key that does not match the certificate: the reload is refused, the running certificate stays.
    copyFileSync(server1.keyFile, live.key);
    const bad = reload();
    expect(bad).toMatchObject({ ok: false });
    expect(bad.ok ? "" : bad.error).toMatch(/server\.tls/);
    expect(gw.logs.some((l) => l.includes("config reload rejected") && l.includes("server.tls"))).toBe(true);
    expect((await handshake(gw.port, ["h2"], billing)).fingerprint).toBe(fp(server2));
    copyFileSync(server2.keyFile, live.key);
  });
});

describe("server.tls, client_auth: optional", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ yaml: yaml("optional") });
  });
  afterAll(async () => {
    clients.close();
    await gw?.close();
  });

  it("no certificate: a bearer key is needed; a mapped certificate stands for its key", async () => {
    expect(await chatAs(transport(gw.url, "connect-h2"), { authorization: `Bearer ${full.key}` })).toBe(
      "1000",
    );
    expect(reasonOf(await chatAs(transport(gw.url, "connect-h2")))).toBe("Unauthenticated API_KEY_INVALID");
    expect(await chatAs(transport(gw.url, "connect-h2", billing))).toBe("500");
    const r = await curl([`${gw.url}/v1/models`, "-H", `authorization: Bearer ${full.key}`]);
    expect(r.status).toBe(200);
  });

  it("an untrusted certificate is refused, never taken as keyless, even with a valid bearer key", async () => {
    const r = await chatAs(transport(gw.url, "connect-h1", rogue), { authorization: `Bearer ${full.key}` });
    expect(refusedByTls(r), String(r)).toBe(true);
  });
});
