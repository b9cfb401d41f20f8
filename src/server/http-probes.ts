// Liveness and readiness over plain HTTP for load balancers and orchestrators that do not speak
// gRPC: GET /healthz (liveness: 200 while the process serves, drain included) and GET /readyz
// (readiness: 200 when it can answer calls, else 503 with the reason). Open without a key, like
// grpc.health.v1: they reveal nothing but up / not ready and why.
import type { NodeRequest, NodeResponse } from "./bridge.js";
import type { ProbeHealth } from "./probes.js";

function send(res: NodeResponse, status: number, body: Record<string, unknown>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  res.end(text);
}

/** Answers /healthz and /readyz; false for any other request (the caller serves it). */
export function httpProbe(health: ProbeHealth): (req: NodeRequest, res: NodeResponse) => boolean {
  return (req, res) => {
    const url = req.url ?? "";
    const path = url.indexOf("?") < 0 ? url : url.slice(0, url.indexOf("?"));
    if (path !== "/healthz" && path !== "/readyz") return false;
    req.resume();
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      send(res, 405, { status: "error", detail: `${req.method} is not allowed on ${path}; use GET` });
      return true;
    }
    if (path === "/healthz") {
      send(res, 200, { status: "SERVING" });
      return true;
    }
    const r = health.readiness();
    if (r.ready) send(res, 200, { status: "SERVING" });
    else send(res, 503, { status: "NOT_SERVING", detail: r.detail });
    return true;
  };
}
