// Proto3 JSON decoding compiled once per message type, for the common shape of a request only:
// camelCase keys, values of their plain JSON type, enums by name. Anything else — an unknown or
// snake_case key, a null, a number as a string, an enum by number, 64-bit integers, bytes, floats,
// two members of a oneof, a lone surrogate — returns undefined and the caller decodes with
// protobuf-es, which gives its full semantics and its error messages. What this accepts, it decodes
// exactly as protobuf-es's `fromJson` does (tested); it just does not walk reflection per call.
import {
  type DescEnum,
  type DescField,
  type DescMessage,
  type MessageShape,
  ScalarType,
} from "@bufbuild/protobuf";
import { create } from "./create.js";
import { isObject } from "./object.js";

/** Decodes a parsed JSON value; undefined = not the simple shape (fall back). */
type Decode = (json: unknown) => unknown;
/** Sets one field from its JSON value on a message; false = fall back. */
type Setter = (msg: Record<string, unknown>, json: unknown) => boolean;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const UINT32_MAX = 2 ** 32 - 1;

/** A scalar's decoder, or undefined when this kind always falls back. */
function scalarDecoder(t: ScalarType): Decode | undefined {
  switch (t) {
    case ScalarType.STRING:
      return (v) => (typeof v === "string" && !LONE_SURROGATE.test(v) ? v : undefined);
    case ScalarType.BOOL:
      return (v) => (typeof v === "boolean" ? v : undefined);
    case ScalarType.DOUBLE:
      return (v) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return (v) =>
        typeof v === "number" && Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX ? v : undefined;
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return (v) =>
        typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= UINT32_MAX ? v : undefined;
    default:
      return undefined; // float (range rules), 64-bit integers, bytes: protobuf-es
  }
}

function enumDecoder(e: DescEnum): Decode | undefined {
  if (e.typeName === "google.protobuf.NullValue") return undefined;
  const byName = new Map<string, number>();
  for (const v of e.values) byName.set(v.name, v.number);
  return (v) => (typeof v === "string" ? byName.get(v) : undefined);
}

class Compiler {
  private readonly done = new Map<string, Decode | null>();

  message(desc: DescMessage): Decode | undefined {
    const known = this.done.get(desc.typeName);
    if (known !== undefined) return known ?? undefined;
    if (desc.typeName.startsWith("google.protobuf.") || desc.file.edition !== 999 /* proto3 */) {
      this.done.set(desc.typeName, null);
      return undefined;
    }
    let self: Decode | undefined;
    this.done.set(desc.typeName, (j) => (self as Decode)(j)); // recursive types
    const setters = new Map<string, Setter>();
    for (const f of desc.fields) setters.set(f.jsonName, this.setter(f));
    self = (json) => {
      if (!isObject(json)) return undefined;
      const msg = create(desc) as unknown as Record<string, unknown>;
      for (const key of Object.keys(json)) {
        const set = setters.get(key);
        const v = json[key];
        if (set === undefined || v === null || !set(msg, v)) return undefined;
      }
      return msg;
    };
    this.done.set(desc.typeName, self);
    return self;
  }

  private value(f: DescField): Decode | undefined {
    if (f.fieldKind === "enum") return enumDecoder(f.enum);
    if (f.fieldKind === "message") return this.message(f.message);
    if (f.fieldKind === "scalar") return scalarDecoder(f.scalar);
    return undefined;
  }

  /** The decoder of a list's items or a map's values. */
  private element(f: DescField & { fieldKind: "list" | "map" }): Decode | undefined {
    const kind = f.fieldKind === "list" ? f.listKind : f.mapKind;
    if (kind === "message") return this.message(f.message as DescMessage);
    if (kind === "enum") return enumDecoder(f.enum as DescEnum);
    return scalarDecoder(f.scalar as ScalarType);
  }

  private setter(f: DescField): Setter {
    const never: Setter = () => false;
    const name = f.localName;
    if (f.oneof) {
      const oneof = f.oneof.localName;
      const dec = this.value(f);
      if (!dec) return never;
      return (msg, json) => {
        const o = msg[oneof] as { case: string | undefined };
        const v = dec(json);
        if (o.case !== undefined || v === undefined) return false; // two members: protobuf-es errors
        msg[oneof] = { case: name, value: v };
        return true;
      };
    }
    switch (f.fieldKind) {
      case "list": {
        const item = this.element(f);
        if (!item) return never;
        return (msg, json) => {
          if (!Array.isArray(json)) return false;
          const out: unknown[] = [];
          for (const j of json) {
            const v = j === null ? undefined : item(j);
            if (v === undefined) return false;
            out.push(v);
          }
          msg[name] = out;
          return true;
        };
      }
      case "map": {
        if (f.mapKey !== ScalarType.STRING) return never;
        const val = this.element(f);
        if (!val) return never;
        return (msg, json) => {
          if (!isObject(json)) return false;
          const out: Record<string, unknown> = {};
          for (const k of Object.keys(json)) {
            const j = json[k];
            const v = j === null ? undefined : val(j);
            if (v === undefined || LONE_SURROGATE.test(k)) return false;
            out[k] = v;
          }
          msg[name] = out;
          return true;
        };
      }
      default: {
        const dec = this.value(f);
        if (!dec) return never;
        return (msg, json) => {
          const v = dec(json);
          if (v === undefined) return false;
          msg[name] = v;
          return true;
        };
      }
    }
  }
}

/**
 * A decoder of parsed JSON into `schema`'s message for the simple shape, or undefined for any
 * other input (decode that with protobuf-es). Undefined too when the type cannot be compiled.
 */
export function compileJsonDecoder<D extends DescMessage>(
  schema: D,
): ((json: unknown) => MessageShape<D> | undefined) | undefined {
  const dec = new Compiler().message(schema);
  return dec as ((json: unknown) => MessageShape<D> | undefined) | undefined;
}

const decoders = new WeakMap<DescMessage, ((json: unknown) => unknown) | null>();

/**
 * Decodes JSON text into `schema`'s message: the compiled decoder when the text has the simple
 * shape, else `fallback` (protobuf-es `fromJsonString`: its semantics and its errors).
 */
export function decodeJson<D extends DescMessage>(
  schema: D,
  text: string,
  fallback: (text: string) => MessageShape<D>,
): MessageShape<D> {
  let dec = decoders.get(schema);
  if (dec === undefined) {
    dec = compileJsonDecoder(schema) ?? null;
    decoders.set(schema, dec);
  }
  if (dec !== null) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return fallback(text); // protobuf-es words the syntax error
    }
    const m = dec(parsed);
    if (m !== undefined) return m as MessageShape<D>;
  }
  return fallback(text);
}
