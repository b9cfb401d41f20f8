// Gemini's generateContent / embedContent / models JSON (generativelanguage v1beta), as typed
// structs. Requests list every field we send; responses list what we read (all optional).

/** inline bytes: base64 of the image in `data`. */
export interface GInlineData {
  mimeType: string;
  data: string;
}

/** A function call as the model made it (request history and response). */
export interface GFunctionCall {
  id?: string;
  name: string;
  args?: Record<string, unknown>;
}

/** The answer to a function call; `response` must be a JSON object. */
export interface GFunctionResponse {
  id?: string;
  name: string;
  response: Record<string, unknown>;
}

/** One part of a content; exactly one of the data fields is set. */
export interface GPart {
  text?: string;
  /** The part is the model's reasoning (includeThoughts), not its answer. */
  thought?: boolean;
  thoughtSignature?: string;
  inlineData?: GInlineData;
  fileData?: { fileUri: string; mimeType?: string };
  functionCall?: GFunctionCall;
  functionResponse?: GFunctionResponse;
}

/** One turn: "user" (also function responses) or "model". */
export interface GContent {
  role?: "user" | "model";
  parts: GPart[];
}

/** A function the model may call. */
export interface GFunctionDeclaration {
  name: string;
  description?: string;
  parameters?: unknown;
}

/** tools[]: we only send function declarations. */
export interface GTool {
  functionDeclarations: GFunctionDeclaration[];
}

/** toolConfig.functionCallingConfig.mode. */
export type GFunctionCallingMode = "AUTO" | "ANY" | "NONE";

/** toolConfig. */
export interface GToolConfig {
  functionCallingConfig: { mode: GFunctionCallingMode; allowedFunctionNames?: string[] };
}

/** generationConfig.thinkingConfig. */
export interface GThinkingConfig {
  thinkingBudget?: number;
  includeThoughts?: boolean;
}

/** generationConfig. */
export interface GGenerationConfig {
  temperature?: number;
  topP?: number;
  topK?: number;
  maxOutputTokens?: number;
  stopSequences?: string[];
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  responseMimeType?: "application/json";
  /** Full JSON Schema (kept verbatim), unlike `responseSchema`'s OpenAPI subset. */
  responseJsonSchema?: unknown;
  thinkingConfig?: GThinkingConfig;
}

/** POST models/{model}:generateContent and :streamGenerateContent body. */
export interface GGenerateRequest {
  contents: GContent[];
  systemInstruction?: GContent;
  tools?: GTool[];
  toolConfig?: GToolConfig;
  generationConfig?: GGenerationConfig;
  /** provider_options_json may add anything else (safetySettings, cachedContent, ...). */
  [extra: string]: unknown;
}

/** usageMetadata; thoughts are billed as output but reported apart from candidates. */
export interface GUsage {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  thoughtsTokenCount?: number;
  cachedContentTokenCount?: number;
  toolUsePromptTokenCount?: number;
  totalTokenCount?: number;
}

/** Every finish reason of the v1beta API (as of @google/genai 2.32); others are protocol errors. */
export type GFinishReason =
  | "FINISH_REASON_UNSPECIFIED"
  | "STOP"
  | "MAX_TOKENS"
  | "SAFETY"
  | "RECITATION"
  | "LANGUAGE"
  | "OTHER"
  | "BLOCKLIST"
  | "PROHIBITED_CONTENT"
  | "SPII"
  | "MALFORMED_FUNCTION_CALL"
  | "IMAGE_SAFETY"
  | "IMAGE_PROHIBITED_CONTENT"
  | "IMAGE_RECITATION"
  | "IMAGE_OTHER"
  | "NO_IMAGE"
  | "UNEXPECTED_TOOL_CALL"
  | "TOO_MANY_TOOL_CALLS"
  | "CONTINUATION";

/** One candidate answer; we request (and read) only the first. */
export interface GCandidate {
  content?: { role?: string; parts?: GPart[] };
  finishReason?: string;
  index?: number;
  finishMessage?: string;
}

/** generateContent response, and each chunk of a stream. */
export interface GGenerateResponse {
  candidates?: GCandidate[];
  promptFeedback?: { blockReason?: string; blockReasonMessage?: string };
  usageMetadata?: GUsage;
  modelVersion?: string;
  responseId?: string;
  /** A failure reported inside a 200 stream. */
  error?: GErrorObject;
}

/** One embedContent request (also an element of batchEmbedContents.requests). */
export interface GEmbedRequest {
  model: string;
  content: { parts: { text: string }[] };
  outputDimensionality?: number;
}

/** POST models/{model}:batchEmbedContents body. */
export interface GBatchEmbedRequest {
  requests: GEmbedRequest[];
}

/** embedContent response (`embedding`) or batchEmbedContents response (`embeddings`). */
export interface GEmbedResponse {
  embedding?: { values?: number[] };
  embeddings?: { values?: number[] }[];
}

/** One entry of GET models. */
export interface GModel {
  name?: string;
  baseModelId?: string;
  displayName?: string;
  inputTokenLimit?: number;
  outputTokenLimit?: number;
  supportedGenerationMethods?: string[];
}

/** GET models response (one page). */
export interface GModelList {
  models?: GModel[];
  nextPageToken?: string;
}

/** google.rpc.Status as Google's JSON APIs render it. */
export interface GErrorObject {
  code?: number;
  message?: string;
  status?: string;
  details?: { "@type"?: string; [k: string]: unknown }[];
}

/** An error response body. */
export interface GErrorBody {
  error?: GErrorObject;
}
