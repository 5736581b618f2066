/**
 * `kafscale-mcp demo --seed-etcd`: writes the bundled demo cluster into a real etcd, one put per key
 * as Kafscale's brokers and operator would, so that `serve`, `snapshot` and `verify` can be tried
 * without a Kafscale cluster. The service itself never writes to etcd; this command exists only for
 * trying it out, and it refuses to touch a keyspace that already holds Kafscale keys (a real
 * cluster's etcd) or to run with KAFSCALE_ENV=prod.
 *
 * Exit codes: 0 written; 1 etcd unreachable, keyspace not empty or a write failed; 2 configuration.
 */
import type { Config } from "../config.js";
import { demoCluster } from "../demo/demo-cluster.js";
import { buildClusterKvs, type KeyValue } from "../demo/cluster-spec.js";
import { KAFSCALE_PREFIX } from "../kafscale/keys.js";
import { createEtcdClient, keyspaceOf, type EtcdClient, type EtcdKeyspace } from "../sync/etcd/etcd-client.js";

/**
 * Puts every key/value in order (one put each, as Kafscale writes) and returns the last revision.
 * Each request has a deadline, so an unreachable etcd fails within seconds instead of hanging.
 */
export async function putAll(keyspace: EtcdKeyspace, kvs: readonly KeyValue[], requestTimeoutMs = 10_000): Promise<number> {
  let revision = 0;
  for (const { key, value } of kvs) {
    const res = await keyspace.put(key).value(value).options({ deadline: new Date(Date.now() + requestTimeoutMs) }).exec();
    revision = Number(res.header.revision);
  }
  return revision;
}

/** Runs `demo --seed-etcd`; returns the exit code. */
export async function seedDemoEtcd(config: Config): Promise<number> {
  if (config.env === "prod") {
    console.error("demo --seed-etcd: refusing to write demo data with KAFSCALE_ENV=prod");
    return 2;
  }
  let client: EtcdClient;
  try {
    client = createEtcdClient(config.etcd);
  } catch (err) {
    console.error(`demo --seed-etcd: ${(err as Error).message}`);
    return 2;
  }
  const where = `${config.etcd.endpoints.join(",")}${config.etcd.namespace === "" ? "" : ` (KAFSCALE_MCP_ETCD_NAMESPACE=${config.etcd.namespace})`}`;
  try {
    const keyspace = keyspaceOf(client, config.etcd.namespace);
    const timeoutMs = config.etcd.dialTimeoutMs + 5000;
    const existing = await keyspace.getAll().prefix(KAFSCALE_PREFIX).options({ deadline: new Date(Date.now() + timeoutMs) }).count();
    if (existing > 0) {
      console.error(
        `demo --seed-etcd: etcd at ${where} already holds ${existing} key${existing === 1 ? "" : "s"} under ${config.etcd.namespace}${KAFSCALE_PREFIX}; ` +
          "the demo writes only into an empty keyspace. Pick a free prefix, e.g. KAFSCALE_MCP_ETCD_NAMESPACE=/kafscale-demo " +
          "(the same variable then points serve, snapshot and verify at it).",
      );
      return 1;
    }
    const kvs = buildClusterKvs(demoCluster);
    const revision = await putAll(keyspace, kvs, timeoutMs);
    const env = [
      `KAFSCALE_MCP_ETCD_ENDPOINTS=${config.etcd.endpoints.join(",")}`,
      ...(config.etcd.namespace === "" ? [] : [`KAFSCALE_MCP_ETCD_NAMESPACE=${config.etcd.namespace}`]),
    ].join(" ");
    console.log(
      [
        `demo --seed-etcd: wrote the demo cluster "${demoCluster.clusterName}" to etcd at ${where}: ${kvs.length} keys, revision ${revision}.`,
        "Try the service against it (no broker metrics: the demo brokers' /metrics exist only in `kafscale-mcp demo`):",
        `  ${env} kafscale-mcp serve`,
        `  ${env} kafscale-mcp snapshot --out demo-etcd.db && kafscale-mcp report --db demo-etcd.db`,
        `  ${env} kafscale-mcp verify --db demo-etcd.db`,
      ].join("\n"),
    );
    return 0;
  } catch (err) {
    console.error(
      `demo --seed-etcd: cannot write etcd at ${where}: ${(err as Error).message} (check KAFSCALE_MCP_ETCD_ENDPOINTS and that etcd is running)`,
    );
    return 1;
  } finally {
    client.close();
  }
}
