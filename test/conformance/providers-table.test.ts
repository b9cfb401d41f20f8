// The README's capability table is generated (npm run docs) from src/providers/capabilities.ts;
// this test fails when the two disagree, and when a declaration is incomplete.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  capabilities,
  FEATURES,
  PROVIDER_COLUMNS,
  renderCapabilityTable,
  TABLE_MARKERS,
} from "../../src/providers/capabilities.js";
import { factories } from "../../src/providers/index.js";
import { ROOT } from "../e2e/helpers.js";

describe("providers table", () => {
  it("README.md between the markers equals the rendered table (run `npm run docs`)", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const start = readme.indexOf(TABLE_MARKERS.start);
    const end = readme.indexOf(TABLE_MARKERS.end);
    expect(start, "start marker").toBeGreaterThanOrEqual(0);
    expect(end, "end marker after start").toBeGreaterThan(start);
    const section = readme.slice(start + TABLE_MARKERS.start.length, end);
    expect(section).toBe(`\n${renderCapabilityTable()}\n`);
  });

  it("has a column for every wire format the registry builds", () => {
    expect([...PROVIDER_COLUMNS].sort()).toEqual(Object.keys(factories).sort());
  });

  it("declares every feature, and says why for each one not honoured", () => {
    for (const p of PROVIDER_COLUMNS) {
      expect(Object.keys(capabilities[p]).sort()).toEqual([...FEATURES].sort());
      for (const f of FEATURES) {
        const s = capabilities[p][f];
        if (s !== true) expect(s.why.trim(), `${p}.${f}`).not.toBe("");
      }
    }
  });
});
