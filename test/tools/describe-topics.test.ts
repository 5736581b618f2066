/** describe_topics through the SDK client, in memory, over the fixture cluster. */
import { describe, expect, it } from "vitest";
import { allPages, callTool, toolError } from "../support/tool-calls.js";
import { sharedToolHarness } from "../support/tool-harness.js";

const harness = sharedToolHarness();

describe("describe_topics", () => {
  it("describes every topic without names, and with names null or []", async () => {
    const { client } = harness();
    for (const args of [{}, { names: null }, { names: [] }]) {
      const described = await callTool<Record<string, any>>(client, "describe_topics", args);
      expect(described.topics.map((t: { name: string }) => t.name)).toEqual(["audit", "events", "orders"]);
      expect(described.truncated).toBe(false);
    }
  });

  it("answers an unknown name as Kafka does (error_code 3, no partitions), beside the known ones", async () => {
    const some = await callTool<Record<string, any>>(harness().client, "describe_topics", { names: ["orders", "nope"] });
    expect(some.topics[0]).toMatchObject({ name: "nope", error_code: 3, partitions: [] });
    expect(some.topics[1]).toMatchObject({ name: "orders", error_code: 0 });
    expect(some.topics[1].partitions).toHaveLength(3);
    expect(some.topics[1].partitions[0]).toEqual({
      partition: 0,
      leader_id: 0,
      leader_epoch: 0,
      replica_nodes: [0, 1, 2],
      isr_nodes: [0, 1, 2],
      offline_replicas: [],
      error_code: 0,
    });
  });

  it("pages with limit and cursor", async () => {
    const pages = await allPages<{ name: string }>(harness().client, "describe_topics", { limit: 2 }, "topics");
    expect(pages.map((page) => page.map((t) => t.name))).toEqual([["audit", "events"], ["orders"]]);
  });

  it("rejects invalid names and cursors", async () => {
    const { client } = harness();
    expect(await toolError(client, "describe_topics", { names: [""] })).toMatch(/Input validation error/);
    expect(await toolError(client, "describe_topics", { names: "orders" })).toMatch(/Input validation error/);
    expect(await toolError(client, "describe_topics", { cursor: "%%%" })).toMatch(/^invalid cursor/);
  });
});
