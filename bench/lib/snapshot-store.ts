/**
 * A snapshot store filled without etcd, for measurements and tests of answers (not of sync): the
 * generated cluster's keys go straight through the product's writer — the initial-load path the
 * etcd watcher takes, page by page, with the same decoders — and each broker gets one metrics
 * scrape (the demo's exposition, parsed and stored as the poller would).
 */
import { demoBrokerMetrics } from "../../src/demo/demo-metrics.js";
import type { KeyValue } from "../../src/demo/cluster-spec.js";
import { deriveBrokerView } from "../../src/kafscale/broker-view.js";
import { createStore, type ScrapeTarget, type Store } from "../../src/store/index.js";
import { parsePrometheusText } from "../../src/sync/metrics/prom-text.js";

const PAGE = 2000;

/** Writes `kvs` into an empty `store` as one initial load at revision kvs.length + 1, confirmed current at `at`. */
export function loadKeys(store: Store, kvs: readonly KeyValue[], at: number): number {
  const session = store.writer.beginResync();
  for (let i = 0; i < kvs.length; i += PAGE) {
    session.addPage(
      kvs.slice(i, i + PAGE).map((kv, j) => ({
        type: "put" as const,
        key: kv.key,
        value: kv.value,
        modRevision: i + j + 2,
        createRevision: i + j + 2,
        version: 1,
        lease: "0",
      })),
    );
  }
  const revision = kvs.length + 1;
  session.commit(revision, at);
  // As after a live sync: the etcd link has proven the snapshot current (else every answer is stale).
  store.syncState.setLink("connected", at);
  return revision;
}

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

/** A store at `path` (":memory:" by default) holding `kvs` and a scrape of each of `brokers` brokers. */
export function snapshotStore(kvs: readonly KeyValue[], brokers: number, at: number, path = ":memory:"): Store {
  const store = createStore(path);
  loadKeys(store, kvs, at);
  recordBrokerScrapes(store, brokers, at);
  return store;
}
