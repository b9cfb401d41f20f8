// Anthropic Messages API JSON (POST /v1/messages, its event stream, GET /v1/models, error bodies)
// as typed structs. Requests list every field we send; responses list what we read.

/** A prompt-cache breakpoint: the prompt up to and including this block may be cached. */
export interface AntCacheControl {
  type: "ephemeral";
  /** Absent: Anthropic's default (5m). */
  ttl?: "5m" | "1h";
}

/** A text block (request and response). */
export interface AntTextBlock {
  type: "text";
  text: string;
  cache_control?: AntCacheControl;
}

/** Where an image comes from: inline base64, or a URL Anthropic fetches itself. */
export type AntImageSource =
  | { type: "base64"; media_type: string; data: string }
  | { type: "url"; url: string };

/** An image block (user turns and tool results). */
export interface AntImageBlock {
  type: "image";
  source: AntImageSource;
  cache_control?: AntCacheControl;
}

/** Where a document comes from: an inline PDF, plain text, or a URL Anthropic fetches. */
export type AntDocumentSource =
  | { type: "base64"; media_type: "application/pdf"; data: string }
  | { type: "text"; media_type: "text/plain"; data: string }
  | { type: "url"; url: string };

/** A document block (user turns and tool results). */
export interface AntDocumentBlock {
  type: "document";
  source: AntDocumentSource;
  title?: string;
  cache_control?: AntCacheControl;
}

/** Signed thinking of an earlier assistant turn, sent back verbatim. */
export interface AntThinkingBlock {
  type: "thinking";
  thinking: string;
  signature: string;
}

/** Encrypted thinking of an earlier assistant turn, sent back verbatim. */
export interface AntRedactedThinkingBlock {
  type: "redacted_thinking";
  data: string;
}

/** A tool call the assistant made (request history and response). */
export interface AntToolUseBlock {
  type: "tool_use";
  id: string;
  name: string;
  input: unknown;
}

/** What a user turn or a tool result may hold besides tool results. */
export type AntUserContentBlock = AntTextBlock | AntImageBlock | AntDocumentBlock;

/** The answer to a tool call; sent in a user turn. */
export interface AntToolResultBlock {
  type: "tool_result";
  tool_use_id: string;
  content: string | AntUserContentBlock[];
  cache_control?: AntCacheControl;
}

/** Any block we send in a request message. */
export type AntRequestBlock =
  | AntUserContentBlock
  | AntThinkingBlock
  | AntRedactedThinkingBlock
  | AntToolUseBlock
  | AntToolResultBlock;

/** One turn; roles must alternate, so the translator merges neighbours of one role. */
export interface AntMessage {
  role: "user" | "assistant";
  content: AntRequestBlock[];
}

/** A tool definition. */
export interface AntTool {
  name: string;
  description?: string;
  input_schema: unknown;
  cache_control?: AntCacheControl;
}

/** tool_choice. */
export type AntToolChoice =
  | { type: "auto" }
  | { type: "any" }
  | { type: "none" }
  | { type: "tool"; name: string };

/** Extended thinking. */
export interface AntThinking {
  type: "enabled";
  budget_tokens: number;
}

/** POST /v1/messages body. */
export interface AntMessagesRequest {
  model: string;
  messages: AntMessage[];
  max_tokens: number;
  system?: string | AntTextBlock[];
  temperature?: number;
  top_p?: number;
  top_k?: number;
  stop_sequences?: string[];
  tools?: AntTool[];
  tool_choice?: AntToolChoice;
  thinking?: AntThinking;
  /** Structured outputs: the answer text is JSON matching the schema. */
  output_config?: { format: { type: "json_schema"; schema: unknown } };
  metadata?: { user_id: string };
  stream?: boolean;
  /** provider_options_json is merged in verbatim, so any other field may appear. */
  [extra: string]: unknown;
}

/** Token usage; cache fields are absent or null when prompt caching was not involved. */
export interface AntUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  output_tokens_details?: { thinking_tokens?: number | null } | null;
}

/** Every stop_reason we know; anything else is a protocol error. */
export type AntStopReason =
  | "end_turn"
  | "stop_sequence"
  | "max_tokens"
  | "tool_use"
  | "refusal"
  | "pause_turn"
  | "model_context_window_exceeded";

/** A content block of a response (only the fields we read; other block types are skipped). */
export interface AntResponseBlock {
  type: string;
  text?: string;
  thinking?: string;
  signature?: string;
  /** redacted_thinking: the encrypted thinking. */
  data?: string;
  id?: string;
  name?: string;
  input?: unknown;
}

/** POST /v1/messages response. */
export interface AntMessagesResponse {
  id: string;
  type?: "message";
  role?: "assistant";
  model?: string;
  content: AntResponseBlock[];
  stop_reason: string | null;
  stop_sequence?: string | null;
  usage?: AntUsage | null;
}

/** The error object of an error body or an `error` stream event. */
export interface AntErrorObject {
  type?: string;
  message?: string;
}

/** An error response body: `{type: "error", error: {type, message}, request_id}`. */
export interface AntErrorBody {
  type?: "error";
  error?: AntErrorObject;
  request_id?: string;
}

/** One `data:` payload of the event stream (the union of the fields we read). */
export interface AntStreamEvent {
  type: string;
  index?: number;
  message?: { id?: string; model?: string; usage?: AntUsage | null };
  content_block?: AntResponseBlock;
  delta?: {
    type?: string;
    text?: string;
    partial_json?: string;
    thinking?: string;
    signature?: string;
    stop_reason?: string | null;
    stop_sequence?: string | null;
  };
  usage?: AntUsage | null;
  error?: AntErrorObject;
}

/** GET /v1/models response (paged by after_id). */
export interface AntModelsList {
  data: { id: string; type?: "model"; display_name?: string; created_at?: string }[];
  has_more?: boolean;
  first_id?: string | null;
  last_id?: string | null;
}
