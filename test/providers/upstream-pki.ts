// The upstream TLS tests' certificates, from the shared throwaway PKI (test/helpers/pki.ts): a server
// certificate for 127.0.0.1 / localhost, one only for upstream.test, and a client certificate.
import { type Issued, TestPki } from "../helpers/pki.js";

/** A certificate and its key: file paths and PEM text (the provider transport takes strings). */
export interface Pem {
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
}

export interface UpstreamPki {
  dir: string;
  ca: Pem;
  /** SAN DNS:localhost, IP:127.0.0.1. */
  server: Pem;
  /** SAN DNS:upstream.test only: reached by address, it needs tls.server_name. */
  named: Pem;
  /** CN=gateway-client, extendedKeyUsage clientAuth. */
  client: Pem;
}

const pem = (i: Issued): Pem => ({
  certFile: i.certFile,
  keyFile: i.keyFile,
  cert: i.cert.toString("utf8"),
  key: i.key.toString("utf8"),
});

/** Makes the CA and its certificates (P-256 keys, valid two days). */
export function makeUpstreamPki(): UpstreamPki {
  const pki = new TestPki();
  const ca = pki.ca("ca", "llmgw test upstream CA");
  return {
    dir: pki.dir,
    ca: pem(ca),
    server: pem(pki.server("server", "ca")),
    named: pem(
      pki.leaf("named", "ca", "/CN=upstream.test", [
        "subjectAltName=DNS:upstream.test",
        "extendedKeyUsage=serverAuth",
      ]),
    ),
    client: pem(pki.client("client", "ca", "gateway-client")),
  };
}
