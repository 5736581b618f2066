/**
 * Renders charts/kafscale-mcp with `helm template` (or helm-lite) and parses the manifests, for the
 * chart tests. Values are written as a JSON file, which every YAML parser (and so `-f`) accepts.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadAll } from "js-yaml";
import { inject } from "vitest";
import { REPO_ROOT } from "./cli.js";

export const CHART_DIR = join(REPO_ROOT, "charts", "kafscale-mcp");
export const RELEASE = "demo";
export const RELEASE_NAMESPACE = "kafscale";

/** A Kubernetes object as rendered (loosely typed: tests poke at fields). */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: any;
}

export type Render = { ok: true; docs: K8sObject[]; text: string } | { ok: false; error: string };

/** The renderer the global setup found; throws its explanation when there is none. */
function renderer(): { kind: "helm" | "helm-lite"; path: string } {
  const found = inject("chartRenderer");
  if ("error" in found) throw new Error(found.error);
  return found;
}

/**
 * Renders the chart with each of `valueSets` as its own `-f` file over values.yaml (Helm merges them
 * in order, maps key by key), as release RELEASE in RELEASE_NAMESPACE.
 */
export function renderChart(...valueSets: Record<string, unknown>[]): Render {
  const { kind, path } = renderer();
  const dir = mkdtempSync(join(tmpdir(), "kafscale-mcp-chart-"));
  try {
    const files = valueSets.flatMap((values, i) => {
      const file = join(dir, `values-${i}.json`);
      writeFileSync(file, JSON.stringify(values));
      return ["-f", file];
    });
    const args =
      kind === "helm"
        ? ["template", RELEASE, CHART_DIR, "--namespace", RELEASE_NAMESPACE, ...files]
        : ["--name", RELEASE, "--namespace", RELEASE_NAMESPACE, ...files, CHART_DIR];
    const res = spawnSync(path, args, { encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
    if (res.error) throw res.error;
    if (res.status !== 0) return { ok: false, error: res.stderr };
    // Throws on any document that does not parse.
    const docs = loadAll(res.stdout).filter((doc) => doc !== null && doc !== undefined) as K8sObject[];
    return { ok: true, docs, text: res.stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Renders and insists on success. */
export function render(...valueSets: Record<string, unknown>[]): K8sObject[] {
  const result = renderChart(...valueSets);
  if (!result.ok) throw new Error(`the chart did not render: ${result.error}`);
  return result.docs;
}

/** The one object of `kind` (throws when there is not exactly one). */
export function one(docs: K8sObject[], kind: string): K8sObject {
  const found = docs.filter((d) => d.kind === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0] as K8sObject;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } };
}

/** The container environment of the Deployment's kafscale-mcp container. */
export function containerEnv(docs: K8sObject[]): EnvVar[] {
  const container = one(docs, "Deployment").spec.template.spec.containers.find((c: { name: string }) => c.name === "kafscale-mcp");
  return (container?.env ?? []) as EnvVar[];
}

/** values.yaml as parsed by the same YAML parser. */
export function defaultValues(): Record<string, unknown> {
  return loadAll(readFileSync(join(CHART_DIR, "values.yaml"), "utf8"))[0] as Record<string, unknown>;
}

/** The chart's values.schema.json. */
export function valuesSchema(): Record<string, any> {
  return JSON.parse(readFileSync(join(CHART_DIR, "values.schema.json"), "utf8")) as Record<string, any>;
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Values sets merged as Helm merges them: maps key by key, anything else replaced by the later set. */
export function mergeValues(...sets: Record<string, unknown>[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const set of sets) {
    for (const [key, value] of Object.entries(set)) {
      const prev = out[key];
      out[key] = isMap(prev) && isMap(value) ? mergeValues(prev, value) : value;
    }
  }
  return out;
}
