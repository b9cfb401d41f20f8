// OpenAI's chat-completions / embeddings / models JSON, as typed structs. Requests list every
// field we send; responses list what we read (everything optional that a host may leave out).

/** A text part of a message's content array. */
export interface OAITextPart {
  type: "text";
  text: string;
}

/** An image part (user messages only). */
export interface OAIImagePart {
  type: "image_url";
  image_url: { url: string; detail?: OAIImageDetail };
}

/** Resolution hint for an image part. */
export type OAIImageDetail = "auto" | "low" | "high";

/** A file part (user messages only): a PDF inline as a data: URL. */
export interface OAIFilePart {
  type: "file";
  file: { file_data: string; filename: string };
}

/** Any content part. */
export type OAIContentPart = OAITextPart | OAIImagePart | OAIFilePart;

/** A tool call as the assistant made it (request history and response). */
export interface OAIToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** One message of the request. */
export type OAIMessage =
  | { role: "system"; content: string | OAITextPart[]; name?: string }
  | { role: "user"; content: string | OAIContentPart[]; name?: string }
  | { role: "assistant"; content: string | OAITextPart[] | null; tool_calls?: OAIToolCall[]; name?: string }
  | { role: "tool"; content: string | OAITextPart[]; tool_call_id: string };

/** A function tool definition. */
export interface OAITool {
  type: "function";
  function: { name: string; description?: string; parameters?: unknown; strict?: boolean };
}

/** tool_choice: a mode or one named function. */
export type OAIToolChoice = "auto" | "none" | "required" | { type: "function"; function: { name: string } };

/** response_format. */
export type OAIResponseFormat =
  | { type: "text" }
  | { type: "json_object" }
  | { type: "json_schema"; json_schema: { name: string; schema: unknown; strict?: boolean } };

/** POST /chat/completions body. */
export interface OAIChatRequest {
  model: string;
  messages: OAIMessage[];
  temperature?: number;
  top_p?: number;
  max_tokens?: number;
  max_completion_tokens?: number;
  stop?: string[];
  seed?: number;
  /** Mistral's name for `seed`. */
  random_seed?: number;
  tools?: OAITool[];
  tool_choice?: OAIToolChoice;
  response_format?: OAIResponseFormat;
  user?: string;
  presence_penalty?: number;
  frequency_penalty?: number;
  stream?: boolean;
  stream_options?: { include_usage: boolean };
  /** Reasoning models (o-series, gpt-5): how hard to think. */
  reasoning_effort?: "minimal" | "low" | "medium" | "high";
  /** provider_options_json may add anything else, verbatim. */
  [extra: string]: unknown;
}

/** Token usage; the details objects are OpenAI's, other hosts often omit them. */
export interface OAIUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number | null } | null;
  completion_tokens_details?: { reasoning_tokens?: number | null } | null;
}

/** The finish reasons we know; anything else is a protocol error. */
export type OAIFinishReason =
  | "stop"
  | "length"
  | "tool_calls"
  | "function_call"
  | "content_filter"
  // OpenAI-compatible hosts: Together ("eos"), Mistral ("model_length").
  | "eos"
  | "model_length";

/** The assistant message of a non-streamed choice. */
export interface OAIResponseMessage {
  role?: "assistant";
  content?: string | null;
  refusal?: string | null;
  tool_calls?: OAIToolCall[] | null;
  /** Deprecated single function call. */
  function_call?: { name: string; arguments: string } | null;
}

/** One choice of a non-streamed response. */
export interface OAIChoice {
  index: number;
  message: OAIResponseMessage;
  finish_reason: string | null;
}

/** POST /chat/completions response. */
export interface OAIChatResponse {
  id: string;
  object?: "chat.completion";
  created?: number;
  model: string;
  choices: OAIChoice[];
  usage?: OAIUsage | null;
  system_fingerprint?: string | null;
}

/** A tool call fragment in a stream chunk. */
export interface OAIToolCallDelta {
  index: number;
  id?: string;
  type?: "function";
  function?: { name?: string; arguments?: string };
}

/** One choice of a stream chunk. */
export interface OAIChunkChoice {
  index: number;
  delta?: {
    role?: string;
    content?: string | null;
    refusal?: string | null;
    tool_calls?: OAIToolCallDelta[] | null;
  };
  finish_reason?: string | null;
}

/** One `data:` event of a stream. */
export interface OAIChatChunk {
  id?: string;
  object?: "chat.completion.chunk";
  created?: number;
  model?: string;
  choices?: OAIChunkChoice[];
  usage?: OAIUsage | null;
  /** Some hosts report a mid-stream failure as a chunk with an error object. */
  error?: OAIErrorObject;
}

/** POST /embeddings body. */
export interface OAIEmbeddingsRequest {
  model: string;
  input: string[];
  dimensions?: number;
  user?: string;
  encoding_format: "float" | "base64";
}

/** POST /embeddings response; `embedding` is a base64 string of float32 LE when asked for. */
export interface OAIEmbeddingsResponse {
  object?: "list";
  model?: string;
  data: { object?: "embedding"; index: number; embedding: number[] | string }[];
  usage?: { prompt_tokens?: number; total_tokens?: number } | null;
}

/** GET /models response. */
export interface OAIModelsList {
  object?: "list";
  data: { id: string; object?: "model"; created?: number; owned_by?: string }[];
}

/** The error object of an error body or an in-stream error. */
export interface OAIErrorObject {
  message?: string;
  type?: string | null;
  param?: string | null;
  code?: string | number | null;
}

/** An error response body. */
export interface OAIErrorBody {
  error?: OAIErrorObject | string;
  /** Some hosts (e.g. FastAPI-based) answer `{detail: ...}` or `{message: ...}`. */
  message?: string;
  detail?: unknown;
}
