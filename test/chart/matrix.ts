/**
 * The values the chart is rendered with in tests. Each case lists the kinds it must produce (exactly)
 * and, optionally, its own expectations; test/chart/chart-matrix.test.ts runs the shared checks on
 * every case (documents parse, namespaces, restricted pod security, labels, an environment the
 * service accepts) and test/chart/values-schema.test.ts validates every case against
 * values.schema.json. To cover a new feature, add a case here.
 */
import { expect } from "vitest";
import { containerEnv, one, RELEASE_NAMESPACE, type K8sObject } from "../support/chart.js";

export interface MatrixCase {
  name: string;
  /** Values over BASE_VALUES (deep-merged by the renderer as Helm merges -f files). */
  values: Record<string, unknown>;
  /** Every kind rendered, each as often as it appears. */
  kinds: string[];
  /** Namespace of the chart's resources (default: kafscale-mcp, the chart's own namespace). */
  namespace?: string;
  /** Expectations of this case only. */
  check?: (docs: K8sObject[]) => void;
}

/** What every install needs: the etcd endpoints (and, realistically, where the brokers' metrics are). */
export const BASE_VALUES = {
  etcdEndpoints: ["http://kafscale-etcd.kafscale.svc.cluster.local:2379"],
  metrics: { brokerMetricsURLTemplate: "http://{host}:9093/metrics" },
};

const CORE = ["Namespace", "ServiceAccount", "Service", "Deployment"];

const envValue = (docs: K8sObject[], name: string): string | undefined => containerEnv(docs).find((e) => e.name === name)?.value;
const secretRef = (docs: K8sObject[], name: string) => containerEnv(docs).find((e) => e.name === name)?.valueFrom?.secretKeyRef;
const pod = (docs: K8sObject[]) => one(docs, "Deployment").spec.template.spec;

export const MATRIX: MatrixCase[] = [
  {
    name: "defaults",
    values: {},
    kinds: CORE,
    check: (docs) => {
      expect(one(docs, "Namespace").metadata.labels).toMatchObject({ "pod-security.kubernetes.io/enforce": "restricted" });
      expect(envValue(docs, "KAFSCALE_MCP_STATELESS")).toBe("false");
      expect(pod(docs).volumes.find((v: any) => v.name === "data")).toMatchObject({ emptyDir: { sizeLimit: "2Gi" } });
      expect(envValue(docs, "KAFSCALE_ENV")).toBeUndefined();
    },
  },
  {
    name: "env prod with OIDC",
    values: { env: "prod", oidc: { issuer: "https://login.example.com/realms/ops", audience: "https://mcp.example.com/mcp" }, resourceUrl: "https://mcp.example.com/mcp" },
    kinds: CORE,
    check: (docs) => {
      expect(envValue(docs, "KAFSCALE_ENV")).toBe("prod");
      expect(envValue(docs, "KAFSCALE_MCP_OIDC_ISSUER")).toBe("https://login.example.com/realms/ops");
      expect(envValue(docs, "KAFSCALE_MCP_ALLOW_STATIC_TOKEN_IN_PROD")).toBe("false");
    },
  },
  {
    name: "env prod with a static token (break-glass)",
    values: { env: "prod", auth: { token: "s3cret-token", allowStaticTokenInProd: true } },
    kinds: [...CORE, "Secret"],
    check: (docs) => {
      expect(envValue(docs, "KAFSCALE_MCP_ALLOW_STATIC_TOKEN_IN_PROD")).toBe("true");
      expect(secretRef(docs, "KAFSCALE_MCP_AUTH_TOKEN")).toEqual({ name: "demo-kafscale-mcp", key: "auth-token" });
      // The token is never a plain value anywhere in the pod spec.
      expect(JSON.stringify(one(docs, "Deployment"))).not.toContain("s3cret-token");
    },
  },
  {
    name: "3 replicas with a PodDisruptionBudget",
    values: { replicaCount: 3, podDisruptionBudget: { enabled: true } },
    kinds: [...CORE, "PodDisruptionBudget"],
    check: (docs) => {
      expect(one(docs, "Deployment").spec.replicas).toBe(3);
      expect(envValue(docs, "KAFSCALE_MCP_STATELESS")).toBe("true");
      expect(one(docs, "Deployment").spec.strategy).toMatchObject({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0 } });
    },
  },
  {
    name: "persistence",
    values: { persistence: { enabled: true, size: "5Gi", storageClass: "fast" } },
    kinds: [...CORE, "PersistentVolumeClaim"],
    check: (docs) => {
      expect(one(docs, "Deployment").spec.strategy).toEqual({ type: "Recreate" });
      expect(one(docs, "PersistentVolumeClaim").spec).toMatchObject({ storageClassName: "fast", resources: { requests: { storage: "5Gi" } } });
      expect(pod(docs).volumes.find((v: any) => v.name === "data")).toEqual({ name: "data", persistentVolumeClaim: { claimName: "demo-kafscale-mcp-data" } });
    },
  },
  {
    name: "ingress with hosts and TLS",
    values: {
      ingress: {
        enabled: true,
        className: "nginx",
        hosts: [{ host: "mcp.example.com", paths: [{ path: "/", pathType: "Prefix" }] }, { host: "mcp.internal.example.com", paths: [{ path: "/" }] }],
        tls: [{ secretName: "mcp-tls", hosts: ["mcp.example.com"] }],
      },
    },
    kinds: [...CORE, "Ingress"],
    check: (docs) => {
      expect(one(docs, "Ingress").spec.rules.map((r: any) => r.host)).toEqual(["mcp.example.com", "mcp.internal.example.com"]);
      expect(envValue(docs, "KAFSCALE_MCP_ALLOWED_HOSTS")?.split(",")).toEqual(expect.arrayContaining(["mcp.example.com", "mcp.internal.example.com", "demo-kafscale-mcp.kafscale-mcp.svc"]));
    },
  },
  {
    name: "network policy (with OIDC egress)",
    values: { networkPolicy: { enabled: true }, oidc: { issuer: "https://login.example.com/realms/ops", audience: "kafscale-mcp" } },
    kinds: [...CORE, "NetworkPolicy"],
    check: (docs) => {
      const policy = one(docs, "NetworkPolicy").spec;
      expect(policy.policyTypes).toEqual(["Ingress", "Egress"]);
      const ports = policy.egress.flatMap((rule: any) => rule.ports.map((p: any) => p.port));
      expect(ports).toEqual(expect.arrayContaining([2379, 9093, 8080, 443, 53]));
    },
  },
  {
    name: "etcd TLS",
    values: { etcdEndpoints: ["https://kafscale-etcd.kafscale.svc:2379"], etcd: { tls: { enabled: true, existingSecret: "etcd-client-tls" } } },
    kinds: CORE,
    check: (docs) => {
      expect(envValue(docs, "KAFSCALE_MCP_ETCD_CA_FILE")).toBe("/etc/kafscale-mcp/etcd-tls/ca.crt");
      expect(envValue(docs, "KAFSCALE_MCP_ETCD_CERT_FILE")).toBe("/etc/kafscale-mcp/etcd-tls/tls.crt");
      expect(envValue(docs, "KAFSCALE_MCP_ETCD_KEY_FILE")).toBe("/etc/kafscale-mcp/etcd-tls/tls.key");
      expect(pod(docs).volumes.find((v: any) => v.name === "etcd-tls")).toMatchObject({ secret: { secretName: "etcd-client-tls", defaultMode: 0o440 } });
    },
  },
  {
    name: "every existingSecret (and an existing claim)",
    values: {
      auth: { existingSecret: "mcp-auth", tokenKey: "bearer" },
      etcd: { existingSecret: "etcd-creds", usernameKey: "user", passwordKey: "pass", tls: { enabled: true, existingSecret: "etcd-tls" } },
      persistence: { enabled: true, existingClaim: "mcp-data" },
    },
    kinds: CORE,
    check: (docs) => {
      expect(secretRef(docs, "KAFSCALE_MCP_AUTH_TOKEN")).toEqual({ name: "mcp-auth", key: "bearer" });
      expect(secretRef(docs, "KAFSCALE_MCP_ETCD_USERNAME")).toEqual({ name: "etcd-creds", key: "user", optional: true });
      expect(secretRef(docs, "KAFSCALE_MCP_ETCD_PASSWORD")).toEqual({ name: "etcd-creds", key: "pass" });
      expect(pod(docs).volumes).toEqual(
        expect.arrayContaining([
          { name: "data", persistentVolumeClaim: { claimName: "mcp-data" } },
          expect.objectContaining({ name: "etcd-tls", secret: expect.objectContaining({ secretName: "etcd-tls" }) }),
        ]),
      );
    },
  },
  {
    name: "ServiceMonitor and Prometheus annotations",
    // Issue 16 adds the Grafana dashboards (a ConfigMap): add `dashboards: {enabled: true}` and "ConfigMap" here.
    values: { serviceMonitor: { enabled: true, labels: { release: "prometheus" }, interval: "30s" }, prometheus: { scrape: true } },
    kinds: [...CORE, "ServiceMonitor"],
    check: (docs) => {
      const monitor = one(docs, "ServiceMonitor");
      expect(monitor.metadata.labels).toMatchObject({ release: "prometheus" });
      expect(monitor.spec.endpoints).toEqual([{ port: "http", path: "/metrics", interval: "30s" }]);
      expect(monitor.spec.selector.matchLabels).toEqual(one(docs, "Service").spec.selector);
      expect(one(docs, "Deployment").spec.template.metadata.annotations).toMatchObject({ "prometheus.io/scrape": "true", "prometheus.io/path": "/metrics" });
    },
  },
  {
    name: "the release namespace instead of a namespace of its own",
    values: { namespace: { create: false, name: "" } },
    kinds: ["ServiceAccount", "Service", "Deployment"],
    namespace: RELEASE_NAMESPACE,
  },
];
