// The conformance runner: the one scenario table (scenarios.ts) x every provider x every protocol,
// through a real gateway per provider and the providers' fakes. A scenario whose capability the
// provider declares unsupported (src/providers/capabilities.ts) is not skipped: the same call must
// be refused at once with INVALID_ARGUMENT / UNSUPPORTED_PARAMETER or UNIMPLEMENTED, naming the
// provider, and nothing may reach the upstream (over REST: a 400, code unsupported_parameter or
// invalid_request).
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROVIDER_COLUMNS, whyNot } from "../../src/providers/capabilities.js";
import type { ProviderType } from "../../src/providers/index.js";
import { failure, PROTOCOLS, REST, startWorld, type World } from "./harness.js";
import { type Profile, profiles } from "./profiles.js";
import { type Ctx, makeCtx, type Scenario } from "./scenario.js";
import { SCENARIOS } from "./scenarios.js";

let world: World | undefined;
let byProvider: Record<ProviderType, Profile> | undefined;
let seq = 0;

beforeAll(async () => {
  world = await startWorld();
  byProvider = profiles(world);
});

afterAll(async () => {
  await world?.close();
});

/** The same call, which must be refused before any upstream request. */
async function refused(ctx: Ctx, s: Scenario): Promise<void> {
  const e = await failure(() => s.attempt(ctx));
  if (ctx.protocol === REST) {
    // One 400 for both: UNIMPLEMENTED has no HTTP status of its own, its reason says what it was.
    expect(e.http).toBe(400);
    expect(["unsupported_parameter", "invalid_request"]).toContain(e.reason.toLowerCase());
    if (e.reason === "UNSUPPORTED_PARAMETER") expect(e.param, "error.param names it").toBeTruthy();
  } else if (e.code === Code.InvalidArgument) expect(e.reason).toBe("UNSUPPORTED_PARAMETER");
  else expect(Code[e.code ?? -1]).toBe(Code[Code.Unimplemented]);
  expect(e.message).toContain(ctx.p.id);
  expect(ctx.sent("chat")).toHaveLength(0);
  expect(ctx.sent("embed")).toHaveLength(0);
}

describe.each(PROVIDER_COLUMNS)("%s", (provider) => {
  const rows = SCENARIOS.map((s) => {
    const why = whyNot(provider, s.feature);
    return { s, why, label: why === undefined ? s.name : `${s.name}: refused (${why})` };
  });
  describe.each(PROTOCOLS)("%s", (protocol) => {
    it.each(rows)("$label", async ({ s, why }) => {
      if (world === undefined || byProvider === undefined) throw new Error("world not started");
      const rid = `conf-${provider}-${++seq}`;
      const ctx = makeCtx(
        byProvider[provider],
        protocol,
        world.clients[provider][protocol],
        world.gateways[provider],
        rid,
      );
      if (why === undefined) await s.run(ctx);
      else await refused(ctx, s);
    });
  });
});
