/**
 * query_snapshot through the SDK client with a real sandbox process on a snapshot file: answers with
 * the revision it read, caps rows, refuses what is not one SELECT, and says it is unavailable when
 * the snapshot is kept in memory. Hostile SQL in depth: test/integration/query-sandbox.test.ts.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { callTool, toolError } from "../support/tool-calls.js";
import { useToolHarness } from "../support/tool-harness.js";

const harness = useToolHarness();
const dir = mkdtempSync(join(tmpdir(), "kafscale-mcp-query-tool-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const snapshotFile = (): { path: string } => ({ path: join(dir, `snapshot-${++files}.db`) });

describe("query_snapshot", () => {
  it("answers a v_partition_lag query with the revision it read, and caps rows", async () => {
    const { client, store } = await harness(snapshotFile());
    const lag = await callTool<Record<string, any>>(client, "query_snapshot", {
      sql: "SELECT partition, lag FROM v_partition_lag WHERE group_id = 'billing' ORDER BY partition",
    });
    expect(lag).toMatchObject({
      columns: ["partition", "lag"],
      rows: [
        [0, 10],
        [1, 0],
        [2, 50],
      ],
      row_count: 3,
      truncated: false,
      truncated_by: null,
      read_revision: store.syncState.get().revision,
    });
    const capped = await callTool<Record<string, any>>(client, "query_snapshot", { sql: "SELECT key FROM kv ORDER BY key", max_rows: 2 });
    expect(capped).toMatchObject({ row_count: 2, truncated: true, truncated_by: "rows" });
  });

  it("refuses a write, a second statement and the audit log, with a hint", async () => {
    const { client } = await harness(snapshotFile());
    expect(await toolError(client, "query_snapshot", { sql: "DELETE FROM topics" })).toMatch(/^query refused: .*Hint: run one SELECT/);
    expect(await toolError(client, "query_snapshot", { sql: "SELECT 1; SELECT 2" })).toMatch(/^query refused: .*more than one statement/);
    expect(await toolError(client, "query_snapshot", { sql: "SELECT * FROM audit_log" })).toMatch(/audit_log is not available/);
    expect((await callTool<Record<string, any>>(client, "query_snapshot", { sql: "SELECT count(*) FROM topics" })).rows).toEqual([[3]]);
  });

  it("says it is unavailable when the snapshot is kept in memory", async () => {
    const { client } = await harness();
    expect(await toolError(client, "query_snapshot", { sql: "SELECT 1" })).toBe(
      "query_snapshot is not available: the snapshot is kept in memory. Hint: set KAFSCALE_MCP_DB_PATH to a file",
    );
  });
});
