// CORS for browsers (Connect-Web, gRPC-Web): answers preflights and exposes the headers Connect and
// gRPC-Web clients read. Only origins listed in `server.cors_origins` ("*" = any) are allowed.
import type { createConnectHandler } from "./adapter.js";

type NodeHandlerFn = ReturnType<typeof createConnectHandler>;

const ALLOW_HEADERS = [
  "content-type",
  "connect-protocol-version",
  "connect-timeout-ms",
  "connect-accept-encoding",
  "connect-content-encoding",
  "grpc-timeout",
  "x-grpc-web",
  "x-user-agent",
  "x-request-id",
  "authorization",
  "x-api-key",
  "traceparent",
].join(", ");
const EXPOSE_HEADERS = ["grpc-status", "grpc-message", "grpc-status-details-bin", "x-request-id"].join(", ");

/** Wraps a handler with CORS; returns it unchanged when no origin is allowed. */
export function withCors(handler: NodeHandlerFn, origins: readonly string[]): NodeHandlerFn {
  if (origins.length === 0) return handler;
  const any = origins.includes("*");
  const allowed = new Set(origins);
  return (req, res) => {
    const origin = req.headers.origin;
    if (typeof origin === "string" && (any || allowed.has(origin))) {
      res.setHeader("access-control-allow-origin", any ? "*" : origin);
      if (!any) res.setHeader("vary", "origin");
      res.setHeader("access-control-expose-headers", EXPOSE_HEADERS);
      if (req.method === "OPTIONS") {
        res.setHeader("access-control-allow-methods", "POST, GET, OPTIONS");
        res.setHeader("access-control-allow-headers", ALLOW_HEADERS);
        res.setHeader("access-control-max-age", "7200");
        res.writeHead(204);
        res.end();
        return;
      }
    }
    handler(req, res);
  };
}
