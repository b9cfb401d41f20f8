// The bytes of one cache entry, the same in memory and in Redis: a fixed header (format, kind,
// stored-at, expires-at) then the answer — a ChatResponse or EmbedResponse (toBinary), or a ChatStream's
// events (each toBinary, length-prefixed, in their original order). Per-call gateway info is dropped.
import { clone, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  type ChatResponse,
  ChatResponseSchema,
  type ChatStreamResponse,
  ChatStreamResponseSchema,
  type EmbedResponse,
  EmbedResponseSchema,
} from "../../gen/llmgateway/v1/llm_pb.js";

/** A cached answer: what a hit hands back (fresh objects on every hit; safe to mutate). */
export type CachedValue =
  | { kind: "chat"; response: ChatResponse }
  | { kind: "embed"; response: EmbedResponse }
  | { kind: "stream"; events: ChatStreamResponse[] };

/** An entry read back: the answer plus when it was stored and when it expires (epoch ms). */
export interface DecodedEntry {
  value: CachedValue;
  storedAt: number;
  expiresAt: number;
}

const FORMAT = 1;
const HEADER = 18;
const KINDS = ["chat", "embed", "stream"] as const;

function payload(value: CachedValue): Uint8Array {
  switch (value.kind) {
    case "chat": {
      const c = clone(ChatResponseSchema, value.response);
      c.gateway = undefined;
      return toBinary(ChatResponseSchema, c);
    }
    case "embed": {
      const c = clone(EmbedResponseSchema, value.response);
      c.gateway = undefined;
      return toBinary(EmbedResponseSchema, c);
    }
    case "stream": {
      const parts = value.events.map((ev) => {
        if (ev.event.case !== "end" || !ev.event.value.gateway) return toBinary(ChatStreamResponseSchema, ev);
        const c = clone(ChatStreamResponseSchema, ev);
        if (c.event.case === "end") c.event.value.gateway = undefined;
        return toBinary(ChatStreamResponseSchema, c);
      });
      const out = Buffer.allocUnsafe(parts.reduce((n, p) => n + 4 + p.byteLength, 0));
      let at = 0;
      for (const p of parts) {
        out.writeUInt32BE(p.byteLength, at);
        out.set(p, at + 4);
        at += 4 + p.byteLength;
      }
      return out;
    }
  }
}

/** Serialises an answer with its stored-at and expires-at times (epoch ms). */
export function encodeEntry(value: CachedValue, storedAt: number, expiresAt: number): Buffer {
  const body = payload(value);
  const out = Buffer.allocUnsafe(HEADER + body.byteLength);
  out.writeUInt8(FORMAT, 0);
  out.writeUInt8(KINDS.indexOf(value.kind), 1);
  out.writeDoubleBE(storedAt, 2);
  out.writeDoubleBE(expiresAt, 10);
  out.set(body, HEADER);
  return out;
}

function events(body: Uint8Array): ChatStreamResponse[] {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const out: ChatStreamResponse[] = [];
  for (let at = 0; at < buf.length; ) {
    const len = buf.readUInt32BE(at);
    if (at + 4 + len > buf.length) throw new Error("truncated stream entry");
    out.push(fromBinary(ChatStreamResponseSchema, buf.subarray(at + 4, at + 4 + len)));
    at += 4 + len;
  }
  return out;
}

/** Parses an entry; throws on bytes this version did not write (the caller treats that as a miss). */
export function decodeEntry(bytes: Uint8Array): DecodedEntry {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < HEADER || buf.readUInt8(0) !== FORMAT) throw new Error("unknown cache entry format");
  const kind = KINDS[buf.readUInt8(1)];
  const storedAt = buf.readDoubleBE(2);
  const expiresAt = buf.readDoubleBE(10);
  const body = buf.subarray(HEADER);
  let value: CachedValue;
  if (kind === "chat") value = { kind, response: fromBinary(ChatResponseSchema, body) };
  else if (kind === "embed") value = { kind, response: fromBinary(EmbedResponseSchema, body) };
  else if (kind === "stream") value = { kind, events: events(body) };
  else throw new Error("unknown cache entry kind");
  return { value, storedAt, expiresAt };
}
