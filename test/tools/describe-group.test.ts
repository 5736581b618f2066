/** describe_group through the SDK client, in memory, over the fixture cluster. */
import { describe, expect, it } from "vitest";
import { callTool, toolError } from "../support/tool-calls.js";
import { sharedToolHarness } from "../support/tool-harness.js";

const harness = sharedToolHarness();

describe("describe_group", () => {
  it("describes a group with its members and assignments", async () => {
    const billing = await callTool<Record<string, any>>(harness().client, "describe_group", { group_id: "billing" });
    expect(billing).toMatchObject({
      group_id: "billing",
      state: "stable",
      protocol_type: "consumer",
      protocol: "range",
      leader: "m1",
      generation_id: 3,
      has_metadata: true,
    });
    expect(billing.members.map((m: { member_id: string }) => m.member_id)).toEqual(["m1", "m2"]);
    expect(billing.members[0]).toMatchObject({ assignments: [{ topic: "orders", partitions: [0, 1] }], subscriptions: ["orders"] });
  });

  it("describes a group known only from its committed offsets (metadata deleted when it emptied)", async () => {
    const nightly = await callTool<Record<string, any>>(harness().client, "describe_group", { group_id: "nightly-report" });
    expect(nightly).toMatchObject({ group_id: "nightly-report", state: "empty", has_metadata: false, members: [] });
  });

  it("says how to find a group it does not know", async () => {
    expect(await toolError(harness().client, "describe_group", { group_id: "ghost" })).toBe(
      'consumer group "ghost" not found. Hint: list_groups shows the known groups',
    );
  });

  it("rejects a missing or malformed group_id", async () => {
    const { client } = harness();
    expect(await toolError(client, "describe_group", {})).toMatch(/Input validation error/);
    expect(await toolError(client, "describe_group", { group_id: 42 })).toMatch(/Input validation error/);
    expect(await toolError(client, "describe_group", { group_id: "" })).toMatch(/Input validation error/);
  });
});
