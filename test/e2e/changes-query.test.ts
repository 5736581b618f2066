/**
 * Issue 15 end to end, over real HTTP with the SDK client against a real etcd: recent_changes (MCP and
 * /api/v1/changes), query_snapshot (answers, refusals, the time cap with the service still answering),
 * prompts and resources listed and read, and the query scope with real signed tokens.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { RunningService } from "../../src/service.js";
import { changeScript, scriptCluster } from "../support/change-script.js";
import { testEtcd, writeCluster } from "../support/fixtures.js";
import { AUDIENCE, startTestIssuer, type TestIssuer } from "../support/oidc-issuer.js";
import { auditedRows, callTool, connectClient, startTestService, toolError } from "../support/service.js";

const RUNAWAY = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";

const etcd = testEtcd();
const dir = mkdtempSync(join(tmpdir(), "changes-query-"));
const services: RunningService[] = [];
const clients: Client[] = [];

async function start(env: Record<string, string>, name: string): Promise<RunningService> {
  const service = await startTestService(etcd.endpoint, etcd.namespace, { KAFSCALE_MCP_DB_PATH: join(dir, `${name}.db`), ...env });
  services.push(service);
  await service.sync?.ready();
  return service;
}

async function client(service: RunningService, headers: Record<string, string> = {}): Promise<Client> {
  const c = await connectClient(service.url as string, headers);
  clients.push(c);
  return c;
}

beforeAll(async () => {
  await writeCluster(etcd.keyspace, scriptCluster);
});
afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  for (const s of services) await s.close();
  etcd.client.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("recent_changes, query_snapshot, prompts and resources (auth none, KAFSCALE_MCP_ENABLE_QUERY=true)", () => {
  let service: RunningService;
  let mcp: Client;
  let created: number;
  beforeAll(async () => {
    service = await start({ KAFSCALE_MCP_ENABLE_QUERY: "true", KAFSCALE_MCP_QUERY_TIMEOUT: "1500ms" }, "open");
    mcp = await client(service);
    const [createTopic, addPartitions] = changeScript;
    created = await (createTopic as (typeof changeScript)[number]).run(etcd.keyspace);
    const added = await (addPartitions as (typeof changeScript)[number]).run(etcd.keyspace);
    await service.sync?.waitForRevision(added);
  });

  it("lists both new tools, fully annotated, with output schemas", async () => {
    const tools = (await mcp.listTools()).tools.filter((t) => ["recent_changes", "query_snapshot"].includes(t.name));
    expect(tools.map((t) => t.name).sort()).toEqual(["query_snapshot", "recent_changes"]);
    for (const tool of tools) {
      expect(tool.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false });
      expect(tool.outputSchema).toBeDefined();
    }
  });

  it("recent_changes: newest first, filtered, paged, and says when since reaches past what is kept", async () => {
    const all = await callTool<any>(mcp, "recent_changes", { since: "15m" });
    expect(all.changes.map((c: any) => c.kind)).toEqual(["partitions_added", "topic_created"]);
    // This service's first load was seconds ago: it cannot vouch for the 15 minutes before it.
    expect(all.complete).toBe(false);
    expect(all.freshness.revision).toBeGreaterThanOrEqual(created);

    // The same window as an RFC 3339 time.
    const byTime = await callTool<any>(mcp, "recent_changes", { since: new Date(Date.now() - 15 * 60_000).toISOString() });
    expect(byTime.changes).toEqual(all.changes);
    expect(byTime.complete).toBe(false);

    const byRevision = await callTool<any>(mcp, "recent_changes", { since: String(created) });
    expect(byRevision.changes.map((c: any) => c.kind)).toEqual(["partitions_added"]);
    expect(byRevision).toMatchObject({ complete: true });
    expect(byRevision.notice).toBeUndefined();
    const byKind = await callTool<any>(mcp, "recent_changes", { kinds: ["topic_created"], topic: "payments" });
    expect(byKind.changes).toHaveLength(1);
    expect(byKind.changes[0]).toMatchObject({ kind: "topic_created", topic: "payments", source: "watch", details: { partitions: 2 } });
    expect(byKind.complete).toBeNull();
    expect((await callTool<any>(mcp, "recent_changes", { group: "billing" })).changes).toEqual([]);

    const first = await callTool<any>(mcp, "recent_changes", { limit: 1 });
    expect(first).toMatchObject({ truncated: true, changes: [{ kind: "partitions_added" }] });
    const second = await callTool<any>(mcp, "recent_changes", { limit: 1, cursor: first.next_cursor });
    expect(second).toMatchObject({ truncated: false, changes: [{ kind: "topic_created" }] });

    // Revision 1 is long before this service's first load: the feed cannot vouch for what came before.
    const old = await callTool<any>(mcp, "recent_changes", { since: "1" });
    expect(old.complete).toBe(false);
    expect(old.notice).toMatch(/since reaches back past the kept history/);
    expect(await toolError(mcp, "recent_changes", { since: "last tuesday" })).toMatch(/invalid since .*Hint: give an etcd revision/);
  });

  it("/api/v1/changes answers the same, with the same filters", async () => {
    const res = await fetch(`${service.url}/api/v1/changes?since=15m&kinds=topic_created,partitions_added&topic=payments`);
    expect(res.status).toBe(200);
    const rest = (await res.json()) as any;
    const viaMcp = await callTool<any>(mcp, "recent_changes", { since: "15m", kinds: ["topic_created", "partitions_added"], topic: "payments" });
    expect(rest.changes).toEqual(viaMcp.changes);
    expect((await fetch(`${service.url}/api/v1/changes?kinds=nonsense`)).status).toBe(400);
  });

  it("query_snapshot answers a v_partition_lag query, with the revision it read", async () => {
    const result = await callTool<any>(mcp, "query_snapshot", {
      sql: "SELECT topic, partition, lag FROM v_partition_lag WHERE group_id = 'billing' ORDER BY partition",
    });
    expect(result).toMatchObject({
      columns: ["topic", "partition", "lag"],
      rows: [
        ["orders", 0, 10],
        ["orders", 1, 0],
        ["orders", 2, 50],
      ],
      row_count: 3,
      truncated: false,
    });
    expect(result.read_revision).toBeGreaterThan(0);
    const capped = await callTool<any>(mcp, "query_snapshot", { sql: "SELECT key FROM kv ORDER BY key", max_rows: 2 });
    expect(capped).toMatchObject({ row_count: 2, truncated: true, truncated_by: "rows" });
  });

  it.each([
    ["a write", "DELETE FROM topics"],
    ["ATTACH", "ATTACH DATABASE ':memory:' AS other"],
    ["load_extension", "SELECT load_extension('/tmp/x.so')"],
    ["two statements", "SELECT 1; DROP TABLE kv"],
  ])("query_snapshot refuses %s", async (_name, sql) => {
    expect(await toolError(mcp, "query_snapshot", { sql })).toMatch(/^query refused: .*Hint: run one SELECT/);
    // And nothing changed.
    expect((await callTool<any>(mcp, "query_snapshot", { sql: "SELECT count(*) FROM topics" })).rows).toEqual([[4]]);
  });

  it("query_snapshot stops a query past the time cap while other calls keep being answered", async () => {
    let answered = false;
    const runaway = toolError(mcp, "query_snapshot", { sql: RUNAWAY }).finally(() => {
      answered = true;
    });
    const other = await client(service);
    for (let i = 0; i < 3; i++) expect((await callTool<any>(other, "list_topics")).topics).toHaveLength(4);
    expect(answered).toBe(false);
    expect(await runaway).toMatch(/ran longer than 1500 ms and was stopped. Hint: narrow it/);
    expect((await callTool<any>(mcp, "query_snapshot", { sql: "SELECT 1 AS one" })).rows).toEqual([[1]]);
  });

  it("lists and reads the prompts", async () => {
    const prompts = (await mcp.listPrompts()).prompts;
    expect(prompts.map((p) => p.name).sort()).toEqual(["cluster_health_report", "diagnose_consumer_lag", "what_changed"]);
    expect(prompts.find((p) => p.name === "diagnose_consumer_lag")?.arguments).toEqual([
      expect.objectContaining({ name: "group_id", required: true }),
    ]);
    const lag = await mcp.getPrompt({ name: "diagnose_consumer_lag", arguments: { group_id: "billing" } });
    const text = (lag.messages[0]?.content as { text: string }).text;
    // The right tools, in the right order.
    const order = ["consumer_lag", "describe_group", "recent_changes", "cluster_metrics"].map((t) => text.indexOf(t));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(text).toContain('"billing"');
    const changed = await mcp.getPrompt({ name: "what_changed", arguments: { since: "30m" } });
    expect((changed.messages[0]?.content as { text: string }).text).toContain('recent_changes {"since": "30m"}');
    await expect(mcp.getPrompt({ name: "diagnose_consumer_lag", arguments: {} })).rejects.toThrow(/group_id is required/);
    await expect(mcp.getPrompt({ name: "what_changed", arguments: { since: "x".repeat(65) } })).rejects.toThrow(/longer than 64/);
    const report = await mcp.getPrompt({ name: "cluster_health_report" });
    expect((report.messages[0]?.content as { text: string }).text).toMatch(/cluster_status[\s\S]*cluster_metrics[\s\S]*recent_changes/);
  });

  it("lists and reads the resources: the schema, and topics and groups as their tools answer", async () => {
    expect((await mcp.listResources()).resources.map((r) => r.uri)).toEqual(["kafscale://schema"]);
    expect((await mcp.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate).sort()).toEqual([
      "kafscale://groups/{group_id}",
      "kafscale://topics/{name}",
    ]);
    const schema = await mcp.readResource({ uri: "kafscale://schema" });
    const text = (schema.contents[0] as { text: string }).text;
    expect(text).toContain("## view v_partition_lag");
    expect(text).toContain("## table events");
    expect(text).not.toContain("audit_log (");

    const resourceJson = async (uri: string): Promise<any> =>
      JSON.parse(((await mcp.readResource({ uri })).contents[0] as { text: string }).text);
    const topic = await resourceJson("kafscale://topics/payments");
    const viaTool = await callTool<any>(mcp, "describe_topics", { names: ["payments"] });
    expect(topic.topics).toEqual(viaTool.topics);
    expect(topic.freshness.revision).toBe(viaTool.freshness.revision);
    const group = await resourceJson("kafscale://groups/billing");
    expect(group).toMatchObject({ group_id: "billing", state: "stable", generation_id: 3 });
    await expect(mcp.readResource({ uri: "kafscale://topics/ghost" })).rejects.toThrow(/not found/);
    await expect(mcp.readResource({ uri: "kafscale://nothing/here" })).rejects.toThrow(/Resource not found/);
    await expect(mcp.readResource({ uri: "kafscale://groups/ghost" })).rejects.toThrow(/consumer group "ghost" not found/);
    // A read is audited as the tool whose data it returns.
    expect(auditedRows(service).recent(1000).some((r) => r.tool === "describe_group" && r.arguments?.includes("ghost"))).toBe(true);
  });
});

describe("the result budget (KAFSCALE_MCP_MAX_RESULT_BYTES=5000)", () => {
  const BUDGET = 5000;
  let service: RunningService;
  let mcp: Client;
  beforeAll(async () => {
    service = await start({ KAFSCALE_MCP_ENABLE_QUERY: "true", KAFSCALE_MCP_MAX_RESULT_BYTES: String(BUDGET) }, "budget");
    mcp = await client(service);
    // Edit payments' config and rebalance billing twice: nine events, more than one small page holds.
    let revision = 0;
    for (const step of changeScript.slice(2, 5)) revision = await step.run(etcd.keyspace);
    await service.sync?.waitForRevision(revision);
  });

  it("recent_changes ends a page at the budget and the cursor resumes after the last event sent: each once", async () => {
    const all = (await (await fetch(`${service.url}/api/v1/changes`)).json()) as any;
    expect(all.changes).toHaveLength(9);
    const seen: unknown[] = [];
    let cursor: string | undefined;
    let leftOut = 0;
    do {
      const result = await mcp.callTool({ name: "recent_changes", arguments: cursor ? { cursor } : {} });
      expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThanOrEqual(BUDGET);
      const page = result.structuredContent as any;
      seen.push(...page.changes);
      leftOut += page.left_out ?? 0;
      cursor = page.next_cursor;
    } while (cursor !== undefined);
    expect(leftOut).toBeGreaterThan(0);
    expect(seen).toEqual(all.changes);
  });

  it("query_snapshot keeps the rows that fit and says they were cut by bytes", async () => {
    const sql = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 400) SELECT x, printf('%.40c', 'q') AS pad FROM c";
    const result = await mcp.callTool({ name: "query_snapshot", arguments: { sql } });
    expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThanOrEqual(BUDGET);
    const body = result.structuredContent as any;
    expect(body).toMatchObject({ truncated: true, truncated_by: "bytes" });
    expect(body.clipped).toBeUndefined();
    expect(body.rows.length).toBeGreaterThan(10);
    expect(body.rows.length).toBeLessThan(400);
    expect(body.row_count).toBe(body.rows.length);
    // The rows kept are whole, in order.
    expect(body.rows).toEqual(Array.from({ length: body.rows.length }, (_, i) => [i + 1, "q".repeat(40)]));
  });
});

describe("the query scope, with real signed tokens", () => {
  let idp: TestIssuer;
  let service: RunningService;
  beforeAll(async () => {
    idp = await startTestIssuer();
    service = await start(
      { KAFSCALE_MCP_OIDC_ISSUER: idp.url, KAFSCALE_MCP_OIDC_AUDIENCE: AUDIENCE, KAFSCALE_MCP_OIDC_JWKS_COOLDOWN: "50ms" },
      "oidc",
    );
  });
  afterAll(async () => {
    await idp?.close();
  });

  it("a token without kafscale:query can neither see nor call query_snapshot, nor read the schema", async () => {
    const token = await idp.sign({}, { subject: "observer", scope: "kafscale:observe" });
    const c = await client(service, { authorization: `Bearer ${token}` });
    const names = (await c.listTools()).tools.map((t) => t.name);
    expect(names).toContain("recent_changes");
    expect(names).not.toContain("query_snapshot");
    const result = await c.callTool({ name: "query_snapshot", arguments: { sql: "SELECT * FROM kv" } });
    expect(result.isError).toBe(true);
    expect((result.content as { text: string }[])[0]?.text).toMatch(/Tool query_snapshot not found/);
    expect((await c.listResources()).resources).toEqual([]);
    const denied = auditedRows(service)
      .recent(1000, `${idp.url}#observer`)
      .find((r) => r.tool === "query_snapshot");
    expect(denied).toMatchObject({ outcome: "denied", reason: "tool not permitted" });
  });

  it("a token with kafscale:query sees and calls it; the query scope alone does not let anyone in", async () => {
    const token = await idp.sign({}, { subject: "analyst", scope: "kafscale:observe kafscale:query" });
    const c = await client(service, { authorization: `Bearer ${token}` });
    expect((await c.listTools()).tools.map((t) => t.name)).toContain("query_snapshot");
    expect((await callTool<any>(c, "query_snapshot", { sql: "SELECT count(*) AS n FROM brokers" })).rows).toEqual([[3]]);
    expect((await c.listResources()).resources.map((r) => r.uri)).toEqual(["kafscale://schema"]);

    const only = await idp.sign({}, { subject: "query-only", scope: "kafscale:query" });
    const res = await fetch(`${service.url}/mcp`, {
      method: "POST",
      headers: { authorization: `Bearer ${only}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(res.status).toBe(403);

    // /api/v1/changes takes the same tokens: none is refused, the observe scope is enough.
    expect((await fetch(`${service.url}/api/v1/changes`)).status).toBe(401);
    const rest = await fetch(`${service.url}/api/v1/changes?since=15m`, { headers: { authorization: `Bearer ${token}` } });
    expect(rest.status).toBe(200);
    expect(await rest.json()).toMatchObject({ changes: expect.any(Array), complete: expect.any(Boolean) });
    const metadata = (await (await fetch(`${service.url}/.well-known/oauth-protected-resource/mcp`)).json()) as any;
    expect(metadata.scopes_supported).toContain("kafscale:query");
  });
});
