// TLS on the one port (server.tls): a tls.Server that never listens terminates each connection the
// port accepts, offers h2 and http/1.1 by ALPN, checks client certificates (mutual TLS) and names
// them for the call guard; the certificate files are re-read on a config reload (SIGHUP).
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import type net from "node:net";
import tls from "node:tls";
import { createContextKey } from "@connectrpc/connect";
import { ConfigError, type GatewayConfig } from "../config/index.js";
import type { Logger } from "../lib/logger.js";

/** server.tls as loaded (config/types.ts TlsSettings). */
export type TlsSettings = NonNullable<GatewayConfig["server"]["tls"]>;

/** The verified client certificate's names on a call (Connect handlers read it from context values). */
export const CLIENT_CERT = createContextKey<readonly string[] | undefined>(undefined);

/** Where a TLS socket keeps its verified certificate's names (set once, after the handshake). */
const NAMES = Symbol("llmgw.clientCertNames");
type Named = { [NAMES]?: readonly string[] };

/**
 * The names of the verified client certificate a request came with ("CN=...", "DNS:...", "URI:...",
 * "email:...", "IP:..."), or undefined (cleartext, no certificate, or client_auth: none). On HTTP/2
 * `req.socket` is a proxy that reads through to the session's TLS socket.
 */
export function clientCertNames(req: { readonly socket: net.Socket | null }): readonly string[] | undefined {
  return (req.socket as (net.Socket & Named) | null)?.[NAMES];
}

/** Terminates TLS for the one port. */
export interface TlsTerminator {
  /**
   * Takes a freshly accepted connection; `ready` is called (the first-bytes timer stopped) and
   * `secure` (see createTls) gets its TLS socket once the handshake and client-certificate check passed.
   */
  accept(raw: net.Socket, ready: () => void): void;
  /**
   * Reads the certificate, key and client CA files of `next` (paths may have changed) and returns
   * what puts them in force for the connections that follow. Throws, naming the file, when they
   * cannot be used (nothing changes then). client_auth itself is fixed at start.
   */
  prepare(next: TlsSettings): () => void;
  /** SHA-256 fingerprint of the server certificate in use (for the reload log line). */
  readonly fingerprint: string;
}

/** What createTls needs besides the settings. */
export interface TlsOptions {
  /** A handshake silent this long is dropped (the caller's first-bytes timer bounds it as a whole). */
  handshakeTimeoutMs: number;
  log?: Logger | undefined;
  /** Gets each connection whose handshake (and client-certificate check) passed; route by `alpnProtocol`. */
  secure(socket: tls.TLSSocket): void;
}

/** Reads the PEM files of `s` and checks that they make a usable context; errors name the setting. */
function material(s: TlsSettings): tls.SecureContextOptions {
  const read = (field: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (e: unknown) {
      throw new ConfigError(
        `server.tls.${field}: cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  };
  const opts: tls.SecureContextOptions = {
    cert: read("cert_file", s.certFile),
    key: read("key_file", s.keyFile),
    ...(s.clientCaFile !== undefined ? { ca: read("client_ca_file", s.clientCaFile) } : {}),
  };
  try {
    tls.createSecureContext(opts);
  } catch (e: unknown) {
    // OpenSSL's reason ("key values mismatch", "no start line"); never the key's bytes.
    const why = e instanceof Error ? e.message : String(e);
    throw new ConfigError(
      `server.tls: ${s.certFile} with ${s.keyFile}${s.clientCaFile ? ` and ${s.clientCaFile}` : ""}: ${why}`,
    );
  }
  return opts;
}

function fingerprintOf(opts: tls.SecureContextOptions): string {
  const pem = opts.cert;
  if (!pem || Array.isArray(pem)) return "";
  try {
    return new X509Certificate(pem).fingerprint256;
  } catch {
    return "";
  }
}

/** Builds the terminator; throws (naming the file) when the files cannot be used. */
export function createTls(settings: TlsSettings, o: TlsOptions): TlsTerminator {
  const auth = settings.clientAuth;
  let opts = material(settings);
  const server = tls.createServer({
    ...opts,
    ALPNProtocols: ["h2", "http/1.1"],
    // optional: asked for and verified when sent; require: the handshake fails without one.
    requestCert: auth !== "none",
    rejectUnauthorized: auth === "require",
    handshakeTimeout: o.handshakeTimeoutMs,
  });
  // Connections in their handshake, by remote address and port (unique among open connections).
  const handshaking = new Map<string, () => void>();
  const idOf = (s: net.Socket) => `${s.remoteAddress}|${s.remotePort}`;
  server.on("secureConnection", (s: tls.TLSSocket) => {
    const id = idOf(s);
    handshaking.get(id)?.();
    handshaking.delete(id);
    // The names below are read once: no TLS 1.2 renegotiation may swap the certificate afterwards.
    s.disableRenegotiation();
    if (auth !== "none") {
      if (s.authorized) (s as tls.TLSSocket & Named)[NAMES] = certNames(s.getPeerCertificate());
      else if (s.getPeerX509Certificate() !== undefined) {
        // client_auth: optional, and a certificate the CA does not vouch for: refused, never anonymous.
        o.log?.debug(
          { reason: s.authorizationError, peer: s.remoteAddress },
          "TLS client certificate refused",
        );
        s.destroy();
        return;
      }
    }
    o.secure(s);
  });
  server.on("tlsClientError", (err: Error & { code?: string }, s: tls.TLSSocket) => {
    o.log?.debug({ err: err.message, code: err.code, peer: s.remoteAddress }, "TLS handshake failed");
    s.destroy();
  });
  let fingerprint = fingerprintOf(opts);
  return {
    accept: (raw, ready) => {
      if (raw.remoteAddress !== undefined) {
        const id = idOf(raw);
        handshaking.set(id, ready);
        raw.once("close", () => handshaking.delete(id));
      }
      server.emit("connection", raw);
    },
    prepare: (next) => {
      const fresh = material(next);
      return () => {
        server.setSecureContext(fresh);
        opts = fresh;
        fingerprint = fingerprintOf(opts);
      };
    },
    get fingerprint() {
      return fingerprint;
    },
  };
}

/**
 * A certificate's names the guard matches keys[].client_cert against: "CN=" + each subject common
 * name, then each subjectAltName entry as "DNS:", "URI:", "email:" or "IP:" + its value.
 */
export function certNames(cert: tls.PeerCertificate): string[] {
  const out: string[] = [];
  const cn: unknown = cert.subject?.CN;
  for (const v of Array.isArray(cn) ? cn : [cn]) if (typeof v === "string" && v) out.push(`CN=${v}`);
  out.push(...sanNames(cert.subjectaltname));
  return out;
}

/**
 * Splits Node's subjectaltname text ("DNS:a, IP Address:10.0.0.1, URI:spiffe://x"). A value with a
 * separator or other unsafe character in it is written as a JSON string (DNS:"a, b").
 */
export function sanNames(san: string | undefined): string[] {
  const out: string[] = [];
  if (!san) return out;
  let i = 0;
  while (i < san.length) {
    const colon = san.indexOf(":", i);
    if (colon < 0) break;
    const type = san.slice(i, colon);
    let value: string;
    let end: number;
    if (san[colon + 1] === '"') {
      let j = colon + 2;
      while (j < san.length && san[j] !== '"') j += san[j] === "\\" ? 2 : 1;
      try {
        value = JSON.parse(san.slice(colon + 1, j + 1)) as string;
      } catch {
        break;
      }
      end = j + 1;
    } else {
      const sep = san.indexOf(", ", colon + 1);
      end = sep < 0 ? san.length : sep;
      value = san.slice(colon + 1, end);
    }
    const t = type === "IP Address" ? "IP" : type;
    if (t === "DNS" || t === "URI" || t === "email" || t === "IP") out.push(`${t}:${value}`);
    i = end + 2;
  }
  return out;
}
