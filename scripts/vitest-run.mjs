// Runs vitest with its JSON reporter beside the default one and ends with the plain line
// "N passed, N failed", so a run that executed no test is visible. Exit code: vitest's, or 1 if none ran.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const out = join(root, ".vitest-results.json");
rmSync(out, { force: true });
const args = [
  "run",
  "--reporter=default",
  "--reporter=json",
  `--outputFile.json=${out}`,
  ...process.argv.slice(2),
];
const r = spawnSync(join(root, "node_modules/.bin/vitest"), args, { cwd: root, stdio: "inherit" });
let passed = 0;
let failed = 0;
if (existsSync(out)) {
  const res = JSON.parse(readFileSync(out, "utf8"));
  passed = res.numPassedTests ?? 0;
  failed = (res.numFailedTests ?? 0) + (res.numRuntimeErrorTests ?? 0);
  if (!res.success && failed === 0) failed = 1; // a suite that failed to load counts
  // A test file that reports no test at all ran nothing (seen once: a worker that never started was
  // reported "passed" with zero tests): count it as a failure and name it.
  for (const file of res.testResults ?? []) {
    if ((file.assertionResults ?? []).length === 0) {
      console.log(`ran no test: ${file.name}`);
      failed += 1;
    }
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(r.status !== 0 ? (r.status ?? 1) : passed === 0 || failed > 0 ? 1 : 0);
