/**
 * The CLI as users run it, as real child processes: `stdio` (against a real etcd) through the SDK's
 * stdio client, and `demo` over HTTP, including a clean exit on SIGTERM.
 */
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { startService } from "../../src/service.js";
import { realisticCluster, testEtcd, writeCluster } from "../support/fixtures.js";
import { callTool, connectClient } from "../support/service.js";

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
      expect((await client.listTools()).tools).toHaveLength(9);
      let groups: { groups: { group_id: string }[] } | null = null;
      for (let i = 0; i < 50 && groups === null; i++) {
        groups = await callTool<{ groups: { group_id: string }[] }>(client, "list_groups").catch(async () => {
          await new Promise((r) => setTimeout(r, 100));
          return null;
        });
      }
      expect(groups?.groups.map((g) => g.group_id)).toEqual(["billing", "nightly-report", "rebalancing"]);
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
        child.once("exit", (code) => reject(new Error(`demo exited early (${code}): ${out}`)));
        setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 20_000);
      });
      const client = await connectClient(url);
      const status = await callTool<Record<string, any>>(client, "cluster_status");
      expect(status).toMatchObject({ cluster_name: "kafscale-demo", topic_count: 5 });
      expect(status.freshness).toMatchObject({ source: "demo", stale: false });
      const lag = await callTool<Record<string, any>>(client, "fetch_offsets", { group_id: "analytics-etl" });
      expect(lag.total_lag).toBeGreaterThan(0);
      let metrics: Record<string, any> | null = null;
      for (let i = 0; i < 50 && metrics === null; i++) {
        metrics = await callTool<Record<string, any>>(client, "cluster_metrics").catch(async () => {
          await new Promise((r) => setTimeout(r, 100));
          return null;
        });
      }
      expect(metrics).toMatchObject({ s3_state: "degraded", brokers: [{}, {}, {}] });
      await client.close();
    } finally {
      const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      child.kill("SIGTERM");
      expect(await exit).toBe(0);
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
