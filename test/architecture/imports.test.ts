// The import rules (.dependency-cruiser.cjs, run on src/ by `npm run check:deps` in `npm test`) catch
// what they promise: shown on a small house of our layout where each fault is planted once.
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = new URL("../..", import.meta.url).pathname;
const run = promisify(execFile);

/** The planted house: path -> source. Each fault is named in its file. */
const HOUSE: Record<string, string> = {
  "src/main.ts": 'import { serve } from "./server/app.js";\nserve();\n',
  // Allowed: a door calls the pipeline, the pipeline its parts, parts the providers, all the ground.
  "src/server/app.ts":
    'import { pipeline } from "../gateway/pipeline.js";\nexport function serve(): void {\n  pipeline();\n}\n',
  "src/gateway/pipeline.ts":
    'import { route } from "../routing/route.js";\nimport { stray } from "../stray/x.js";\nexport function pipeline(): string {\n  return route() + stray;\n}\n',
  "src/routing/route.ts":
    'import { call } from "../providers/call.js";\nexport function route(): string {\n  return call();\n}\n',
  // Fault: a provider imports the pipeline, for a type only (vanishes at run time, still counts).
  "src/providers/call.ts":
    'import type { Shape } from "../gateway/shape.js";\nimport { fail } from "../errors.js";\nexport function call(): string {\n  const s: Shape = { a: 1 };\n  return fail(String(s.a));\n}\n',
  "src/gateway/shape.ts": "export interface Shape {\n  a: number;\n}\n",
  "src/errors.ts":
    'import { log } from "./lib/log.js";\nexport function fail(m: string): string {\n  return log(m);\n}\n',
  // Fault: the ground floor imports the config (a layer above it).
  "src/lib/log.ts":
    'import { level } from "../config/level.js";\nexport function log(m: string): string {\n  return level + m;\n}\n',
  "src/config/level.ts": 'export const level = "info";\n',
  // Fault: a circle inside one folder.
  "src/cache/a.ts": 'import { b } from "./b.js";\nexport const a = () => b;\n',
  "src/cache/b.ts": 'import { a } from "./a.js";\nexport const b = () => a;\n',
  // Fault: a folder with no layer.
  "src/stray/x.ts": 'export const stray = "";\n',
};

let out = "";
let code = 0;
const dir = mkdtempSync(join(tmpdir(), "llmgw-imports-"));

beforeAll(async () => {
  for (const [p, text] of Object.entries(HOUSE)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  cpSync(join(ROOT, ".dependency-cruiser.cjs"), join(dir, ".dependency-cruiser.cjs"));
  cpSync(join(ROOT, "tsconfig.json"), join(dir, "tsconfig.json"));
  mkdirSync(join(dir, "gen"));
  const bin = join(ROOT, "node_modules/.bin/depcruise");
  try {
    const r = await run(bin, ["src", "--config", ".dependency-cruiser.cjs", "--output-type", "err"], {
      cwd: dir,
    });
    out = r.stdout + r.stderr;
  } catch (e: unknown) {
    const err = e as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof err.code !== "number") throw e; // depcruise did not run at all
    code = err.code;
    out = `${err.stdout ?? ""}${err.stderr ?? ""}`;
  }
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The lines of the report that name `rule`. */
function reported(rule: string): string[] {
  return out.split("\n").filter((l) => l.includes(`error ${rule}:`));
}

describe("the import rules", () => {
  it("fail the check, naming every planted fault and nothing else", () => {
    expect(code, out).not.toBe(0);
    expect(out).toContain("5 dependency violations");
  });

  it("a provider importing the pipeline, even for a type only", () => {
    expect(reported("providers-never-import-the-pipeline")).toEqual([
      expect.stringContaining("src/providers/call.ts → src/gateway/shape.ts"),
    ]);
    expect(reported("providers-imports-no-layer-above")).toEqual([
      expect.stringContaining("src/providers/call.ts → src/gateway/shape.ts"),
    ]);
  });

  it("the ground floor importing a layer above it", () => {
    expect(reported("ground-imports-no-layer-above")).toEqual([
      expect.stringContaining("src/lib/log.ts → src/config/level.ts"),
    ]);
  });

  it("a circle", () => {
    expect(reported("no-circular")).toHaveLength(1);
    expect(out).toContain("src/cache/a.ts");
  });

  it("a folder that was given no layer", () => {
    expect(reported("every-source-file-in-a-layer")).toEqual([
      expect.stringContaining("src/gateway/pipeline.ts → src/stray/x.ts"),
    ]);
  });
});
