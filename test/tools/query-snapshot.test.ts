/**
 * query_snapshot through the SDK client with a real sandbox process on a snapshot file: answers with
 * the revision it read, caps rows, refuses what is not one SELECT, says why it cannot read a snapshot
 * a degraded store holds exclusively, and says it is unavailable when the snapshot is kept in memory. Hostile SQL in depth: test/integration/query-sandbox.test.ts.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { QueryError } from "../../src/store/query-sandbox.js";
import { toolErrorOf } from "../../src/tools/query-snapshot.js";
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

  it("says in one line why it cannot read the snapshot, naming the storage problem when there is one", () => {
    // The sandbox's side (a file held exclusively by a degraded store): test/integration/query-sandbox.test.ts.
    const unreadable = new QueryError("unreadable", "the query sandbox cannot read the snapshot file: database is locked (SQLITE_BUSY)");
    const problem = "snapshot storage: disk full (SQLITE_FULL), writes failing since 2026-11-26T10:00:00.000Z; serving the last committed snapshot";
    expect(toolErrorOf(unreadable, problem).message).toBe(
      "the query sandbox cannot read the snapshot file: database is locked (SQLITE_BUSY) (snapshot storage: disk full " +
        "(SQLITE_FULL), writes failing since 2026-11-26T10:00:00.000Z; serving the last committed snapshot)",
    );
    expect(toolErrorOf(unreadable, problem).hint).toMatch(/^the other tools still answer from the last committed snapshot/);
    expect(toolErrorOf(unreadable, null).message).toBe(unreadable.message);
    // An ordinary SQL error is not blamed on the storage.
    expect(toolErrorOf(new QueryError("failed", "no such column: x"), problem).message).toBe("query failed: no such column: x");
  });

  it("says it is unavailable when the snapshot is kept in memory", async () => {
    const { client } = await harness();
    expect(await toolError(client, "query_snapshot", { sql: "SELECT 1" })).toBe(
      "query_snapshot is not available: the snapshot is kept in memory. Hint: set KAFSCALE_MCP_DB_PATH to a file",
    );
  });
});
