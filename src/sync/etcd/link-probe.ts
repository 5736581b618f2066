/**
 * The link probe: proof that the member feeding our watch serves the cluster's present, not only
 * that it answers. An etcd member cut off from its peers still answers Status and serializable
 * reads with its old data; a LINEARIZABLE read needs the member to confirm its read index with a
 * quorum (ReadIndex) and to have applied up to it, so an isolated, leaderless or lagging member
 * fails it (at once with "no leader" thanks to the require-leader metadata, or at the deadline).
 *
 * What it reads: the count of one key, the prefix itself (`/kafscale/` under the namespace). The
 * service's read permission on the prefix covers it, and etcd answers a count from its index
 * without reading any value, so the probe costs etcd one small request and the leader one
 * heartbeat round to a quorum (batched with other reads).
 */
import { KAFSCALE_PREFIX } from "../../kafscale/keys.js";
import type { EtcdKeyspace } from "./etcd-client.js";

export interface ProbeResult {
  /** etcd's revision at the read (the member had applied at least this much). */
  revision: number;
}

/** One linearizable single-key count under `keyspace`, bounded by `timeoutMs`; rejects when the member cannot prove currency. */
export async function probeCurrency(keyspace: EtcdKeyspace, timeoutMs: number): Promise<ProbeResult> {
  const res = await keyspace.kv.range(
    { key: Buffer.concat([keyspace.prefix, Buffer.from(KAFSCALE_PREFIX)]), count_only: true },
    { deadline: new Date(Date.now() + timeoutMs) },
  );
  return { revision: Number(res.header.revision) };
}
