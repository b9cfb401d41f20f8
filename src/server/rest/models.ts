// The model directory in OpenAI's shapes: GET /v1/models (`list` of `model`) and /v1/models/{id}.
// Next to OpenAI's id / object / created / owned_by each entry carries what the catalog knows:
// capabilities, context_window, max_output_tokens and list prices (USD per million tokens).
// `?provider=`, `?capability=` and `?min_context_window=` filter the list as ListModels does.
import {
  Capability,
  type ListModelsRequest,
  ListModelsRequestSchema,
  type ModelInfo,
} from "../../../gen/llmgateway/v1/llm_pb.js";
import type { CatalogEntry } from "../../catalog/index.js";
import { invalid } from "../../errors.js";
import { create } from "../../lib/create.js";

/** OpenAI's `created` is required; the directory has no dates, so the process start stands in. */
const CREATED = Math.floor(Date.now() / 1000);

/** Capability names of the REST door (the catalog's), to the contract's enum. */
const CAPABILITIES: ReadonlyMap<string, Capability> = new Map([
  ["chat", Capability.CHAT],
  ["stream", Capability.STREAM],
  ["tools", Capability.TOOLS],
  ["vision", Capability.VISION],
  ["json_schema", Capability.JSON_SCHEMA],
  ["embeddings", Capability.EMBEDDINGS],
]);
const NAMES = new Map([...CAPABILITIES].map(([name, c]) => [c, name]));

/** Where the catalog entry (prices) of a listed model is found: the directory's `entryFor`. */
export interface EntryLookup {
  entryFor(id: string): CatalogEntry | undefined;
}

function model(m: ModelInfo | undefined, dir: EntryLookup | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: m?.id ?? "",
    object: "model",
    created: CREATED,
    owned_by: m?.provider || "llm-gateway",
  };
  if (!m) return out;
  const caps = m.capabilities.map((c) => NAMES.get(c)).filter((n) => n !== undefined);
  if (caps.length > 0) out["capabilities"] = caps;
  if (m.contextWindow > 0) out["context_window"] = m.contextWindow;
  if (m.maxOutputTokens > 0) out["max_output_tokens"] = m.maxOutputTokens;
  const price = dir?.entryFor(m.aliasOf || m.id)?.price;
  if (price) {
    out["input_price_per_million"] = price.input;
    out["output_price_per_million"] = price.output;
  }
  return out;
}

/** One `model` object, serialised. */
export function modelJson(m: ModelInfo | undefined, dir?: EntryLookup): string {
  return JSON.stringify(model(m, dir));
}

/** The `list` of models, serialised. */
export function modelsListJson(models: readonly ModelInfo[], dir?: EntryLookup): string {
  return JSON.stringify({ object: "list", data: models.map((m) => model(m, dir)) });
}

/**
 * The ListModels request a `GET /v1/models?...` asks for; an unknown capability or a bad
 * min_context_window is INVALID_ARGUMENT naming the parameter (400 in OpenAI's error shape).
 */
export function listModelsRequest(url: string): ListModelsRequest {
  const q = url.indexOf("?");
  const params = new URLSearchParams(q < 0 ? "" : url.slice(q + 1));
  const req = create(ListModelsRequestSchema, {});
  const provider = params.get("provider");
  if (provider) req.provider = provider;
  const capability = params.get("capability");
  if (capability) {
    const c = CAPABILITIES.get(capability);
    if (c === undefined)
      throw invalid(
        "capability",
        `"${capability.slice(0, 64)}" is not one of ${[...CAPABILITIES.keys()].join(", ")}`,
      );
    req.capability = c;
  }
  const min = params.get("min_context_window");
  if (min) {
    const n = Number(min);
    if (!/^\d+$/.test(min) || !Number.isSafeInteger(n) || n > 2 ** 31 - 1)
      throw invalid("min_context_window", "a whole number of tokens");
    req.minContextWindow = n;
  }
  return req;
}
