// Real clients over TLS for the server.tls tests: Connect (HTTP/2, HTTP/1.1) and gRPC-Web
// transports, curl, and a bare handshake; each trusts the test CA and presents a client certificate
// when given one.
import { execFile } from "node:child_process";
import https from "node:https";
import tls from "node:tls";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcWebTransport,
  Http2SessionManager,
} from "@connectrpc/connect-node";
import { expect } from "vitest";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { LLMService } from "../../gen/llmgateway/v1/llm_pb.js";
import { chatReq, textOf } from "../e2e/helpers.js";
import type { Issued } from "../helpers/pki.js";

/** Clients trusting `ca`; close() ends their connections. */
export class TlsClients {
  private readonly closers: (() => void)[] = [];

  constructor(private readonly ca: Issued) {}

  /** TLS client options: trust the CA, and present `c` when given. */
  private opts(c?: Issued) {
    return { ca: this.ca.cert, ...(c ? { cert: c.cert, key: c.key } : {}) };
  }

  /** A Connect (HTTP/2 or HTTP/1.1) or gRPC-Web transport over TLS presenting `c`. */
  transport = (url: string, kind: "connect-h2" | "connect-h1" | "grpc-web", c?: Issued): Transport => {
    if (kind === "connect-h2") {
      const sessionManager = new Http2SessionManager(url, undefined, this.opts(c));
      this.closers.push(() => sessionManager.abort());
      return createConnectTransport({ baseUrl: url, httpVersion: "2", sessionManager });
    }
    const agent = new https.Agent({ keepAlive: true, ...this.opts(c) });
    this.closers.push(() => agent.destroy());
    const make = kind === "connect-h1" ? createConnectTransport : createGrpcWebTransport;
    return make({ baseUrl: url, httpVersion: "1.1", nodeOptions: { agent } });
  };

  /** curl over TLS: status, HTTP version and body; rejects when curl fails (no TLS session, ...). */
  curl = (args: string[], c?: Issued): Promise<{ status: number; version: string; body: string }> => {
    const cert = c ? ["--cert", c.certFile, "--key", c.keyFile] : [];
    const common = [
      "-sS",
      "--max-time",
      "10",
      "--cacert",
      this.ca.certFile,
      "-w",
      "\n%{http_code} %{http_version}",
    ];
    return new Promise((resolve, reject) => {
      execFile("curl", [...common, ...cert, ...args], (err, stdout, stderr) => {
        if (err) return reject(new Error(`curl failed: ${stderr || err.message}`));
        const nl = stdout.lastIndexOf("\n");
        const [status, version] = stdout.slice(nl + 1).split(" ");
        resolve({ status: Number(status), version: version ?? "", body: stdout.slice(0, nl) });
      });
    });
  };

  /** A TLS handshake alone: the served certificate's fingerprint and the protocol ALPN picked. */
  handshake = (port: number, alpn: string[], c?: Issued): Promise<{ fingerprint: string; alpn: string }> =>
    new Promise((resolve, reject) => {
      const s = tls.connect({ host: "127.0.0.1", port, ALPNProtocols: alpn, ...this.opts(c) }, () => {
        const r = {
          fingerprint: s.getPeerX509Certificate()?.fingerprint256 ?? "",
          alpn: String(s.alpnProtocol),
        };
        s.destroy();
        resolve(r);
      });
      s.once("error", reject);
    });

  close(): void {
    for (const c of this.closers.splice(0)) c();
  }
}

/** The Chat answer's rate-limit header (which key served the call), or the ConnectError. */
export async function chatAs(
  t: Transport,
  headers: Record<string, string> = {},
): Promise<string | ConnectError> {
  let limit = "";
  try {
    const res = await createClient(LLMService, t).chat(chatReq("mock/echo", "over tls"), {
      headers,
      timeoutMs: 10_000,
      onHeader: (h) => {
        limit = h.get("x-ratelimit-limit-requests") ?? "";
      },
    });
    expect(textOf(res.message?.content)).toBe("echo: over tls");
    return limit;
  } catch (e: unknown) {
    return ConnectError.from(e);
  }
}

/** "<Code> <ErrorInfo reason>" of a failed call (or the header value of one that succeeded). */
export const reasonOf = (e: string | ConnectError): string =>
  e instanceof ConnectError ? `${Code[e.code]} ${e.findDetails(ErrorInfoSchema)[0]?.reason ?? ""}` : e;

/**
 * The call never reached the gateway's handlers: a transport failure (TLS alert, connection closed
 * after the handshake), not an answer — every refusal the gateway itself sends carries an ErrorInfo.
 */
export function refusedByTls(r: string | ConnectError): boolean {
  return (
    r instanceof ConnectError &&
    r.findDetails(ErrorInfoSchema).length === 0 &&
    /certificate required|socket hang up|ECONNRESET|code CANCEL/.test(r.message)
  );
}
