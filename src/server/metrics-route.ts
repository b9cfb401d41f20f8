// GET /metrics: the Prometheus text exposition of the app's registry (plus the process metrics), on
// the gateway's one port or on a listener of its own (telemetry.metrics_listen), optionally behind
// the admin key (telemetry.metrics_auth: admin). Everything else is left to the other handlers.

import http from "node:http";
import { type AdminGuard, presentedKey } from "../auth/index.js";
import type { Logger } from "../lib/logger.js";
import type { GatewayMetrics } from "../telemetry/index.js";
import type { NodeRequest, NodeResponse } from "./bridge.js";
import { scrapeText, useClusterMetrics } from "./cluster-worker.js";

const PATH = "/metrics";

/** A handler that serves GET / HEAD /metrics and returns true, or returns false for any other request. */
export type MetricsHandler = (req: NodeRequest, res: NodeResponse) => boolean;

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/**
 * The /metrics handler. With `admin` (telemetry.metrics_auth: admin), a scrape must present the
 * admin key (Authorization: Bearer, as Prometheus' `authorization` sends it, or x-api-key); the
 * getter follows config reloads. Anything else gets 401 and no metrics.
 */
export function metricsRoute(metrics: GatewayMetrics, log: Logger, admin?: () => AdminGuard): MetricsHandler {
  // Under --workers N a scrape shows the whole group: the primary aggregates every worker (cluster-worker.ts).
  useClusterMetrics(metrics);
  return (req, res) => {
    const url = req.url ?? "";
    if (!url.startsWith(PATH) || (url.length > PATH.length && url[PATH.length] !== "?")) return false;
    const method = req.method ?? "";
    if (method !== "GET" && method !== "HEAD") return false;
    req.resume();
    if (admin) {
      const key = presentedKey(header(req.headers.authorization), header(req.headers["x-api-key"]));
      if (!admin().matches(key)) {
        const body = "the admin key is required for /metrics (telemetry.metrics_auth: admin)\n";
        res.writeHead(401, {
          "content-type": "text/plain; charset=utf-8",
          "content-length": String(Buffer.byteLength(body)),
          "www-authenticate": 'Bearer realm="metrics"',
          "cache-control": "no-store",
        });
        if (method === "HEAD") res.end();
        else res.end(body);
        return true;
      }
    }
    scrapeText(metrics).then(
      (body) => {
        res.writeHead(200, {
          "content-type": metrics.contentType,
          "content-length": String(Buffer.byteLength(body)),
          "cache-control": "no-store",
        });
        if (method === "HEAD") res.end();
        else res.end(body);
      },
      (e: unknown) => {
        log.error({ err: e instanceof Error ? e.message : String(e) }, "metrics scrape failed");
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end("metrics unavailable\n");
      },
    );
    return true;
  };
}

/** "host:port" (IPv6 in brackets) as listen() arguments; an empty host means every interface. */
export function parseListen(address: string): { host: string | undefined; port: number } {
  const colon = address.lastIndexOf(":");
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  return { host: host === "" ? undefined : host, port: Number(address.slice(colon + 1)) };
}

/** A listener that serves only /metrics (telemetry.metrics_listen). */
export interface MetricsListener {
  port: number;
  close(): void;
}

/** Serves `handler` alone on `address` (HTTP/1.1, as scrapers speak it); any other path gets 404. */
export function listenMetrics(
  address: string,
  handler: MetricsHandler,
  log: Logger,
): Promise<MetricsListener> {
  const { host, port } = parseListen(address);
  const server = http.createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, (req, res) => {
    if (handler(req, res)) return;
    req.resume();
    res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
    res.end("only GET /metrics is served here\n");
  });
  server.keepAliveTimeout = 65_000;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const bound = server.address();
      const actual = typeof bound === "object" && bound ? bound.port : port;
      log.info({ address: `${host ?? "*"}:${actual}` }, "metrics listening");
      resolve({
        port: actual,
        close: () => {
          server.close();
          server.closeAllConnections();
        },
      });
    });
  });
}
