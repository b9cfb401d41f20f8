// Ollama's native JSON (/api/chat, /api/embed, /api/tags, error bodies) as typed structs. Requests
// list every field we send; responses list what we read, all optional (the server is untrusted).

/** A tool call as Ollama writes it: arguments are a JSON object, not a string; no id. */
export interface OllamaToolCall {
  function: { name: string; arguments: Record<string, unknown>; index?: number };
  /** Newer servers add an id; we generate our own (`call_<n>`) for a stable shape. */
  id?: string;
}

/** One message of /api/chat. */
export interface OllamaMessage {
  role: "system" | "user" | "assistant" | "tool";
  content: string;
  /** Base64 image bytes (no data: prefix). */
  images?: string[];
  tool_calls?: OllamaToolCall[];
  /** For role "tool": the function whose result this is. */
  tool_name?: string;
}

/** A function tool definition. */
export interface OllamaTool {
  type: "function";
  function: { name: string; description?: string; parameters?: unknown };
}

/** The sampling options we map from the contract; provider options may add any other. */
export interface OllamaOptions {
  temperature?: number;
  top_p?: number;
  top_k?: number;
  num_predict?: number;
  stop?: string[];
  seed?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
  [other: string]: unknown;
}

/** POST /api/chat body. `stream` is always explicit: Ollama streams by default. */
export interface OllamaChatRequest {
  model: string;
  messages: OllamaMessage[];
  stream: boolean;
  tools?: OllamaTool[];
  /** "json" for any JSON, or a JSON schema object. */
  format?: "json" | unknown;
  options?: OllamaOptions;
  think?: boolean;
  /** Anything merged from provider_options_json (keep_alive, ...). */
  [other: string]: unknown;
}

/** Why generation stopped; "load" / "unload" answer an empty-messages request, never a chat. */
export type OllamaDoneReason = "stop" | "length" | "load" | "unload";

/** The message of a response or of a stream line. */
export interface OllamaResponseMessage {
  role?: string;
  content?: string;
  thinking?: string;
  tool_calls?: OllamaToolCall[] | null;
  images?: string[] | null;
}

/** POST /api/chat response, and each NDJSON line of a stream (the last one has `done: true`). */
export interface OllamaChatResponse {
  model?: string;
  created_at?: string;
  message?: OllamaResponseMessage;
  done?: boolean;
  done_reason?: string;
  total_duration?: number;
  load_duration?: number;
  prompt_eval_count?: number;
  prompt_eval_duration?: number;
  eval_count?: number;
  eval_duration?: number;
  /** A failure, as a whole body or as a line inside a stream. */
  error?: string;
}

/** POST /api/embed body. */
export interface OllamaEmbedRequest {
  model: string;
  input: string[];
  /** Shortens the vectors (models trained for it). */
  dimensions?: number;
}

/** POST /api/embed response. */
export interface OllamaEmbedResponse {
  model?: string;
  embeddings?: number[][];
  total_duration?: number;
  load_duration?: number;
  prompt_eval_count?: number;
}

/** One model of GET /api/tags. */
export interface OllamaModel {
  name?: string;
  model?: string;
  modified_at?: string;
  size?: number;
  digest?: string;
  details?: { family?: string; families?: string[] | null; parameter_size?: string };
}

/** GET /api/tags response. */
export interface OllamaTagsResponse {
  models?: OllamaModel[];
}

/** Every Ollama error body: `{"error": "..."}`. */
export interface OllamaErrorBody {
  error?: string;
}
