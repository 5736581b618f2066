/**
 * The watch applier reports what did not decode on both of its paths: a small batch (one
 * transaction) and a batch above LARGE_BATCH events (one long write), so the rate-limited decode
 * log (src/sync/decode-log.ts) hears of a bad value whichever way it arrived. Against a real store;
 * the frames are built here, as the wire decoder would hand them over (test/unit/watch-wire.test.ts).
 */
import { describe, expect, it, vi } from "vitest";
import { keys } from "../../src/kafscale/keys.js";
import type { KvChange } from "../../src/kafscale/records.js";
import type { DecodeReport } from "../../src/store/index.js";
import { createWatchApplier, LARGE_BATCH, type ApplyFailed } from "../../src/sync/etcd/watch-apply.js";
import type { WatchFrame } from "../../src/sync/etcd/watch-wire.js";
import { useCleanups } from "../support/harness.js";
import { UNTIL } from "../support/conditions.js";

const { openStore } = useCleanups();

const put = (key: string, value: string, revision: number): KvChange => ({
  type: "put",
  key,
  value: Buffer.from(value),
  modRevision: revision,
  createRevision: revision,
  version: 1,
  lease: "0",
});

/** One watch response carrying `changes` (all of one revision). */
const frameOf = (revision: number, changes: KvChange[]): WatchFrame => ({
  watchId: "1",
  created: false,
  canceled: false,
  compactRevision: 0,
  cancelReason: "",
  headerRevision: revision,
  eventCount: changes.length,
  newestRevision: revision,
  changes: function* () {
    yield* changes;
  },
});

/** `count` end offsets of one topic (they decode), then one snapshot value that does not. */
const revisionWithOneBadValue = (revision: number, count: number): KvChange[] => [
  ...Array.from({ length: count }, (_, p) => put(keys.nextOffset("t", p), String(p), revision)),
  put(keys.snapshot(), "{not json", revision),
];

describe("the watch applier", () => {
  it.each([
    ["a small batch, one transaction", 10],
    ["a huge revision, one long write", LARGE_BATCH + 10],
  ])("reports the values that did not decode: %s", async (_case, count) => {
    const store = openStore();
    const reports: DecodeReport[] = [];
    const applied: number[] = [];
    const failures: ApplyFailed[] = [];
    const applier = createWatchApplier({
      store,
      pause: () => undefined,
      resume: () => undefined,
      onApplied: (revision) => applied.push(revision),
      onDecodeReport: (report) => reports.push(report),
      onError: (err) => failures.push(err),
    });
    applier.push(frameOf(5, revisionWithOneBadValue(5, count)));
    await vi.waitFor(() => expect(applied).toEqual([5]), UNTIL);
    expect(failures).toEqual([]);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({
      decodeErrors: 1,
      decodeWarnings: 0,
      problems: [{ key: keys.snapshot(), revision: 5, severity: "error", reason: expect.stringMatching(/not valid JSON/) }],
    });
    expect(store.undecodable.all(5).keys.map((k) => k.key)).toEqual([keys.snapshot()]);
    expect(store.mirror.count()).toBe(count + 1);
  });
});
