// One port for HTTP/1.1 and cleartext HTTP/2: a net.Server peeks at the first bytes of each
// connection and hands the socket to the http2 server (the "PRI * HTTP/2.0" preface) or the http1 one.
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import type { Logger } from "../lib/logger.js";
import {
  type ConnEvents,
  type ConnLimits,
  firstBytesTimer,
  guardSession,
  http1Options,
  http2Options,
  refusalLogger,
} from "./conn-guard.js";
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
  /** Client connections open now (any protocol, any state). */
  openConnections(): number;
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

/** The whole client connection preface: the sniffer holds a connection until all of it is in. */
const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/** Where and how to listen. */
export interface ListenOptions {
  host: string;
  port: number;
  /** Timeouts, the connection cap and the HTTP/2 guards (server.* in the config). */
  limits: ConnLimits;
  log?: Logger;
  events?: ConnEvents;
  /** server.tls: every connection is TLS, ALPN picks the protocol (tls.ts); undefined = cleartext. */
  tls?: TlsSettings | undefined;
}

/** Serves `handler` on host:port for both protocols, within `limits`. */
export function listenOnePort(handler: Handler, o: ListenOptions): Promise<OnePort> {
  const { host, port, limits, log } = o;
  const events = o.events ?? {};
  const http1 = http.createServer(http1Options(limits), handler);
  // Node tracks HTTP/1.1 connections for headersTimeout / requestTimeout only from the server's
  // "listening" event on; this server never listens itself (the sniffer hands it sockets).
  http1.emit("listening");
  const h2 = http2.createServer(http2Options(limits), handler);
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (s) => {
    sessions.add(s);
    s.once("close", () => sessions.delete(s));
    guardSession(s, limits, log, events);
  });

  // Throws ConfigError (naming the file) when the certificate files cannot be used.
  const tls =
    o.tls &&
    createTls(o.tls, {
      handshakeTimeoutMs: limits.firstBytesTimeoutMs,
      log,
      secure: (s) => (s.alpnProtocol === "h2" ? h2 : http1).emit("connection", s),
    });

  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.once("error", () => socket.destroy());
    // Applied to the raw socket, so it bounds whatever is layered on it (a TLS handshake included).
    const sniffed = firstBytesTimer(socket, limits.firstBytesTimeoutMs, events);
    if (tls) {
      tls.accept(socket, sniffed);
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
        sniffed();
        socket.unshift(head);
        (isH2 ? h2 : http1).emit("connection", socket);
        return;
      }
    };
    socket.on("readable", onReadable);
  });
  // Past the cap Node closes a new connection at once and emits "drop": log (throttled) and count it.
  server.maxConnections = limits.maxConnections;
  const logRefusal = refusalLogger(log, limits.maxConnections);
  server.on("drop", (d?: net.DropArgument) => {
    events.refused?.();
    logRefusal(d?.remoteAddress);
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
        openConnections: () => sockets.size,
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
          http1.close(); // stops the connection-checking interval started above
          for (const s of sessions) s.destroy();
          for (const s of sockets) s.destroy();
        },
      });
    });
  });
}
