// A real HTTP/1.1 server on loopback emulating Hugging Face's hf-inference feature-extraction
// pipeline (POST /hf-inference/models/{org/model}/pipeline/feature-extraction) with HF's error
// bodies; faults come from the model id (`BAAI/bge-small-en-v1.5+loading`). The chat side of HF is
// OpenAI-compatible: tests point it at test/fakes/openai.ts.
import {
  type BodyInfo,
  type Exchange,
  type RecordedRequest,
  startFakeServer,
  writeJson,
} from "./fake-server.js";
import { embeddingVector, pause, wordCount } from "./openai-faults.js";

/** The fake's handle; `url` is the embed base (…/hf-inference/models). */
export interface HuggingFaceFake {
  url: string;
  port: number;
  requests: RecordedRequest[];
  close(): Promise<void>;
  reset(): void;
}

/** Behaviour requested through the model id: `org/model+key+key=value`. */
export interface HFDirectives {
  base: string;
  status?: number;
  /** 503 `{"error": "... is currently loading", "estimated_time": 20.0}`. */
  loading: boolean;
  /** Answer un-pooled token vectors (a 2D array per input), as raw transformer models do. */
  tokenLevel: boolean;
  delayMs?: number;
  dims: number;
}

/** Parses `BAAI/bge-small-en-v1.5+token_level+dims=4`; unknown tokens are ignored. */
export function parseHFDirectives(model: string): HFDirectives {
  const [base = "", ...tokens] = model.split("+");
  const d: HFDirectives = { base, loading: false, tokenLevel: false, dims: 8 };
  for (const token of tokens) {
    const [key = "", value] = token.split("=", 2);
    const n = Number.parseInt(value ?? "", 10);
    if (key === "status" && Number.isFinite(n)) d.status = n;
    else if (key === "delay" && Number.isFinite(n)) d.delayMs = n;
    else if (key === "dims" && n > 0) d.dims = n;
    else if (key === "loading") d.loading = true;
    else if (key === "token_level") d.tokenLevel = true;
  }
  return d;
}

/** HF's error body for a status. */
export function hfErrorBody(status: number, model: string): { error: string | string[] } {
  switch (status) {
    case 400:
      return { error: ["Input should be a valid string: inputs.0"] };
    case 401:
      return { error: "Invalid credentials in Authorization header" };
    case 402:
      return {
        error:
          "You have exceeded your monthly included credits for Inference Providers. Subscribe to PRO to get 20x more monthly included credits.",
      };
    case 404:
      return { error: `Model ${model} does not exist` };
    case 429:
      return { error: "Rate limit reached. You reached free usage limit (reset hourly)." };
    default:
      return { error: "There was an inference error: CUDA error: out of memory" };
  }
}

/** The token rows the fake "model" produces for a text (words + [CLS] + [SEP]). */
export function tokenRows(text: string, dims: number): number[][] {
  const n = wordCount(text) + 2;
  return Array.from({ length: n }, (_, i) => embeddingVector(`${i}:${text}`, dims));
}

const PIPELINE = /^\/hf-inference\/models\/(.+)\/pipeline\/feature-extraction$/;

/** Starts the fake; with `apiKey` every request must carry `Authorization: Bearer <apiKey>`. */
export async function startHuggingFaceFake(opts: { apiKey?: string } = {}): Promise<HuggingFaceFake> {
  async function handle(ex: Exchange, body: BodyInfo): Promise<void> {
    const { req, rec } = ex;
    const path = rec.path;
    const send = (status: number, payload: unknown) => writeJson(ex, status, payload);
    if (body.invalidJson) {
      return send(400, { error: "Failed to deserialize the JSON body into the target type" });
    }
    if (opts.apiKey !== undefined && req.headers.authorization !== `Bearer ${opts.apiKey}`) {
      return send(401, hfErrorBody(401, ""));
    }
    const m = req.method === "POST" ? PIPELINE.exec(path) : null;
    if (!m) return send(404, { error: "Not Found" });
    const d = parseHFDirectives(decodeURIComponent(m[1] ?? ""));
    if (d.delayMs !== undefined && !(await pause(ex, d.delayMs))) return;
    if (d.loading) return send(503, { error: `Model ${d.base} is currently loading`, estimated_time: 20.0 });
    if (d.status !== undefined) return send(d.status, hfErrorBody(d.status, d.base));
    const inputs: unknown =
      typeof rec.body === "object" && rec.body !== null
        ? (rec.body as { inputs?: unknown }).inputs
        : undefined;
    const one = (text: string) => (d.tokenLevel ? tokenRows(text, d.dims) : embeddingVector(text, d.dims));
    if (typeof inputs === "string") return send(200, one(inputs));
    if (!Array.isArray(inputs) || !inputs.every((x) => typeof x === "string")) {
      return send(400, { error: ["Input should be a valid list: inputs"] });
    }
    return send(200, (inputs as string[]).map(one));
  }

  const server = await startFakeServer(handle);
  return {
    url: `http://127.0.0.1:${server.port}/hf-inference/models`,
    port: server.port,
    requests: server.requests,
    close: server.close,
    reset: server.reset,
  };
}
