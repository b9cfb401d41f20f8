// The REST door's HTTP plumbing: JSON answers and OpenAI-style error answers (with how many
// upstream attempts the gateway already made). Cancel signals and streamed writes: ../bridge.ts.
import type { GatewayError } from "../../errors.js";
import type { NodeResponse } from "../bridge.js";
import { renderError } from "./errors.js";

/** A whole JSON answer in one write. */
export function sendJson(
  res: NodeResponse,
  status: number,
  body: string,
  headers: Record<string, string>,
): void {
  headers["content-type"] = "application/json";
  headers["content-length"] = String(Buffer.byteLength(body));
  res.writeHead(status, headers);
  res.end(body);
}

/** Upstream attempts behind an error, as the pipeline reports them in ErrorInfo metadata (0: none). */
export function attemptsOf(e: GatewayError): number {
  return Number(e.details.metadata?.["attempts"] ?? 0) || 0;
}

/** Writes an OpenAI-style error answer for a gateway error. */
export function sendError(res: NodeResponse, e: GatewayError, rid: string, attempts: number): void {
  const r = renderError(e, rid, attempts);
  res.writeHead(r.status, r.headers);
  res.end(r.body);
}

/** An error that is about the HTTP route, not a call (unknown path, wrong method). */
export function sendRouteError(res: NodeResponse, status: number, message: string, rid: string): void {
  const code = status === 404 ? "not_found" : "method_not_allowed";
  const body = JSON.stringify({ error: { message, type: "invalid_request_error", param: null, code } });
  sendJson(res, status, body, { "x-request-id": rid });
}
