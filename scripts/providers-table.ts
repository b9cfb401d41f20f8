// `npm run docs`: rewrites README.md between the providers-table markers with the capability table
// rendered from src/providers/capabilities.ts (test/conformance/providers-table.test.ts keeps them equal).
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { renderCapabilityTable, TABLE_MARKERS } from "../src/providers/capabilities.js";

const readmePath = join(dirname(fileURLToPath(import.meta.url)), "..", "README.md");
const readme = readFileSync(readmePath, "utf8");
const start = readme.indexOf(TABLE_MARKERS.start);
const end = readme.indexOf(TABLE_MARKERS.end);
if (start < 0 || end < start) {
  console.error(`README.md: markers ${TABLE_MARKERS.start} ... ${TABLE_MARKERS.end} not found`);
  process.exit(1);
}
const next = `${readme.slice(0, start + TABLE_MARKERS.start.length)}\n${renderCapabilityTable()}\n${readme.slice(end)}`;
if (next === readme) console.log("README.md: providers table already up to date");
else {
  writeFileSync(readmePath, next);
  console.log("README.md: providers table rewritten");
}
