// The REST door's HTTP plumbing: JSON request bodies, JSON answers and OpenAI-style error answers
// (with how many upstream attempts the gateway already made). Cancel signals and streamed writes:
// ../bridge.ts.
import { GatewayError } from "../../errors.js";
import { type NodeRequest, type NodeResponse, readBody } from "../bridge.js";
import { jsonUtf8Error } from "../utf8.js";
import { asGatewayError, renderError } from "./errors.js";
import { type Obj, parseBody } from "./parse.js";

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

/**
 * The request body as a JSON object, or false once `fail` was handed the error to answer (too large,
 * invalid UTF-8, not a JSON object); nothing is answered to a client that left mid-body.
 */
export async function readJsonBody(
  req: NodeRequest,
  max: number,
  fail: (e: GatewayError) => void,
): Promise<Obj | false> {
  const r = await readBody(req, max);
  if (!r.ok) {
    if (!r.aborted) {
      const e = new GatewayError(
        "RESOURCE_EXHAUSTED",
        "REQUEST_TOO_LARGE",
        `request of ${r.size} bytes exceeds server.max_request_bytes (${max} bytes)`,
        { metadata: { max_request_bytes: String(max) } },
      );
      fail(e);
    }
    return false;
  }
  try {
    // Invalid UTF-8 is refused naming the field (one native check), never replaced by U+FFFD.
    const bad = jsonUtf8Error(r.bytes);
    if (bad) throw bad;
    return parseBody(r.bytes);
  } catch (e: unknown) {
    fail(asGatewayError(e));
    return false;
  }
}
