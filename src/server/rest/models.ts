// The model directory in OpenAI's shapes: GET /v1/models (`list` of `model`) and /v1/models/{id}.
import type { ModelInfo } from "../../../gen/llmgateway/v1/llm_pb.js";

/** OpenAI's `created` is required; the directory has no dates, so the process start stands in. */
const CREATED = Math.floor(Date.now() / 1000);

function model(m: ModelInfo | undefined): object {
  return { id: m?.id ?? "", object: "model", created: CREATED, owned_by: m?.provider || "llm-gateway" };
}

/** One `model` object, serialised. */
export function modelJson(m: ModelInfo | undefined): string {
  return JSON.stringify(model(m));
}

/** The `list` of models, serialised. */
export function modelsListJson(models: readonly ModelInfo[]): string {
  return JSON.stringify({ object: "list", data: models.map(model) });
}
