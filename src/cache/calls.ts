// The cache as the pipeline uses it: look up, else join or lead a single flight whose leader stores the
// answer (independently of any client's connection), and say what happened (CacheStatus, age). Each
// caller gets its own copy of the answer, so stamping per-call gateway info on it is safe.

import { clone } from "@bufbuild/protobuf";
import {
  CacheStatus,
  type ChatResponse,
  ChatResponseSchema,
  type ChatStreamResponse,
  ChatStreamResponseSchema,
  type EmbedResponse,
  EmbedResponseSchema,
} from "../../gen/llmgateway/v1/llm_pb.js";
import type { Signal } from "../lib/cancel.js";
import type { CacheHit, ResponseCache } from "./cache.js";
import { SingleFlight } from "./flight.js";
import type { CachePolicy } from "./policy.js";
import { StreamFlights } from "./stream-flight.js";

/** What the cache did for a call: the status for GatewayInfo.cache, the age for cache_age_s. */
export interface CacheOutcome {
  status: CacheStatus;
  /** Age of a hit, whole seconds (0 on a miss). */
  ageS: number;
  /** A miss served by a call another caller started (coalesced; no upstream call of its own). */
  shared: boolean;
}

function hitStatus(hit: CacheHit): CacheStatus {
  return hit.level === "memory" ? CacheStatus.HIT_MEMORY : CacheStatus.HIT_REDIS;
}

const MISS = (shared: boolean): CacheOutcome => ({ status: CacheStatus.MISS, ageS: 0, shared });

async function* replay(events: ChatStreamResponse[]): AsyncGenerator<ChatStreamResponse> {
  yield* events;
}

/** Cached Chat, ChatStream and Embed over one ResponseCache; one instance per process. */
export class CachedCalls {
  private readonly chats = new SingleFlight<ChatResponse>();
  private readonly embeds = new SingleFlight<EmbedResponse>();
  private readonly streams = new StreamFlights<ChatStreamResponse>();

  constructor(readonly cache: ResponseCache) {}

  /** Misses in flight now (unary + streams), for health and tests. */
  get inFlight(): number {
    return this.chats.size + this.embeds.size + this.streams.size;
  }

  /** How many callers wait on the unary call in flight for `key` (0 when none is). */
  waiting(key: string): number {
    return this.chats.waiting(key) + this.embeds.waiting(key);
  }

  /**
   * A cached Chat. `call` is the upstream pipeline; it gets the shared flight's signal (aborted only when
   * every waiter has gone), never `signal`, which is this caller's own (its abort makes this caller leave).
   */
  async chat(
    key: string,
    policy: CachePolicy,
    signal: Signal | undefined,
    call: (signal: AbortSignal) => Promise<ChatResponse>,
  ): Promise<CacheOutcome & { response: ChatResponse }> {
    const hit = await this.cache.get(key);
    if (hit?.value.kind === "chat")
      return { response: hit.value.response, status: hitStatus(hit), ageS: hit.ageS, shared: false };
    const again = this.chats.has(key) ? undefined : this.cache.getMemory(key);
    if (again?.value.kind === "chat")
      return { response: again.value.response, status: hitStatus(again), ageS: again.ageS, shared: false };
    const shared = this.chats.has(key);
    const onValue = (v: ChatResponse) => {
      if (policy.store) void this.cache.set(key, { kind: "chat", response: v }, policy.ttlMs);
    };
    const v = await this.chats.run(key, call, { signal, onValue });
    return { response: clone(ChatResponseSchema, v), ...MISS(shared) };
  }

  /** A cached Embed; as `chat`. */
  async embed(
    key: string,
    policy: CachePolicy,
    signal: Signal | undefined,
    call: (signal: AbortSignal) => Promise<EmbedResponse>,
  ): Promise<CacheOutcome & { response: EmbedResponse }> {
    const hit = (await this.cache.get(key)) ?? (this.embeds.has(key) ? undefined : this.cache.getMemory(key));
    if (hit?.value.kind === "embed")
      return { response: hit.value.response, status: hitStatus(hit), ageS: hit.ageS, shared: false };
    const shared = this.embeds.has(key);
    const onValue = (v: EmbedResponse) => {
      if (policy.store) void this.cache.set(key, { kind: "embed", response: v }, policy.ttlMs);
    };
    const v = await this.embeds.run(key, call, { signal, onValue });
    return { response: clone(EmbedResponseSchema, v), ...MISS(shared) };
  }

  /**
   * A cached ChatStream. A hit replays the stored events in order; a miss reads the shared upstream stream
   * (from its first event, then live). Events are this caller's copies. Only a stream that ended with `end`
   * is stored. Use a key made with mode "stream".
   */
  async chatStream(
    key: string,
    policy: CachePolicy,
    signal: Signal | undefined,
    call: (signal: AbortSignal) => AsyncIterable<ChatStreamResponse>,
  ): Promise<CacheOutcome & { events: AsyncIterable<ChatStreamResponse> }> {
    const hit =
      (await this.cache.get(key)) ?? (this.streams.has(key) ? undefined : this.cache.getMemory(key));
    if (hit?.value.kind === "stream") {
      return { events: replay(hit.value.events), status: hitStatus(hit), ageS: hit.ageS, shared: false };
    }
    const shared = this.streams.has(key);
    const onComplete = (events: readonly ChatStreamResponse[]) => {
      if (!policy.store || events[events.length - 1]?.event.case !== "end") return;
      void this.cache.set(key, { kind: "stream", events: [...events] }, policy.ttlMs);
    };
    const copy = (e: ChatStreamResponse) => clone(ChatStreamResponseSchema, e);
    const events = this.streams.join(key, call, { signal, onComplete, copy });
    return { events, ...MISS(shared) };
  }
}
