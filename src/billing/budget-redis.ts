// Budget counters in Redis, shared by every replica: one atomic Lua script per operation (reserve,
// settle, status), keys hash-tagged per key id, lease expiry on Redis TIME.

import type { Micros } from "../lib/money.js";
import type { RedisLink, ScriptDef } from "../redis/client.js";
import { BUDGET_GRACE_MS, type BudgetCounts, type BudgetStore } from "./budget-memory.js";
import type { PeriodSpan } from "./period.js";

/** Releases expired leases (KEYS[1] hash, KEYS[2] leases) and returns spent, reserved. */
const RELEASE = `
local function release(now)
  local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
  for _, id in ipairs(gone) do
    local a = redis.call('HGET', KEYS[1], 'h:' .. id)
    if a then
      if a ~= '0' then redis.call('HINCRBY', KEYS[1], 'reserved', '-' .. a) end
      redis.call('HDEL', KEYS[1], 'h:' .. id)
      redis.call('HSET', KEYS[1], 'x:' .. id, a)
    end
  end
  if #gone > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now) end
  local v = redis.call('HMGET', KEYS[1], 'spent', 'reserved')
  return tonumber(v[1]) or 0, tonumber(v[2]) or 0
end
local function clock()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
end
`;

/** ARGV: limit, amount, hold id, lease ms, expire-at ms, not-after ms (Redis time; 0 = none). */
const RESERVE = `${RELEASE}
local now = clock()
local notAfter = tonumber(ARGV[6])
if notAfter > 0 and now > notAfter then return {'expired', 0, 0} end
local spent, reserved = release(now)
local amount = tonumber(ARGV[2])
if spent + reserved + amount > tonumber(ARGV[1]) then return {'exceeded', spent, reserved} end
redis.call('HINCRBY', KEYS[1], 'reserved', ARGV[2])
redis.call('HSET', KEYS[1], 'h:' .. ARGV[3], ARGV[2])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[3])
redis.call('PEXPIREAT', KEYS[1], ARGV[5])
redis.call('PEXPIREAT', KEYS[2], ARGV[5])
return {'ok', spent, reserved + amount}
`;

/** ARGV: hold id, actual. Idempotent: a hold neither held nor released was settled already. */
const SETTLE = `
local a = redis.call('HGET', KEYS[1], 'h:' .. ARGV[1])
if a then
  redis.call('HDEL', KEYS[1], 'h:' .. ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
  if a ~= '0' then redis.call('HINCRBY', KEYS[1], 'reserved', '-' .. a) end
elseif redis.call('HDEL', KEYS[1], 'x:' .. ARGV[1]) == 0 then
  return 0
end
redis.call('HINCRBY', KEYS[1], 'spent', ARGV[2])
return 1
`;

const STATUS = `${RELEASE}
local spent, reserved = release(clock())
return {spent, reserved}
`;

export const BUDGET_SCRIPTS: ScriptDef[] = [
  { name: "llmgwBudgetReserve", lua: RESERVE, numberOfKeys: 2 },
  { name: "llmgwBudgetSettle", lua: SETTLE, numberOfKeys: 2 },
  { name: "llmgwBudgetStatus", lua: STATUS, numberOfKeys: 2 },
];

type Scripted = {
  llmgwBudgetReserve(...args: (string | number)[]): Promise<[string, number, number]>;
  llmgwBudgetSettle(...args: (string | number)[]): Promise<number>;
  llmgwBudgetStatus(...args: (string | number)[]): Promise<[number, number]>;
};

/** Thrown when a reserve reached Redis after its caller had given up on it (it did nothing). */
export class LateReserve extends Error {
  override readonly name = "LateReserve";
}

/** The budget keys of one key id and period (hash-tagged by key id). */
export function budgetKeys(prefix: string, keyId: string, periodId: string): [hash: string, leases: string] {
  const hash = `${prefix}budget:{${keyId}}:${periodId}`;
  return [hash, `${hash}:leases`];
}

/**
 * Budget accounts in Redis. Per key and period, two keys in one Cluster slot:
 * `<prefix>budget:{<keyId>}:<period>`, a hash of spent, reserved, `h:<hold>` (amount held) and
 * `x:<hold>` (released by its lease, not settled yet), and `…:leases`, a ZSET of hold ids by lease
 * expiry; both expire an hour after the period. Amounts travel as integer strings. A reserve carries
 * a "not after" instant (its command timeout, in Redis time): one that reaches a thawing Redis after
 * its caller gave up does nothing (inside that slack it may still hold money until its lease ends,
 * which errs on the safe side). Settles are idempotent, so a settle can be retried safely.
 */
export class RedisBudgetStore implements BudgetStore {
  constructor(
    private readonly link: RedisLink,
    private readonly prefix: string,
  ) {
    link.define(BUDGET_SCRIPTS);
  }

  private scripted<T>(fn: (c: Scripted) => Promise<T>): Promise<T> {
    return this.link.run((c) => fn(c as unknown as Scripted));
  }

  async reserve(
    keyId: string,
    period: PeriodSpan,
    limit: Micros,
    amount: Micros,
    holdId: string,
    leaseMs: number,
  ): Promise<BudgetCounts & { ok: boolean }> {
    const [hash, leases] = budgetKeys(this.prefix, keyId, period.id);
    const off = this.link.clockOffsetMs;
    // Not after: our command timeout, in Redis time (plus slack for the clock estimate).
    const notAfter = off === undefined ? 0 : Date.now() + off + this.link.opts.commandTimeoutMs + 20;
    const expireAt = period.resetAt.getTime() + BUDGET_GRACE_MS;
    const [what, spent, reserved] = await this.scripted((c) =>
      c.llmgwBudgetReserve(
        hash,
        leases,
        limit,
        amount,
        holdId,
        Math.max(1, Math.ceil(leaseMs)),
        expireAt,
        notAfter.toFixed(0),
      ),
    );
    if (what === "expired") throw new LateReserve("the reservation reached Redis too late");
    if (what !== "ok" && what !== "exceeded") throw new Error(`unexpected budget reply ${what}`);
    return { ok: what === "ok", spentMicros: Number(spent), reservedMicros: Number(reserved) };
  }

  async settle(keyId: string, period: PeriodSpan, holdId: string, actual: Micros): Promise<void> {
    const [hash, leases] = budgetKeys(this.prefix, keyId, period.id);
    await this.scripted((c) => c.llmgwBudgetSettle(hash, leases, holdId, actual));
  }

  async status(keyId: string, period: PeriodSpan): Promise<BudgetCounts> {
    const [hash, leases] = budgetKeys(this.prefix, keyId, period.id);
    const [spent, reserved] = await this.scripted((c) => c.llmgwBudgetStatus(hash, leases));
    return { spentMicros: Number(spent), reservedMicros: Number(reserved) };
  }
}
