/**
 * What every tool does alike, whatever its answer: refuses before the first sync (except the tools
 * that do not read the snapshot), rejects unknown arguments, states its freshness from the injected
 * clock, reports each call for the audit trail, and never shows an agent an internal error.
 * Adding a tool needs no change here unless it has required arguments (REQUIRED_ARGS).
 */
import { Database } from "../../src/store/sqlite-driver.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ALL_TOOLS } from "../../src/tools/index.js";
import { callTool, toolError } from "../support/tool-calls.js";
import { STALE_AFTER_MS, SYNCED_AT, TEST_CALLER, useToolHarness } from "../support/tool-harness.js";

const harness = useToolHarness();

/** Arguments a tool cannot be called without; every other tool is called with none. */
const REQUIRED_ARGS: Record<string, Record<string, unknown>> = {
  describe_group: { group_id: "billing" },
  fetch_offsets: { group_id: "billing" },
  query_snapshot: { sql: "SELECT count(*) AS n FROM topics" },
};
const argsOf = (name: string): Record<string, unknown> => REQUIRED_ARGS[name] ?? {};

const SNAPSHOT_TOOLS = ALL_TOOLS.filter((t) => t.needsSnapshot).map((t) => [t.name]);

/** Temporary directories of snapshot files, removed after each test. */
const snapshotDirs: string[] = [];
afterEach(() => {
  for (const dir of snapshotDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
/** A tool with a `load` step (query_snapshot's sandbox process) needs the snapshot in a file. */
function storeFor(name: string): { path?: string } {
  if (!ALL_TOOLS.find((t) => t.name === name)?.load) return {};
  const dir = mkdtempSync(join(tmpdir(), "kafscale-mcp-tools-"));
  snapshotDirs.push(dir);
  return { path: join(dir, "snapshot.db") };
}

describe("every tool", () => {
  it.each(SNAPSHOT_TOOLS)("%s refuses to answer before the first etcd sync, saying when to retry", async (name) => {
    const { client } = await harness({ cluster: null });
    expect(await toolError(client, name, argsOf(name))).toBe(
      "snapshot not ready: initial etcd sync in progress (rev 0). Hint: retry in a few seconds; /readyz turns 200 when the first sync is done",
    );
  });

  it.each(ALL_TOOLS.map((t) => [t.name]))("%s rejects arguments it does not know", async (name) => {
    const { client } = await harness();
    expect(await toolError(client, name, { ...argsOf(name), bogus: true })).toMatch(/Input validation error/);
  });

  it.each(SNAPSHOT_TOOLS)("%s states its freshness, and turns stale when the snapshot is not confirmed current", async (name) => {
    const { client, clock } = await harness(storeFor(name));
    clock.now += 1_500;
    // By default the compact block; the full one on request.
    const compact = await callTool<Record<string, any>>(client, name, argsOf(name));
    expect(compact.freshness).toEqual({ source: "etcd", revision: expect.any(Number), age_ms: 1_500, stale: false, stale_reasons: [] });
    const fresh = await callTool<Record<string, any>>(client, name, { ...argsOf(name), freshness: "full" });
    expect(fresh.freshness).toMatchObject({
      source: "etcd",
      synced_at: new Date(SYNCED_AT).toISOString(),
      age_ms: 1_500,
      etcd_link: "connected",
      etcd_last_error: null,
      metrics_scraped_at: null,
      stale: false,
      stale_reasons: [],
    });
    clock.now = SYNCED_AT + STALE_AFTER_MS + 1_000;
    const stale = await callTool<Record<string, any>>(client, name, argsOf(name));
    expect(stale.freshness).toMatchObject({
      stale: true,
      stale_reasons: ["snapshot not confirmed current for 31s (etcd link connected)"],
    });
  });

  it("reports each call (tool, arguments, outcome, revision, caller) for the audit trail and metrics", async () => {
    const { client, calls } = await harness();
    const answer = await callTool<Record<string, any>>(client, "list_topics", { limit: 1 });
    await toolError(client, "describe_group", { group_id: "ghost" });
    expect(calls).toMatchObject([
      { tool: "list_topics", args: { limit: 1 }, outcome: "ok", revision: answer.freshness.revision, context: TEST_CALLER },
      { tool: "describe_group", outcome: "tool_error", error: 'consumer group "ghost" not found', context: TEST_CALLER },
    ]);
    expect(calls.every((c) => typeof c.rpcId === "number" && c.latencyMs >= 0)).toBe(true);
  });
});

describe("internal errors", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ["a read in the handler", "DROP TABLE topics"],
    ["the sync state read before the handler", "DROP TABLE sync_state"],
  ])("reach an agent as a generic message, never as SQL or a stack trace: %s", async (_case, breakage) => {
    const dir = mkdtempSync(join(tmpdir(), "kafscale-mcp-tools-"));
    dirs.push(dir);
    const { client, store, calls } = await harness({ path: join(dir, "snapshot.db") });
    // Another connection breaks the schema under the running server.
    const other = new Database(store.path);
    other.exec(breakage);
    other.close();
    expect(await toolError(client, "list_topics")).toBe("internal error in list_topics; the service log has details");
    // Still reported, so the audit trail and the metrics see the failure.
    expect(calls).toMatchObject([{ tool: "list_topics", outcome: "internal_error", error: expect.stringMatching(/no such table/) }]);
  });
});
