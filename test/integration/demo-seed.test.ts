/**
 * `kafscale-mcp demo --seed-etcd` against the real etcd: the demo cluster lands in etcd as Kafscale
 * would write it, so `snapshot`, `verify`, `report` and `serve` can be tried without a Kafscale
 * cluster; a keyspace that already holds Kafscale keys is never written to.
 */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { buildClusterKvs } from "../../src/demo/cluster-spec.js";
import { demoCluster } from "../../src/demo/demo-cluster.js";
import { KAFSCALE_PREFIX } from "../../src/kafscale/keys.js";
import { runCli } from "../support/cli.js";
import { testEtcd } from "../support/fixtures.js";
import { useCleanups } from "../support/harness.js";
import { callTool, connectClient, startTestService } from "../support/service.js";

const { tempDir, defer } = useCleanups();
const etcd = testEtcd();
afterAll(() => etcd.client.close());

describe("kafscale-mcp demo --seed-etcd", () => {
  it("writes the demo cluster into an empty keyspace; snapshot, report, verify and serve then work on it", { timeout: 120_000 }, async () => {
    const namespace = `/seed-${randomUUID()}`;
    const env = { KAFSCALE_MCP_ETCD_ENDPOINTS: etcd.endpoint, KAFSCALE_MCP_ETCD_NAMESPACE: namespace };
    const seeded = await runCli(["demo", "--seed-etcd"], env);
    expect(seeded.stderr).toBe("");
    expect(seeded.code).toBe(0);
    const kvs = buildClusterKvs(demoCluster);
    expect(seeded.stdout).toContain(`${kvs.length} keys`);
    expect(seeded.stdout).toContain(`KAFSCALE_MCP_ETCD_NAMESPACE=${namespace} kafscale-mcp serve`);

    // Byte for byte what the bundled demo serves, under the namespace and nowhere else.
    const stored = await etcd.client.namespace(namespace).getAll().prefix(KAFSCALE_PREFIX).buffers();
    expect(Object.keys(stored).sort()).toEqual(kvs.map((kv) => kv.key).sort());
    for (const kv of kvs) expect(stored[kv.key]?.equals(kv.value)).toBe(true);

    const db = join(tempDir("kafscale-mcp-seed-"), "demo-etcd.db");
    const snapshot = await runCli(["snapshot", "--out", db], env);
    expect(snapshot.code).toBe(0);
    const report = await runCli(["report", "--db", db, "--json"], env);
    expect(report.code).toBe(0);
    expect(JSON.parse(report.stdout)).toMatchObject({ overview: { cluster_name: "kafscale-demo", topic_count: 5 }, sync: { source: "etcd" } });
    const verify = await runCli(["verify", "--db", db], env);
    expect(verify.stdout + verify.stderr).toContain("no differences");
    expect(verify.code).toBe(0);

    const service = await startTestService(etcd.endpoint, namespace);
    defer(() => service.close());
    await service.sync?.ready();
    const client = await connectClient(service.url ?? "");
    defer(() => client.close());
    const offsets = await callTool<Record<string, any>>(client, "fetch_offsets", { group_id: "fraud-detector" });
    expect(offsets).toMatchObject({ total_lag: expect.any(Number), freshness: { source: "etcd" } });
  });

  it("refuses a keyspace that already holds Kafscale keys, and writes nothing", async () => {
    const namespace = `/seed-${randomUUID()}`;
    const keyspace = etcd.client.namespace(namespace);
    await keyspace.put(`${KAFSCALE_PREFIX}brokers/0`).value("{}").exec();
    const run = await runCli(["demo", "--seed-etcd"], { KAFSCALE_MCP_ETCD_ENDPOINTS: etcd.endpoint, KAFSCALE_MCP_ETCD_NAMESPACE: namespace });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("already holds 1 key under");
    expect(await keyspace.getAll().prefix(KAFSCALE_PREFIX).keys()).toEqual([`${KAFSCALE_PREFIX}brokers/0`]);
  });

  it("says what to set without endpoints, with KAFSCALE_ENV=prod, and when etcd is unreachable", async () => {
    const none = await runCli(["demo", "--seed-etcd"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("KAFSCALE_MCP_ETCD_ENDPOINTS is empty");
    const prod = await runCli(["demo", "--seed-etcd"], { KAFSCALE_ENV: "prod", KAFSCALE_MCP_ETCD_ENDPOINTS: inject("etcdEndpoint") });
    expect(prod.code).toBe(2);
    expect(prod.stderr).toContain("refusing to write demo data with KAFSCALE_ENV=prod");
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    const down = await runCli(["demo", "--seed-etcd"], { KAFSCALE_MCP_ETCD_ENDPOINTS: "http://127.0.0.1:1", KAFSCALE_MCP_ETCD_DIAL_TIMEOUT: "1s" });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain("cannot write etcd at http://127.0.0.1:1");
  });
});
