// Rebuilds the assistant message a client would keep from a ChatStream, as a client must to continue
// a conversation: text, tool calls by index, and reasoning parts by reasoning_index (their text from
// Delta.reasoning, their provider state from Delta.reasoning_state).
import { create } from "@bufbuild/protobuf";
import {
  type ChatStreamResponse,
  ContentPartSchema,
  type Message,
  MessageSchema,
  type Reasoning,
  ReasoningSchema,
  Role,
  type StreamEnd,
  ToolCallSchema,
} from "../../gen/llmgateway/v1/llm_pb.js";

/** A part's state with its streamed text. */
function withText(state: Reasoning, text: string): Reasoning {
  const { signature, encryptedContent, redactedData, provider, id } = state;
  return create(ReasoningSchema, { text, signature, encryptedContent, redactedData, provider, id });
}

/** The rebuilt message and the stream's end event. */
export interface StreamedMessage {
  message: Message;
  end?: StreamEnd;
}

/**
 * Reasoning parts come first (in index order), then the text; a reasoning part without state is
 * plain reasoning text and is kept out of the message (nothing to send back).
 */
export function messageFromStream(events: ChatStreamResponse[]): StreamedMessage {
  let text = "";
  let end: StreamEnd | undefined;
  const reasoning = new Map<number, { text: string; state?: Reasoning }>();
  const calls = new Map<
    number,
    { id: string; name: string; args: string; signature: string; provider: string }
  >();
  for (const ev of events) {
    if (ev.event.case === "end") end = ev.event.value;
    if (ev.event.case !== "delta") continue;
    const d = ev.event.value;
    text += d.text;
    if (d.reasoning !== "" || d.reasoningState !== undefined) {
      const r = reasoning.get(d.reasoningIndex) ?? { text: "" };
      r.text += d.reasoning;
      if (d.reasoningState !== undefined) r.state = d.reasoningState;
      reasoning.set(d.reasoningIndex, r);
    }
    for (const f of d.toolCalls) {
      const c = calls.get(f.index) ?? { id: "", name: "", args: "", signature: "", provider: "" };
      c.id ||= f.id;
      c.name ||= f.name;
      c.args += f.argumentsDelta;
      c.signature ||= f.signature;
      c.provider ||= f.signatureProvider;
      calls.set(f.index, c);
    }
  }
  const content = [...reasoning.entries()]
    .sort(([a], [b]) => a - b)
    .filter(([, r]) => r.state !== undefined)
    .map(([, r]) =>
      create(ContentPartSchema, {
        part: { case: "reasoning", value: withText(r.state!, r.text) },
      }),
    );
  if (text !== "") content.push(create(ContentPartSchema, { part: { case: "text", value: text } }));
  const toolCalls = [...calls.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, c]) =>
      create(ToolCallSchema, {
        id: c.id,
        name: c.name,
        argumentsJson: c.args,
        signature: c.signature,
        signatureProvider: c.provider,
      }),
    );
  const message = create(MessageSchema, { role: Role.ASSISTANT, content, toolCalls });
  return end === undefined ? { message } : { message, end };
}
