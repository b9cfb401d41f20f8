// A Responses API body -> what the door needs: the ChatRequest fields (messages come later, once
// `previous_response_id` and `item_reference`s are expanded from the store), the input items as
// given, and the fields echoed back in the Response object. Every key is mapped, accepted at its
// default, or handed to the unsupported-parameter policy: nothing is dropped silently.
import {
  type ChatRequest,
  ChatRequestSchema,
  ContextOverflow,
  Role,
} from "../../../../gen/llmgateway/v1/llm_pb.js";
import { invalid } from "../../../errors.js";
import { create } from "../../../lib/create.js";
import { type ChatInit, commonParam, metadata } from "../common-params.js";
import { arr, bool, int, type Obj, obj, oneOf, type ParamPolicy, refuse, str, strings } from "../parse.js";
import { itemsToMessages } from "./items.js";
import { reasoning, textFormat, toolChoice, tools } from "./options.js";

/** A parsed Responses create call. */
export interface ParsedResponses {
  /** Everything but `messages`. */
  init: ChatInit;
  /** The model as asked (echoed in the answer). */
  model: string;
  /** `input` as items (a string input is one user message). */
  input: unknown[];
  instructions: string | undefined;
  stream: boolean;
  /** `store` as asked; undefined = the gateway's default. */
  store: boolean | undefined;
  previousResponseId: string | undefined;
  /** The request's own values of the fields a Response object echoes (OpenAI's defaults otherwise). */
  echo: Obj;
}

/** Parameters accepted at their default value only (anything else goes to the policy). */
const DEFAULTS: ReadonlyMap<string, unknown> = new Map<string, unknown>([
  ["background", false],
  ["service_tier", "auto"],
  ["top_logprobs", 0],
]);
/** Parameters the gateway cannot honour at all. */
const UNSUPPORTED = new Set(["conversation", "prompt", "max_tool_calls", "context_management", "moderation"]);
/**
 * Prompt-cache routing hints (Codex sends one per conversation): they change where an upstream looks
 * for a cached prefix, never the answer, and the contract has no slot: accepted and not forwarded.
 */
const HINTS = new Set(["prompt_cache_key", "prompt_cache_retention", "prompt_cache_options"]);
const INCLUDABLE = new Set(["reasoning.encrypted_content"]);

/** Parses a `POST /v1/responses` body; throws INVALID_REQUEST / UNSUPPORTED_PARAMETER naming the key. */
export function parseResponses(body: Obj, policy: ParamPolicy): ParsedResponses {
  const model = str(body["model"], "model");
  const p: ParsedResponses = {
    init: { model },
    model,
    input: [],
    instructions: undefined,
    stream: false,
    store: undefined,
    previousResponseId: undefined,
    echo: {},
  };
  const init = p.init;
  let hasInput = false;
  for (const key in body) {
    const v = body[key];
    if (v === null || v === undefined || key === "model") continue;
    switch (key) {
      case "input":
        hasInput = true;
        p.input = typeof v === "string" ? [{ type: "message", role: "user", content: v }] : arr(v, "input");
        break;
      case "instructions":
        p.instructions = str(v, key);
        p.echo[key] = v;
        break;
      case "stream":
        p.stream = bool(v, key);
        break;
      case "stream_options": {
        const so = obj(v, key);
        for (const k in so) {
          if (k !== "include_obfuscation") throw invalid(`stream_options.${k}`, "unknown parameter");
          // Obfuscation pads events against length side channels: the gateway sends none.
          if (so[k] != null && bool(so[k], `stream_options.${k}`)) refuse(`stream_options.${k}`, policy);
        }
        break;
      }
      case "store":
        p.store = bool(v, key);
        break;
      case "previous_response_id":
        p.previousResponseId = str(v, key);
        p.echo[key] = v;
        break;
      case "include":
        for (const [i, inc] of strings(v, key).entries()) {
          if (!INCLUDABLE.has(inc)) refuse(`include[${i}]`, policy, `"${inc}" is not supported`);
        }
        break;
      case "max_output_tokens":
        init.maxTokens = int(v, key);
        p.echo[key] = v;
        break;
      case "user":
        init.user = str(v, key);
        p.echo[key] = v;
        break;
      case "safety_identifier":
        // OpenAI's successor of `user` (an end-user id for abuse monitoring): `user` wins when both come.
        if (body["user"] == null) init.user = str(v, key);
        p.echo[key] = v;
        break;
      case "metadata":
        init.metadata = metadata(v);
        p.echo[key] = v;
        break;
      case "parallel_tool_calls":
        // Accepted: providers call tools in parallel when they can; the contract has no switch.
        p.echo[key] = bool(v, key);
        break;
      case "truncation":
        init.contextOverflow =
          oneOf(v, key, ["auto", "disabled"]) === "auto" ? ContextOverflow.TRIM : ContextOverflow.REJECT;
        p.echo[key] = v;
        break;
      case "tools":
        init.tools = tools(v);
        p.echo[key] = v;
        break;
      case "tool_choice": {
        const c = toolChoice(v, policy);
        if (c) init.toolChoice = c;
        p.echo[key] = v;
        break;
      }
      case "text": {
        const rf = textFormat(v, policy);
        if (rf) init.responseFormat = rf;
        p.echo[key] = v;
        break;
      }
      case "reasoning":
        init.reasoning = reasoning(v, policy);
        p.echo[key] = v;
        break;
      default:
        if (commonParam(init, key, v)) {
          if (key === "temperature" || key === "top_p") p.echo[key] = v;
          break;
        }
        if (HINTS.has(key)) break;
        if (DEFAULTS.has(key)) {
          if (DEFAULTS.get(key) !== v) refuse(key, policy);
        } else if (UNSUPPORTED.has(key)) refuse(key, policy);
        else refuse(key, policy, "is not a Responses API parameter the gateway knows");
    }
  }
  if (!hasInput && p.previousResponseId === undefined) throw invalid("input", "is required");
  return p;
}

/** The ChatRequest for parsed options and the expanded input items (instructions first). */
export function chatRequestOf(
  p: ParsedResponses,
  items: readonly unknown[],
  policy: ParamPolicy,
): ChatRequest {
  const messages = itemsToMessages(items, policy);
  if (p.instructions !== undefined) {
    messages.unshift({ role: Role.SYSTEM, content: [{ part: { case: "text", value: p.instructions } }] });
  }
  if (messages.length === 0) throw invalid("input", "must hold at least one item");
  return create(ChatRequestSchema, { ...p.init, messages });
}
