// A throwaway CA for the upstream TLS tests, made with the openssl CLI in a temporary folder: a
// server certificate for 127.0.0.1 / localhost, one only for upstream.test, and a client certificate.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A certificate and its key: file paths and PEM text. */
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

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

/** Makes the CA and its certificates (P-256 keys, valid two days). */
export function makeUpstreamPki(): UpstreamPki {
  const dir = mkdtempSync(join(tmpdir(), "llmgw-upstream-pki-"));
  const ossl = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  const pem = (name: string): Pem => {
    const certFile = join(dir, `${name}.crt`);
    const keyFile = join(dir, `${name}.key`);
    return { certFile, keyFile, cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8") };
  };
  ossl([
    "req",
    "-x509",
    ...EC,
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
    "-days",
    "2",
    "-subj",
    "/CN=llmgw test upstream CA",
  ]);
  let serial = 1;
  const leaf = (name: string, subject: string, ext: string[]): Pem => {
    ossl(["req", "-new", ...EC, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subject]);
    writeFileSync(join(dir, `${name}.ext`), `${["basicConstraints=CA:FALSE", ...ext].join("\n")}\n`);
    ossl([
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-set_serial",
      String(serial++),
      "-days",
      "2",
      "-extfile",
      `${name}.ext`,
      "-out",
      `${name}.crt`,
    ]);
    return pem(name);
  };
  return {
    dir,
    ca: pem("ca"),
    server: leaf("server", "/CN=localhost", [
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
      "extendedKeyUsage=serverAuth",
    ]),
    named: leaf("named", "/CN=upstream.test", [
      "subjectAltName=DNS:upstream.test",
      "extendedKeyUsage=serverAuth",
    ]),
    client: leaf("client", "/CN=gateway-client", ["extendedKeyUsage=clientAuth"]),
  };
}
