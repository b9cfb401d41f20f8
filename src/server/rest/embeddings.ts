// POST /v1/embeddings through the pipeline: OpenAI's body -> EmbedRequest, EmbedResponse -> the
// OpenAI `list` of `embedding`s, as float arrays or base64 little-endian float32 (what SDKs ask for).
import { endianness } from "node:os";
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  type EmbedRequest,
  EmbedRequestSchema,
  type EmbedResponse,
} from "../../../gen/llmgateway/v1/llm_pb.js";
import { invalid } from "../../errors.js";
import { create } from "../../lib/create.js";
import { arr, cacheControl, int, type Obj, oneOf, str } from "./parse.js";

type EmbedInit = Exclude<MessageInitShape<typeof EmbedRequestSchema>, EmbedRequest>;

/** A parsed embeddings request and the encoding the answer must use. */
export interface ParsedEmbed {
  req: EmbedRequest;
  base64: boolean;
}

const LITTLE_ENDIAN = endianness() === "LE";
const ENCODINGS = ["float", "base64"] as const;

function inputs(v: unknown): string[] {
  if (typeof v === "string") return [v];
  const a = arr(v, "input");
  for (let i = 0; i < a.length; i++) {
    if (typeof a[i] !== "string") {
      throw invalid("input", "must be a string or an array of strings (token arrays are not supported)");
    }
  }
  return a as string[];
}

/** Translates an embeddings body; unknown keys and token-array inputs are INVALID_REQUEST. */
export function toEmbedRequest(body: Obj): ParsedEmbed {
  const init: EmbedInit = { model: str(body["model"], "model") };
  let base64 = false;
  for (const key in body) {
    const v = body[key];
    if (v === null || v === undefined || key === "model") continue;
    switch (key) {
      case "input":
        init.inputs = inputs(v);
        break;
      case "dimensions":
        init.dimensions = int(v, key);
        break;
      case "encoding_format":
        base64 = oneOf(v, key, ENCODINGS) === "base64";
        break;
      case "user":
        init.user = str(v, key);
        break;
      case "cache":
        init.cache = cacheControl(v);
        break;
      default:
        throw invalid(key, "unknown parameter");
    }
  }
  if (init.inputs === undefined) throw invalid("input", "is required");
  return { req: create(EmbedRequestSchema, init), base64 };
}

function base64Of(values: readonly number[]): string {
  const f = Float32Array.from(values);
  if (!LITTLE_ENDIAN) {
    const dv = new DataView(f.buffer);
    for (let i = 0; i < f.length; i++) dv.setFloat32(i * 4, f[i] ?? 0, true);
  }
  return Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString("base64");
}

/** OpenAI's embeddings `list`, serialised once. */
export function embeddingsJson(res: EmbedResponse, base64: boolean): string {
  return JSON.stringify({
    object: "list",
    data: res.embeddings.map((e) => ({
      object: "embedding",
      index: e.index,
      embedding: base64 ? base64Of(e.values) : e.values,
    })),
    model: res.model,
    usage: { prompt_tokens: res.usage?.inputTokens ?? 0, total_tokens: res.usage?.totalTokens ?? 0 },
  });
}
