/**
 * Issue 11.1: a flood of sessions never closed must not kill the service. The service runs as its own
 * process, started like the image (node with the Dockerfile's NODE_OPTIONS heap flags, `serve`
 * against a real etcd), and gets 5,000 `initialize` requests without a DELETE from eight client
 * addresses. Before the session table was bounded, about 2,600 such sessions exhausted the 192 MB
 * heap. Now the process lives, the table stays at its cap, its memory stays bounded, and a session
 * that is in use keeps answering throughout.
 */
import { Agent } from "node:http";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { REPO_ROOT, spawnChild, type ChildHandle } from "../../bench/lib/child.js";
import { freePort } from "../../bench/lib/etcd-process.js";
import { shippedNodeArgs } from "../../bench/lib/shipped-node-options.js";
import { parsePrometheusText } from "../../src/sync/metrics/prom-text.js";
import { realisticCluster, testEtcd, writeCluster } from "../support/fixtures.js";
import { INITIALIZE, openRawSession, rawRequest, rpcMessages, sessionHeaders } from "../support/raw-http.js";

const INITIALIZES = 5000;
const ADDRESSES = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 1}`);
/** The defaults (config.ts): the flood from eight addresses (8 × 200) overfills the table (1,000). */
const MAX_SESSIONS = 1000;
const MiB = 1024 * 1024;

describe("a flood of sessions never closed", () => {
  const etcd = testEtcd();
  let child: ChildHandle;
  let url = "";

  beforeAll(async () => {
    await writeCluster(etcd.keyspace, realisticCluster);
    expect(shippedNodeArgs(REPO_ROOT)).toContain("--max-old-space-size=192");
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    child = spawnChild("service", [...shippedNodeArgs(REPO_ROOT), "--import", "tsx", "src/cli.ts", "serve"], {
      KAFSCALE_MCP_HTTP_ADDR: `127.0.0.1:${port}`,
      KAFSCALE_MCP_ETCD_ENDPOINTS: etcd.endpoint,
      KAFSCALE_MCP_ETCD_NAMESPACE: etcd.namespace,
      KAFSCALE_MCP_DB_PATH: ":memory:",
      KAFSCALE_MCP_AUDIT_STDOUT: "false",
      // The cap must hold on its own, without the rate limit's help.
      KAFSCALE_MCP_RATE_LIMIT: "0",
      // Every session opened and closed is an info line: 10,000 of them would only slow the flood down.
      KAFSCALE_MCP_LOG_LEVEL: "warn",
    });
    await vi.waitFor(async () => expect((await fetch(`${url}/readyz`)).status).toBe(200), { timeout: 60_000, interval: 100 });
  }, 120_000);
  afterAll(async () => {
    await child?.stop();
    etcd.client.close();
  });

  it(
    "keeps the process alive, the table at its cap, memory bounded, and a session in use working",
    async () => {
      const mcp = `${url}/mcp`;
      const inUse = await openRawSession(mcp);
      const firstFlooded = (await rawRequest("POST", mcp, INITIALIZE)).headers["mcp-session-id"] as string;
      const agents = ADDRESSES.map((localAddress) => new Agent({ keepAlive: true, localAddress, maxSockets: 2 }));
      const statuses = new Map<number, number>();
      const probes: number[] = [];
      let sent = 1;
      let peakRss = 0;
      const worker = async (w: number): Promise<void> => {
        while (sent < INITIALIZES) {
          const n = sent++;
          const agent = agents[n % agents.length] as Agent;
          const res = await rawRequest("POST", mcp, INITIALIZE, {}, { agent });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (n % 50 === w) {
            // The session in use: a tool call every 50 initializes, from another address than most of the flood.
            const call = await rawRequest(
              "POST",
              mcp,
              { jsonrpc: "2.0", id: n, method: "tools/call", params: { name: "list_topics", arguments: {} } },
              sessionHeaders(inUse),
            );
            probes.push(call.status === 200 && rpcMessages(call)[0]?.result?.isError !== true ? 200 : call.status);
            peakRss = Math.max(peakRss, child.memory().rss);
          }
        }
      };
      await Promise.all(Array.from({ length: 16 }, (_, w) => worker(w)));
      for (const agent of agents) agent.destroy();

      // Alive, and every initialize answered: the caps made room by evicting idle sessions.
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect(Object.fromEntries(statuses)).toEqual({ 200: INITIALIZES - 1 });
      expect(probes.length).toBeGreaterThan(50);
      expect(probes.every((status) => status === 200)).toBe(true);
      expect(
        (await rawRequest("POST", mcp, { jsonrpc: "2.0", id: 1, method: "tools/list" }, sessionHeaders(inUse))).status,
      ).toBe(200);
      expect(
        (await rawRequest("POST", mcp, { jsonrpc: "2.0", id: 1, method: "tools/list" }, sessionHeaders(firstFlooded))).status,
      ).toBe(404);

      const samples = parsePrometheusText(await (await fetch(`${url}/metrics`)).text()).samples;
      const sum = (name: string): number => samples.filter((s) => s.name === name).reduce((a, s) => a + s.value, 0);
      const open = sum("kafscale_mcp_sessions");
      expect(open).toBe(MAX_SESSIONS);
      // Every session opened is either still open or was evicted, and each eviction was counted.
      expect(sum("kafscale_mcp_session_evictions_total")).toBe(INITIALIZES + 1 - open);
      // Memory: the V8 heap stays far below its 192 MB limit, resident memory below the 256 MB target.
      const heapUsed = sum("nodejs_heap_size_used_bytes");
      const rss = child.memory().rss;
      console.info(
        `session flood: heap used ${(heapUsed / MiB).toFixed(1)} MiB, rss ${(rss / MiB).toFixed(1)} MiB, ` +
          `peak rss during the flood ${(Math.max(peakRss, child.memory().peakRss) / MiB).toFixed(1)} MiB`,
      );
      expect(heapUsed).toBeLessThan(128 * MiB);
      expect(child.memory().peakRss).toBeLessThan(256 * MiB);
    },
    300_000,
  );
});
