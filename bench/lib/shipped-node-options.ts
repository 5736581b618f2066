/**
 * The Node.js flags the image ships with (NODE_OPTIONS in the Dockerfile), so the benchmark measures
 * the service as it is deployed. `--node-arg` replaces them for variant runs.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** The flags in the Dockerfile's `NODE_OPTIONS="…"` ([] when it sets none, as older versions did). */
export function shippedNodeArgs(repoRoot: string): string[] {
  const dockerfile = readFileSync(join(repoRoot, "Dockerfile"), "utf8");
  const match = /NODE_OPTIONS="([^"]*)"/.exec(dockerfile);
  return (match?.[1] ?? "").split(/\s+/).filter((flag) => flag !== "");
}
