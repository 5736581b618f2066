/**
 * /api/v1 for dashboards: the same answers as the MCP tools (checked against a real SDK client),
 * HTTP statuses for errors, and the same auth, allow-list, rate limit and audit as /mcp.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningService } from "../../src/service.js";
import { freePort } from "../../bench/lib/etcd-process.js";
import { realisticCluster, testEtcd, writeCluster } from "../support/fixtures.js";
import { auditedRows, callTool, connectClient, startTestService } from "../support/service.js";

const AUTH = { authorization: "Bearer rest-token" };

async function getJson(url: string, headers: Record<string, string> = AUTH): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { headers });
  return { status: res.status, body: await res.json() };
}

/**
 * Freshness ages differ between two calls, and so does synced_at (the link probe confirms the
 * snapshot between them); everything else must be identical.
 */
function withoutAges(body: any): any {
  const { freshness, ...rest } = body;
  const { age_ms: _a, metrics_age_ms: _m, synced_at: _s, ...stable } = freshness;
  return { ...rest, freshness: stable };
}

describe("REST API /api/v1", () => {
  const etcd = testEtcd();
  let service: RunningService;
  let api: string;

  beforeAll(async () => {
    await writeCluster(etcd.keyspace, realisticCluster);
    service = await startTestService(etcd.endpoint, etcd.namespace, {
      KAFSCALE_MCP_AUTH_TOKEN: "rest-token",
      KAFSCALE_MCP_RATE_LIMIT: "600",
      KAFSCALE_MCP_RATE_BURST: "30",
    });
    await service.sync?.ready();
    api = `${service.url}/api/v1`;
  });
  afterAll(async () => {
    await service?.close();
    etcd.client.close();
  });

  it("answers exactly what the MCP tools answer", async () => {
    const client = await connectClient(service.url as string, AUTH);
    const pairs: [string, string, Record<string, unknown>][] = [
      ["/cluster?topic_limit=2", "cluster_status", { topic_limit: 2 }],
      ["/topics?limit=2", "list_topics", { limit: 2 }],
      ["/topics/orders", "describe_topics", { names: ["orders"] }],
      ["/groups", "list_groups", {}],
      ["/groups/billing", "describe_group", { group_id: "billing" }],
      ["/groups/billing/offsets?topics=orders,events", "fetch_offsets", { group_id: "billing", topics: ["orders", "events"] }],
      ["/configs?topics=orders", "describe_configs", { topics: ["orders"] }],
    ];
    for (const [path, tool, args] of pairs) {
      const rest = await getJson(`${api}${path}`);
      expect(rest.status, path).toBe(200);
      // REST answers with the full freshness block, MCP on request.
      const mcp = await callTool(client, tool, { ...args, freshness: "full" });
      const restBody = withoutAges(rest.body);
      const mcpBody = withoutAges(mcp);
      // observed_at is "now" in cluster_status.
      delete restBody.observed_at;
      delete mcpBody.observed_at;
      expect(restBody, path).toEqual(mcpBody);
    }
    await client.close();
  });

  it("maps errors to HTTP statuses", async () => {
    expect(await getJson(`${api}/groups/ghost`)).toEqual({
      status: 404,
      body: { error: 'consumer group "ghost" not found. Hint: list_groups shows the known groups' },
    });
    expect((await getJson(`${api}/configs?topics=nope`)).status).toBe(404);
    expect((await getJson(`${api}/cluster/metrics`)).status).toBe(404);
    const badLimit = await getJson(`${api}/topics?limit=0`);
    expect(badLimit.status).toBe(400);
    expect(badLimit.body.error).toMatch(/^invalid arguments: limit/);
    expect((await getJson(`${api}/topics?limit=abc`)).status).toBe(400);
    expect(await getJson(`${api}/topics?colour=blue`)).toEqual({
      status: 400,
      body: { error: "unknown query parameter: colour" },
    });
    expect((await getJson(`${api}/nothing-here`)).status).toBe(404);
  });

  it("applies auth, Host checks, rate limits and the audit trail", async () => {
    const missing = await fetch(`${api}/topics`);
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect((await getJson(`${api}/topics`, { authorization: "Bearer wrong" })).status).toBe(401);

    const audit = auditedRows(service).recent(200);
    expect(audit.some((r) => r.tool === "fetch_offsets" && r.outcome === "ok" && r.subject === "static-token")).toBe(true);
    expect(audit.some((r) => r.tool === "describe_group" && r.outcome === "tool_error")).toBe(true);

    let limited: Response | null = null;
    for (let i = 0; i < 60 && limited === null; i++) {
      const res = await fetch(`${api}/topics`, { headers: AUTH });
      if (res.status === 429) limited = res;
      else await res.arrayBuffer();
    }
    expect(limited?.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(((await limited?.json()) as { error: string }).error).toMatch(/^rate limit exceeded/);
  });

  it("honours the tool allow-list and answers 503 before the first sync", async () => {
    const narrow = await startTestService(etcd.endpoint, etcd.namespace, { KAFSCALE_MCP_ENABLED_TOOLS: "list_topics" });
    try {
      await narrow.sync?.ready();
      expect((await getJson(`${narrow.url}/api/v1/topics`, {})).status).toBe(200);
      expect((await getJson(`${narrow.url}/api/v1/groups`, {})).status).toBe(403);
    } finally {
      await narrow.close();
    }
    const notReady = await startTestService(`http://127.0.0.1:${await freePort()}`, "", {
      KAFSCALE_MCP_ETCD_DIAL_TIMEOUT: "200ms",
    });
    try {
      const res = await getJson(`${notReady.url}/api/v1/topics`, {});
      expect(res.status).toBe(503);
      expect(res.body.error).toMatch(/^snapshot not ready/);
    } finally {
      await notReady.close();
    }
  });
});
