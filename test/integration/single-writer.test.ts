/**
 * One writer per snapshot file, with real processes. `serve` and `stdio` used to share the default
 * `./kafscale-mcp.db` with no lock, and when one exited it marked the shared state `stopped` while
 * the other still watched. Now a second writer refuses in one line (exit 2), `stdio` and `report`
 * read the live writer's file read-only instead, and a writer killed with SIGKILL leaves no stale lock.
 */
import { spawnSync } from "node:child_process";
import { Database } from "../../src/store/sqlite-driver.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { describe, expect, it } from "vitest";
import { realisticCluster, testEtcd, writeCluster } from "../support/fixtures.js";
import { useCleanups } from "../support/harness.js";
import { startServiceProcess } from "../../bench/lib/service-process.js";
import { callTool } from "../support/service.js";

const { tempDbPath, defer } = useCleanups();

const CLI = ["--import", "tsx", "src/cli.ts"];

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("one writer per snapshot file", () => {
  it("refuses a second writer, lets stdio and report read the live file, and survives SIGKILL of the writer", async () => {
    const etcd = testEtcd();
    defer(() => etcd.client.close());
    await writeCluster(etcd.keyspace, realisticCluster);
    const db = tempDbPath();
    const env = {
      KAFSCALE_MCP_ETCD_ENDPOINTS: etcd.endpoint,
      KAFSCALE_MCP_ETCD_NAMESPACE: etcd.namespace,
      KAFSCALE_MCP_DB_PATH: db,
    };
    const writer = await startServiceProcess("serve", env);
    defer(() => writer.stop());
    await until(async () => (await writer.readyz()).status === 200, "first sync");

    // A second `serve` on the same file: one line, exit 2, the writer named.
    const second = spawnSync(process.execPath, [...CLI, "serve"], {
      env: { ...process.env, ...env, KAFSCALE_MCP_HTTP_ADDR: "127.0.0.1:0", KAFSCALE_MCP_LOG_LEVEL: "warn" },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(second.status).toBe(2);
    expect(second.stderr.trim().split("\n")).toHaveLength(1);
    expect(second.stderr).toContain(`${db} is being written by another kafscale-mcp (pid ${writer.child.pid} on`);
    expect(second.stderr).toContain('"serve"');

    // `stdio` beside it serves the writer's file read-only, and leaves the writer's state alone.
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [...CLI, "stdio"],
      env: { ...(process.env as Record<string, string>), ...env, KAFSCALE_MCP_LOG_LEVEL: "info" },
      stderr: "pipe",
    });
    let stdioLog = "";
    transport.stderr?.on("data", (chunk: Buffer) => (stdioLog += chunk.toString()));
    const client = new Client({ name: "single-writer-test", version: "1.0.0" });
    await client.connect(transport);
    const groups = await callTool<{ groups: { group_id: string }[] }>(client, "list_groups");
    expect(groups.groups.map((g) => g.group_id)).toEqual(["billing", "nightly-report", "rebalancing"]);
    await client.close();
    expect(stdioLog).toContain("another kafscale-mcp writes this snapshot; serving it read-only");
    const raw = new Database(db, { readonly: true });
    const state = raw.prepare("SELECT sync_phase, link_state FROM sync_state").get() as { sync_phase: string; link_state: string };
    raw.close();
    expect(state).toEqual({ sync_phase: "watching", link_state: "connected" });
    expect((await writer.readyz()).status).toBe(200);

    // `report` reads the live file too.
    const report = spawnSync(process.execPath, [...CLI, "report", "--db", db], { env: { ...process.env, ...env }, encoding: "utf8" });
    expect(report.status).toBe(0);
    expect(report.stdout).toContain("Kafscale cluster report — kafscale");

    // The writer dies without a chance to clean up: the next one starts anyway (no stale lock).
    process.kill(writer.child.pid, "SIGKILL");
    expect(await writer.child.exited).toEqual({ code: null, signal: "SIGKILL" });
    const next = await startServiceProcess("serve after SIGKILL", env);
    defer(() => next.stop());
    await until(async () => (await next.readyz()).status === 200, "sync after restart");
    await next.stop();
    expect(await next.child.exited).toEqual({ code: 0, signal: null });
  }, 180_000);
});
