/**
 * The benchmark's etcd: a real local etcd on free loopback ports (test/support/etcd-process.ts does
 * the process handling), the bulk loader, and request counts read from etcd's own /metrics.
 */
import { NO_FAULT_HANDLING } from "../../src/sync/etcd/fault-handling.js";
import { Etcd3 } from "etcd3";
import type { KeyValue } from "../../src/demo/cluster-spec.js";
import { startEtcd, type EtcdProcess } from "./etcd-process.js";

export type { EtcdProcess };

/**
 * etcd's request limit (1.5 MiB by default) must hold the snapshot key: at size L Kafscale's own
 * snapshot JSON is ~15 MB (100k partitions, each with its replica and ISR lists), so Kafscale itself
 * would need this raised too. The benchmark sets it, and records the value in its results.
 */
export const ETCD_MAX_REQUEST_BYTES = 64 * 1024 * 1024;
export const ETCD_QUOTA_BACKEND_BYTES = 8 * 1024 * 1024 * 1024;

export function startBenchEtcd(): Promise<EtcdProcess> {
  return startEtcd({
    maxRequestBytes: ETCD_MAX_REQUEST_BYTES,
    extraArgs: [
      "--quota-backend-bytes", String(ETCD_QUOTA_BACKEND_BYTES),
      // Server-side handling-time histograms: how long etcd itself spends on the baseline's reads.
      "--metrics", "extensive",
    ],
  });
}

/**
 * The harness's own client (loader, freshness writer): no gRPC receive limit (grpc-js defaults to
 * 4 MiB), and no circuit breaker or retries, so a failed write is counted instead of hidden.
 */
export function benchEtcdClient(endpoint: string): Etcd3 {
  return new Etcd3({
    hosts: endpoint,
    grpcOptions: { "grpc.max_receive_message_length": -1 },
    faultHandling: NO_FAULT_HANDLING,
  });
}

/** etcd's default `--max-txn-ops`. */
const MAX_TXN_OPS = 128;
/** Stay well under the default 1.5 MiB request limit so batches work against any stock etcd. */
const MAX_TXN_BYTES = 1_000_000;

/** Splits the keys into txn batches of at most 128 puts and ~1 MB; an oversized value goes alone. */
export function txnBatches(kvs: readonly KeyValue[]): KeyValue[][] {
  const batches: KeyValue[][] = [];
  let batch: KeyValue[] = [];
  let bytes = 0;
  for (const kv of kvs) {
    const size = kv.key.length + kv.value.length + 16;
    if (batch.length > 0 && (batch.length === MAX_TXN_OPS || bytes + size > MAX_TXN_BYTES)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(kv);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/** Writes every key with unconditional txns, a few in flight; returns the last revision. */
export async function loadKvs(client: Etcd3, kvs: readonly KeyValue[], inFlight = 4): Promise<number> {
  const batches = txnBatches(kvs);
  let next = 0;
  let revision = 0;
  const worker = async (): Promise<void> => {
    while (next < batches.length) {
      const batch = batches[next++] as KeyValue[];
      const res = await client.kv.txn({
        compare: [],
        success: batch.map(({ key, value }) => ({ request_put: { key: Buffer.from(key), value } })),
        failure: [],
      });
      revision = Math.max(revision, Number(res.header.revision));
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return revision;
}

/** What etcd's /metrics says about the requests it served. */
export interface EtcdCounters {
  /** `grpc_server_started_total` per method (Range, Txn, Put, Watch, Status, …). */
  started: Record<string, number>;
  /** `grpc_server_handling_seconds_sum` for Range: time etcd itself spent answering reads. */
  rangeSeconds: number;
}

/** Requests a phase caused, and the milliseconds etcd spent serving its reads. */
export interface EtcdDelta {
  Range: number;
  Txn: number;
  Put: number;
  rangeServerMs: number;
}

export async function requestCounts(metricsUrl: string): Promise<EtcdCounters> {
  const text = await (await fetch(metricsUrl)).text();
  const counters: EtcdCounters = { started: {}, rangeSeconds: 0 };
  for (const line of text.split("\n")) {
    const started = /^grpc_server_started_total\{[^}]*grpc_method="([^"]+)"[^}]*\} (\S+)$/.exec(line);
    if (started) {
      const method = started[1] as string;
      counters.started[method] = (counters.started[method] ?? 0) + Number(started[2]);
    } else if (/^grpc_server_handling_seconds_sum\{[^}]*grpc_method="Range"/.test(line)) {
      counters.rangeSeconds += Number(line.split(" ").pop());
    }
  }
  return counters;
}

export function requestDelta(before: EtcdCounters, after: EtcdCounters): EtcdDelta {
  const d = (method: string): number => (after.started[method] ?? 0) - (before.started[method] ?? 0);
  return {
    Range: d("Range"),
    Txn: d("Txn"),
    Put: d("Put"),
    rangeServerMs: Math.round((after.rangeSeconds - before.rangeSeconds) * 1_000_000) / 1000,
  };
}
