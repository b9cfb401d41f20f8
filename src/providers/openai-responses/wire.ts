// OpenAI's Responses API (POST /v1/responses) JSON, as typed structs. Requests list every field we
// send; responses and stream events list what we read (everything optional: the JSON is untrusted).

/** A user content part. */
export type RInputContent =
  | { type: "input_text"; text: string }
  | { type: "input_image"; image_url: string; detail: "auto" | "low" | "high" }
  | { type: "input_file"; file_data?: string; file_url?: string; filename?: string };

/** An assistant content part sent back as history. */
export interface ROutputTextPart {
  type: "output_text";
  text: string;
  annotations: unknown[];
}

/** A message input item. */
export type RMessageItem =
  | { type: "message"; role: "user"; content: RInputContent[] }
  | { type: "message"; role: "system" | "developer"; content: RInputContent[] }
  | { type: "message"; role: "assistant"; content: ROutputTextPart[] };

/** One summary part of a reasoning item. */
export interface RSummaryText {
  type: "summary_text";
  text: string;
}

/** A reasoning item: OpenAI's encrypted reasoning state, sent back verbatim on the next turn. */
export interface RReasoningItem {
  type: "reasoning";
  id?: string;
  summary: RSummaryText[];
  encrypted_content?: string;
}

/** A function call the model made (history). */
export interface RFunctionCallItem {
  type: "function_call";
  call_id: string;
  name: string;
  arguments: string;
}

/** The result of a function call. */
export interface RFunctionCallOutputItem {
  type: "function_call_output";
  call_id: string;
  output: string;
}

/** Any input item we send. */
export type RInputItem = RMessageItem | RReasoningItem | RFunctionCallItem | RFunctionCallOutputItem;

/** A function tool (flat, unlike chat completions' `{type, function: {...}}`). */
export interface RFunctionTool {
  type: "function";
  name: string;
  description?: string;
  parameters: unknown;
  strict: boolean;
}

/** A function tool, or a built-in tool's object verbatim (web_search_preview, file_search, ...). */
export type RTool = RFunctionTool | ({ type: string } & Record<string, unknown>);

/** tool_choice: a mode, one function, or one built-in tool type. */
export type RToolChoice =
  | "auto"
  | "none"
  | "required"
  | { type: "function"; name: string }
  | { type: string };

/** text.format. */
export type RTextFormat =
  | { type: "json_object" }
  | { type: "json_schema"; name: string; schema: unknown; strict: boolean };

/** Reasoning effort as the API names it. */
export type REffort = "minimal" | "low" | "medium" | "high";

/** POST /responses body. */
export interface RRequest {
  model: string;
  input: RInputItem[];
  instructions?: string;
  tools?: RTool[];
  tool_choice?: RToolChoice;
  text?: { format: RTextFormat };
  reasoning?: { effort?: REffort; summary?: string };
  max_output_tokens?: number;
  temperature?: number;
  top_p?: number;
  user?: string;
  /** Always false: the gateway keeps no state upstream; reasoning travels as encrypted content. */
  store: boolean;
  include?: string[];
  stream?: boolean;
  /** provider_options_json may add anything else, verbatim. */
  [extra: string]: unknown;
}

/** Token usage of a response. */
export interface RUsage {
  input_tokens?: number;
  output_tokens?: number;
  total_tokens?: number;
  input_tokens_details?: { cached_tokens?: number | null; cache_write_tokens?: number | null } | null;
  output_tokens_details?: { reasoning_tokens?: number | null } | null;
}

/** An output item; only the fields of the types we translate are listed. */
export interface ROutputItem {
  type?: string;
  id?: string;
  status?: string;
  /** message */
  role?: string;
  content?: { type?: string; text?: string; refusal?: string }[];
  /** reasoning */
  summary?: { type?: string; text?: string }[];
  encrypted_content?: string | null;
  /** function_call */
  call_id?: string;
  name?: string;
  arguments?: string;
}

/** The error object of a failed response, or of an `error` stream event. */
export interface RError {
  code?: string | null;
  message?: string;
  type?: string;
  param?: string | null;
}

/** A response object (unary answer, and inside response.* stream events). */
export interface RResponse {
  id?: string;
  object?: "response";
  model?: string;
  status?: "completed" | "failed" | "in_progress" | "cancelled" | "queued" | "incomplete";
  output?: ROutputItem[];
  usage?: RUsage | null;
  error?: RError | null;
  incomplete_details?: { reason?: string } | null;
}

/** One stream event (`data:` JSON); the fields of every type we read. */
export interface RStreamEvent {
  type?: string;
  sequence_number?: number;
  response?: RResponse;
  item?: ROutputItem;
  item_id?: string;
  output_index?: number;
  summary_index?: number;
  delta?: string;
  arguments?: string;
  /** `error` events: flat, or (some proxies) nested under `error`. */
  code?: string | null;
  message?: string;
  param?: string | null;
  error?: RError;
}
