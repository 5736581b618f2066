/** fetch_offsets through the SDK client, in memory, over the fixture cluster. */
import { describe, expect, it } from "vitest";
import { encodeNextOffset } from "../../src/kafscale/encode.js";
import { keys } from "../../src/kafscale/keys.js";
import { allPages, callTool, toolError } from "../support/tool-calls.js";
import { sharedToolHarness, useToolHarness } from "../support/tool-harness.js";

const harness = sharedToolHarness();
const freshHarness = useToolHarness();

describe("fetch_offsets", () => {
  it("marks uncommitted partitions (-1, committed false, lag null) and reports end offsets and lag", async () => {
    const all = await callTool<Record<string, any>>(harness().client, "fetch_offsets", { group_id: "nightly-report" });
    expect(all.offsets).toEqual([
      { topic: "events", partition: 0, offset: 10, metadata: "", metadata_truncated: false, committed: true, committed_at: "2026-11-24T08:00:00Z", end_offset: 50, in_snapshot: true, lag: 40 },
      { topic: "events", partition: 1, offset: -1, metadata: "", metadata_truncated: false, committed: false, committed_at: null, end_offset: 60, in_snapshot: true, lag: null },
    ]);
    expect(all).toMatchObject({ group_id: "nightly-report", unknown_topics: [], total_lag: 40, truncated: false });
  });

  it("filters by topic and names the unknown ones", async () => {
    const filtered = await callTool<Record<string, any>>(harness().client, "fetch_offsets", {
      group_id: "billing",
      topics: ["orders", "missing"],
    });
    expect(filtered.offsets.map((o: { lag: number }) => o.lag)).toEqual([10, 0, 50]);
    expect(filtered.unknown_topics).toEqual(["missing"]);
    expect(filtered.total_lag).toBe(60);
  });

  it("pages with limit and cursor", async () => {
    const pages = await allPages<{ partition: number }>(harness().client, "fetch_offsets", { group_id: "billing", limit: 2 }, "offsets");
    // The most-lagging partitions first (billing/orders lags 10, 0, 50 on partitions 0, 1, 2).
    expect(pages.map((page) => page.map((o) => o.partition))).toEqual([[2, 0], [1]]);
  });

  it("refuses unknown groups, only-unknown topics, bad arguments and another tool's cursor", async () => {
    const { client } = harness();
    expect(await toolError(client, "fetch_offsets", { group_id: "billing", topics: ["missing"] })).toBe(
      'unknown topic "missing". Hint: list_topics shows the known topics',
    );
    expect(await toolError(client, "fetch_offsets", { group_id: "ghost" })).toMatch(/^consumer group "ghost" not found/);
    expect(await toolError(client, "fetch_offsets", { topics: ["orders"] })).toMatch(/Input validation error/);
    expect(await toolError(client, "fetch_offsets", { group_id: "billing", limit: 0 })).toMatch(/Input validation error/);
    const topicsPage = await callTool<Record<string, any>>(client, "list_topics", { limit: 1 });
    expect(await toolError(client, "fetch_offsets", { group_id: "billing", cursor: topicsPage.next_cursor })).toMatch(
      /^invalid cursor/,
    );
  });

  it("shows a change applied to the store in the next answer, with its revision", async () => {
    const { client, store } = await freshHarness();
    const before = await callTool<Record<string, any>>(client, "fetch_offsets", { group_id: "billing", topics: ["orders"] });
    const revision = before.freshness.revision + 1;
    store.writer.applyChanges(
      [
        {
          type: "put",
          key: keys.nextOffset("orders", 0),
          value: encodeNextOffset(190),
          modRevision: revision,
          createRevision: 2,
          version: 2,
          lease: "0",
        },
      ],
      revision,
    );
    const { offsets, freshness } = await callTool<Record<string, any>>(client, "fetch_offsets", {
      group_id: "billing",
      topics: ["orders"],
    });
    expect(offsets[0]).toMatchObject({ end_offset: 190, lag: 100 });
    expect(freshness.revision).toBe(revision);
  });
});
