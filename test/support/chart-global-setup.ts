/**
 * Vitest global setup: finds the chart renderer once per run (`.ci/chart-renderer`: `helm` on the
 * PATH, else helm-lite built from the shared tool library). When there is none, the chart tests fail
 * with the script's explanation; they never skip.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

export interface ChartRenderer {
  kind: "helm" | "helm-lite";
  path: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    /** The renderer, or why there is none. */
    chartRenderer: ChartRenderer | { error: string };
  }
}

export function setup(project: TestProject): void {
  const script = join(import.meta.dirname, "../../.ci/chart-renderer");
  const res = spawnSync("bash", [script], { encoding: "utf8" });
  const match = /^(helm|helm-lite) (\S.*)$/m.exec(res.stdout ?? "");
  project.provide(
    "chartRenderer",
    res.status === 0 && match?.[1] && match[2]
      ? { kind: match[1] as ChartRenderer["kind"], path: match[2].trim() }
      : { error: `.ci/chart-renderer found no way to render the chart (exit ${res.status}): ${(res.stderr || res.error?.message) ?? ""}` },
  );
}
