// A throwaway PKI for TLS tests, made with the openssl CLI in a temporary folder: two CAs, server
// certificates for 127.0.0.1 / localhost, and client certificates (P-256 keys, valid two days).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A certificate and its key: file paths and PEM contents. */
export interface Issued {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
}

/** Makes CAs and certificates in one temporary folder. */
export class TestPki {
  readonly dir = mkdtempSync(join(tmpdir(), "llmgw-pki-"));
  private serial = 1;

  private ossl(args: string[]): void {
    execFileSync("openssl", args, { cwd: this.dir, stdio: "pipe" });
  }

  private issued(name: string): Issued {
    const certFile = join(this.dir, `${name}.crt`);
    const keyFile = join(this.dir, `${name}.key`);
    return { certFile, keyFile, cert: readFileSync(certFile), key: readFileSync(keyFile) };
  }

  /** A self-signed CA named `name` (subject CN=`cn`). */
  ca(name: string, cn: string): Issued {
    this.ossl([
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.crt`,
      "-days",
      "2",
      "-subj",
      `/CN=${cn}`,
    ]);
    return this.issued(name);
  }

  /** A leaf certificate signed by CA `ca`, with the given subject and X.509v3 extension lines. */
  leaf(name: string, ca: string, subject: string, ext: string[]): Issued {
    this.ossl([
      "req",
      "-new",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
      "-subj",
      subject,
    ]);
    writeFileSync(join(this.dir, `${name}.ext`), `${["basicConstraints=CA:FALSE", ...ext].join("\n")}\n`);
    this.ossl([
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      `${ca}.crt`,
      "-CAkey",
      `${ca}.key`,
      "-set_serial",
      String(this.serial++),
      "-days",
      "2",
      "-out",
      `${name}.crt`,
      "-extfile",
      `${name}.ext`,
    ]);
    return this.issued(name);
  }

  /** A server certificate for 127.0.0.1 and localhost. */
  server(name: string, ca: string): Issued {
    return this.leaf(name, ca, "/CN=localhost", [
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
      "extendedKeyUsage=serverAuth",
    ]);
  }

  /** A client certificate: subject CN=`cn`, and the subjectAltName entries given ("URI:...", ...). */
  client(name: string, ca: string, cn: string, sans: string[] = []): Issued {
    return this.leaf(name, ca, `/CN=${cn}`, [
      ...(sans.length ? [`subjectAltName=${sans.join(",")}`] : []),
      "extendedKeyUsage=clientAuth",
    ]);
  }
}
