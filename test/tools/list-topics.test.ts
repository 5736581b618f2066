/** list_topics through the SDK client, in memory, over the fixture cluster. */
import { describe, expect, it } from "vitest";
import { allPages, callTool, toolError } from "../support/tool-calls.js";
import { sharedToolHarness } from "../support/tool-harness.js";

const harness = sharedToolHarness();

describe("list_topics", () => {
  it("lists every topic, sorted, with partition counts", async () => {
    const all = await callTool<Record<string, any>>(harness().client, "list_topics");
    expect(all.topics).toEqual([
      { name: "audit", partition_count: 1, error_code: 0 },
      { name: "events", partition_count: 2, error_code: 0 },
      { name: "orders", partition_count: 3, error_code: 0 },
    ]);
    expect(all.truncated).toBe(false);
    expect(all.next_cursor).toBeUndefined();
  });

  it("pages with limit and cursor", async () => {
    const pages = await allPages<{ name: string }>(harness().client, "list_topics", { limit: 2 }, "topics");
    expect(pages.map((page) => page.map((t) => t.name))).toEqual([["audit", "events"], ["orders"]]);
  });

  it("carries the same JSON in structuredContent and the text content", async () => {
    const result = await harness().client.callTool({ name: "list_topics", arguments: {} });
    const text = (result.content as { type: string; text: string }[])[0];
    expect(text?.type).toBe("text");
    expect(JSON.parse(text?.text ?? "")).toEqual(result.structuredContent);
  });

  it("rejects invalid arguments and a malformed cursor with an actionable error", async () => {
    const { client } = harness();
    expect(await toolError(client, "list_topics", { limit: 0 })).toMatch(/Input validation error/);
    expect(await toolError(client, "list_topics", { limit: 10_001 })).toMatch(/Input validation error/);
    expect(await toolError(client, "list_topics", { bogus: true })).toMatch(/Input validation error/);
    expect(await toolError(client, "list_topics", { cursor: "not-a-cursor" })).toBe(
      "invalid cursor. Hint: pass next_cursor exactly as returned by the previous page, or omit it",
    );
  });
});
