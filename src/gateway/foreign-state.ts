// Foreign reasoning state: a Reasoning part or a ToolCall signature made by one wire format means
// nothing to another (an Anthropic thinking signature is rejected by Gemini, and vice versa). Before
// a request goes to a deployment, state whose `provider` is not the deployment's wire format is
// dropped — copy-on-write, so a fallback back to the original wire still sees it — with one log line.
import type { ChatRequest, ContentPart, Message, ToolCall } from "../../gen/llmgateway/v1/llm_pb.js";
import type { Logger } from "../lib/logger.js";
import type { Deployment } from "../routing/index.js";

/** What was dropped from one request for one wire format. */
export interface Dropped {
  /** Reasoning parts removed. */
  reasoning: number;
  /** ToolCall signatures cleared. */
  signatures: number;
}

function foreignIn(m: Message, wire: string): boolean {
  for (const c of m.content) {
    if (c.part.case === "reasoning" && c.part.value.provider !== wire) return true;
  }
  for (const t of m.toolCalls) if (t.signature !== "" && t.signatureProvider !== wire) return true;
  return false;
}

/**
 * `req` as wire format `wire` may receive it: the same object when nothing is foreign (the common
 * case costs one scan, no allocation), else a shallow copy whose changed messages are copies too.
 */
export function withoutForeignState(req: ChatRequest, wire: string): { req: ChatRequest; dropped: Dropped } {
  const dropped: Dropped = { reasoning: 0, signatures: 0 };
  let messages: Message[] | undefined;
  for (let i = 0; i < req.messages.length; i++) {
    const m = req.messages[i] as Message;
    if (!foreignIn(m, wire)) continue;
    messages ??= req.messages.slice();
    const content: ContentPart[] = [];
    for (const c of m.content) {
      if (c.part.case === "reasoning" && c.part.value.provider !== wire) dropped.reasoning++;
      else content.push(c);
    }
    const toolCalls = m.toolCalls.map((t): ToolCall => {
      if (t.signature === "" || t.signatureProvider === wire) return t;
      dropped.signatures++;
      return { ...t, signature: "", signatureProvider: "" };
    });
    messages[i] = { ...m, content, toolCalls };
  }
  if (messages === undefined) return { req, dropped };
  return { req: { ...req, messages }, dropped };
}

/** Per request: the filtered copy for each deployment already prepared (retries reuse it, one log line). */
const prepared = new WeakMap<ChatRequest, Map<string, ChatRequest>>();

/**
 * The request deployment `d` gets: foreign reasoning state dropped for its wire format
 * (`d.provider.type`), logged once per request and deployment (counts, never content).
 */
export function forDeployment(req: ChatRequest, d: Deployment, log: Logger, requestId: string): ChatRequest {
  const wire = d.provider.type;
  let byTarget = prepared.get(req);
  const hit = byTarget?.get(d.target);
  if (hit !== undefined) return hit;
  const out = withoutForeignState(req, wire);
  if (out.req !== req) {
    byTarget ??= new Map();
    prepared.set(req, byTarget);
    byTarget.set(d.target, out.req);
    log.info(
      {
        rid: requestId,
        deployment: d.target,
        wire,
        dropped_reasoning: out.dropped.reasoning,
        dropped_signatures: out.dropped.signatures,
      },
      "foreign reasoning state dropped",
    );
  }
  return out.req;
}
