// Cache keys: SHA-256 (hex) of a canonical serialisation of the request fields that change the
// answer, scoped by the caller so two tenants never share an entry.
//
// Canonical because: the key is `toBinary` of a normalised copy of the request. protobuf-es writes
// fields in field-number order (`sortedFields`), whatever order a client sent them in (JSON keys,
// wire order); proto3 implicit-presence fields equal to their default are not written, so "absent" and
// "explicit default" give the same bytes; `optional` fields keep their presence (an unset temperature
// means the provider's default, not 0, so they must differ). The only map of ChatRequest (`metadata`)
// is dropped, so no map ordering is left to the encoder; unknown fields are not written.
// `provider_options_json` is merged into a JSON body where key order does not matter, so it is
// re-serialised with object keys sorted. `Tool.parameters_json` and `ResponseFormat.json_schema` stay
// verbatim: the contract keeps them as written because key order can matter to the model.
//
// Not in the key (they do not change the answer): `metadata` (labels), `cache` (the control itself),
// `fallback_models` and `hedge_after_ms` (routing hints), and `user`: an opaque end-user id passed to
// providers for abuse monitoring only. Callers who want per-end-user isolation put the user in the
// scope (e.g. `${keyName}/${req.user}`).

import { createHash } from "node:crypto";
import { clone, toBinary } from "@bufbuild/protobuf";
import {
  type ChatRequest,
  ChatRequestSchema,
  type EmbedRequest,
  EmbedRequestSchema,
} from "../../gen/llmgateway/v1/llm_pb.js";

/** Bumped when the key derivation changes, so old entries are simply never found again. */
const KEY_VERSION = "v1";

/** Which answer a key is for: a unary Chat (or Embed) answer, or a ChatStream's events. */
export type CacheKeyMode = "unary" | "stream";

/** JSON text with every object's keys sorted (recursively); the input verbatim when it is not JSON. */
export function canonicalJson(text: string): string {
  if (text === "") return "";
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text;
  }
  return JSON.stringify(sortKeys(parsed));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v === null || typeof v !== "object") return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
  return out;
}

/** -0 and 0 mean the same sampling parameter; toBinary would write them differently. */
function zero(n: number | undefined): number | undefined {
  return n === 0 ? 0 : n;
}

function chatBytes(req: ChatRequest): Uint8Array {
  const c = clone(ChatRequestSchema, req);
  c.metadata = {};
  c.cache = undefined;
  c.fallbackModels = [];
  c.hedgeAfterMs = undefined;
  c.user = "";
  c.temperature = zero(c.temperature);
  c.topP = zero(c.topP);
  c.presencePenalty = zero(c.presencePenalty);
  c.frequencyPenalty = zero(c.frequencyPenalty);
  c.providerOptionsJson = canonicalJson(c.providerOptionsJson);
  return toBinary(ChatRequestSchema, c, { writeUnknownFields: false });
}

function embedBytes(req: EmbedRequest): Uint8Array {
  const c = clone(EmbedRequestSchema, req);
  c.cache = undefined;
  c.user = "";
  return toBinary(EmbedRequestSchema, c, { writeUnknownFields: false });
}

/**
 * The cache key of a request: hex SHA-256 over (version, scope, request type, mode, canonical request
 * bytes). `scope` is the caller's identity (gateway key name or tenant): entries never cross scopes.
 * `mode` separates a unary Chat answer from a ChatStream's events (same ChatRequest, different entry).
 */
export function cacheKey(
  req: ChatRequest | EmbedRequest,
  scope: string,
  mode: CacheKeyMode = "unary",
): string {
  const chat = req.$typeName === "llmgateway.v1.ChatRequest";
  const body = chat ? chatBytes(req) : embedBytes(req);
  const h = createHash("sha256");
  // Length-prefixed header fields: no scope can be crafted to collide with another scope + type.
  const head = [KEY_VERSION, scope, chat ? "chat" : "embed", mode];
  for (const part of head) h.update(`${Buffer.byteLength(part)}:${part};`);
  h.update(body);
  return h.digest("hex");
}
