// protobuf-es's `create`, compiled once per message type. Its reflection walk (members, presence,
// wrapper and Struct checks, dynamic property stores) costs a few microseconds per message, and a
// call builds a dozen messages; this builds the same object with a literal and straight-line
// field copies. Same semantics, same key order, same zero values (test/lib/create.test.ts compares
// the two on every message type of the contract). Only proto3 messages outside
// google.protobuf are compiled; anything else is protobuf-es's `create` itself.
import {
  type DescField,
  type DescMessage,
  type MessageInitShape,
  type MessageShape,
  create as reflectCreate,
} from "@bufbuild/protobuf";
import { isWrapperDesc } from "@bufbuild/protobuf/wkt";
import { isObject } from "./object.js";

const PROTO3 = 999;

type Make = (init?: unknown) => unknown;

const compiled = new WeakMap<DescMessage, Make>();

/** Creates a message of `schema` from `init` exactly as protobuf-es's `create` does. */
export function create<D extends DescMessage>(schema: D, init?: MessageInitShape<D>): MessageShape<D> {
  let make = compiled.get(schema);
  if (make === undefined) {
    make = compile(schema);
    compiled.set(schema, make);
  }
  return make(init) as MessageShape<D>;
}

function toBytes(v: unknown): unknown {
  return Array.isArray(v) ? new Uint8Array(v as number[]) : v;
}

function mapValues(v: Record<string, unknown>, fn: (x: unknown) => unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) out[k] = fn(v[k]);
  return out;
}

/** protobuf-es's toMessage for a message-typed list item, map value or oneof member. */
function messageOf(desc: DescMessage, parent: DescMessage): (v: unknown) => unknown {
  const struct = desc.typeName === "google.protobuf.Struct" && parent.typeName !== "google.protobuf.Value";
  return (v) => {
    if (!isObject(v)) return v;
    if (struct) return v;
    return v.$typeName === desc.typeName ? v : create(desc, v as MessageInitShape<DescMessage>);
  };
}

/** How one field's init value becomes the stored value; undefined = stored as is. */
function converter(f: DescField): ((v: unknown) => unknown) | undefined {
  switch (f.fieldKind) {
    case "scalar":
      return f.scalar === 12 /* BYTES */ ? toBytes : undefined;
    case "enum":
      return undefined;
    case "message": {
      if (!f.oneof && isWrapperDesc(f.message)) {
        const inner = f.message.fields[0] as DescField;
        return inner.fieldKind === "scalar" && inner.scalar === 12 ? toBytes : undefined;
      }
      return messageOf(f.message, f.parent);
    }
    case "list": {
      if (f.listKind === "message") {
        const item = messageOf(f.message, f.parent);
        return (v) => (Array.isArray(v) ? v.map(item) : v);
      }
      if (f.listKind === "scalar" && f.scalar === 12) return (v) => (Array.isArray(v) ? v.map(toBytes) : v);
      return undefined;
    }
    case "map": {
      if (f.mapKind === "message") {
        const val = messageOf(f.message, f.parent);
        return (v) => (isObject(v) ? mapValues(v, val) : v);
      }
      if (f.mapKind === "scalar" && f.scalar === 12) return (v) => (isObject(v) ? mapValues(v, toBytes) : v);
      return undefined;
    }
  }
}

/** A JavaScript expression building a fresh copy of a zero value protobuf-es produced. */
function zeroExpression(v: unknown): string | undefined {
  if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return JSON.stringify(v);
  if (typeof v === "bigint") return `${v}n`;
  if (Array.isArray(v) && v.length === 0) return "[]";
  if (v instanceof Uint8Array && v.length === 0) return "new Uint8Array(0)";
  if (isObject(v)) {
    const keys = Object.keys(v);
    if (keys.length === 0) return "{}";
    if (keys.length === 1 && keys[0] === "case" && v.case === undefined) return "{ case: undefined }";
  }
  return undefined;
}

function compile(desc: DescMessage): Make {
  const fallback: Make = (init) => reflectCreate(desc, init as MessageInitShape<DescMessage>);
  if (desc.file.edition !== PROTO3 || desc.typeName.startsWith("google.protobuf.")) return fallback;
  const zero = reflectCreate(desc) as unknown as Record<string, unknown>;
  if (Object.getPrototypeOf(zero) !== Object.prototype) return fallback;
  const literal: string[] = [];
  for (const key of Object.keys(zero)) {
    const expr = zeroExpression(zero[key]);
    if (expr === undefined) return fallback;
    literal.push(`${JSON.stringify(key)}: ${expr}`);
  }
  const conv: ((v: unknown) => unknown)[] = [];
  const ref = (fn: (v: unknown) => unknown) => `c[${conv.push(fn) - 1}]`;
  const lines: string[] = [];
  for (const member of desc.members) {
    const name = JSON.stringify(member.localName);
    if (member.kind === "oneof") {
      // { case, value }: the value converted as its member field's kind; an unknown case is ignored.
      const cases: string[] = [];
      for (const f of member.fields) {
        const c = converter(f);
        const value = c ? `${ref(c)}(v.value)` : "v.value";
        cases.push(`case ${JSON.stringify(f.localName)}: m[${name}] = { case: k, value: ${value} }; break;`);
      }
      lines.push(`v = init[${name}]; if (v != null) { const k = v.case; switch (k) { ${cases.join(" ")} } }`);
      continue;
    }
    const c = converter(member);
    lines.push(`v = init[${name}]; if (v != null) m[${name}] = ${c ? `${ref(c)}(v)` : "v"};`);
  }
  const typeName = JSON.stringify(desc.typeName);
  const source = [
    "return function make(init) {",
    `  if (init !== null && typeof init === "object" && init.$typeName === ${typeName}) return init;`,
    `  const m = { $typeName: ${typeName}, ${literal.filter((l) => !l.startsWith('"$typeName"')).join(", ")} };`,
    "  if (init === undefined) return m;",
    "  let v;",
    ...lines.map((l) => `  ${l}`),
    "  return m;",
    "};",
  ].join("\n");
  // The source is built only from descriptor names (JSON-quoted) and the zero values above.
  return new Function("c", source)(conv) as Make;
}
