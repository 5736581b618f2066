/**
 * `verify` and `snapshot` against a real etcd: a faithful mirror compares equal after every way the
 * sync can reach its state (initial load, live changes, restart, compaction resync, etcd restart,
 * corrupt values), a tampered database does not, and the CLI commands behave as documented when run
 * for real as child processes.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import type { Etcd3, Namespace } from "etcd3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStore, type Store } from "../../src/store/index.js";
import { compareKeys, compareText } from "../../src/store/table-dump.js";
import type { EtcdSync } from "../../src/sync/etcd/etcd-sync.js";
import { encodeBrokerRegistration, encodeCommittedOffset, encodeNextOffset, encodePartitionAssignment } from "../../src/kafscale/encode.js";
import { keys } from "../../src/kafscale/keys.js";
import { verifySnapshot, type VerifyReport } from "../../src/sync/etcd/verify.js";
import { formatReport } from "../../src/cli/verify.js";
import { silentLogger } from "../../src/log.js";
import { realisticCluster, testEtcd, writeCluster } from "../support/fixtures.js";
import { freePort, startEtcd, type EtcdProcess } from "../../bench/lib/etcd-process.js";
import { useCleanups } from "../support/harness.js";
import { runCli as cli } from "../support/cli.js";

// This file compacts etcd, and its pinned reads must not be disturbed by other files compacting the
// shared etcd, so it runs against an etcd of its own (still namespaced per test via testEtcd()).
let etcd: EtcdProcess;
beforeAll(async () => {
  etcd = await startEtcd();
});
afterAll(async () => {
  await etcd.destroy();
});

const { defer, tempDir, openStore, startSync: startSyncWithPageSize, syncAndStop } = useCleanups();
const startSync = (store: Store, client: Etcd3, keyspace: Namespace): EtcdSync =>
  startSyncWithPageSize(store, client, keyspace, 7);

function etcdFor(endpoint: string = etcd.endpoint): { client: Etcd3; keyspace: Namespace; namespace: string } {
  const etcd = testEtcd(endpoint);
  defer(() => etcd.client.close());
  return etcd;
}

/** Verifies `path` through its own connection, as the CLI does next to a running service. */
async function verifyFile(path: string, client: Etcd3, keyspace: Namespace): Promise<VerifyReport> {
  const store = createStore(path);
  try {
    return await verifySnapshot({ store, client, keyspace, logger: silentLogger, pageSize: 5 });
  } finally {
    store.close();
  }
}

function expectClean(report: VerifyReport): void {
  const dirty = report.tables.filter((t) => t.missing + t.extra + t.changed > 0);
  expect(dirty, JSON.stringify(dirty, null, 2)).toEqual([]);
  expect(report.problems).toEqual([]);
  expect(report.differences).toBe(0);
}

function tableOf(report: VerifyReport, table: string): VerifyReport["tables"][number] {
  const found = report.tables.find((t) => t.table === table);
  if (!found) throw new Error(`no table ${table} in the report`);
  return found;
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Keys of every kind, plus keys whose order differs between UTF-16 and UTF-8 (SQLite) comparison. */
async function writeEverything(keyspace: Namespace): Promise<number> {
  await writeCluster(keyspace, realisticCluster);
  await keyspace.put(keys.brokerRegistration("0")).value(encodeBrokerRegistration({
    brokerId: "0", host: "b0", port: 9092, rack: "r1", startedAt: "2026-01-01T00:00:00Z", lastHeartbeat: "", version: "1",
  })).exec();
  await keyspace.put(keys.partitionAssignment("orders", 1)).value(encodePartitionAssignment({
    brokerId: "1", epoch: 2, assignedAt: "2026-01-01T00:00:00Z",
  })).exec();
  await keyspace.put("/kafscale/future/\u{1F600}").value("emoji").exec();
  await keyspace.put("/kafscale/future/\uE000").value("private use").exec();
  await keyspace.put("/kafscale/future/z").value(Buffer.from([0, 1, 2, 255])).exec();
  const corrupt = await keyspace.put(keys.groupMetadata("broken")).value(Buffer.from([0x0a, 0xff, 0x01])).exec();
  return Number(corrupt.header.revision);
}

/** Live traffic: puts, a lease-bound key, a topic deleted by prefix, corrupt values. */
async function liveChanges(keyspace: Namespace): Promise<number> {
  await keyspace.put(keys.nextOffset("orders", 0)).value(encodeNextOffset(150)).exec();
  await keyspace
    .put(keys.committedOffset("billing", "events", 1))
    .value(encodeCommittedOffset({ offset: 55, metadata: "m", committedAt: "2026-11-24T09:00:00Z" }))
    .exec();
  const lease = keyspace.lease(60);
  defer(() => lease.revoke().catch(() => undefined));
  await lease.put(keys.partitionLease("events", 1)).value("2").exec();
  await keyspace.delete().prefix("/kafscale/topics/orders/").exec();
  await keyspace.delete().prefix("/kafscale/consumers/billing/offsets/orders/").exec();
  await keyspace.put(keys.committedOffset("nightly-report", "events", 1)).value("{not json").exec();
  const last = await keyspace.put(keys.nextOffset("events", 0)).value("12x").exec();
  return Number(last.header.revision);
}

describe("compareKeys", () => {
  it("orders text exactly as SQLite's BINARY collation (UTF-8 bytes)", () => {
    const words = ["", "a", "ab", "b", "\u00e4", "\uE000", "\uFFFF", "\u{1F600}", "\u{10000}", "Z", "~"];
    const db = new Database(":memory:");
    db.exec("CREATE TABLE t (k TEXT PRIMARY KEY)");
    const insert = db.prepare("INSERT INTO t VALUES (?)");
    for (const w of words) insert.run(w);
    const sqlite = (db.prepare("SELECT k FROM t ORDER BY k").pluck().all() as string[]);
    db.close();
    expect([...words].sort(compareText)).toEqual(sqlite);
    expect(compareKeys(["a", 2n], ["a", 10n])).toBeLessThan(0);
    expect(compareKeys([5n], ["5"])).toBeLessThan(0);
  });
});

describe("verify", () => {
  it("finds no difference after the initial sync and live changes, even while the service keeps writing", async () => {
    const { client, keyspace } = etcdFor();
    await writeEverything(keyspace);
    const path = join(tempDir("kafscale-mcp-verify-"), "live.db");
    const store = openStore(path);
    const sync = startSync(store, client, keyspace);
    await sync.ready();
    expectClean(await verifyFile(path, client, keyspace));

    await sync.waitForRevision(await liveChanges(keyspace));
    expect(store.syncState.get().decodeErrorKeys).toBe(3);
    const report = await verifyFile(path, client, keyspace);
    expectClean(report);
    expect(report.pinned).toBe(true);
    expect(report.etcdRevision).toBe(report.localRevision);
    expect(tableOf(report, "kv").local).toBe(await keyspace.getAll().prefix("/kafscale/").count());
    expect(tableOf(report, "broker_registrations").local).toBe(1);
    expect(tableOf(report, "partition_assignments").local).toBe(1);

    // The service applies more changes while verify runs: the pinned read still matches.
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) await keyspace.put(keys.nextOffset("events", 1)).value(String(100 + i)).exec();
    })();
    const during = await verifyFile(path, client, keyspace);
    writing = false;
    await writer;
    expectClean(during);
    expect(during.pinned).toBe(true);
    // The service really did move on while verify compared (else this test proves nothing).
    await until(() => store.syncState.get().revision > during.localRevision);
  });

  it("finds no difference after a restart and after a compaction resync", async () => {
    const { client, keyspace } = etcdFor();
    await writeEverything(keyspace);
    const path = join(tempDir("kafscale-mcp-verify-"), "restart.db");
    await syncAndStop(path, client, keyspace);

    // Down while etcd moves on; then resume from the stored revision.
    let last = await liveChanges(keyspace);
    const store = openStore(path);
    const sync = startSync(store, client, keyspace);
    await sync.waitForRevision(last);
    expectClean(await verifyFile(path, client, keyspace));
    await sync.stop();

    // Down again; this time etcd compacts past the stored revision, so the restart resyncs.
    await keyspace.delete().prefix("/kafscale/topics/events/").exec();
    await keyspace.put(keys.groupLease("rebalancing")).value("2").exec();
    const compactAt = await keyspace.put(keys.nextOffset("audit", 0)).value("9").exec();
    last = Number(compactAt.header.revision);
    await client.kv.compact({ revision: compactAt.header.revision, physical: true });
    const resumed = openStore(path);
    const resync = startSync(resumed, client, keyspace);
    await until(() => resumed.syncState.get().resyncCount === 1 && resumed.syncState.get().revision >= last);
    await resync.stop();
    expectClean(await verifyFile(path, client, keyspace));
  });

  it("finds no difference after etcd itself stops and restarts", async () => {
    const own = await startEtcd();
    defer(() => own.destroy());
    const { client, keyspace } = etcdFor(own.endpoint);
    await writeEverything(keyspace);
    const path = join(tempDir("kafscale-mcp-verify-"), "etcd-restart.db");
    const store = openStore(path);
    const sync = startSync(store, client, keyspace);
    await sync.ready();
    await own.stop();
    await until(() => store.syncState.get().linkState !== "connected");
    await own.start();
    const res = await keyspace.put(keys.nextOffset("audit", 0)).value("7").exec();
    await sync.waitForRevision(Number(res.header.revision), 20_000);
    expectClean(await verifyFile(path, client, keyspace));
  });

  it("reports each deliberate tamper of the database", async () => {
    const { client, keyspace } = etcdFor();
    await writeEverything(keyspace);
    const path = join(tempDir("kafscale-mcp-verify-"), "tamper.db");
    const store = openStore(path);
    const sync = startSync(store, client, keyspace);
    await sync.ready();
    await sync.stop();

    const db = new Database(path);
    db.prepare("UPDATE committed_offsets SET committed_offset = 12345 WHERE group_id = 'billing' AND topic = 'orders' AND partition = 0").run();
    db.prepare("DELETE FROM kv WHERE key = ?").run(keys.nextOffset("events", 0));
    db.prepare("INSERT INTO topics (name, topic_id, is_internal, error_code, partition_count) VALUES ('bogus', '00', 0, 0, 1)").run();
    db.close();

    const report = await verifyFile(path, client, keyspace);
    expect(report.pinned).toBe(true);
    expect(report.differences).toBe(3);
    expect(tableOf(report, "committed_offsets")).toMatchObject({ changed: 1, missing: 0, extra: 0 });
    expect(tableOf(report, "committed_offsets").examples).toEqual([
      'changed committed_offsets (group_id="billing", topic="orders", partition=0): committed_offset: local 12345, etcd 90',
    ]);
    expect(tableOf(report, "kv")).toMatchObject({ missing: 1, extra: 0, changed: 0 });
    expect(tableOf(report, "kv").examples[0]).toContain(`key=${JSON.stringify(keys.nextOffset("events", 0))}`);
    expect(tableOf(report, "topics")).toMatchObject({ extra: 1, missing: 0, changed: 0 });
    expect(tableOf(report, "topics").local).toBe(tableOf(report, "topics").fresh + 1);
    expect(tableOf(report, "topics").examples).toEqual(['extra   topics (name="bogus"): in the local snapshot, not in etcd']);
  });

  it("compares the rows of keys held at their last good value, even after etcd compacted that value away", async () => {
    const { client, keyspace } = etcdFor();
    await writeEverything(keyspace);
    const path = join(tempDir("kafscale-mcp-verify-"), "held.db");
    const store = openStore(path);
    const sync = startSync(store, client, keyspace);
    await sync.ready();
    await keyspace.put(keys.snapshot()).value("{not json").exec();
    const bad = await keyspace.put(keys.groupMetadata("billing")).value(Buffer.from([0x0a, 0xff, 0x01])).exec();
    await sync.waitForRevision(Number(bad.header.revision));
    await sync.stop();
    // The last good values are gone from etcd's history: only the local snapshot still has them.
    await client.kv.compact({ revision: bad.header.revision, physical: true });
    expect(store.reads.clusterOverview()).toMatchObject({ topic_count: 3, partition_count: 6 });

    const report = await verifyFile(path, client, keyspace);
    expectClean(report);
    expect(report.pinned).toBe(true);
    expect(report.undecodableTotal).toBe(3); // and the "broken" group that never decoded
    expect(report.undecodable.map((k) => [k.key, k.lastGoodRevision === null])).toEqual([
      [keys.groupMetadata("billing"), false],
      [keys.groupMetadata("broken"), true],
      [keys.snapshot(), false],
    ]);
    const text = formatReport(path, report);
    expect(text).toMatch(/^held: 3 keys whose value in etcd does not decode; /m);
    expect(text).toMatch(/^ {2}\/kafscale\/metadata\/snapshot at revision \d+: snapshot is not valid JSON.* \(serving revision \d+\)$/m);
    expect(text).toMatch(/^ {2}\/kafscale\/consumers\/broken\/metadata at revision \d+: invalid protobuf .* \(none decoded\)$/m);
    expect(text.trimEnd().endsWith("result: no differences")).toBe(true);

    // The held rows are compared like any other: a tampered one is a difference.
    const db = new Database(path);
    db.prepare("UPDATE topics SET partition_count = 99 WHERE name = 'orders'").run();
    db.prepare("DELETE FROM group_members WHERE group_id = 'billing' AND member_id = 'm2'").run();
    db.close();
    const tampered = await verifyFile(path, client, keyspace);
    expect(tableOf(tampered, "topics")).toMatchObject({ changed: 1 });
    expect(tableOf(tampered, "group_members")).toMatchObject({ missing: 1 });
    expect(tampered.differences).toBe(2);
  });

  it("falls back to the current revision when the local one was compacted, and says so", async () => {
    const { client, keyspace } = etcdFor();
    await writeEverything(keyspace);
    const path = join(tempDir("kafscale-mcp-verify-"), "behind.db");
    const store = openStore(path);
    const sync = startSync(store, client, keyspace);
    await sync.ready();
    await sync.stop();
    const res = await keyspace.put(keys.nextOffset("audit", 0)).value("77").exec();
    await client.kv.compact({ revision: res.header.revision, physical: true });

    const report = await verifyFile(path, client, keyspace);
    expect(report.pinned).toBe(false);
    expect(report.note).toMatch(/was compacted by etcd; compared with the current revision/);
    expect(report.etcdRevision).toBe(Number(res.header.revision));
    // The one change made since the snapshot: a new kv row and a new end offset.
    expect(tableOf(report, "kv")).toMatchObject({ missing: 1, extra: 0, changed: 0 });
    expect(tableOf(report, "end_offsets")).toMatchObject({ missing: 1 });
    expect(report.differences).toBe(2);
  });

  it("treats a snapshot that never completed its initial sync as a difference", async () => {
    const { client, keyspace } = etcdFor();
    await writeEverything(keyspace);
    const path = join(tempDir("kafscale-mcp-verify-"), "never.db");
    openStore(path).close();
    const report = await verifyFile(path, client, keyspace);
    expect(report.initialSyncDone).toBe(false);
    expect(report.problems[0]).toMatch(/never completed its initial etcd sync/);
    expect(report.pinned).toBe(false);
    expect(tableOf(report, "kv").missing).toBeGreaterThan(20);
    expect(report.differences).toBeGreaterThan(20);
  });
});

/** Several CLI child processes in a row: a hang guard sized for a machine with every core busy. */
const CLI_RUNS = { timeout: 600_000 };

describe("CLI snapshot and verify", () => {
  it("snapshot --out writes a complete file equal to etcd; verify exits 0, then 1 after a tamper", CLI_RUNS, async () => {
    const { client, keyspace, namespace } = etcdFor();
    await writeEverything(keyspace);
    const env = { KAFSCALE_MCP_ETCD_ENDPOINTS: etcd.endpoint, KAFSCALE_MCP_ETCD_NAMESPACE: namespace };
    const dir = tempDir("kafscale-mcp-verify-");
    const out = join(dir, "capture.db");

    const missing = await cli(["snapshot"], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--out FILE is required");

    const first = await cli(["snapshot", "--out", out], env);
    // The one line on stderr is the (rate-limited) log of the one value that does not decode.
    expect(first.stderr.trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ level: "warn", key: "/kafscale/consumers/broken/metadata", reason: expect.stringMatching(/^invalid protobuf ConsumerGroup/) }),
    ]);
    expect(first.code).toBe(0);
    // 4 groups: the three of the cluster, and "broken", whose metadata key exists but does not decode.
    expect(first.stdout).toMatch(new RegExp(`^snapshot: wrote ${out} \\(revision \\d+, \\d+ keys, 3 topics, 4 groups, [\\d.]+s\\)\\n$`));
    expect(readdirSync(dir)).toEqual(["capture.db"]); // no temp or WAL files left behind
    const report = await verifyFile(out, client, keyspace);
    expectClean(report);
    expect(tableOf(report, "kv").local).toBe(await keyspace.getAll().prefix("/kafscale/").count());
    const db = new Database(out, { readonly: true });
    expect(db.prepare("SELECT link_state, sync_phase, initial_sync_done FROM sync_state").get()).toEqual({
      link_state: "down",
      sync_phase: "stopped",
      initial_sync_done: 1,
    });
    db.close();

    const refused = await cli(["snapshot", "--out", out], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("already exists; pass --force");
    await keyspace.put(keys.nextOffset("audit", 0)).value("5").exec();
    const mtime = statSync(out).mtimeMs;
    const forced = await cli(["snapshot", "--out", out, "--force"], env);
    expect(forced.code).toBe(0);
    expect(statSync(out).mtimeMs).toBeGreaterThan(mtime);

    const ok = await cli(["verify"], { ...env, KAFSCALE_MCP_DB_PATH: out });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/pinned to the snapshot's revision/);
    expect(ok.stdout).toMatch(/^committed_offsets +(\d+) +\1 +0 +0 +0$/m);
    expect(ok.stdout.trimEnd().endsWith("result: no differences")).toBe(true);

    const tamper = new Database(out);
    tamper.prepare("UPDATE end_offsets SET next_offset = 1 WHERE topic = 'audit'").run();
    tamper.close();
    const bad = await cli(["verify", "--db", out, "--json"], env);
    expect(bad.code).toBe(1);
    const json = JSON.parse(bad.stdout) as VerifyReport;
    expect(json.differences).toBe(1);
    expect(json.tables.find((t) => t.table === "end_offsets")?.examples).toEqual([
      'changed end_offsets (topic="audit", partition=0): next_offset: local 1, etcd 5',
    ]);
    const human = await cli(["verify", "--db", out], env);
    expect(human.code).toBe(1);
    expect(human.stdout).toContain("end_offsets: 0 missing, 0 extra, 1 changed");
    expect(human.stdout.trimEnd().endsWith("result: 1 difference")).toBe(true);
  });

  // How fast it gives up (within the dial timeout, not after minutes of retries): npm run bench:speed.
  it("fails cleanly when etcd is unreachable or the input is wrong", CLI_RUNS, async () => {
    const dir = tempDir("kafscale-mcp-verify-");
    const env = { KAFSCALE_MCP_ETCD_ENDPOINTS: `http://127.0.0.1:${await freePort()}`, KAFSCALE_MCP_ETCD_DIAL_TIMEOUT: "2s" };
    const out = join(dir, "never.db");
    const down = await cli(["snapshot", "--out", out], env);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^snapshot: cannot read etcd at http:\/\/127\.0\.0\.1:\d+: /);
    expect(readdirSync(dir)).toEqual([]);

    const unsynced = join(dir, "unsynced.db");
    createStore(unsynced).close();
    const verifyDown = await cli(["verify", "--db", unsynced], env);
    expect(verifyDown.code).toBe(1);
    expect(verifyDown.stderr).toMatch(/^verify: cannot compare with etcd at http:\/\/127\.0\.0\.1:\d+: /);

    const noDb = await cli(["verify", "--db", join(dir, "absent.db")], env);
    expect(noDb.code).toBe(2);
    expect(noDb.stderr).toContain("no snapshot at");
    expect(existsSync(join(dir, "absent.db"))).toBe(false);

    expect((await cli(["verify", "--nope"], env)).code).toBe(2);
    expect((await cli(["snapshot", "--out", join(dir, "no-such-dir", "a.db")], env)).code).toBe(2);
    expect((await cli(["snapshot", "--out", dir, "--force"], env)).code).toBe(2);
    const noEndpoints = await cli(["snapshot", "--out", join(dir, "a.db")], {});
    expect(noEndpoints.code).toBe(2);
    expect(noEndpoints.stderr).toContain("KAFSCALE_MCP_ETCD_ENDPOINTS is empty");
    expect((await cli(["verify", "--db", unsynced], {})).code).toBe(2);
    expect(readdirSync(dir).sort()).toEqual(["unsynced.db"]);
    const badConfig = await cli(["snapshot", "--out", join(dir, "a.db")], { ...env, KAFSCALE_MCP_ETCD_DIAL_TIMEOUT: "soon" });
    expect(badConfig.code).toBe(2);
    expect(badConfig.stderr).toContain("KAFSCALE_MCP_ETCD_DIAL_TIMEOUT");
  });
});
