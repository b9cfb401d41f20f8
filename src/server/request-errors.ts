// Errors about the request body itself, shared by the Connect adapter and the unary fast path:
// too large (REQUEST_TOO_LARGE) and undecodable (INVALID_REQUEST naming the offending field).
import type { ConnectError } from "@connectrpc/connect";
import { GatewayError } from "../errors.js";
import { toConnectError } from "./errors.js";

/** RESOURCE_EXHAUSTED / REQUEST_TOO_LARGE, with the limit in ErrorInfo metadata. */
export function tooLarge(size: number, max: number): ConnectError {
  return toConnectError(
    new GatewayError(
      "RESOURCE_EXHAUSTED",
      "REQUEST_TOO_LARGE",
      `request of ${size} bytes exceeds server.max_request_bytes (${max} bytes)`,
      { metadata: { max_request_bytes: String(max) } },
    ),
  );
}

const UNKNOWN_KEY = /key "([^"]+)" is unknown/;
const DECODE_FIELD = /field ([\w.]+):/;
const BAD_VALUE = /from JSON: (".*")$/;

/** Path of the first string value equal to `value` in a JSON tree ("messages[0].role"). */
function findValue(node: unknown, value: string, path: string): string | undefined {
  if (node === value) return path;
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      const p = findValue(node[i], value, `${path}[${i}]`);
      if (p) return p;
    }
  } else if (node !== null && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      const p = findValue(v, value, path ? `${path}.${k}` : k);
      if (p) return p;
    }
  }
  return undefined;
}

/** Which field a decode error is about: the unknown key, or where the offending value sits. */
function decodeErrorField(message: string, request: readonly Uint8Array[]): string {
  const key = UNKNOWN_KEY.exec(message)?.[1] ?? DECODE_FIELD.exec(message)?.[1];
  if (key) return key;
  const bad = BAD_VALUE.exec(message)?.[1];
  if (!bad) return "(body)";
  try {
    const value: unknown = JSON.parse(bad);
    if (typeof value !== "string") return "(body)";
    return findValue(JSON.parse(Buffer.concat(request).toString("utf8")), value, "") ?? "(body)";
  } catch {
    return "(body)";
  }
}

/** INVALID_ARGUMENT / INVALID_REQUEST for a body that does not decode, naming the field. */
export function decodeError(message: string, request: readonly Uint8Array[]): ConnectError {
  return toConnectError(
    new GatewayError("INVALID_ARGUMENT", "INVALID_REQUEST", message, {
      violations: [{ field: decodeErrorField(message, request), description: message }],
    }),
  );
}
