/**
 * The SQLite file as ops meet it, through the real service over HTTP: the ops copy published and
 * shown on /metrics; a `sqlite3` session left open on the copy changes nothing for agents; one left
 * open on the live file is reported on /metrics and, past the WAL budget, on /readyz, until it ends.
 */
import { join } from "node:path";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { RunningService } from "../../src/service.js";
import { realisticCluster, testEtcd, writeCluster } from "../support/fixtures.js";
import { startOffsetStream } from "../support/ops-data.js";
import { callTool, connectClient, startTestService } from "../support/service.js";
import { openSqliteSession, sqliteQuery } from "../support/sqlite-cli.js";
import { UNTIL } from "../support/conditions.js";

/** One metric's value from the /metrics text (NaN when absent). */
function metric(text: string, name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line === undefined ? NaN : Number(line.slice(name.length + 1));
}

describe("the SQLite file as an ops interface", () => {
  const etcd = testEtcd();
  const dir = mkdtempSync(join(tmpdir(), "kafscale-mcp-ops-e2e-"));
  const livePath = join(dir, "live.db");
  const copyPath = join(dir, "ops.db");
  let service: RunningService;
  let url: string;

  beforeAll(async () => {
    await writeCluster(etcd.keyspace, realisticCluster);
    service = await startTestService(etcd.endpoint, etcd.namespace, {
      KAFSCALE_MCP_DB_PATH: livePath,
      KAFSCALE_MCP_OPS_COPY: copyPath,
      KAFSCALE_MCP_WAL_SIZE_LIMIT: "1Mi",
      KAFSCALE_MCP_WAL_BUDGET: "3Mi",
      KAFSCALE_MCP_WAL_STARVED_AFTER: "0s",
    });
    url = service.url as string;
    await service.sync?.ready();
  });

  afterAll(async () => {
    await service?.close();
    etcd.client.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("publishes the copy and shows it on /metrics; a session left open on the copy changes nothing for agents", async () => {
    const copier = service.opsCopier;
    if (copier === null) throw new Error("the ops copy is configured");
    await vi.waitFor(async () => expect((await copier.runOnce()).state).toBe("ok"), UNTIL);
    const published = copier.status().revision as number;
    expect(await sqliteQuery(copyPath, "SELECT revision = (SELECT revision FROM sync_state) FROM ops_copy; SELECT count(*) FROM v_group_lag;")).toBe(
      "1\n2",
    );
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(metric(text, "kafscale_mcp_ops_copy_revision")).toBe(published);
    expect(metric(text, "kafscale_mcp_ops_copy_failing")).toBe(0);
    expect(metric(text, "kafscale_mcp_ops_copy_age_seconds")).toBeGreaterThanOrEqual(0);
    expect(metric(text, "kafscale_mcp_sqlite_wal_size_limit_bytes")).toBe(2 ** 20);

    const reader = openSqliteSession(copyPath);
    try {
      expect(await reader.query("BEGIN; SELECT revision FROM ops_copy;")).toBe(String(published));
      await etcd.keyspace.put("/kafscale/consumers/billing/offsets/orders/0").value('{"offset":95,"metadata":"","committed_at":""}').exec();
      const client = await connectClient(url);
      try {
        await vi.waitFor(async () => {
          const answer = await callTool<any>(client, "fetch_offsets", { group_id: "billing", topics: ["orders"] });
          expect(answer.offsets[0].offset).toBe(95);
        }, UNTIL);
      } finally {
        await client.close();
      }
      expect((await copier.runOnce()).revision).toBeGreaterThan(published);
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
    } finally {
      await reader.close();
    }
  });

  it("reports a session held open on the live file on /metrics and /readyz while it lasts", async () => {
    const monitor = service.walMonitor;
    if (monitor === null) throw new Error("a file database has a WAL monitor");
    const stream = startOffsetStream(etcd.keyspace);
    try {
      const reader = openSqliteSession(livePath);
      try {
        await reader.query("BEGIN; SELECT count(*) FROM kv;");
        await vi.waitFor(
          async () => {
            monitor.check();
            const ready = await fetch(`${url}/readyz`);
            expect(ready.status).toBe(503);
            expect(((await ready.json()) as { reason: string }).reason).toMatch(/^live database WAL at .* over its budget of 3\.0 MiB/);
          },
          { timeout: 20_000, interval: 50 },
        );
        const text = await (await fetch(`${url}/metrics`)).text();
        expect(metric(text, "kafscale_mcp_sqlite_checkpoint_starved")).toBe(1);
        expect(metric(text, "kafscale_mcp_sqlite_wal_bytes")).toBeGreaterThanOrEqual(3 * 2 ** 20);
        expect(metric(text, "kafscale_mcp_sqlite_wal_budget_bytes")).toBe(3 * 2 ** 20);
      } finally {
        await reader.close();
      }
      await vi.waitFor(
        async () => {
          monitor.check();
          expect((await fetch(`${url}/readyz`)).status).toBe(200);
        },
        { timeout: 20_000, interval: 50 },
      );
      const text = await (await fetch(`${url}/metrics`)).text();
      expect(metric(text, "kafscale_mcp_sqlite_checkpoint_starved")).toBe(0);
      expect(metric(text, "kafscale_mcp_sqlite_wal_bytes")).toBeLessThanOrEqual(2 ** 20);
    } finally {
      await stream.stop();
    }
  });
});
