// Errors about the request body itself, shared by the Connect adapter and the fast paths: too large
// (REQUEST_TOO_LARGE), undecodable or not valid UTF-8 (INVALID_REQUEST naming the offending field).
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import type { DescMessage } from "@bufbuild/protobuf";
import type { ConnectError } from "@connectrpc/connect";
import { GatewayError } from "../errors.js";
import { toConnectError } from "./errors.js";
import { invalidUtf8, jsonUtf8Error, protoUtf8Field } from "./utf8.js";

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

/** A JSON request body that is not valid UTF-8: INVALID_REQUEST naming the field; undefined if valid. */
export function jsonUtf8ConnectError(bytes: Uint8Array): ConnectError | undefined {
  const e = jsonUtf8Error(bytes);
  return e && toConnectError(e);
}

/**
 * A binary message that does not decode: invalid UTF-8 in a string field is named (protobuf-es
 * refuses it, for proto3 strings, but without saying where); anything else keeps the decoder's text.
 */
export function binaryDecodeError(schema: DescMessage, bytes: Uint8Array, e: unknown): ConnectError {
  const field = protoUtf8Field(schema, bytes);
  if (field) return toConnectError(invalidUtf8(field));
  return decodeError(`cannot decode ${schema.typeName}: ${e instanceof Error ? e.message : String(e)}`, []);
}

/**
 * The strict text decoder for Connect's router (jsonOptions.textDecoder): its default TextDecoder
 * replaces invalid bytes with U+FFFD; this one refuses them naming the field.
 */
export const strictJsonText = {
  decode(data: Uint8Array): string {
    const e = jsonUtf8Error(data);
    if (e) throw toConnectError(e);
    return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("utf8");
  },
};

const ENVELOPED = /^application\/(grpc(-web)?(\+proto)?|connect\+proto)$/i;

/** Inflates with a cap; undefined when it fails or passes `max` (Connect then answers it). */
function inflate(encoding: string, bytes: Uint8Array, max: number): Uint8Array | undefined {
  try {
    if (encoding === "gzip") return gunzipSync(bytes, { maxOutputLength: max });
    if (encoding === "br") return brotliDecompressSync(bytes, { maxOutputLength: max });
  } catch {
    return undefined;
  }
  return undefined;
}

/**
 * For the generic Connect handler (gRPC-Web, compressed gRPC or Connect proto): the request's
 * message checked for invalid UTF-8 in string fields before Connect decodes it — Connect would
 * answer INTERNAL "parse binary" without naming a field. JSON bodies are checked by strictJsonText.
 */
export function binaryUtf8Error(
  schema: DescMessage,
  headers: Readonly<Record<string, string | string[] | undefined>>,
  body: Uint8Array,
  max: number,
): ConnectError | undefined {
  const ct = (String(headers["content-type"] ?? "").split(";")[0] ?? "").trim().toLowerCase();
  let msg: Uint8Array | undefined = body;
  let encoding = "identity";
  if (ct === "application/proto") {
    encoding = String(headers["content-encoding"] ?? "identity");
  } else if (ENVELOPED.test(ct)) {
    if (body.length < 5) return undefined;
    const len = Buffer.from(body.buffer, body.byteOffset, body.byteLength).readUInt32BE(1);
    msg = body.subarray(5, 5 + len);
    if (((body[0] as number) & 1) === 1)
      encoding = String(
        headers[ct.startsWith("application/connect") ? "connect-content-encoding" : "grpc-encoding"],
      );
  } else return undefined;
  if (encoding !== "identity") msg = inflate(encoding, msg, max);
  const field = msg && protoUtf8Field(schema, msg);
  return field ? toConnectError(invalidUtf8(field)) : undefined;
}
