/**
 * The Helm chart rendered by `helm template` (or helm-lite) over the matrix of test/chart/matrix.ts:
 * every document parses and has the expected kinds, every resource sits in the chosen namespace, the
 * pod keeps the restricted pod security settings, labels and ports line up, and the container's
 * environment is one the service accepts at start (the check that would have caught `env: prod` with a
 * static token rendering a pod that exits 2). Then the refusals: values the service would reject
 * fail the render with a message that says what to set.
 */
import { describe, expect, it } from "vitest";
import { assertKnownTools, loadConfig } from "../../src/config.js";
import { assertProdFence } from "../../src/http/auth/auth-mode.js";
import { TOOL_NAMES } from "../../src/tools/index.js";
import { containerEnv, one, renderChart, type K8sObject } from "../support/chart.js";
import { BASE_VALUES, MATRIX } from "./matrix.js";
import { restrictedViolations } from "./pod-security.js";

const NAMESPACED = ["ServiceAccount", "Service", "Deployment", "Secret", "PersistentVolumeClaim", "Ingress", "NetworkPolicy", "PodDisruptionBudget", "ServiceMonitor", "ConfigMap"];

/**
 * The environment the pod would start with: plain values as written, secretKeyRefs resolved from the
 * rendered Secret, or a placeholder for a Secret the user brings.
 */
function podEnvironment(docs: K8sObject[]): Record<string, string> {
  const secrets = new Map(docs.filter((d) => d.kind === "Secret").map((s) => [s.metadata.name, s.data as Record<string, string>]));
  const env: Record<string, string> = {};
  for (const entry of containerEnv(docs)) {
    const ref = entry.valueFrom?.secretKeyRef;
    if (ref) {
      const data = secrets.get(ref.name)?.[ref.key];
      env[entry.name] = data === undefined ? `from-secret-${ref.name}-${ref.key}` : Buffer.from(data, "base64").toString("utf8");
    } else {
      env[entry.name] = entry.value ?? "";
    }
  }
  return env;
}

describe("the chart, rendered over the values matrix", () => {
  it.each(MATRIX.map((c) => [c.name, c] as const))("%s", (_name, testCase) => {
    const result = renderChart(BASE_VALUES, testCase.values);
    if (!result.ok) throw new Error(`"${testCase.name}" did not render: ${result.error}`);
    const { docs } = result;

    // Parsed documents (js-yaml threw otherwise), each a complete object.
    for (const doc of docs) {
      expect(typeof doc.apiVersion, `${doc.kind} apiVersion`).toBe("string");
      expect(doc.metadata?.name, `${doc.kind} name`).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
    }
    expect(docs.map((d) => d.kind).sort()).toEqual([...testCase.kinds].sort());

    const namespace = testCase.namespace ?? "kafscale-mcp";
    for (const doc of docs.filter((d) => NAMESPACED.includes(d.kind))) {
      expect(doc.metadata.namespace, `${doc.kind}/${doc.metadata.name}`).toBe(namespace);
    }
    if (testCase.kinds.includes("Namespace")) expect(one(docs, "Namespace").metadata.name).toBe(namespace);

    const deployment = one(docs, "Deployment");
    const pod = deployment.spec.template.spec;
    expect(restrictedViolations(pod)).toEqual([]);
    expect(deployment.spec.selector.matchLabels).toEqual(expect.objectContaining(one(docs, "Service").spec.selector));
    expect(deployment.spec.template.metadata.labels).toEqual(expect.objectContaining(deployment.spec.selector.matchLabels));
    const container = pod.containers.find((c: any) => c.name === "kafscale-mcp");
    expect(container.args).toEqual(["serve"]);
    expect(container.ports).toEqual([expect.objectContaining({ name: "http", containerPort: 8090 })]);
    expect(one(docs, "Service").spec.ports).toEqual([expect.objectContaining({ targetPort: "http" })]);
    for (const probe of [container.livenessProbe, container.readinessProbe]) expect(probe.httpGet.port).toBe("http");
    const mounts = container.volumeMounts.map((m: any) => m.name).sort();
    expect(mounts).toEqual(pod.volumes.map((v: any) => v.name).sort());

    // Kubernetes takes only strings as env values, and a name once.
    const env = containerEnv(docs);
    for (const entry of env) if (!entry.valueFrom) expect(typeof entry.value, entry.name).toBe("string");
    expect(new Set(env.map((e) => e.name)).size).toBe(env.length);

    // What the service does with this environment at start: parse it and apply the production fence.
    const config = loadConfig(podEnvironment(docs));
    expect(() => assertProdFence(config)).not.toThrow();
    expect(() => assertKnownTools(config.enabledTools, TOOL_NAMES)).not.toThrow();
    expect(config.http.port).toBe(8090);
    expect(config.etcd.endpoints.length).toBeGreaterThan(0);

    testCase.check?.(docs);
  });
});

describe("values the chart refuses, saying what to set", () => {
  const refusals: [string, Record<string, unknown>, string][] = [
    ["no etcd endpoints", { etcdEndpoints: [] }, "etcdEndpoints is empty"],
    ["env prod without authentication", { env: "prod" }, "/mcp would be unauthenticated"],
    // The service exits 2 on this at start (KAFSCALE_ENV=prod with only a static token).
    ["env prod with only a static token", { env: "prod", auth: { token: "t" } }, "set auth.allowStaticTokenInProd=true"],
    ["env prod with only an existing token Secret", { env: "prod", auth: { existingSecret: "mcp-auth" } }, "Configure OIDC (oidc.issuer and oidc.audience)"],
    ["namespace.create without a name", { namespace: { create: true, name: "" } }, "set namespace.create=false"],
    ["namespace.create of the release namespace", { namespace: { create: true, name: "kafscale" } }, "Set namespace.create=false"],
    ["a config variable that has its own value", { config: { KAFSCALE_MCP_STALE_AFTER: "1m" } }, "config.KAFSCALE_MCP_STALE_AFTER: this variable is set from staleAfter"],
    ["a config variable the chart derives", { config: { KAFSCALE_MCP_DB_PATH: "/x.db" } }, "set from persistence.mountPath and persistence.dbFile"],
    ["a secret in config", { config: { KAFSCALE_MCP_OIDC_CLIENT_SECRET: "x" } }, "looks like a secret"],
    ["a non-KAFSCALE_MCP variable in config", { config: { NODE_OPTIONS: "--inspect" } }, "config takes KAFSCALE_MCP_* variables only"],
    ["an extraEnv variable the chart sets", { extraEnv: [{ name: "KAFSCALE_MCP_DB_PATH", value: "/tmp/x.db" }] }, "set twice: KAFSCALE_MCP_DB_PATH"],
    ["persistence with 3 replicas", { persistence: { enabled: true }, replicaCount: 3 }, "persistence.enabled needs replicaCount 1"],
    ["etcd TLS without its Secret", { etcd: { tls: { enabled: true } } }, "etcd.tls.enabled needs etcd.tls.existingSecret"],
    ["an unquoted ops copy mode (YAML reads 0640 as 416)", { opsCopy: { mode: 416 } }, "opsCopy.mode"],
    ["a token and an existing token Secret", { auth: { token: "t", existingSecret: "s" } }, "set auth.token or auth.existingSecret, not both"],
  ];
  it.each(refusals)("%s", (_name, values, message) => {
    const result = renderChart(BASE_VALUES, values);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toContain(message);
  });
});
