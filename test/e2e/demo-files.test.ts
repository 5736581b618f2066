/**
 * Every user's side of the demo: `demo --db FILE` keeps the demo snapshot in a file that the
 * `sqlite3` shell (ops) and `kafscale-mcp report` read while the demo runs and after it stopped.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadDemoCluster } from "../../src/demo/demo-cluster.js";
import { runCli, startDemo } from "../support/cli.js";
import { useCleanups } from "../support/harness.js";
import { callTool, connectClient } from "../support/service.js";

const { tempDir, openStore } = useCleanups();

/** One query through Debian's sqlite3 shell (the tool ops use), as `|`-separated text. */
function sqlite3(db: string, sql: string): string {
  return execFileSync("sqlite3", [db, sql], { encoding: "utf8" }).trim();
}

describe("kafscale-mcp demo --db FILE", () => {
  it("keeps the demo snapshot in FILE for sqlite3 and report, during and after the run", { timeout: 90_000 }, async () => {
    const db = join(tempDir("kafscale-mcp-demo-db-"), "demo.db");
    const demo = await startDemo(["--db", db]);
    try {
      expect(demo.stdout()).toContain(`snapshot: ${db}`);
      const client = await connectClient(demo.url);
      expect(await callTool(client, "cluster_status")).toMatchObject({ cluster_name: "kafscale-demo" });
      await client.close();
      // WAL mode: another process reads the file while the demo writes it.
      expect(sqlite3(db, "SELECT source FROM sync_state")).toBe("demo");
      expect(sqlite3(db, "SELECT count(*) FROM topics")).toBe("5");
      const live = await runCli(["report", "--db", db, "--json"]);
      expect(live.code).toBe(0);
      expect(JSON.parse(live.stdout)).toMatchObject({ overview: { cluster_name: "kafscale-demo", topic_count: 5 } });
    } finally {
      expect(await demo.stop()).toBe(0);
    }
    expect(existsSync(db)).toBe(true);
    expect(sqlite3(db, "SELECT group_id FROM v_group_lag ORDER BY total_lag DESC LIMIT 1")).not.toBe("");
    const after = await runCli(["report", "--db", db]);
    expect(after.code).toBe(0);
    expect(after.stdout).toMatch(/^Kafscale cluster report — kafscale-demo/);

    // A second run reuses its own earlier demo file.
    const again = await startDemo(["--db", db]);
    expect(await again.stop()).toBe(0);
    expect(sqlite3(db, "SELECT source || ' ' || (SELECT count(*) FROM topics) FROM sync_state")).toBe("demo 5");
  });

  it("refuses a file that holds a snapshot of a live cluster and leaves it untouched", async () => {
    const db = join(tempDir("kafscale-mcp-demo-live-"), "live.db");
    const store = openStore(db);
    loadDemoCluster(store);
    // What a file written by `serve` or `snapshot` says: source etcd.
    store.syncState.setSource("etcd");
    const revision = store.syncState.get().revision;
    store.close();

    const run = await runCli(["demo", "--db", db]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("holds a snapshot of a live cluster (source etcd");
    expect(sqlite3(db, "SELECT source || ' ' || revision FROM sync_state")).toBe(`etcd ${revision}`);
  });

  it("rejects unknown options and --db together with --seed-etcd", async () => {
    const unknown = await runCli(["demo", "--bogus"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("usage: kafscale-mcp demo [--db FILE]");
    const both = await runCli(["demo", "--db", "x.db", "--seed-etcd"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("--seed-etcd and --db do not go together");
  });
});
