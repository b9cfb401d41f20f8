// GET /metrics on the gateway's one port: the Prometheus text exposition of the app's registry
// (plus the process metrics). Everything else is left to the other handlers.

import type { Logger } from "../lib/logger.js";
import type { GatewayMetrics } from "../telemetry/index.js";
import type { NodeRequest, NodeResponse } from "./bridge.js";

const PATH = "/metrics";

/** A handler that serves GET / HEAD /metrics and returns true, or returns false for any other request. */
export function metricsRoute(
  metrics: GatewayMetrics,
  log: Logger,
): (req: NodeRequest, res: NodeResponse) => boolean {
  return (req, res) => {
    const url = req.url ?? "";
    if (!url.startsWith(PATH) || (url.length > PATH.length && url[PATH.length] !== "?")) return false;
    const method = req.method ?? "";
    if (method !== "GET" && method !== "HEAD") return false;
    req.resume();
    metrics.text().then(
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
