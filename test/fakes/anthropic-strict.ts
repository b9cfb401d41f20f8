// What makes the Anthropic fake as strict as the real Messages API: signed thinking (an HMAC with a
// secret only the fake knows) that must come back unaltered and first in a tool-loop assistant
// turn, cache_control breakpoints with a prompt cache keyed by prefix hashes, document and
// redacted_thinking blocks, top_k, and stop sequences.
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";

type Json = Record<string, unknown>;

function isRecord(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function records(v: unknown): Json[] {
  return Array.isArray(v) ? v.filter(isRecord) : [];
}

/** Signs thinking text and redacted data as Anthropic does: only the fake can make a valid one. */
export class ThinkingSigner {
  private readonly secret = randomBytes(32);

  private mac(kind: string, text: string): Buffer {
    return createHmac("sha256", this.secret).update(`${kind}\0${text}`).digest();
  }

  private static same(a: Buffer, b: string): boolean {
    const got = Buffer.from(b, "base64");
    return got.length === a.length && timingSafeEqual(got, a);
  }

  /** The `signature` of a thinking block with this text. */
  sign(thinking: string): string {
    return this.mac("thinking", thinking).toString("base64");
  }

  verify(thinking: string, signature: string): boolean {
    return ThinkingSigner.same(this.mac("thinking", thinking), signature);
  }

  /** The `data` of a redacted_thinking block: an opaque payload and its MAC. */
  redacted(): string {
    const payload = randomBytes(24).toString("base64");
    return `${payload}.${this.mac("redacted", payload).toString("base64")}`;
  }

  verifyRedacted(data: string): boolean {
    const dot = data.indexOf(".");
    return dot > 0 && ThinkingSigner.same(this.mac("redacted", data.slice(0, dot)), data.slice(dot + 1));
  }
}

/** Whether the request turns extended thinking on (`enabled` with a budget, or `adaptive`). */
export function thinkingEnabled(body: unknown): boolean {
  const t = isRecord(body) ? body["thinking"] : undefined;
  return isRecord(t) && (t["type"] === "enabled" || t["type"] === "adaptive");
}

const MISSING_THINKING =
  "When `thinking` is enabled, a final `assistant` message must start with a thinking block " +
  "(preceeding the lastmost set of `tool_use` and `tool_result` blocks). We recommend you include " +
  "thinking blocks from previous turns. To avoid this requirement, disable `thinking`. Please " +
  "consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking";

/**
 * With thinking on: every thinking block must carry the signature the fake gave its text (and
 * redacted data must be the fake's), and the assistant turn a tool loop continues (the last one,
 * with tool_use, answered by tool_result) must start with its thinking. Anthropic's 400 message,
 * or undefined.
 */
export function checkThinkingHistory(body: unknown, signer: ThinkingSigner): string | undefined {
  if (!thinkingEnabled(body)) return undefined;
  const messages = records(isRecord(body) ? body["messages"] : undefined);
  for (const [i, m] of messages.entries()) {
    for (const [j, b] of records(m["content"]).entries()) {
      const at = `messages.${i}.content.${j}`;
      if (b["type"] === "thinking") {
        const text = b["thinking"];
        const sig = b["signature"];
        if (typeof text !== "string") return `${at}.thinking.thinking: Field required`;
        if (typeof sig !== "string") return `${at}.thinking.signature: Field required`;
        if (!signer.verify(text, sig)) return `${at}: Invalid \`signature\` in \`thinking\` block`;
      } else if (b["type"] === "redacted_thinking") {
        const data = b["data"];
        if (typeof data !== "string" || !signer.verifyRedacted(data)) {
          return `${at}: Invalid \`data\` in \`redacted_thinking\` block`;
        }
      }
    }
  }
  const last = messages[messages.length - 1];
  const loop = last?.["role"] === "user" && records(last["content"]).some((b) => b["type"] === "tool_result");
  const a = messages.length - 2;
  const turn = messages[a];
  if (!loop || turn?.["role"] !== "assistant") return undefined;
  const blocks = records(turn["content"]);
  if (!blocks.some((b) => b["type"] === "tool_use")) return undefined;
  const first = blocks[0]?.["type"];
  if (first === "thinking" || first === "redacted_thinking") return undefined;
  return `messages.${a}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${String(first)}\`. ${MISSING_THINKING}`;
}

/** One element of the prompt in Anthropic's processing order (tools, system, messages). */
interface PromptElement {
  where: string;
  /** Its JSON without cache_control: what the cache key and the token count see. */
  text: string;
  cache?: { ttl: "5m" | "1h" };
}

const CACHE_TTLS = new Set(["5m", "1h"]);

function element(where: string, v: Json, extra: Json = {}): PromptElement | string {
  const { cache_control: cc, ...rest } = v;
  const out: PromptElement = { where, text: JSON.stringify({ ...extra, ...rest }) };
  if (cc === undefined || cc === null) return out;
  if (!isRecord(cc) || cc["type"] !== "ephemeral")
    return `${where}.cache_control.type: Input should be 'ephemeral'`;
  const ttl = cc["ttl"] ?? "5m";
  if (typeof ttl !== "string" || !CACHE_TTLS.has(ttl)) {
    return `${where}.cache_control.ttl: Input should be '5m' or '1h'`;
  }
  out.cache = { ttl: ttl as "5m" | "1h" };
  return out;
}

/** The request as prompt elements in cache order, or Anthropic's 400 message for a bad breakpoint. */
export function promptElements(body: unknown): PromptElement[] | string {
  const out: PromptElement[] = [];
  const push = (e: PromptElement | string): string | undefined => {
    if (typeof e === "string") return e;
    out.push(e);
    return undefined;
  };
  const b = isRecord(body) ? body : {};
  for (const [i, t] of records(b["tools"]).entries()) {
    const err = push(element(`tools.${i}`, t));
    if (err !== undefined) return err;
  }
  const system = b["system"];
  if (typeof system === "string") out.push({ where: "system", text: JSON.stringify(system) });
  for (const [i, s] of records(system).entries()) {
    const err = push(element(`system.${i}`, s));
    if (err !== undefined) return err;
  }
  for (const [i, m] of records(b["messages"]).entries()) {
    const content = m["content"];
    if (typeof content === "string") out.push({ where: `messages.${i}`, text: JSON.stringify(m) });
    for (const [j, block] of records(content).entries()) {
      const err = push(element(`messages.${i}.content.${j}`, block, { role: m["role"] }));
      if (err !== undefined) return err;
    }
  }
  const marks = out.filter((e) => e.cache !== undefined);
  if (marks.length > 4) {
    return `A maximum of 4 blocks with cache_control may be provided. Found ${marks.length}.`;
  }
  const firstShort = marks.findIndex((e) => e.cache?.ttl === "5m");
  const lateLong = marks.findIndex((e, k) => k > firstShort && e.cache?.ttl === "1h");
  if (firstShort >= 0 && lateLong >= 0) {
    return `${marks[lateLong]!.where}.cache_control: a ttl='1h' cache_control block must not come after a ttl='5m' cache_control block. Note that blocks are processed in the following order: \`tools\`, \`system\`, \`messages\`.`;
  }
  return out;
}

/** Usage fields a request with cache breakpoints reports. */
export interface CacheUsage {
  input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
  cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
}

const tokens = (chars: number): number => Math.ceil(chars / 4);

/**
 * A prompt cache: each breakpoint's prefix (model + elements up to it) is stored by hash. A request
 * reads the longest stored prefix and writes the rest up to its last breakpoint; what follows the
 * last breakpoint is plain input. No minimum length and no expiry: tests control what is cached.
 */
export class PromptCache {
  private readonly stored = new Set<string>();

  clear(): void {
    this.stored.clear();
  }

  /** Undefined when the request has no breakpoint (the fake's other usage rules apply). */
  account(model: string, elements: PromptElement[]): CacheUsage | undefined {
    const hash = createHash("sha256").update(model);
    let chars = 0;
    const marks: { key: string; tokens: number; ttl: "5m" | "1h" }[] = [];
    for (const e of elements) {
      hash.update("\0").update(e.text);
      chars += e.text.length;
      if (e.cache !== undefined)
        marks.push({ key: hash.copy().digest("hex"), tokens: tokens(chars), ttl: e.cache.ttl });
    }
    if (marks.length === 0) return undefined;
    let hit = -1;
    for (let k = marks.length - 1; k >= 0; k--) {
      if (this.stored.has(marks[k]!.key)) {
        hit = k;
        break;
      }
    }
    const read = hit < 0 ? 0 : marks[hit]!.tokens;
    const created = { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 };
    for (let k = hit + 1; k < marks.length; k++) {
      const segment = marks[k]!.tokens - (k === 0 ? 0 : marks[k - 1]!.tokens);
      if (marks[k]!.ttl === "1h") created.ephemeral_1h_input_tokens += segment;
      else created.ephemeral_5m_input_tokens += segment;
    }
    for (const m of marks) this.stored.add(m.key);
    const last = marks[marks.length - 1]!.tokens;
    return {
      input_tokens: Math.max(1, tokens(chars) - last),
      cache_read_input_tokens: read,
      cache_creation_input_tokens: last - read,
      cache_creation: created,
    };
  }
}

const DOC_SOURCES: Record<string, (s: Json) => boolean> = {
  base64: (s) => s["media_type"] === "application/pdf" && typeof s["data"] === "string",
  text: (s) => s["media_type"] === "text/plain" && typeof s["data"] === "string",
  url: (s) => typeof s["url"] === "string" && /^https?:\/\//.test(s["url"]),
};

function checkDocument(b: Json, at: string): string | undefined {
  const s = b["source"];
  if (!isRecord(s)) return `${at}.document.source: Field required`;
  const ok = DOC_SOURCES[String(s["type"])];
  if (ok === undefined)
    return `${at}.document.source: Input tag '${String(s["type"])}' found using 'type' does not match any of the expected tags: 'base64', 'text', 'content', 'url', 'file'`;
  if (!ok(s)) {
    return s["type"] === "url"
      ? `${at}.document.source.url: Input should be a valid URL`
      : `${at}.document.source.${String(s["type"])}.media_type: Input should be '${s["type"] === "text" ? "text/plain" : "application/pdf"}'`;
  }
  const title = b["title"];
  if (title !== undefined && title !== null && typeof title !== "string")
    return `${at}.document.title: Input should be a valid string`;
  return undefined;
}

/** Block shapes Anthropic checks (documents, thinking only from the assistant) and top_k. */
export function checkBlocks(body: unknown): string | undefined {
  const topK = isRecord(body) ? body["top_k"] : undefined;
  if (topK !== undefined && (typeof topK !== "number" || !Number.isInteger(topK) || topK < 0)) {
    return "top_k: Input should be a valid integer greater than or equal to 0";
  }
  for (const [i, m] of records(isRecord(body) ? body["messages"] : undefined).entries()) {
    for (const [j, b] of records(m["content"]).entries()) {
      const at = `messages.${i}.content.${j}`;
      const type = b["type"];
      if ((type === "thinking" || type === "redacted_thinking") && m["role"] !== "assistant") {
        return `${at}.type: \`${type}\` blocks are only allowed in \`assistant\` messages`;
      }
      if (type === "document") {
        if (m["role"] !== "user")
          return `${at}.type: \`document\` blocks are only allowed in \`user\` messages`;
        const err = checkDocument(b, at);
        if (err !== undefined) return err;
      }
      if (type === "tool_result") {
        for (const [k, inner] of records(b["content"]).entries()) {
          if (inner["type"] !== "document") continue;
          const err = checkDocument(inner, `${at}.content.${k}`);
          if (err !== undefined) return err;
        }
      }
    }
  }
  return undefined;
}

/** The answer text cut at the first stop sequence it contains, and which one. */
export function applyStopSequences(text: string, stops: unknown): { text: string; stop?: string } {
  let best: { at: number; stop: string } | undefined;
  for (const s of Array.isArray(stops) ? stops : []) {
    if (typeof s !== "string" || s === "") continue;
    const at = text.indexOf(s);
    if (at >= 0 && (best === undefined || at < best.at)) best = { at, stop: s };
  }
  return best === undefined ? { text } : { text: text.slice(0, best.at), stop: best.stop };
}
