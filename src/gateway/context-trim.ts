// context_overflow TRIM, as a pure function: drops the oldest turns after the system prompt(s) (an
// assistant's tool calls with the tool results answering them, reasoning parts with their message),
// then cuts the middle of the longest user text with a visible marker, until the prompt fits.
import {
  type ChatRequest,
  type ContentPart,
  type ContextTrim,
  ContextTrimSchema,
  type Message,
  Role,
} from "../../gen/llmgateway/v1/llm_pb.js";
import { create } from "../lib/create.js";

/** What the prompt must fit, and how its tokens are counted. */
export interface TrimLimits {
  /** Context window (tokens) of the deployment the request is fitted to. */
  window: number;
  /** Tokens kept free for the answer (max_tokens, or the default output reserve). */
  reserve: number;
  /** Prompt tokens of these messages, tools included: the estimator the window check uses. */
  count: (messages: readonly Message[]) => number;
}

/** A request that fits, and what was removed from it (zeros when nothing had to be). */
export interface Trimmed {
  request: ChatRequest;
  trim: ContextTrim;
}

/** Characters always kept at each end of a cut text. */
export const KEEP_EDGE_CHARS = 64;

/** The visible marker that replaces `n` characters cut from the middle of a text. */
export function cutMarker(n: number): string {
  return `\n[... ${n} characters trimmed by the gateway ...]\n`;
}

/**
 * Fits `req` into `limits.window - limits.reserve` tokens: drops the fewest oldest units (see `units`),
 * then cuts user texts, longest first. Never drops a system message, the last user message or the
 * latest message(s) the model answers. Undefined when even that minimum does not fit.
 */
export function trimToFit(req: ChatRequest, limits: TrimLimits): Trimmed | undefined {
  const budget = limits.window - limits.reserve;
  const all = req.messages;
  const before = limits.count(all);
  const done = (messages: readonly Message[], dropped: number, cut: number): Trimmed => ({
    request: dropped === 0 && cut === 0 ? req : { ...req, messages: [...messages] },
    trim: create(ContextTrimSchema, {
      droppedMessages: dropped,
      cutChars: cut,
      inputTokensBefore: before,
      inputTokensAfter: limits.count(messages),
      contextWindow: limits.window,
    }),
  });
  if (before <= budget) return done(all, 0, 0);
  if (budget <= 0) return undefined;
  const drops = units(all);
  // The fewest units to drop (oldest first): the count only falls as more go, so a binary search.
  const keptAfter = (k: number): Message[] => without(all, drops, k);
  let lo = 0;
  let hi = drops.length;
  if (limits.count(keptAfter(hi)) <= budget) {
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (limits.count(keptAfter(mid)) <= budget) hi = mid;
      else lo = mid + 1;
    }
    const kept = keptAfter(lo);
    return done(kept, all.length - kept.length, 0);
  }
  const kept = keptAfter(drops.length);
  const cut = cutUserTexts(kept, budget, limits.count);
  if (cut === undefined) return undefined;
  return done(cut.messages, all.length - kept.length, cut.chars);
}

/** A run of message indexes dropped together. */
type Unit = readonly number[];

/**
 * What may be dropped, oldest first. Groups: an assistant message with tool calls and the ROLE_TOOL
 * messages right after it answering those calls; any other message alone; system messages never.
 * Before the last user message whole turns go (a user message and every group up to the next one), so
 * the conversation still opens with a user message; after it, single groups (an agent's older tool
 * rounds), but never the last group — the message(s) the model answers now.
 */
function units(messages: readonly Message[]): Unit[] {
  const groups: number[][] = [];
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as Message;
    if (m.role === Role.SYSTEM) continue;
    const g = [i];
    if (m.role === Role.ASSISTANT && m.toolCalls.length > 0) {
      const ids = new Set(m.toolCalls.map((c) => c.id));
      while (i + 1 < messages.length) {
        const next = messages[i + 1] as Message;
        if (next.role !== Role.TOOL || !ids.has(next.toolCallId)) break;
        g.push(++i);
      }
    }
    groups.push(g);
  }
  const last = groups.length - 1;
  const isUser = (g: number) => messages[groups[g]?.[0] as number]?.role === Role.USER;
  let pivot = last;
  while (pivot >= 0 && !isUser(pivot)) pivot--;
  if (pivot < 0) pivot = last; // no user message: every group but the last one alone, oldest first
  const out: number[][] = [];
  for (let g = 0; g < pivot; g++) {
    const group = groups[g] as number[];
    const turn = out.at(-1);
    if (turn && !isUser(g) && isUser(pivot)) turn.push(...group);
    else out.push([...group]);
  }
  for (let g = pivot + 1; g < last; g++) out.push(groups[g] as number[]);
  return out;
}

/** The messages without the first `k` units. */
function without(messages: readonly Message[], drops: readonly Unit[], k: number): Message[] {
  if (k === 0) return [...messages];
  const gone = new Set<number>();
  const calls = new Set<string>();
  for (let u = 0; u < k; u++) {
    for (const i of drops[u] as Unit) {
      gone.add(i);
      for (const c of (messages[i] as Message).toolCalls) calls.add(c.id);
    }
  }
  // A result that did not sit right after its call (a malformed order) still goes with it.
  return messages.filter((m, i) => !gone.has(i) && !(m.role === Role.TOOL && calls.has(m.toolCallId)));
}

/** A text part of a user message: where it is and its text. */
interface UserText {
  msg: number;
  part: number;
  text: string;
}

/**
 * Cuts the middle of user texts, longest first, each once, by the fewest characters that make the
 * prompt fit (the whole middle of a text when that is not enough, then the next longest).
 */
function cutUserTexts(
  kept: readonly Message[],
  budget: number,
  count: TrimLimits["count"],
): { messages: Message[]; chars: number } | undefined {
  const texts: UserText[] = [];
  kept.forEach((m, msg) => {
    if (m.role !== Role.USER) return;
    m.content.forEach((p, part) => {
      if (p.part.case === "text") texts.push({ msg, part, text: p.part.value });
    });
  });
  texts.sort((a, b) => b.text.length - a.text.length);
  let messages = [...kept];
  let chars = 0;
  for (const t of texts) {
    const most = t.text.length - 2 * KEEP_EDGE_CHARS - cutMarker(t.text.length).length;
    if (most <= 0) break; // this text and every shorter one would only grow with a marker
    const withCut = (n: number) => replaceText(messages, t, cutMiddle(t.text, n));
    let lo = 1;
    let hi = most;
    if (count(withCut(hi).messages) <= budget) {
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (count(withCut(mid).messages) <= budget) hi = mid;
        else lo = mid + 1;
      }
      const fit = withCut(lo);
      if (count(fit.messages) <= budget) return { messages: fit.messages, chars: chars + fit.chars };
      // The marker's width (one more digit) made the count step back: cut the whole middle below.
    }
    const next = withCut(hi);
    messages = next.messages;
    chars += next.chars;
    if (count(messages) <= budget) return { messages, chars };
  }
  return undefined;
}

/** `text` without about `n` characters of its middle, which a marker replaces; never splits a surrogate pair. */
function cutMiddle(text: string, n: number): { text: string; chars: number } {
  const keep = text.length - n;
  let head = Math.floor(keep / 2);
  let tailStart = text.length - (keep - head);
  if (head > 0 && isHighSurrogate(text.charCodeAt(head - 1))) head--;
  if (tailStart < text.length && isLowSurrogate(text.charCodeAt(tailStart))) tailStart++;
  const chars = tailStart - head;
  return { text: text.slice(0, head) + cutMarker(chars) + text.slice(tailStart), chars };
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** `messages` with the text part at `t` replaced (new message and content arrays; the rest shared). */
function replaceText(
  messages: readonly Message[],
  t: UserText,
  cut: { text: string; chars: number },
): { messages: Message[]; chars: number } {
  const m = messages[t.msg] as Message;
  const content = m.content.map(
    (p, i): ContentPart => (i === t.part ? { ...p, part: { case: "text", value: cut.text } } : p),
  );
  const out = [...messages];
  out[t.msg] = { ...m, content };
  return { messages: out, chars: cut.chars };
}
