/** Real etcd for integration and end-to-end tests: a client and a fresh namespace, and a cluster written into it. */
import { randomUUID } from "node:crypto";
import type { Etcd3, Namespace } from "etcd3";
import { createEtcdClient } from "../../src/sync/etcd/etcd-client.js";
import { inject } from "vitest";
import type { ClusterSpec } from "../../src/demo/cluster-spec.js";
import { buildClusterKvs } from "../../src/demo/cluster-spec.js";
import { putAll } from "../../src/cli/demo-seed.js";

export { realisticCluster } from "./cluster.js";

/** A client for the shared etcd plus a fresh namespace, so test files never see each other's keys. */
export function testEtcd(endpoint: string = inject("etcdEndpoint")): {
  endpoint: string;
  client: Etcd3;
  namespace: string;
  keyspace: Namespace;
} {
  // The product's client factory, so tests run with the same gRPC options as the service.
  const client = createEtcdClient({
    endpoints: [endpoint],
    namespace: "",
    dialTimeoutMs: 5000,
    pageSize: 2000,
    backoffMaxMs: 15_000,
  });
  const namespace = `/test-${randomUUID()}`;
  return { endpoint, client, namespace, keyspace: client.namespace(namespace) };
}

/** Writes a spec into etcd (one put per key, as Kafscale would) and returns the last revision. */
export async function writeCluster(keyspace: Namespace, spec: ClusterSpec): Promise<number> {
  return await putAll(keyspace, buildClusterKvs(spec));
}
