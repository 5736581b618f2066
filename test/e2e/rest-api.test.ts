/**
 * /api/v1 for dashboards: the same answers as the MCP tools (checked against a real SDK client),
 * HTTP statuses for errors, and the same auth, allow-list, rate limit and audit as /mcp.
 */
import { beforeAll, describe, expect, it, vi } from "vitest";
import { freePort } from "../../bench/lib/etcd-process.js";
import { UNTIL } from "../support/conditions.js";
import { auditedRows, callTool, connectClient, startTestService, useClusterService } from "../support/service.js";

const AUTH = { authorization: "Bearer rest-token" };

async function getJson(url: string, headers: Record<string, string> = AUTH): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { headers });
  return { status: res.status, body: await res.json() };
}

/**
 * Two calls are two moments: the live link probe confirms the snapshot current in between
 * (`synced_at` moves forward, so the ages move too) and cluster_status says when it answered
 * (`observed_at`). Everything else must be identical; the moments are checked by `inOrder`.
 */
function withoutMoments(body: any): any {
  const { freshness, observed_at: _o, ...rest } = body;
  const { age_ms: _a, metrics_age_ms: _m, synced_at: _s, ...stable } = freshness;
  return { ...rest, freshness: stable };
}

/** The later answer was confirmed current no earlier than the first. */
function inOrder(first: any, second: any): void {
  expect(Date.parse(first.freshness.synced_at)).toBeLessThanOrEqual(Date.parse(second.freshness.synced_at));
}

describe("REST API /api/v1", () => {
  const { etcd, service } = useClusterService({
    KAFSCALE_MCP_AUTH_TOKEN: "rest-token",
    KAFSCALE_MCP_RATE_LIMIT: "600",
    KAFSCALE_MCP_RATE_BURST: "30",
    // One lag evaluation after the load and none while the test runs: describe_group and fetch_offsets
    // carry verdicts, and an evaluation landing between the REST call and the MCP call of a pair made
    // the two answers differ (seen once in CI: the first evaluation came between them).
    KAFSCALE_MCP_LAG_SAMPLE_INTERVAL: "1h",
  });
  let api: string;
  beforeAll(async () => {
    api = `${service().url}/api/v1`;
    // The first evaluation is done once /lag answers (503 until then).
    // Polled at 5/s: below the rate limit's refill (10/s), so the calls below start with a full burst.
    await vi.waitFor(async () => expect((await getJson(`${api}/lag`)).status).toBe(200), { ...UNTIL, interval: 200 });
  });

  it("answers exactly what the MCP tools answer", async () => {
    const client = await connectClient(service().url as string, AUTH);
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
      expect(withoutMoments(rest.body), path).toEqual(withoutMoments(mcp));
      inOrder(rest.body, mcp);
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

    expect((await getJson(`${api}/groups/billing/offsets`)).status).toBe(200);
    expect((await getJson(`${api}/groups/ghost`)).status).toBe(404);
    const audit = auditedRows(service()).recent(200);
    expect(audit.some((r) => r.tool === "fetch_offsets" && r.outcome === "ok" && r.subject === "static-token")).toBe(true);
    expect(audit.some((r) => r.tool === "describe_group" && r.outcome === "tool_error")).toBe(true);

    // All at once: one after the other, a slow (busy) machine could let the bucket refill between them.
    const burst = await Promise.all(Array.from({ length: 90 }, () => fetch(`${api}/topics`, { headers: AUTH })));
    const limited = burst.find((res) => res.status === 429);
    expect(limited?.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(((await limited?.json()) as { error: string }).error).toMatch(/^rate limit exceeded/);
    await Promise.all(burst.filter((res) => res !== limited).map((res) => res.arrayBuffer()));
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
