/** list_groups through the SDK client, in memory, over the fixture cluster. */
import { describe, expect, it } from "vitest";
import { allPages, callTool, toolError } from "../support/tool-calls.js";
import { sharedToolHarness } from "../support/tool-harness.js";

const harness = sharedToolHarness();

describe("list_groups", () => {
  it("lists every group, including one known only from its committed offsets", async () => {
    const { groups, truncated } = await callTool<Record<string, any>>(harness().client, "list_groups");
    expect(groups).toEqual([
      { group_id: "billing", state: "stable", protocol_type: "consumer", member_count: 2 },
      { group_id: "nightly-report", state: "empty", protocol_type: "", member_count: 0 },
      { group_id: "rebalancing", state: "preparing_rebalance", protocol_type: "consumer", member_count: 1 },
    ]);
    expect(truncated).toBe(false);
  });

  it("pages with limit and cursor", async () => {
    const pages = await allPages<{ group_id: string }>(harness().client, "list_groups", { limit: 2 }, "groups");
    expect(pages.map((page) => page.map((g) => g.group_id))).toEqual([["billing", "nightly-report"], ["rebalancing"]]);
  });

  it("rejects invalid arguments and cursors", async () => {
    const { client } = harness();
    expect(await toolError(client, "list_groups", { limit: -1 })).toMatch(/Input validation error/);
    expect(await toolError(client, "list_groups", { cursor: Buffer.from("[1]").toString("base64url") })).toMatch(
      /^invalid cursor/,
    );
  });
});
