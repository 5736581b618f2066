/**
 * Re-renders docs/BENCHMARKS.md sections from result files, without running anything: for when
 * the report's format changes. Targets are re-checked from the stored measurements.
 *
 *   npx tsx bench/render.ts bench/results/M-2026-11-24.json [bench/results/L-….json …]
 */
import { readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { REPO_ROOT } from "./lib/child.js";
import { renderSection, writeSection } from "./lib/report.js";
import { checkTargets, type BenchResult } from "./lib/results.js";

const doc = join(REPO_ROOT, "docs", "BENCHMARKS.md");
for (const file of process.argv.slice(2)) {
  const stored = JSON.parse(readFileSync(file, "utf8")) as BenchResult;
  const result: BenchResult = { ...stored, targets: checkTargets(stored) };
  const section = result.tag ? `${result.size}-${result.tag}` : result.size;
  writeSection(doc, section, renderSection(result, relative(REPO_ROOT, resolve(file))));
  console.log(`${relative(REPO_ROOT, doc)}: section ${section} from ${file}`);
}
