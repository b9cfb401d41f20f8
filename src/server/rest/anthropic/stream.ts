// The contract's stream -> Anthropic's SSE events: message_start, then one content block at a time
// (content_block_start / _delta / _stop: text_delta, thinking_delta + signature_delta,
// input_json_delta; redacted_thinking whole), message_delta (stop_reason, usage), message_stop.
// A failure after the first event is an `event: error` and never a message_stop; `ping` while idle.
import type { ChatStreamResponse, Delta, FinishReason, Usage } from "../../../../gen/llmgateway/v1/llm_pb.js";
import { asGatewayError } from "../errors.js";
import { NATIVE } from "./content.js";
import { MESSAGE_FIXED, reasoningBlock, signatureOf, stopReason, toolUseId, usageJson } from "./response.js";

/** The block being streamed. */
type Open =
  | { kind: "thinking"; reasoning: number; signature: string }
  | { kind: "text" }
  | { kind: "tool"; call: number };

function event(name: string, payload: object): string {
  return `event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`;
}

/** One ping event (Anthropic's keep-alive; SDKs skip it). */
export const PING = 'event: ping\ndata: {"type":"ping"}\n\n';

/** Builds the events of one streamed answer from the contract's deltas, block by block. */
export class MessageEvents {
  private open: Open | undefined;
  private index = -1;
  private readonly doneCalls = new Set<number>();

  constructor(
    private readonly id: string,
    private readonly model: string,
  ) {}

  /** message_start; `inputTokens` is the gateway's estimate (the real counts come in message_delta). */
  start(inputTokens: number): string {
    const usage = {
      input_tokens: inputTokens,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: 0,
    };
    const message = {
      id: this.id,
      ...MESSAGE_FIXED,
      model: this.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage,
    };
    return event("message_start", { type: "message_start", message });
  }

  private begin(block: object, open: Open | undefined): string {
    this.open = open;
    this.index++;
    return event("content_block_start", {
      type: "content_block_start",
      index: this.index,
      content_block: block,
    });
  }

  private delta(delta: object): string {
    return event("content_block_delta", { type: "content_block_delta", index: this.index, delta });
  }

  /** Closes the open block (a thinking block's state goes out last, as Anthropic sends it). */
  private close(): string {
    const o = this.open;
    if (o === undefined) return "";
    let out = "";
    if (o.kind === "thinking" && o.signature !== "")
      out += this.delta({ type: "signature_delta", signature: o.signature });
    if (o.kind === "tool") this.doneCalls.add(o.call);
    this.open = undefined;
    return out + event("content_block_stop", { type: "content_block_stop", index: this.index });
  }

  private thinking(reasoning: number): string {
    const o = this.open;
    if (o?.kind === "thinking" && o.reasoning === reasoning) return "";
    return (
      this.close() +
      this.begin(
        { type: "thinking", thinking: "", signature: "" },
        { kind: "thinking", reasoning, signature: "" },
      )
    );
  }

  /** The events for one delta: reasoning text, its state, answer text, tool-call fragments, in that order. */
  next(d: Delta): string {
    let out = "";
    if (d.reasoning !== "")
      out += this.thinking(d.reasoningIndex) + this.delta({ type: "thinking_delta", thinking: d.reasoning });
    const st = d.reasoningState;
    if (st !== undefined) {
      if (st.provider === NATIVE && st.redactedData !== "") {
        out += this.close() + this.begin(reasoningBlock(st), undefined);
        out += event("content_block_stop", { type: "content_block_stop", index: this.index });
      } else {
        out += this.thinking(d.reasoningIndex);
        if (this.open?.kind === "thinking") this.open.signature = signatureOf(st);
      }
    }
    if (d.text !== "") {
      if (this.open?.kind !== "text")
        out += this.close() + this.begin({ type: "text", text: "", citations: null }, { kind: "text" });
      out += this.delta({ type: "text_delta", text: d.text });
    }
    for (const t of d.toolCalls) {
      const o = this.open;
      if (o?.kind !== "tool" || o.call !== t.index) {
        // Anthropic blocks cannot be reopened: a fragment of a finished call cannot be streamed.
        if (this.doneCalls.has(t.index))
          throw new Error(`tool call ${t.index} resumed after another block began`);
        out += this.close();
        // A call's state (Gemini thought signature) rides in its id; providers send it on the
        // call's first fragment (a later one cannot change an id already sent: README limits).
        const id = toolUseId(t.id, t.signature, t.signatureProvider);
        out += this.begin({ type: "tool_use", id, name: t.name, input: {} }, { kind: "tool", call: t.index });
      }
      if (t.argumentsDelta !== "")
        out += this.delta({ type: "input_json_delta", partial_json: t.argumentsDelta });
    }
    return out;
  }

  /** Closes the last block, then message_delta (stop reason, final usage) and message_stop. */
  end(finish: FinishReason, usage: Usage | undefined, stopSequence: string): string {
    const delta = {
      stop_reason: stopReason(finish, stopSequence),
      stop_sequence: stopSequence === "" ? null : stopSequence,
      stop_details: null,
    };
    return (
      this.close() +
      event("message_delta", { type: "message_delta", delta, usage: usageJson(usage) }) +
      event("message_stop", { type: "message_stop" })
    );
  }
}

/** Where the event text goes; `wait` resolves when the writer can take more. */
export interface EventSink {
  /** Opens the answer (status + headers) for the stream's provider. */
  open(provider: string): void;
  write(text: string): Promise<void> | undefined;
  end(text: string): void;
  /** The client left: stop reading the gateway's stream. */
  gone(): boolean;
  /** A failure before anything was written: a plain HTTP error answer. */
  fail(e: unknown): void;
  /** The payload of an in-stream `event: error` for a failure after the first event. */
  errorPayload(e: unknown): string;
}

/**
 * Pipes the gateway's stream into a sink. `pingMs`: a ping goes out when nothing was written for
 * between one and two periods. `inputTokens`: the estimate message_start carries.
 */
export async function pipeMessages(
  source: AsyncIterable<ChatStreamResponse>,
  sink: EventSink,
  o: { id: (providerId: string) => string; model: string; inputTokens: number; pingMs: number },
): Promise<void> {
  let events: MessageEvents | undefined;
  let wrote = false;
  const timer = setInterval(() => {
    if (events && !wrote && !sink.gone()) void sink.write(PING);
    wrote = false;
  }, o.pingMs);
  timer.unref();
  try {
    for await (const msg of source) {
      if (sink.gone()) return; // leaving the loop ends the gateway's stream
      const ev = msg.event;
      wrote = true;
      if (ev.case === "start") {
        events = new MessageEvents(o.id(ev.value.id), o.model);
        sink.open(ev.value.provider);
        const w = sink.write(events.start(o.inputTokens));
        if (w) await w;
      } else if (ev.case === "delta" && events) {
        const text = events.next(ev.value);
        const w = text === "" ? undefined : sink.write(text);
        if (w) await w;
      } else if (ev.case === "end" && events) {
        sink.end(events.end(ev.value.finishReason, ev.value.usage, ev.value.stopSequence));
        return;
      }
    }
    throw new Error("the gateway's stream ended without an end event");
  } catch (e: unknown) {
    if (sink.gone()) return;
    if (!events) sink.fail(e);
    else sink.end(`event: error\ndata: ${sink.errorPayload(asGatewayError(e))}\n\n`);
  } finally {
    clearInterval(timer);
  }
}
