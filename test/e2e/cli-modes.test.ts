/**
 * The CLI as users run it, as real child processes: `stdio` (against a real etcd) through the SDK's
 * stdio client, and `demo` over HTTP, including a clean exit on SIGTERM.
 */
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { realisticCluster, testEtcd, writeCluster } from "../support/fixtures.js";
import { callTool, connectClient } from "../support/service.js";
import { ALL_TOOLS } from "../../src/tools/index.js";

const CLI = ["--import", "tsx", "src/cli.ts"];
/** Waiting on a condition in a child process: generous, since a busy machine starts children slowly. */
const UNTIL = { timeout: 60_000, interval: 100 };

describe("kafscale-mcp stdio", () => {
  const etcd = testEtcd();
  beforeAll(async () => {
    await writeCluster(etcd.keyspace, realisticCluster);
  });
  afterAll(() => etcd.client.close());

  it("serves the same tools over stdio from a live etcd", async () => {
    const client = new Client({ name: "stdio-test", version: "1.0.0" });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [...CLI, "stdio"],
        env: {
          ...(process.env as Record<string, string>),
          KAFSCALE_MCP_ETCD_ENDPOINTS: etcd.endpoint,
          KAFSCALE_MCP_ETCD_NAMESPACE: etcd.namespace,
          KAFSCALE_MCP_DB_PATH: ":memory:",
          KAFSCALE_MCP_LOG_LEVEL: "error",
        },
        stderr: "pipe",
      }),
    );
    try {
      expect((await client.listTools()).tools).toHaveLength(ALL_TOOLS.length);
      // The child syncs from etcd in the background: wait for the first sync, however slow the machine.
      const groups = await vi.waitFor(() => callTool<{ groups: { group_id: string }[] }>(client, "list_groups"), UNTIL);
      expect(groups.groups.map((g) => g.group_id)).toEqual(["billing", "nightly-report", "rebalancing"]);
    } finally {
      await client.close();
    }
  });
});

describe("kafscale-mcp demo", () => {
  it("starts with no etcd and no broker, prints its URL, answers as demo data, and exits on SIGTERM", async () => {
    const child = spawn(process.execPath, [...CLI, "demo"], {
      env: { ...process.env, KAFSCALE_MCP_HTTP_ADDR: "127.0.0.1:0", KAFSCALE_MCP_SCRAPE_INTERVAL: "1s" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          const match = /MCP endpoint \(streamable HTTP\): (http:\/\/\S+)\/mcp/.exec(out);
          if (match?.[1]) resolve(match[1]);
        });
        // No deadline of its own: a child that never prints its URL fails the test by its timeout.
        child.once("exit", (code) => reject(new Error(`demo exited early (${code}): ${out}`)));
      });
      const client = await connectClient(url);
      const status = await callTool<Record<string, any>>(client, "cluster_status");
      expect(status).toMatchObject({ cluster_name: "kafscale-demo", topic_count: 5 });
      expect(status.freshness).toMatchObject({ source: "demo", stale: false });
      const lag = await callTool<Record<string, any>>(client, "fetch_offsets", { group_id: "analytics-etl" });
      expect(lag.total_lag).toBeGreaterThan(0);
      // The first scrape of the demo brokers runs in the background.
      const metrics = await vi.waitFor(() => callTool<Record<string, any>>(client, "cluster_metrics"), UNTIL);
      expect(metrics).toMatchObject({ s3_state: "degraded", brokers: [{}, {}, {}] });
      await client.close();
    } finally {
      const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      child.kill("SIGTERM");
      expect(await exit).toBe(0);
    }
  });
});
