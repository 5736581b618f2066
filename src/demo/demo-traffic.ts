/**
 * Makes the demo cluster move, so its lag has something to show (/ui charts, consumer_lag trends):
 * every tick, producers advance the topics' end offsets and consumers commit, each at a fixed rate,
 * through the same writer and decoders as a live watch. Offsets are a pure function of the tick
 * number, so a test that counts ticks knows every value; only the commit times come from the clock.
 *
 * The groups tell four stories: billing-service keeps up (OK), analytics-etl falls behind (WARN,
 * growing), fraud-detector commits without progress (STALL), nightly-report stopped long ago (STOP).
 */
import { encodeCommittedOffset, encodeNextOffset } from "../kafscale/encode.js";
import { keys } from "../kafscale/keys.js";
import type { KvChange } from "../kafscale/records.js";
import type { Store } from "../store/index.js";
import type { ClusterSpec } from "./cluster-spec.js";

/** Offsets produced per partition per tick. */
const PRODUCED: Record<string, number> = { orders: 40, payments: 12, clickstream: 500, "audit-log": 1 };

/** Per group and topic: offsets consumed per partition per tick; 0 commits the same offset again (a stall). */
const CONSUMED: Record<string, Record<string, number>> = {
  "billing-service": { orders: 40, payments: 12 },
  "analytics-etl": { clickstream: 420 },
  "fraud-detector": { payments: 0 },
};

export const DEMO_TICK_MS = 1000;

export interface DemoTraffic {
  /** Ticks applied so far. */
  ticks(): number;
  /** Applies the next tick now (the timer calls this; tests may too). */
  tick(): void;
  stop(): void;
}

/** The changes of tick `n` (1-based) for `spec`, committed at `at` (RFC 3339). */
export function demoTickChanges(spec: ClusterSpec, n: number, at: string): { key: string; value: Buffer }[] {
  const out: { key: string; value: Buffer }[] = [];
  for (const topic of spec.topics) {
    const rate = PRODUCED[topic.name];
    if (rate === undefined) continue;
    topic.endOffsets?.forEach((end, p) => {
      out.push({ key: keys.nextOffset(topic.name, p), value: encodeNextOffset(end + rate * n) });
    });
  }
  for (const group of spec.groups) {
    for (const [topic, rate] of Object.entries(CONSUMED[group.id] ?? {})) {
      group.offsets?.[topic]?.forEach((offset, p) => {
        if (offset === null) return;
        out.push({
          key: keys.committedOffset(group.id, topic, p),
          value: encodeCommittedOffset({ offset: offset + rate * n, metadata: "", committedAt: at }),
        });
      });
    }
  }
  return out;
}

/** Starts ticking every `intervalMs` from the store's current revision. */
export function startDemoTraffic(
  store: Store,
  spec: ClusterSpec,
  options: { intervalMs?: number; now?: () => number } = {},
): DemoTraffic {
  const now = options.now ?? Date.now;
  let ticks = 0;
  const tick = (): void => {
    ticks += 1;
    const at = now();
    const revision = store.syncState.get().revision + 1;
    const changes: KvChange[] = demoTickChanges(spec, ticks, new Date(at).toISOString()).map((kv) => ({
      type: "put",
      key: kv.key,
      value: kv.value,
      modRevision: revision,
      createRevision: 2,
      version: ticks + 1,
      lease: "0",
    }));
    store.writer.applyChanges(changes, revision, at);
    store.syncState.markSynced(at);
  };
  const timer = setInterval(tick, options.intervalMs ?? DEMO_TICK_MS);
  timer.unref();
  return { ticks: () => ticks, tick, stop: () => clearInterval(timer) };
}
