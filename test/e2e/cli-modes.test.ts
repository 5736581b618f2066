/**
 * The CLI as users run it, as real child processes: `stdio` (against a real etcd) through the SDK's
 * stdio client, and `demo` over HTTP, including a clean exit on SIGTERM.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { startService } from "../../src/service.js";
import { realisticCluster, testEtcd, writeCluster } from "../support/fixtures.js";
import { startDemo } from "../support/cli.js";
import { callTool, callToolWhenReady, connectClient } from "../support/service.js";
import { ALL_TOOLS } from "../../src/tools/index.js";

const CLI = ["--import", "tsx", "src/cli.ts"];

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
      expect((await client.listTools()).tools).toHaveLength(ALL_TOOLS.filter((t) => t.scope === "observe").length);
      const groups = await callToolWhenReady<{ groups: { group_id: string }[] }>(client, "list_groups");
      expect(groups.groups.map((g) => g.group_id)).toEqual(["billing", "nightly-report", "rebalancing"]);
    } finally {
      await client.close();
    }
  });
});

describe("kafscale-mcp demo", () => {
  it("starts with no etcd and no broker, prints its URL, answers as demo data, and exits on SIGTERM", async () => {
    const demo = await startDemo();
    try {
      const client = await connectClient(demo.url);
      const status = await callTool<Record<string, any>>(client, "cluster_status");
      expect(status).toMatchObject({ cluster_name: "kafscale-demo", topic_count: 5 });
      expect(status.freshness).toMatchObject({ source: "demo", stale: false });
      const lag = await callTool<Record<string, any>>(client, "fetch_offsets", { group_id: "analytics-etl" });
      expect(lag.total_lag).toBeGreaterThan(0);
      const metrics = await callToolWhenReady<Record<string, any>>(client, "cluster_metrics");
      expect(metrics).toMatchObject({ s3_state: "degraded", brokers: [{}, {}, {}] });
      await client.close();
    } finally {
      expect(await demo.stop()).toBe(0);
    }
  });
});

describe("where demo listens", () => {
  /** Starts the demo service with `env`, on a free port; returns what it bound and what it logged. */
  async function demoOn(env: Record<string, string>): Promise<{ address: string | null; logged: unknown }> {
    const records: Record<string, unknown>[] = [];
    const logger = createLogger("info", (line) => records.push(JSON.parse(line) as Record<string, unknown>));
    const config = loadConfig({ KAFSCALE_MCP_AUDIT_STDOUT: "false", ...env });
    config.http.port = 0; // a free port instead of the default 8090; the host is what is under test
    const service = await startService({ config, logger, demo: true });
    try {
      return { address: service.listenAddress, logged: records.find((r) => r.msg === "listening")?.address };
    } finally {
      await service.close();
    }
  }

  it("binds 127.0.0.1 unless KAFSCALE_MCP_HTTP_ADDR says otherwise, and logs the address it really listens on", async () => {
    expect(loadConfig({}).http).toMatchObject({ addrSet: false, host: undefined, port: 8090 });
    const loopback = await demoOn({});
    expect(loopback.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(loopback.logged).toBe(loopback.address);
    const told = await demoOn({ KAFSCALE_MCP_HTTP_ADDR: "127.0.0.2:0" });
    expect(told.address).toMatch(/^127\.0\.0\.2:\d+$/);
    expect(told.logged).toBe(told.address);
  });
});
