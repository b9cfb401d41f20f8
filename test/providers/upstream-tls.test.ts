// Upstream TLS per provider (providers.<name>.tls / http2) against real TLS servers on loopback with
// a throwaway CA (openssl): HTTP/2 by ALPN, a custom CA, a client certificate the upstream requires,
// server_name, insecure_skip_verify; certificate failures are protocol errors naming the problem.
import { type ChildProcess, spawn } from "node:child_process";
import {
  createSecureServer,
  type Http2SecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from "node:http2";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UpstreamError } from "../../src/errors.js";
import { readText, request } from "../../src/providers/http.js";
import { type TransportSettings, transportNotes, Upstream } from "../../src/providers/upstream.js";
import { listenLocal } from "../helpers/loopback.js";
import { rejection } from "./helpers.js";
import { makeUpstreamPki, type UpstreamPki } from "./upstream-pki.js";

let pki: UpstreamPki;
const servers: { server: Http2SecureServer; sockets: Set<Socket> }[] = [];
const upstreams: Upstream[] = [];
const children: ChildProcess[] = [];

/** Answers every request with what the server saw: HTTP version, ALPN, the client certificate's CN. */
function answer(req: Http2ServerRequest, res: Http2ServerResponse): void {
  const socket = req.socket as unknown as TLSSocket;
  const peer = socket.getPeerCertificate?.();
  res.setHeader("content-type", "application/json");
  res.end(
    JSON.stringify({
      version: req.httpVersion,
      alpn: socket.alpnProtocol,
      client: peer && "subject" in peer ? (peer.subject?.CN ?? null) : null,
    }),
  );
}

async function serve(opts: Parameters<typeof createSecureServer>[0]): Promise<string> {
  const server = createSecureServer({ allowHTTP1: true, ...opts }, answer);
  const sockets = new Set<Socket>();
  server.on("secureConnection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("tlsClientError", () => {}); // a refused handshake is what some tests are about
  servers.push({ server, sockets });
  return `https://127.0.0.1:${await listenLocal(server)}`;
}

let plain = ""; // server cert for 127.0.0.1
let named = ""; // server cert for upstream.test only
let mutual = ""; // requires a client certificate from the CA

beforeAll(async () => {
  pki = makeUpstreamPki();
  plain = await serve({ key: pki.server.key, cert: pki.server.cert });
  named = await serve({ key: pki.named.key, cert: pki.named.cert });
  mutual = await serve({
    key: pki.server.key,
    cert: pki.server.cert,
    ca: pki.ca.cert,
    requestCert: true,
    rejectUnauthorized: true,
  });
}, 30_000);

afterAll(async () => {
  for (const c of children) c.kill();
  await Promise.all(upstreams.map((u) => u.close()));
  for (const { server, sockets } of servers) {
    for (const s of sockets) s.destroy();
    server.close();
  }
});

/** One GET through a fresh transport with `settings`; the parsed JSON answer. */
type Seen = { version: string; alpn: string; client: string | null };

/** One GET through a fresh transport with `settings`; the answer's text. */
async function callText(url: string, settings: TransportSettings): Promise<string> {
  const upstream = new Upstream("tls-test", settings, {});
  upstreams.push(upstream);
  const signal = new AbortController().signal;
  const res = await request({ url: `${url}/v1/x`, headers: {}, signal, provider: "tls-test", upstream });
  return readText(res.body, "tls-test");
}

/** One GET; what the server saw (`answer`). */
async function call(url: string, settings: TransportSettings): Promise<Seen> {
  return JSON.parse(await callText(url, settings)) as Seen;
}

/** `openssl s_server` requiring a client certificate from the CA (-Verify), answering a status page (-www). */
async function opensslServer(): Promise<string> {
  const args = [
    "s_server",
    "-accept",
    "127.0.0.1:0",
    "-cert",
    pki.server.certFile,
    "-key",
    pki.server.keyFile,
  ];
  args.push("-CAfile", pki.ca.certFile, "-Verify", "1", "-www");
  const child = spawn("openssl", args, { stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let out = "";
  for await (const chunk of child.stdout) {
    out += String(chunk);
    const m = /ACCEPT 127\.0\.0\.1:(\d+)/.exec(out);
    if (m) return `https://127.0.0.1:${m[1]}`;
  }
  throw new Error(`openssl s_server did not start: ${out}`);
}

async function failure(url: string, settings: TransportSettings): Promise<UpstreamError> {
  const e = await rejection(call(url, settings));
  expect(e).toBeInstanceOf(UpstreamError);
  return e as UpstreamError;
}

describe("upstream TLS", () => {
  it("http2: true with tls.ca: HTTP/2 by ALPN to a server whose certificate the custom CA signed", async () => {
    const got = await call(plain, { http2: true, tls: { ca: pki.ca.cert } });
    expect(got.version).toBe("2.0");
    expect(got.alpn).toBe("h2");
  });

  it("without http2: HTTP/1.1 to the same server", async () => {
    const got = await call(plain, { tls: { ca: pki.ca.cert } });
    expect(got.version).toBe("1.1");
  });

  it("a certificate no trusted CA signed is a protocol error (no retry) naming the verification failure", async () => {
    const e = await failure(plain, {});
    expect(e.kind).toBe("protocol");
    expect(e.message).toContain("upstream TLS failed (UNABLE_TO_VERIFY_LEAF_SIGNATURE)");
  });

  it("insecure_skip_verify accepts it, and the start log warns loudly", async () => {
    const got = await call(plain, { tls: { insecureSkipVerify: true } });
    expect(got.version).toBe("1.1");
    const notes = transportNotes("lab", { tls: { insecureSkipVerify: true } }, [plain], {});
    expect(notes.warn.join("\n")).toMatch(
      /lab: tls\.insecure_skip_verify is on: upstream certificates are NOT verified/,
    );
  });

  it("server_name: a certificate for another name is refused by address, accepted with the name it carries", async () => {
    const e = await failure(named, { tls: { ca: pki.ca.cert } });
    expect(e.kind).toBe("protocol");
    expect(e.message).toContain("ERR_TLS_CERT_ALTNAME_INVALID");
    const got = await call(named, { http2: true, tls: { ca: pki.ca.cert, serverName: "upstream.test" } });
    expect(got.version).toBe("2.0");
  });

  it("a client certificate the upstream requires: presented with cert_file and key_file; without, the refusal is a protocol error", async () => {
    for (const http2 of [false, true]) {
      const got = await call(mutual, {
        http2,
        tls: { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key },
      });
      expect(got.client).toBe("gateway-client");
      expect(got.version).toBe(http2 ? "2.0" : "1.1");
    }
    // Node's server refuses by closing without an alert; OpenSSL's s_server (as nginx) sends one.
    const strict = await opensslServer();
    const e = await failure(strict, { tls: { ca: pki.ca.cert } });
    expect(e.kind).toBe("protocol");
    expect(e.message).toContain("upstream TLS failed (ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED)");
    const ok = await callText(strict, {
      tls: { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key },
    });
    expect(ok).toContain("Subject: CN=gateway-client");
  });
});
