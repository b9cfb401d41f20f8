// The token-bucket algorithm as one atomic Lua script per decision, on Redis TIME. Keys are
// hash-tagged per subject ({rl:k:<digest>}:r / :t / :c) so one subject's keys share a Cluster slot.
// Fractions travel as strings (Redis truncates Lua numbers to integers). An acquire carries a
// "not after" instant in Redis time: if a timed-out command reaches Redis late (a frozen server
// thawing), it does nothing.
import type { RedisLink, ScriptDef } from "../redis/client.js";
import { levelsOf } from "./memory.js";
import { type Decision, type LimitStore, type Subject, WINDOW_MS } from "./types.js";

const LEVEL = `
local function level(key, cap, now)
  if cap <= 0 then return nil end
  local v = redis.call('HMGET', key, 'v', 't')
  local tokens = tonumber(v[1])
  if tokens == nil then return cap end
  local ts = tonumber(v[2]) or now
  return math.min(cap, tokens + math.max(0, now - ts) * cap / ${WINDOW_MS})
end
local function store(key, cap, lvl, now)
  redis.call('HSET', key, 'v', tostring(lvl), 't', tostring(now))
  redis.call('PEXPIRE', key, math.ceil((cap - lvl) * ${WINDOW_MS} / cap) + 1000)
end
`;

/** KEYS: requests, tokens, leases. ARGV: rpm, tpm, concurrent, tokens, lease id, lease ttl ms, not-after ms. */
const ACQUIRE = `${LEVEL}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local notAfter = tonumber(ARGV[7])
if notAfter > 0 and now > notAfter then return {'expired'} end
local rpm, tpm, conc, need = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local r = level(KEYS[1], rpm, now)
local k = level(KEYS[2], tpm, now)
local rs, ks = tostring(r or ''), tostring(k or '')
if k and need > tpm then return {'too_large', '0', rs, ks} end
local wait, why = 0, ''
if r and r < 1 then wait = math.ceil((1 - r) * ${WINDOW_MS} / rpm); why = 'requests' end
if k and k < need then
  local w = math.ceil((need - k) * ${WINDOW_MS} / tpm)
  if w > wait or why == '' then wait = math.max(w, wait); why = 'tokens' end
end
if why ~= '' then return {why, tostring(wait), rs, ks} end
if conc > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  if redis.call('ZCARD', KEYS[3]) >= conc then return {'concurrency', '1000', rs, ks} end
  local ttl = tonumber(ARGV[6])
  redis.call('ZADD', KEYS[3], now + ttl, ARGV[5])
  redis.call('PEXPIRE', KEYS[3], math.ceil(ttl) + 1000)
end
if r then r = r - 1; store(KEYS[1], rpm, r, now) end
if k then k = k - need; store(KEYS[2], tpm, k, now) end
return {'ok', '0', tostring(r or ''), tostring(k or '')}
`;

/** KEYS: tokens, leases. ARGV: tpm, refund, lease id. */
const SETTLE = `${LEVEL}
if ARGV[3] ~= '' then redis.call('ZREM', KEYS[2], ARGV[3]) end
local tpm, refund = tonumber(ARGV[1]), tonumber(ARGV[2])
if tpm > 0 and refund ~= 0 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
  local k = level(KEYS[1], tpm, now)
  store(KEYS[1], tpm, math.min(tpm, k + refund), now)
end
return 'ok'
`;

export const LIMIT_SCRIPTS: ScriptDef[] = [
  { name: "llmgwAcquire", lua: ACQUIRE, numberOfKeys: 3 },
  { name: "llmgwSettle", lua: SETTLE, numberOfKeys: 2 },
];

type Scripted = {
  llmgwAcquire(...args: (string | number)[]): Promise<string[]>;
  llmgwSettle(...args: (string | number)[]): Promise<string>;
};

/** The Redis key names of a subject (hash-tagged). */
export function redisKeys(subjectId: string): { r: string; t: string; c: string } {
  const tag = `{rl:${subjectId}}`;
  return { r: `${tag}:r`, t: `${tag}:t`, c: `${tag}:c` };
}

const num = (s: string | undefined): number | undefined =>
  s === undefined || s === "" ? undefined : Number(s);

/** Thrown when a late acquire reached Redis after its caller had given up on it. */
export class ExpiredDecision extends Error {}

export class RedisStore implements LimitStore {
  constructor(private readonly link: RedisLink) {
    link.define(LIMIT_SCRIPTS);
  }

  async acquire(s: Subject, tokens: number, leaseId: string, leaseTtlMs: number): Promise<Decision> {
    const k = redisKeys(s.id);
    const rpm = s.spec.rpm ?? 0;
    const tpm = s.spec.tpm ?? 0;
    const off = this.link.clockOffsetMs;
    // Not after: our command timeout, in Redis time (plus slack for the clock estimate).
    const notAfter = off === undefined ? 0 : Date.now() + off + this.link.opts.commandTimeoutMs + 20;
    const out = await this.link.run((c) =>
      (c as unknown as Scripted).llmgwAcquire(
        k.r,
        k.t,
        k.c,
        rpm,
        tpm,
        s.spec.concurrent ?? 0,
        tokens,
        leaseId,
        leaseTtlMs,
        notAfter.toFixed(3),
      ),
    );
    const [what = "", wait, r, t] = out;
    if (what === "expired") throw new ExpiredDecision("the decision reached Redis too late");
    const levels = levelsOf(num(r), rpm, num(t), tpm);
    if (what === "ok") return { ok: true, levels };
    if (what === "requests" || what === "tokens" || what === "too_large" || what === "concurrency")
      return { ok: false, why: what, waitMs: Number(wait ?? 0), levels };
    throw new Error(`unexpected limiter reply ${what}`);
  }

  async settle(s: Subject, refund: number, leaseId: string): Promise<void> {
    const k = redisKeys(s.id);
    await this.link.run((c) =>
      (c as unknown as Scripted).llmgwSettle(k.t, k.c, s.spec.tpm ?? 0, refund, leaseId),
    );
  }
}
