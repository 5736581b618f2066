/** describe_configs through the SDK client, in memory, over the fixture cluster. */
import { describe, expect, it } from "vitest";
import { callTool, toolError } from "../support/tool-calls.js";
import { sharedToolHarness } from "../support/tool-harness.js";

const harness = sharedToolHarness();

describe("describe_configs", () => {
  it("reports real configs and never invents missing values", async () => {
    const { configs } = await callTool<Record<string, any>>(harness().client, "describe_configs");
    expect(configs.map((c: { name: string; exists: boolean }) => [c.name, c.exists])).toEqual([
      ["audit", false],
      ["events", true],
      ["orders", true],
    ]);
    // No config key: what is known (the partition count), and null for everything else.
    expect(configs[0]).toMatchObject({ name: "audit", exists: false, partitions: 1, config: {} });
    for (const field of ["replication_factor", "retention_ms", "retention_bytes", "segment_bytes", "created_at"]) {
      expect(configs[0][field], field).toBeNull();
    }
  });

  it("describes the topics asked for", async () => {
    const one = await callTool<Record<string, any>>(harness().client, "describe_configs", { topics: ["orders"] });
    expect(one.configs).toHaveLength(1);
    expect(one.configs[0]).toMatchObject({
      name: "orders",
      exists: true,
      partitions: 3,
      replication_factor: 1,
      retention_ms: 86_400_000,
      retention_bytes: -1,
      created_at: "2026-11-24T08:00:00Z",
      config: {},
    });
  });

  it("refuses unknown topics and invalid arguments", async () => {
    const { client } = harness();
    expect(await toolError(client, "describe_configs", { topics: ["nope"] })).toMatch(/^unknown topic "nope"/);
    expect(await toolError(client, "describe_configs", { topics: ["orders", "nope", "gone"] })).toBe(
      'unknown topics "gone", "nope". Hint: list_topics shows the known topics',
    );
    expect(await toolError(client, "describe_configs", { topics: [""] })).toMatch(/Input validation error/);
  });
});
