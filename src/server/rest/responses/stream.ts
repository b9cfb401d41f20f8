// The Responses API's SSE events for one streamed answer: `event: <type>` + JSON with a
// sequence_number, in the order the openai SDK's ResponseStream accumulates them (created,
// in_progress, output_item.added, content_part.added, deltas, *.done, output_item.done, completed).
// A failure after the start is an `error` event then `response.failed`: never a success.
import type { Delta, StreamEnd } from "../../../../gen/llmgateway/v1/llm_pb.js";
import { itemId, packCallId } from "./ids.js";
import {
  incompleteOf,
  itemJson,
  mustPack,
  type OutputItem,
  type ResponseHead,
  responseJson,
  stateOf,
} from "./response.js";

type Reasoning = Extract<OutputItem, { kind: "reasoning" }>;
type Message = Extract<OutputItem, { kind: "message" }>;
type Call = Extract<OutputItem, { kind: "call" }>;

/** Builds the event frames of one stream; `items` is the output so far (for the final Response). */
export class ResponseEvents {
  private seq = 0;
  readonly items: OutputItem[] = [];
  private readonly reasoning = new Map<number, Reasoning>();
  private openReasoning: Reasoning | undefined;
  private openMessage: Message | undefined;
  private readonly calls = new Map<number, Call>();
  private readonly openCalls: Call[] = [];

  constructor(
    private readonly head: ResponseHead,
    private readonly token: string,
  ) {}

  private ev(type: string, fields: Record<string, unknown>): string {
    const body = JSON.stringify({ type, ...fields, sequence_number: this.seq++ });
    return `event: ${type}\ndata: ${body}\n\n`;
  }

  private index(it: OutputItem): number {
    return this.items.indexOf(it);
  }

  /** response.created + response.in_progress. */
  start(): string {
    const r = responseJson(this.head, "in_progress", []);
    return this.ev("response.created", { response: r }) + this.ev("response.in_progress", { response: r });
  }

  private add(it: OutputItem): string {
    this.items.push(it);
    return this.ev("response.output_item.added", {
      output_index: this.items.length - 1,
      item: itemJson(it, "in_progress"),
    });
  }

  private closeReasoning(): string {
    const r = this.openReasoning;
    if (!r) return "";
    this.openReasoning = undefined;
    const base = { item_id: r.id, output_index: this.index(r), summary_index: 0 };
    let out = "";
    if (r.text !== "") {
      out += this.ev("response.reasoning_summary_text.done", { ...base, text: r.text });
      out += this.ev("response.reasoning_summary_part.done", {
        ...base,
        part: { type: "summary_text", text: r.text },
      });
    }
    return (
      out +
      this.ev("response.output_item.done", {
        output_index: base.output_index,
        item: itemJson(r, "completed"),
      })
    );
  }

  private closeMessage(status: "completed" | "incomplete"): string {
    const m = this.openMessage;
    if (!m) return "";
    this.openMessage = undefined;
    const base = { item_id: m.id, output_index: this.index(m), content_index: 0 };
    const part = { type: "output_text", text: m.text, annotations: [], logprobs: [] };
    return (
      this.ev("response.output_text.done", { ...base, text: m.text, logprobs: [] }) +
      this.ev("response.content_part.done", { ...base, part }) +
      this.ev("response.output_item.done", { output_index: base.output_index, item: itemJson(m, status) })
    );
  }

  private closeCalls(status: "completed" | "incomplete"): string {
    let out = "";
    for (const c of this.openCalls) {
      const output_index = this.index(c);
      out += this.ev("response.function_call_arguments.done", {
        item_id: c.id,
        output_index,
        name: c.name,
        arguments: c.args,
      });
      out += this.ev("response.output_item.done", { output_index, item: itemJson(c, status) });
    }
    this.openCalls.length = 0;
    return out;
  }

  private reasoningDelta(d: Delta): string {
    let out = "";
    let r = this.reasoning.get(d.reasoningIndex);
    if (!r) {
      out += this.closeMessage("completed") + this.closeReasoning();
      r = { kind: "reasoning", id: itemId("rs", this.token, this.items.length), text: "", state: undefined };
      this.reasoning.set(d.reasoningIndex, r);
      this.openReasoning = r;
      out += this.add(r);
    }
    const s = d.reasoningState;
    if (s) {
      r.state = stateOf(s);
      r.packAlways = mustPack(r.state);
    }
    if (d.reasoning !== "") {
      const base = { item_id: r.id, output_index: this.index(r), summary_index: 0 };
      if (r.text === "" && this.openReasoning === r) {
        out += this.ev("response.reasoning_summary_part.added", {
          ...base,
          part: { type: "summary_text", text: "" },
        });
      }
      r.text += d.reasoning;
      if (this.openReasoning === r)
        out += this.ev("response.reasoning_summary_text.delta", { ...base, delta: d.reasoning });
    }
    return out;
  }

  /** The frames of one delta. */
  delta(d: Delta): string {
    let out = d.reasoning !== "" || d.reasoningState ? this.reasoningDelta(d) : "";
    if (d.text !== "") {
      let m = this.openMessage;
      if (!m) {
        out += this.closeReasoning();
        m = { kind: "message", id: itemId("msg", this.token, this.items.length), text: "" };
        this.openMessage = m;
        out += this.add(m);
        out += this.ev("response.content_part.added", {
          item_id: m.id,
          output_index: this.index(m),
          content_index: 0,
          part: { type: "output_text", text: "", annotations: [], logprobs: [] },
        });
      }
      m.text += d.text;
      out += this.ev("response.output_text.delta", {
        item_id: m.id,
        output_index: this.index(m),
        content_index: 0,
        delta: d.text,
        logprobs: [],
      });
    }
    for (const t of d.toolCalls) {
      let c = this.calls.get(t.index);
      if (!c) {
        out += this.closeReasoning() + this.closeMessage("completed");
        c = {
          kind: "call",
          id: itemId("fc", this.token, this.items.length),
          callId: packCallId(t.id, t.signature, t.signatureProvider),
          name: t.name,
          args: "",
        };
        this.calls.set(t.index, c);
        this.openCalls.push(c);
        out += this.add(c);
      }
      // A signature on a later fragment: the call's final item (and the stored response) carry it.
      if (t.signature !== "" && !c.callId.includes("~")) {
        c.callId = packCallId(c.callId, t.signature, t.signatureProvider);
      }
      if (t.argumentsDelta !== "") {
        c.args += t.argumentsDelta;
        out += this.ev("response.function_call_arguments.delta", {
          item_id: c.id,
          output_index: this.index(c),
          delta: t.argumentsDelta,
        });
      }
    }
    return out;
  }

  /** Closes every open item; the final Response goes out with terminal() (after it is stored). */
  end(e: StreamEnd): { frames: string; response: Record<string, unknown> } {
    const incomplete = incompleteOf(e.finishReason);
    const status = incomplete ? "incomplete" : "completed";
    let out = this.closeReasoning() + this.closeMessage(status) + this.closeCalls(status);
    if (this.items.length === 0) {
      // An empty answer is still a message, as in a unary answer.
      this.openMessage = { kind: "message", id: itemId("msg", this.token, 0), text: "" };
      out += this.add(this.openMessage);
      out += this.ev("response.content_part.added", {
        item_id: this.openMessage.id,
        output_index: 0,
        content_index: 0,
        part: { type: "output_text", text: "", annotations: [], logprobs: [] },
      });
      out += this.closeMessage(status);
    }
    const response = responseJson(this.head, status, this.items, { usage: e.usage, incomplete });
    return { frames: out, response };
  }

  /** response.completed, or response.incomplete for an answer cut by a limit or a filter. */
  terminal(response: Record<string, unknown>): string {
    const type = response["status"] === "incomplete" ? "response.incomplete" : "response.completed";
    return this.ev(type, { response });
  }

  /** An `error` event, then response.failed (the answer is cut: never reported as complete). */
  fail(code: string, message: string, param: string | null): string {
    const response = responseJson(this.head, "failed", this.items, {
      error: { code: "server_error", message },
    });
    return this.ev("error", { code, message, param }) + this.ev("response.failed", { response });
  }
}
