// One port for HTTP/1.1 and cleartext HTTP/2: a net.Server peeks at the first bytes of each
// connection and hands the socket to the http2 server (the "PRI * HTTP/2.0" preface) or the http1 one.
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import type { Logger } from "../lib/logger.js";
import { createTls, type TlsSettings, type TlsTerminator } from "./tls.js";

type Handler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

/** The listening servers and what closing them takes. */
export interface OnePort {
  server: net.Server;
  http1: http.Server;
  http2: http2.Http2Server;
  /** The bound port (useful with port 0). */
  port(): number;
  /** TLS termination (server.tls), for certificate reloads; undefined on cleartext. */
  tls: TlsTerminator | undefined;
  /**
   * Closes connections as they go quiet: GOAWAY on every HTTP/2 session (open streams finish),
   * idle HTTP/1.1 keep-alive sockets closed (re-checked until none is left). Resolves when every
   * connection is closed.
   */
  closeGracefully(): Promise<void>;
  /** Destroys every open connection and session. */
  destroyAll(): void;
}

const PREFACE = Buffer.from("PRI * HTTP/2.0");

/**
 * Serves `handler` on host:port for both protocols; with `tlsSettings` (server.tls) every connection
 * is TLS and ALPN picks the protocol (tls.ts). Throws ConfigError when the certificate files cannot be used.
 */
export function listenOnePort(
  handler: Handler,
  host: string,
  port: number,
  tlsSettings?: TlsSettings,
  log?: Logger,
): Promise<OnePort> {
  const http1 = http.createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, handler);
  const h2 = http2.createServer({ settings: { maxConcurrentStreams: 1000 } }, handler);
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (s) => {
    sessions.add(s);
    s.once("close", () => sessions.delete(s));
  });

  const tls =
    tlsSettings &&
    createTls(tlsSettings, {
      handshakeTimeoutMs: 10_000,
      log,
      secure: (s) => (s.alpnProtocol === "h2" ? h2 : http1).emit("connection", s),
    });

  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.once("error", () => socket.destroy());
    if (tls) {
      tls.accept(socket, () => {});
      return;
    }
    // Read the first bytes (a short preface may arrive in pieces), then hand the socket over.
    let head: Buffer = Buffer.alloc(0);
    const onReadable = () => {
      for (;;) {
        const chunk: Buffer | null = socket.read();
        if (chunk === null) return; // wait for more
        head = head.length ? Buffer.concat([head, chunk]) : chunk;
        const n = Math.min(head.length, PREFACE.length);
        const isH2 = head.subarray(0, n).equals(PREFACE.subarray(0, n));
        if (isH2 && head.length < PREFACE.length) continue; // undecided: keep reading
        // Paused mode (no 'data' listener): put the bytes back for whichever server takes the socket.
        socket.off("readable", onReadable);
        socket.unshift(head);
        (isH2 ? h2 : http1).emit("connection", socket);
        return;
      }
    };
    socket.on("readable", onReadable);
  });

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve({
        server,
        http1,
        http2: h2,
        port: () => (server.address() as net.AddressInfo).port,
        tls,
        closeGracefully: () =>
          new Promise<void>((done) => {
            for (const s of sessions) s.close();
            const check = () => {
              http1.closeIdleConnections();
              if (sockets.size === 0) {
                clearInterval(timer);
                done();
              }
            };
            const timer = setInterval(check, 20);
            check();
          }),
        destroyAll: () => {
          for (const s of sessions) s.destroy();
          for (const s of sockets) s.destroy();
        },
      });
    });
  });
}
