/** `kafscale-mcp report` as a child process, on a snapshot file holding the demo cluster. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDemoCluster } from "../../src/demo/demo-cluster.js";
import { createStore } from "../../src/store/index.js";

const dir = mkdtempSync(join(tmpdir(), "kafscale-mcp-report-"));
const db = join(dir, "snapshot.db");

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const res = spawnSync(process.execPath, ["--import", "tsx", "src/cli.ts", "report", ...args], { encoding: "utf8" });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

describe("kafscale-mcp report", () => {
  beforeAll(async () => {
    const store = createStore(db);
    await loadDemoCluster(store);
    store.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("prints groups and topics ranked by lag", () => {
    const { status, stdout } = run("--db", db, "--top", "3");
    expect(status).toBe(0);
    expect(stdout).toMatch(/^Kafscale cluster report — kafscale-demo/);
    expect(stdout).toMatch(/brokers: 3 {3}topics: 5 \(1 without config\) {3}partitions: 26 {3}consumer groups: 5/);
    const groups = stdout.split("Consumer groups by lag (top 3):\n")[1]?.split("\n").slice(1, 4) ?? [];
    expect(groups.map((l) => l.split(/\s+/)[0])).toEqual(["analytics-etl", "nightly-report", "fraud-detector"]);
  });

  it("has a JSON form and clear usage errors", () => {
    const json = JSON.parse(run("--db", db, "--json").stdout) as { groupCount: number; sync: { source: string } };
    expect(json).toMatchObject({ groupCount: 5, sync: { source: "demo" } });
    expect(run("--db", join(dir, "missing.db")).status).toBe(1);
    expect(run("--db", db, "--top", "zero").status).toBe(2);
    expect(run("--nope").status).toBe(2);
  });
});
