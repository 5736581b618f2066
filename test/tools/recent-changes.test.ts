/**
 * recent_changes through the SDK client, in memory: events written by the real writer's change
 * feed (store.writer.applyChanges), read back newest first, filtered, paged, with `since` as a
 * revision, an RFC 3339 time or a duration on the injected clock. The real-etcd script is in
 * test/integration/change-events.test.ts.
 */
import { describe, expect, it } from "vitest";
import { groupMetadataValue } from "../../src/demo/cluster-spec.js";
import { keys } from "../../src/kafscale/keys.js";
import type { KvChange } from "../../src/kafscale/records.js";
import { allPages, callTool, toolError } from "../support/tool-calls.js";
import { SYNCED_AT, useToolHarness } from "../support/tool-harness.js";

const harness = useToolHarness();

/** billing rebalancing to `generation` with `members`, as a watch batch at `revision`. */
function rebalance(revision: number, generation: number, members: string[]): KvChange {
  return {
    type: "put",
    key: keys.groupMetadata("billing"),
    value: groupMetadataValue({ id: "billing", state: "stable", generation, members: members.map((id) => ({ id, assignments: {} })) }),
    modRevision: revision,
    createRevision: 2,
    version: 2,
    lease: "0",
  };
}

describe("recent_changes", () => {
  it("answers the feed newest first, filtered by kind and group, and pages every event once", async () => {
    const { client, store, clock } = await harness();
    const start = store.syncState.get().revision;
    store.writer.applyChanges([rebalance(start + 1, 4, ["m1", "m2", "m3"])], start + 1, clock.now);
    store.writer.applyChanges([rebalance(start + 2, 5, ["m1", "m3"])], start + 2, clock.now);

    const all = await callTool<Record<string, any>>(client, "recent_changes");
    expect(all.changes.map((c: any) => `${c.kind}@${c.revision}`)).toEqual([
      `member_left@${start + 2}`,
      `group_rebalanced@${start + 2}`,
      `member_joined@${start + 1}`,
      `group_rebalanced@${start + 1}`,
    ]);
    expect(all.changes[0]).toMatchObject({ source: "watch", group_id: "billing", details: { member_id: "m2" }, at: new Date(clock.now).toISOString() });
    expect(all).toMatchObject({ truncated: false, complete: null, retained_after_revision: start });

    const joined = await callTool<Record<string, any>>(client, "recent_changes", { kinds: ["member_joined"], group: "billing" });
    expect(joined.changes.map((c: any) => c.details)).toEqual([{ member_id: "m3" }]);
    expect((await callTool<Record<string, any>>(client, "recent_changes", { group: "ghost" })).changes).toEqual([]);

    const pages = await allPages<{ kind: string }>(client, "recent_changes", { limit: 3 }, "changes");
    expect(pages.flat()).toEqual(all.changes);
    expect(pages.map((p) => p.length)).toEqual([3, 1]);
  });

  it("reads since as a revision, an RFC 3339 time or a duration, and says when it reaches past the kept history", async () => {
    const { client, store, clock } = await harness();
    const start = store.syncState.get().revision;
    clock.now = SYNCED_AT + 10 * 60_000;
    store.writer.applyChanges([rebalance(start + 1, 4, ["m1", "m2", "m3"])], start + 1, clock.now);
    clock.now += 5 * 60_000;
    store.writer.applyChanges([rebalance(start + 2, 5, ["m1", "m2", "m3"])], start + 2, clock.now);

    const byRevision = await callTool<Record<string, any>>(client, "recent_changes", { since: String(start + 1) });
    expect(byRevision.changes.map((c: any) => c.revision)).toEqual([start + 2]);
    expect(byRevision).toMatchObject({ complete: true });
    const byDuration = await callTool<Record<string, any>>(client, "recent_changes", { since: "4m" });
    expect(byDuration.changes.map((c: any) => c.revision)).toEqual([start + 2]);
    const byTime = await callTool<Record<string, any>>(client, "recent_changes", { since: new Date(SYNCED_AT + 10 * 60_000).toISOString() });
    expect(byTime.changes.map((c: any) => c.revision)).toEqual([start + 2, start + 1, start + 1]);
    expect(byTime.complete).toBe(true);

    // Before the first load the feed cannot vouch for anything.
    const old = await callTool<Record<string, any>>(client, "recent_changes", { since: "1h" });
    expect(old).toMatchObject({ complete: false, notice: expect.stringMatching(/^since reaches back past the kept history/) });
    expect(await toolError(client, "recent_changes", { since: "yesterday" })).toMatch(/^invalid since "yesterday". Hint: give an etcd revision/);
    expect(await toolError(client, "recent_changes", { cursor: "bm9wZQ" })).toMatch(/^invalid cursor/);
    expect(await toolError(client, "recent_changes", { kinds: ["topic_renamed"] })).toMatch(/Input validation error/);
  });
});
