// What one client connection may hold on the one port (server.* limits): the sniffer's first-bytes
// timer, the HTTP/1.1 server's timeouts, and each HTTP/2 session's handshake, idle and flood guards.
import type http from "node:http";
import http2 from "node:http2";
import type net from "node:net";
import type { GatewayConfig } from "../config/index.js";
import type { Logger } from "../lib/logger.js";

/** server.* connection limits (config/types.ts ConnLimits). */
export type ConnLimits = GatewayConfig["server"]["conn"];

/** Why the door closed a connection (label of llmgw_connections_closed_total). */
export type CloseReason =
  | "first_bytes_timeout"
  | "http2_handshake_timeout"
  | "http2_idle_timeout"
  | "http2_flood";

/** What the door reports (metrics); every hook is optional. */
export interface ConnEvents {
  /** A connection refused because server.max_connections were open. */
  refused?(): void;
  /** A connection the door closed itself. */
  closed?(reason: CloseReason): void;
}

/**
 * HTTP/1.1 server options. Node checks headersTimeout / requestTimeout on an interval (30 s by
 * default, far coarser than a short timeout): check four times per headers timeout, at most each second.
 */
export function http1Options(l: ConnLimits): http.ServerOptions {
  return {
    keepAliveTimeout: l.keepAliveTimeoutMs,
    headersTimeout: l.headersTimeoutMs,
    requestTimeout: l.requestTimeoutMs,
    connectionsCheckingInterval: Math.max(25, Math.min(1000, Math.floor(l.headersTimeoutMs / 4))),
  };
}

/** HTTP/2 server options: the advertised stream limit; nghttp2's own floods caps stay at Node's defaults. */
export function http2Options(l: ConnLimits): http2.ServerOptions {
  return { settings: { maxConcurrentStreams: l.http2MaxConcurrentStreams } };
}

/**
 * Destroys `socket` unless `done` is called within `ms` (the sniffer: a connection that never sends
 * its first bytes, or the full HTTP/2 preface, holds nothing for long). Returns `done`.
 */
export function firstBytesTimer(socket: net.Socket, ms: number, events: ConnEvents): () => void {
  const t = setTimeout(() => {
    events.closed?.("first_bytes_timeout");
    socket.destroy();
  }, ms);
  const done = () => clearTimeout(t);
  socket.once("close", done);
  return done;
}

/**
 * Guards one HTTP/2 session: destroyed when the client's first SETTINGS frame is not in within
 * headers_timeout_ms; closed (GOAWAY) after http2_idle_timeout_ms with no open stream (a stream that
 * is open, producing data or waiting on a provider, is never idle); and GOAWAY ENHANCE_YOUR_CALM when
 * the client sends more PING + SETTINGS frames than http2_max_control_frames_per_s in one second.
 */
export function guardSession(
  session: http2.ServerHttp2Session,
  l: ConnLimits,
  log: Logger | undefined,
  events: ConnEvents,
): void {
  const timers: { handshake?: NodeJS.Timeout; idle?: NodeJS.Timeout } = {};
  let settled = false;
  timers.handshake = setTimeout(() => {
    events.closed?.("http2_handshake_timeout");
    session.destroy();
  }, l.headersTimeoutMs);

  let open = 0;
  const armIdle = () => {
    timers.idle = setTimeout(() => {
      if (open > 0 || session.closed || session.destroyed) return;
      events.closed?.("http2_idle_timeout");
      session.close();
    }, l.http2IdleTimeoutMs);
  };
  session.on("stream", (stream) => {
    if (open++ === 0) clearTimeout(timers.idle);
    stream.once("close", () => {
      if (--open === 0 && !session.closed && !session.destroyed) armIdle();
    });
  });
  armIdle();

  // Control frames in the current one-second window; over the limit the session goes.
  let windowStart = Date.now();
  let frames = 0;
  const count = () => {
    const now = Date.now();
    if (now - windowStart >= 1000) {
      windowStart = now;
      frames = 0;
    }
    if (++frames <= l.http2MaxControlFramesPerS || session.destroyed) return;
    events.closed?.("http2_flood");
    log?.warn(
      { remote: session.socket?.remoteAddress, limit_per_s: l.http2MaxControlFramesPerS },
      "HTTP/2 PING/SETTINGS flood: session closed (server.http2_max_control_frames_per_s)",
    );
    // With an error, or Node's default parameter turns the code into NO_ERROR (the server emits
    // "sessionError" for it; nothing else listens).
    session.destroy(new Error("HTTP/2 control frame flood"), http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
  };
  session.on("ping", count);
  session.on("remoteSettings", () => {
    if (!settled) {
      settled = true;
      clearTimeout(timers.handshake);
    }
    count();
  });
  session.once("close", () => {
    clearTimeout(timers.handshake);
    clearTimeout(timers.idle);
  });
}

/**
 * Refusal log lines, at most one per `everyMs` (a flood of refused connections must not flood the
 * log): the first refusal is logged at once, later ones are summed into the next line.
 */
export function refusalLogger(
  log: Logger | undefined,
  max: number,
  everyMs = 10_000,
): (remote?: string) => void {
  let last = 0;
  let unlogged = 0;
  return (remote) => {
    unlogged++;
    const now = Date.now();
    if (now - last < everyMs) return;
    last = now;
    log?.warn(
      { max_connections: max, refused: unlogged, remote },
      "connection refused: server.max_connections open connections",
    );
    unlogged = 0;
  };
}
