/**
 * What a new key kind needs is found for whoever adds it: the compiler (every switch over a kind
 * ends in `unhandledKind`, whose argument has type `never`), and these tests for what the compiler
 * cannot see — that every entry of the kinds' table is routed, built and written, and that `verify`
 * compares every table the key kinds write, and nothing else.
 */
import { Database } from "../../src/store/sqlite-driver.js";
import { describe, expect, it } from "vitest";
import { buildClusterKvs } from "../../src/demo/cluster-spec.js";
import { loadKeyValues } from "../../src/demo/demo-cluster.js";
import { decodeEntry } from "../../src/kafscale/decode.js";
import { encodeBrokerRegistration, encodePartitionAssignment } from "../../src/kafscale/encode.js";
import { keys, parseKey } from "../../src/kafscale/keys.js";
import { KINDS } from "../../src/kafscale/kinds.js";
import type { Store } from "../../src/store/index.js";
import { NOT_READ_MODEL } from "../../src/store/table-dump.js";
import { realisticCluster } from "../support/cluster.js";
import { useCleanups } from "../support/harness.js";

const { openStore, tempDbPath } = useCleanups();

/**
 * One key/value of every kind Kafscale writes (the realistic cluster lacks the two defined-only ones).
 * A new kind in KINDS needs its sample here: the tests below fail until it has one.
 */
const KVS = [
  ...buildClusterKvs(realisticCluster),
  {
    key: keys.brokerRegistration("0"),
    value: encodeBrokerRegistration({
      brokerId: "0",
      host: "b0",
      port: 9092,
      rack: "",
      startedAt: "",
      lastHeartbeat: "",
      version: "1",
    }),
  },
  {
    key: keys.partitionAssignment("orders", 1),
    value: encodePartitionAssignment({ brokerId: "1", epoch: 2, assignedAt: "" }),
  },
  // A value that does not decode (undecodable_keys holds it: verify compares that too).
  { key: keys.topicConfig("audit"), value: Buffer.from("{not json") },
];

function schemaTables(store: Store): string[] {
  const db = new Database(store.path, { readonly: true });
  try {
    return db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .all()
      .map((r) => r.name);
  } finally {
    db.close();
  }
}

const nonEmpty = (store: Store): string[] => store.tables.names().filter((t) => store.tables.count(t) > 0);

/** The first sample of each kind, by kind. */
const SAMPLES = new Map(KVS.map((kv) => [parseKey(kv.key).kind, kv] as const).reverse());

describe("the kinds' table", () => {
  it("names each kind and each builder once", () => {
    expect(new Set(KINDS.map((k) => k.kind)).size).toBe(KINDS.length);
    expect(new Set(KINDS.map((k) => k.builder)).size).toBe(KINDS.length);
    expect(Object.keys(keys).sort()).toEqual(KINDS.map((k) => k.builder).sort());
  });

  it.each(KINDS.map((k) => [k.kind, k] as const))("routes, builds and writes %s keys", async (kind, entry) => {
    // Routed: the kind has a sample key (add one to KVS), and parseKey sends it to this entry.
    const sample = SAMPLES.get(kind);
    if (sample === undefined) throw new Error(`no sample key of kind ${kind} in KVS: add one`);
    const { kind: routed, ...fields } = parseKey(sample.key);
    expect(routed).toBe(kind);
    // "/kafscale/<area>/<rest…>": the entry's own rule accepts the segments after its area.
    expect(sample.key.split("/")[2]).toBe(entry.area);
    expect(entry.match(sample.key.split("/").slice(3))).toEqual(parseKey(sample.key));
    // Built: its builder in `keys` takes the key's fields in order and gives the key back.
    const build = keys[entry.builder] as (...args: unknown[]) => string;
    expect(build).toBe(entry.build);
    expect(build(...Object.values(fields))).toBe(sample.key);
    // Written: the raw mirror plus at least one derived table, all of them compared by verify.
    const store = openStore();
    await loadKeyValues(store, [sample]);
    expect(nonEmpty(store).length).toBeGreaterThan(1);
  });
});

describe("switches over key kinds", () => {
  it("throw on a kind that escaped the types, instead of silently doing nothing", () => {
    expect(() => decodeEntry({ kind: "bogus" } as never, Buffer.alloc(0))).toThrow('unhandled key kind "bogus"');
  });
});

describe("verify's tables come from the schema", () => {
  it("are every table except those that legitimately differ between two mirrors, the raw mirror first", () => {
    const store = openStore(tempDbPath());
    const all = schemaTables(store);
    expect(store.tables.names()).toEqual(all.filter((t) => !(t in NOT_READ_MODEL)));
    expect(store.tables.names()[0]).toBe("kv");
    // No stale exclusion: each one names a real table.
    expect(Object.keys(NOT_READ_MODEL).filter((t) => !all.includes(t))).toEqual([]);
  });

  it("include a table a later migration adds, without anyone listing it", () => {
    const path = tempDbPath();
    openStore(path).close();
    const db = new Database(path);
    db.exec("CREATE TABLE added_later (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO added_later VALUES (1, 'x')");
    db.close();
    const store = openStore(path);
    expect(store.tables.names()).toContain("added_later");
    expect([...store.tables.rows("added_later")].map((r) => r.cells)).toEqual([["1", '"x"']]);
  });

  it("are each written by etcd keys: a dumped table no key fills is one to add to NOT_READ_MODEL", async () => {
    const store = openStore();
    await loadKeyValues(store, KVS);
    expect(nonEmpty(store)).toEqual(store.tables.names());
  });
});
