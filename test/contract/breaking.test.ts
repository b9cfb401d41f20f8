// The contract's baseline (proto/baseline/v1.binpb) guards the wire: `buf breaking` passes on the
// tree as committed and on an additive change, and fails on a field renumbered, removed or renamed.
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = new URL("../..", import.meta.url).pathname;
const BUF = join(ROOT, "node_modules/.bin/buf");
const BASELINE = join(ROOT, "proto/baseline/v1.binpb");
const LLM = "proto/llmgateway/v1/llm.proto";
const run = promisify(execFile);

const temps: string[] = [];
afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

/** `buf breaking` in `dir` against the committed baseline: its exit code and what it printed. */
async function breaking(dir: string): Promise<{ code: number; out: string }> {
  try {
    const r = await run(BUF, ["breaking", "--against", BASELINE], { cwd: dir });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e: unknown) {
    const err = e as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof err.code !== "number") throw e; // buf did not run at all
    return { code: err.code, out: `${err.stdout ?? ""}${err.stderr ?? ""}` };
  }
}

/** A copy of the module (proto/ and buf.yaml) with `edit` applied to llm.proto. */
function copyWith(edit: (text: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), "llmgw-contract-"));
  temps.push(dir);
  cpSync(join(ROOT, "proto"), join(dir, "proto"), { recursive: true });
  cpSync(join(ROOT, "buf.yaml"), join(dir, "buf.yaml"));
  const file = join(dir, LLM);
  const before = readFileSync(file, "utf8");
  const after = edit(before);
  expect(after, "the edit changed nothing: the test would prove nothing").not.toBe(before);
  writeFileSync(file, after);
  return dir;
}

/** `text` with exactly one occurrence of `from` replaced. */
function once(text: string, from: string, to: string): string {
  expect(text.split(from).length - 1, `"${from}" occurs once in ${LLM}`).toBe(1);
  return text.replace(from, to);
}

describe("the contract's baseline", () => {
  it("the committed tree is compatible with it", async () => {
    const r = await breaking(ROOT);
    expect(r.out).toBe("");
    expect(r.code).toBe(0);
  });

  it("an added field is compatible", async () => {
    const dir = copyWith((t) =>
      once(
        t,
        "  optional double temperature = 3;",
        "  optional double temperature = 3;\n  optional bool added_here = 9999;",
      ),
    );
    expect(await breaking(dir)).toEqual({ code: 0, out: "" });
  });

  it("a renumbered field fails", async () => {
    const dir = copyWith((t) =>
      once(t, "  optional double temperature = 3;", "  optional double temperature = 99;"),
    );
    const r = await breaking(dir);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('Previously present field "3" with name "temperature" on message "ChatRequest"');
  });

  it("a removed field fails", async () => {
    const dir = copyWith((t) => once(t, "  optional double top_p = 4;\n", ""));
    const r = await breaking(dir);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('"top_p"');
  });

  it("a renamed field fails (its JSON name is part of the contract)", async () => {
    const dir = copyWith((t) =>
      once(t, "  optional int32 max_tokens = 5;", "  optional int32 max_output = 5;"),
    );
    const r = await breaking(dir);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain("max_tokens");
  });
});
