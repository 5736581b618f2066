/**
 * The Node.js flags the image ships with (NODE_OPTIONS in the Dockerfile), so the benchmark measures
 * the service as it is deployed. `--node-arg` replaces them for variant runs.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** The flags in the Dockerfile's `NODE_OPTIONS="…"` ([] without one, as older versions had). */
export function shippedNodeArgs(repoRoot: string): string[] {
  const path = join(repoRoot, "Dockerfile");
  if (!existsSync(path)) return [];
  const dockerfile = readFileSync(path, "utf8");
  const match = /NODE_OPTIONS="([^"]*)"/.exec(dockerfile);
  return (match?.[1] ?? "").split(/\s+/).filter((flag) => flag !== "");
}
