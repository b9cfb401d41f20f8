// Invalid UTF-8 in a request body is refused (INVALID_ARGUMENT / INVALID_REQUEST naming the field),
// never replaced by U+FFFD: one native isUtf8 over a JSON body on the hot path; the field is looked
// for only when a check fails, in JSON text or in the protobuf binary encoding.
import { isUtf8 } from "node:buffer";
import { randomBytes } from "node:crypto";
import { type DescField, type DescMessage, ScalarType } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { type GatewayError, invalid } from "../errors.js";

const DESCRIPTION = "is not valid UTF-8 (invalid bytes are refused, not replaced)";

/** INVALID_ARGUMENT / INVALID_REQUEST for invalid UTF-8 in `field`. */
export function invalidUtf8(field: string): GatewayError {
  return invalid(field, DESCRIPTION);
}

/** Offset of the first byte that does not start a well-formed UTF-8 sequence (RFC 3629), or -1. */
export function firstInvalidUtf8(b: Uint8Array): number {
  const n = b.length;
  let i = 0;
  while (i < n) {
    const c = b[i] as number;
    if (c < 0x80) {
      i++;
      continue;
    }
    const need = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 0;
    if (need === 0 || i + need >= n) return i; // not a lead byte, or the sequence is cut short
    // The second byte's range excludes overlong forms, surrogates and code points past U+10FFFF.
    const lo = c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf;
    const second = b[i + 1] as number;
    if (second < lo || second > hi) return i;
    for (let k = 2; k <= need; k++) {
      const cont = b[i + k] as number;
      if (cont < 0x80 || cont > 0xbf) return i;
    }
    i += need + 1;
  }
  return -1;
}

/** A per-process marker no client can guess, spliced into JSON text where the bad bytes were. */
const MARK = `\u0000llmgw-bad-utf8-${randomBytes(8).toString("hex")}\u0000`;
const MARK_JSON = JSON.stringify(MARK).slice(1, -1);

/** Path ("messages[0].content[0].text") of the first string or key holding `MARK`. */
function findMark(node: unknown, path: string): string | undefined {
  if (typeof node === "string") return node.includes(MARK) ? path || "(body)" : undefined;
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      const p = findMark(node[i], `${path}[${i}]`);
      if (p) return p;
    }
  } else if (node !== null && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      const here = path ? `${path}.${k.replaceAll(MARK, "\uFFFD")}` : k.replaceAll(MARK, "\uFFFD");
      if (k.includes(MARK)) return `${here} (the key)`;
      const p = findMark(v, here);
      if (p) return p;
    }
  }
  return undefined;
}

/**
 * Where in a JSON body the first invalid UTF-8 sits: its bytes are replaced by a marker, the text
 * parsed, and the marker looked for. "(body)" when it is outside any string (then the JSON is
 * invalid anyway) or the body does not parse.
 */
export function jsonUtf8Field(bytes: Uint8Array): string {
  const at = firstInvalidUtf8(bytes);
  if (at < 0) return "(body)";
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = buf.toString("utf8", 0, at) + MARK_JSON + buf.toString("utf8", at + 1);
  try {
    return findMark(JSON.parse(text), "") ?? "(body)";
  } catch {
    return "(body)";
  }
}

/** The error for a JSON body that is not valid UTF-8, or undefined when it is (one native pass). */
export function jsonUtf8Error(bytes: Uint8Array): GatewayError | undefined {
  return isUtf8(bytes) ? undefined : invalidUtf8(jsonUtf8Field(bytes));
}

/** Path of the first string field of `bytes` (a `desc` message) that is not valid UTF-8, if any. */
export function protoUtf8Field(desc: DescMessage, bytes: Uint8Array): string | undefined {
  try {
    return walk(desc, new BinaryReader(bytes), bytes.length, "", 0);
  } catch {
    return undefined; // malformed otherwise: the decoder's own error says how
  }
}

const MAX_DEPTH = 100;

function walk(
  desc: DescMessage,
  r: BinaryReader,
  end: number,
  path: string,
  depth: number,
): string | undefined {
  if (depth > MAX_DEPTH) return undefined;
  const seen = new Map<number, number>();
  while (r.pos < end) {
    const [no, wt] = r.tag();
    const f = desc.fields.find((x) => x.number === no);
    if (!f || wt !== WireType.LengthDelimited) {
      r.skip(wt, no);
      continue;
    }
    let p = path ? `${path}.${f.name}` : f.name;
    if (f.fieldKind === "list") {
      const i = seen.get(no) ?? 0;
      seen.set(no, i + 1);
      p += `[${i}]`;
    }
    const bad = field(f, r.bytes(), p, depth);
    if (bad) return bad;
  }
  return undefined;
}

/** Checks one length-delimited field value. */
function field(f: DescField, v: Uint8Array, p: string, depth: number): string | undefined {
  switch (f.fieldKind) {
    case "scalar":
      return f.scalar === ScalarType.STRING && !isUtf8(v) ? p : undefined;
    case "list":
      if (f.listKind === "message") return walk(f.message, new BinaryReader(v), v.length, p, depth + 1);
      return f.listKind === "scalar" && f.scalar === ScalarType.STRING && !isUtf8(v) ? p : undefined;
    case "message":
      return walk(f.message, new BinaryReader(v), v.length, p, depth + 1);
    case "map":
      return mapEntry(f, v, p, depth);
    default:
      return undefined;
  }
}

/** A map entry: key (field 1) and value (field 2). */
function mapEntry(
  f: DescField & { fieldKind: "map" },
  v: Uint8Array,
  p: string,
  depth: number,
): string | undefined {
  const r = new BinaryReader(v);
  let key = "";
  while (r.pos < v.length) {
    const [no, wt] = r.tag();
    if (wt !== WireType.LengthDelimited) {
      r.skip(wt, no);
      continue;
    }
    const b = r.bytes();
    if (no === 1 && f.mapKey === ScalarType.STRING) {
      if (!isUtf8(b)) return `${p} (a key)`;
      key = Buffer.from(b).toString("utf8");
    } else if (no === 2) {
      const at = `${p}[${JSON.stringify(key)}]`;
      if (f.mapKind === "message") {
        const bad = walk(f.message, new BinaryReader(b), b.length, at, depth + 1);
        if (bad) return bad;
      } else if (f.mapKind === "scalar" && f.scalar === ScalarType.STRING && !isUtf8(b)) return at;
    }
  }
  return undefined;
}
