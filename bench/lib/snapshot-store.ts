/**
 * A snapshot store filled without etcd, for measurements and tests of answers (not of sync): the
 * generated cluster's keys go straight through the product's writer — the initial-load path the
 * etcd watcher takes, page by page, with the same decoders — and each broker gets one metrics
 * scrape (the demo's exposition, parsed and stored as the poller would).
 */
import { demoBrokerMetrics } from "../../src/demo/demo-metrics.js";
import type { KeyValue } from "../../src/demo/cluster-spec.js";
import { loadKeyValues } from "../../src/demo/demo-cluster.js";
import { deriveBrokerView } from "../../src/kafscale/broker-view.js";
import { createStore, type ScrapeTarget, type Store } from "../../src/store/index.js";
import { parsePrometheusText } from "../../src/sync/metrics/prom-text.js";

/** Records one good scrape of every broker 0..brokers-1 at `at`. */
export function recordBrokerScrapes(store: Store, brokers: number, at: number): void {
  const targets: ScrapeTarget[] = Array.from({ length: brokers }, (_, id) => ({
    target: `broker:${id}`,
    url: `http://broker-${id}:9093/metrics`,
    kind: "broker",
    nodeId: id,
  }));
  store.metrics.syncTargets(targets);
  for (const target of targets) {
    const { samples } = parsePrometheusText(demoBrokerMetrics(target.nodeId ?? 0));
    store.metrics.recordScrape({ target, at, durationMs: 5, samples, view: deriveBrokerView(samples) });
  }
}

/**
 * Loads `kvs` into an empty store as one initial load (see loadKeyValues) and marks the etcd link
 * connected at `at`, as after a live sync (else every answer is stale). Returns the revision.
 */
export async function loadKeys(store: Store, kvs: readonly KeyValue[], at: number): Promise<number> {
  const revision = await loadKeyValues(store, kvs, at);
  store.syncState.setLink("connected", at);
  return revision;
}

/**
 * A store at `path` (":memory:" by default) holding `kvs` (one initial load at revision
 * kvs.length + 1, confirmed current at `at`) and a scrape of each of `brokers` brokers.
 */
export async function snapshotStore(kvs: readonly KeyValue[], brokers: number, at: number, path = ":memory:"): Promise<Store> {
  const store = createStore(path);
  await loadKeys(store, kvs, at);
  recordBrokerScrapes(store, brokers, at);
  return store;
}
