/**
 * tools/list as agents receive it (issue #13): small enough to load on every connection, portable
 * JSON Schema (nullable as anyOf with null, never a type array), an actionable description for
 * every tool and every input, and output schemas that hold for every answer the tools give.
 */
import { describe, expect, it } from "vitest";
import { demoCluster } from "../../src/demo/demo-cluster.js";
import { useCleanups } from "../support/harness.js";
import { answer, toolFixture } from "./support.js";

/** Every schema object inside `node`, depth first. */
function schemasIn(node: unknown, out: Record<string, unknown>[] = []): Record<string, unknown>[] {
  if (Array.isArray(node)) node.forEach((n) => schemasIn(n, out));
  else if (node !== null && typeof node === "object") {
    out.push(node as Record<string, unknown>);
    Object.values(node).forEach((v) => schemasIn(v, out));
  }
  return out;
}

/** The reference Go service's tools (kafscale-contract.md), the ones issue 13 sized. */
const GO_SERVICE_TOOLS = [
  "cluster_status",
  "cluster_metrics",
  "list_topics",
  "describe_topics",
  "list_groups",
  "describe_group",
  "fetch_offsets",
  "describe_configs",
];

describe("tools/list", () => {
  const h = useCleanups();

  // Issue 13 held the Go service's eight tools to 12 KB; a tool added since (consumer_lag) has its own,
  // smaller budget, so the whole list stays bounded too.
  it("is at most 12 KB for the Go service's eight tools, 3 KB for each later tool, and every schema is portable", async () => {
    const { client } = await toolFixture(h, demoCluster);
    const list = await client.listTools();
    const eight = list.tools.filter((t) => GO_SERVICE_TOOLS.includes(t.name));
    expect(eight.map((t) => t.name).sort()).toEqual([...GO_SERVICE_TOOLS].sort());
    expect(Buffer.byteLength(JSON.stringify({ tools: eight }))).toBeLessThanOrEqual(12_000);
    for (const later of list.tools.filter((t) => !GO_SERVICE_TOOLS.includes(t.name))) {
      expect(Buffer.byteLength(JSON.stringify(later)), later.name).toBeLessThanOrEqual(3_000);
    }
    for (const tool of list.tools) {
      for (const schema of schemasIn([tool.inputSchema, tool.outputSchema])) {
        expect(Array.isArray(schema.type), `${tool.name}: a type array`).toBe(false);
      }
    }
    // A nullable field is written as anyOf with null.
    const offsets = list.tools.find((t) => t.name === "fetch_offsets")?.outputSchema as any;
    expect(offsets.properties.offsets.items.properties.lag.anyOf).toEqual([{ type: "number" }, { type: "null" }]);
  });

  it("describes every tool and every input in words an agent can act on", async () => {
    const { client } = await toolFixture(h, demoCluster);
    for (const tool of (await client.listTools()).tools) {
      expect(tool.title, tool.name).toBeTruthy();
      expect(tool.description, tool.name).toMatch(/\bUse\b/);
      expect(tool.description?.length, tool.name).toBeLessThanOrEqual(220);
      for (const [name, property] of Object.entries(tool.inputSchema.properties ?? {})) {
        expect((property as { description?: string }).description, `${tool.name}.${name}`).toBeTruthy();
      }
      expect(tool.inputSchema.properties?.freshness, tool.name).toBeDefined();
    }
  });

  it("lists output schemas every answer satisfies, in both freshness forms", async () => {
    // The SDK client validates structuredContent against the listed output schema on every call.
    const { client } = await toolFixture(h, demoCluster);
    await client.listTools();
    const calls: [string, Record<string, unknown>][] = [
      ["cluster_status", {}],
      ["cluster_metrics", {}],
      ["list_topics", { limit: 2 }],
      ["describe_topics", { names: ["orders", "nope"] }],
      ["list_groups", { limit: 2 }],
      ["describe_group", { group_id: "billing-service" }],
      ["fetch_offsets", { group_id: "fraud-detector" }],
      ["describe_configs", { topics: ["orders", "audit-log"] }],
    ];
    for (const [tool, args] of calls) {
      for (const freshness of ["compact", "full"]) {
        const { data } = await answer(client, tool, { ...args, freshness });
        expect(Object.keys(data.freshness).length, tool).toBe(freshness === "full" ? 12 : 5);
      }
    }
  });
});
