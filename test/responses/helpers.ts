// Shared by the stored-response suites: records of a given size, the error shape every store
// failure must have, and a Redis link per suite (the server on 127.0.0.1:6379, unique key prefix).
import { expect } from "vitest";
import { GatewayError } from "../../src/errors.js";
import type { StoredResponse } from "../../src/responses/index.js";

/** A record whose JSON is about `pad` bytes longer than a minimal one. */
export function rec(owner: string, id: string, pad = 0, text = "hi"): StoredResponse {
  return {
    id,
    owner,
    createdAt: 1_700_000_000_000,
    input: [{ type: "message", role: "user", content: [{ type: "input_text", text }] }],
    response: { id, object: "response", output: [{ type: "message", pad: "x".repeat(pad) }] },
  };
}

/** The UTF-8 size of a record's JSON (what both stores count). */
export function sizeOf(r: StoredResponse): number {
  return Buffer.byteLength(JSON.stringify(r), "utf8");
}

/** Awaits `p`, which must fail with a GatewayError of `reason`; returns it. */
export async function failsWith(p: Promise<unknown>, reason: string): Promise<GatewayError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, `expected ${reason}`).toBeInstanceOf(GatewayError);
  const g = e as GatewayError;
  expect(g.reason).toBe(reason);
  return g;
}
