/**
 * The pure parts of the etcd link: when a reopened watch counts as caught up, how etcd failures
 * are described, how link problems read on answers and /readyz, and since when an outage counts.
 */
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createStore } from "../../src/store/index.js";
import type { SyncState } from "../../src/store/index.js";
import { describeEtcdError, LinkProbeFailed } from "../../src/sync/etcd/etcd-errors.js";
import { createCatchUpTracker } from "../../src/sync/etcd/watch-catch-up.js";
import { etcdLinkProblem, etcdUnreachable } from "../../src/tools/freshness.js";

describe("watch catch-up", () => {
  const tracker = (stored: number) => {
    let now = 0;
    const t = createCatchUpTracker(stored, 1000, () => now);
    return { t, advance: (ms: number) => (now += ms) };
  };

  it("is caught up at once when created at or below the stored revision", () => {
    const { t } = tracker(50);
    expect(t.caughtUp()).toBe(false);
    t.created(50);
    expect(t.caughtUp()).toBe(true);
  });

  it("is not caught up while batches arrive with headers ahead of their events", () => {
    const { t, advance } = tracker(50);
    t.created(3000);
    t.response(3000, 1050);
    advance(400);
    t.response(3000, 2050);
    advance(999);
    expect(t.caughtUp()).toBe(false);
    advance(1);
    expect(t.caughtUp()).toBe(true);
  });

  it("is caught up by a response whose header equals its newest event, or a progress notification", () => {
    const a = tracker(50);
    a.t.created(60);
    a.t.response(60, 60);
    expect(a.t.caughtUp()).toBe(true);
    const b = tracker(50);
    b.t.created(60);
    b.t.response(60, null);
    expect(b.t.caughtUp()).toBe(true);
  });

  it("is caught up after a quiet time when there was nothing to replay", () => {
    const { t, advance } = tracker(50);
    t.created(70);
    advance(999);
    expect(t.caughtUp()).toBe(false);
    advance(1);
    expect(t.caughtUp()).toBe(true);
  });
});

describe("describeEtcdError", () => {
  it.each([
    ["14 UNAVAILABLE: etcdserver: no leader", /^etcd member has no leader/],
    ["4 DEADLINE_EXCEEDED: Deadline exceeded after 1.000s", /^etcd did not answer in time$/],
    ["14 UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:2379", /^etcd refused the connection/],
    [
      "14 UNAVAILABLE: No connection established. Last error: Error: self-signed certificate in certificate chain",
      /^TLS handshake with etcd failed: check KAFSCALE_MCP_ETCD_CA_FILE/,
    ],
    ["etcdserver: authentication failed, invalid user ID or password", /^etcd authentication failed: check KAFSCALE_MCP_ETCD_USERNAME/],
    ["7 PERMISSION_DENIED: etcdserver: permission denied", /^etcd permission denied: the etcd user needs read access/],
    ["applying changes failed: disk I/O error", /^applying changes failed: disk I\/O error$/],
  ])("%j", (raw, described) => {
    expect(describeEtcdError(new Error(raw))).toMatch(described);
  });

  it("names a failed probe as such, once", () => {
    const failed = new LinkProbeFailed(new Error("14 UNAVAILABLE: etcdserver: no leader"));
    expect(describeEtcdError(failed)).toMatch(/^link probe failed: etcd member has no leader/);
  });
});

describe("link problems on answers and /readyz", () => {
  const state = (patch: Partial<SyncState>): SyncState => ({
    revision: 10,
    initialSyncDone: true,
    syncedAt: 1000,
    phase: "watching",
    linkState: "connected",
    linkSince: 1000,
    lastError: null,
    lastErrorAt: null,
    resyncCount: 0,
    source: "etcd",
    decodeErrorKeys: 0,
    ...patch,
  });

  it("has none while connected, or for the demo", () => {
    expect(etcdLinkProblem(state({}))).toBeNull();
    expect(etcdLinkProblem(state({ source: "demo", linkState: "down" }))).toBeNull();
  });

  it("says since when etcd cannot be reached, and why, without the endpoint", () => {
    const s = state({
      linkState: "reconnecting",
      linkSince: Date.parse("2026-11-24T08:00:00Z"),
      lastError: "link probe failed: connect ECONNREFUSED 10.0.0.7:2379",
      lastErrorAt: Date.parse("2026-11-24T08:00:01Z"),
    });
    expect(etcdUnreachable(s)).toBe(
      "etcd cannot be reached since 2026-11-24T08:00:00.000Z: link probe failed: connect ECONNREFUSED <endpoint>",
    );
    expect(etcdLinkProblem(s)).toBe(etcdUnreachable(s));
  });

  it("does not blame an error from before the link left 'connected'", () => {
    const s = state({ linkState: "reconnecting", linkSince: 5000, lastError: "old", lastErrorAt: 4000 });
    expect(etcdUnreachable(s)).toBeNull();
    expect(etcdLinkProblem(s)).toBe("etcd link reconnecting since 1970-01-01T00:00:05.000Z: not yet confirmed current");
  });
});

describe("etcd_link_since", () => {
  it("keeps the start of an outage from reconnecting to down, and restarts on connected", () => {
    const store = createStore(":memory:");
    try {
      store.syncState.setLink("connected", 1000);
      store.syncState.setLink("reconnecting", 2000, "refused");
      store.syncState.setLink("down", 9000, "refused");
      expect(store.syncState.get()).toMatchObject({ linkState: "down", linkSince: 2000, lastErrorAt: 9000 });
      store.syncState.setLink("connected", 12_000);
      expect(store.syncState.get()).toMatchObject({ linkState: "connected", linkSince: 12_000 });
    } finally {
      store.close();
    }
  });
});

describe("link probe settings", () => {
  it("default to a probe every 5 s with a 3 s deadline: a stalled etcd shows within 10 s", () => {
    const config = loadConfig({});
    expect(config.linkProbeIntervalMs).toBe(5000);
    expect(config.linkProbeTimeoutMs).toBe(3000);
    expect(config.linkProbeIntervalMs + config.linkProbeTimeoutMs).toBeLessThan(10_000);
    expect(config.etcd.backoffMaxMs).toBe(15_000);
  });
});
