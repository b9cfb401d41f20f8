// The context window of the deployment that answers: the pre-flight check (prompt + max_tokens against
// the catalog's window, before any upstream call: a fast estimate on every call, the exact BPE count
// only when the estimate comes within a margin of the window), and context_overflow TRIM — the request
// refitted to each deployment's own window (context-trim.ts), always from the original request.
import {
  type ChatRequest,
  ContextOverflow,
  type ContextTrim,
  type Message,
} from "../../gen/llmgateway/v1/llm_pb.js";
import { type CatalogEntry, countPromptTokens, estimateTokens } from "../catalog/index.js";
import type { ModelPolicy } from "../config/index.js";
import { GatewayError } from "../errors.js";
import type { Deployment } from "../routing/index.js";
import type { Call } from "./call.js";
import { type Trimmed, trimToFit } from "./context-trim.js";

/** Below this share of the window the estimate alone clears the call. */
const SAFE_SHARE = 0.85;
/** For models without an exact tokenizer, the estimate must exceed the window by this much to refuse. */
const ESTIMATE_SLACK = 1.25;
/** Exact-tokenizer models: how many times the estimate's scale is corrected to the exact count. */
const EXACT_REFITS = 4;

function toolChars(req: ChatRequest): number {
  let n = 0;
  for (const t of req.tools) n += t.name.length + t.description.length + t.parametersJson.length;
  return n;
}

function refuse(entry: CatalogEntry, tokens: number, exact: boolean, out: number): GatewayError {
  const how = exact ? "" : " (estimated)";
  return new GatewayError(
    "INVALID_ARGUMENT",
    "CONTEXT_LENGTH_EXCEEDED",
    `prompt of ${tokens} tokens${how} + max_tokens ${out} exceeds the context window of ${entry.id} (${entry.contextWindow} tokens)`,
    {
      metadata: {
        model: entry.id,
        prompt_tokens: String(tokens),
        max_tokens: String(out),
        context_window: String(entry.contextWindow),
      },
    },
  );
}

/**
 * Throws CONTEXT_LENGTH_EXCEEDED (with the numbers) when the request cannot fit the model's window.
 * Returns undefined when the estimate settles it, a promise only when an exact count is needed.
 */
export function checkContextWindow(
  entry: CatalogEntry | undefined,
  req: ChatRequest,
): Promise<void> | undefined {
  if (!entry?.contextWindow) return undefined;
  const window = entry.contextWindow;
  const out = req.maxTokens ?? 0;
  const estimate = estimateTokens(req.messages, toolChars(req));
  if (estimate + out <= window * SAFE_SHARE) return undefined;
  if (entry.tokenizer === "estimate") {
    if (estimate + out > window * ESTIMATE_SLACK) throw refuse(entry, estimate, false, out);
    return undefined;
  }
  return countPromptTokens(entry, req.messages, req.tools).then((r) => {
    if (r.tokens + out > window) throw refuse(entry, r.tokens, r.exact, out);
  });
}

/** What a call does with a prompt over the window. */
export type OverflowMode = "reject" | "trim";

/** The request's context_overflow when it sets one, else the requested model's configured policy. */
export function overflowMode(req: ChatRequest, configured: OverflowMode): OverflowMode {
  switch (req.contextOverflow) {
    case ContextOverflow.TRIM:
      return "trim";
    case ContextOverflow.REJECT:
      return "reject";
    default:
      return configured;
  }
}

/** A request fitted to one window: trimmed (with what was removed) or as it came. */
type Fitted = Trimmed | { request: ChatRequest; trim?: undefined };

/**
 * The answer's room in a trimmed prompt: max_tokens, else the default output reserve
 * (limits.default_output_reserve) but at most a quarter of the window.
 */
export function outputReserve(req: ChatRequest, window: number, defaultReserve: number): number {
  return req.maxTokens ?? Math.min(defaultReserve, Math.floor(window / 4));
}

/**
 * Fits `req` to `entry`'s window (TRIM). Unchanged when it fits with the output reserve; trimmed when
 * trimming can make it fit; otherwise as the check decides today (refused, or sent as it is).
 */
export function fitToWindow(
  entry: CatalogEntry | undefined,
  req: ChatRequest,
  defaultReserve: number,
): Fitted | Promise<Fitted> {
  if (!entry?.contextWindow) return { request: req };
  const window = entry.contextWindow;
  const reserve = outputReserve(req, window, defaultReserve);
  const tools = toolChars(req);
  const estimate = (ms: readonly Message[]) => estimateTokens(ms, tools);
  const est = estimate(req.messages);
  if (est + reserve <= window * SAFE_SHARE) return { request: req };
  if (entry.tokenizer !== "estimate") return fitExact(entry, req, reserve, estimate, est);
  if (est + reserve <= window) return { request: req };
  const t = trimToFit(req, { window, reserve, count: estimate });
  if (t) return t;
  void checkContextWindow(entry, req); // synchronous for estimated models: throws, or lets it go as today
  return { request: req };
}

/**
 * An exact-tokenizer model: the trim runs on the estimate scaled to the exact count, then the exact
 * count of the result is checked; a miss raises the scale and trims the original again.
 */
async function fitExact(
  entry: CatalogEntry,
  req: ChatRequest,
  reserve: number,
  estimate: (ms: readonly Message[]) => number,
  est: number,
): Promise<Fitted> {
  const window = entry.contextWindow;
  const exact = async (ms: readonly Message[]) => (await countPromptTokens(entry, ms, req.tools)).tokens;
  const before = await exact(req.messages);
  if (before + reserve <= window) return { request: req };
  let scale = before / Math.max(est, 1);
  for (let i = 0; i < EXACT_REFITS; i++) {
    const s = scale;
    const t = trimToFit(req, { window, reserve, count: (ms) => Math.ceil(estimate(ms) * s) });
    if (!t) break;
    const after = await exact(t.request.messages);
    if (after + reserve <= window) {
      t.trim.inputTokensBefore = before;
      t.trim.inputTokensAfter = after;
      return t;
    }
    scale *= after / Math.max(t.trim.inputTokensAfter, 1);
  }
  await checkContextWindow(entry, req);
  return { request: req };
}

/**
 * One call's context-window handling across its plan. REJECT: the check on the plan's first deployment,
 * as before. TRIM: each deployment gets the original request fitted to its own window (once, kept for
 * retries and hedges); what was trimmed for each is on the call (`Call.contextTrims`) for GatewayInfo.
 */
export class ContextFit {
  private mode: OverflowMode = "reject";
  /** TRIM only (a REJECT call allocates neither): per deployment, its request and what was trimmed. */
  private fitted: Map<Deployment, Fitted | Promise<Fitted>> | undefined;
  private trims: Map<Deployment, ContextTrim> | undefined;

  constructor(
    private readonly req: ChatRequest,
    private readonly entryFor: (d: Deployment) => CatalogEntry | undefined,
    private readonly defaultReserve: number,
  ) {}

  /** Before anything is held: settles the mode, then checks (or fits) the plan's first deployment. */
  preflight(first: Deployment, policy: ModelPolicy, call: Call): Promise<void> | undefined {
    this.mode = overflowMode(this.req, policy.contextOverflow);
    if (this.mode === "reject") return checkContextWindow(this.entryFor(first), this.req);
    this.fitted = new Map();
    this.trims = new Map();
    call.contextTrims = this.trims;
    const f = this.fit(first);
    return f instanceof Promise ? f.then(() => undefined) : undefined;
  }

  /** Calls `send` with the request for `d`: the original, or (TRIM) the original fitted to d's window. */
  send<T>(d: Deployment, send: (req: ChatRequest) => Promise<T>): Promise<T> {
    if (this.mode === "reject") return send(this.req);
    const f = this.fit(d);
    return f instanceof Promise ? f.then((x) => send(x.request)) : send(f.request);
  }

  private fit(d: Deployment): Fitted | Promise<Fitted> {
    this.fitted ??= new Map();
    const have = this.fitted.get(d);
    if (have) return have;
    const f = fitToWindow(this.entryFor(d), this.req, this.defaultReserve);
    this.fitted.set(d, f);
    if (f instanceof Promise)
      void f.then(
        (x) => this.note(d, x),
        () => undefined,
      );
    else this.note(d, f);
    return f;
  }

  private note(d: Deployment, f: Fitted): void {
    if (f.trim && (f.trim.droppedMessages > 0 || f.trim.cutChars > 0)) this.trims?.set(d, f.trim);
  }
}
