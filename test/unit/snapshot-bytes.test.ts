/**
 * The snapshot decoded a topic at a time from its bytes (json-spans.ts + convertSnapshotBytes) against
 * JSON.parse of the whole value: on every document it either gives the same cluster, or gives null
 * and leaves the value to the whole parse. It must never accept what JSON.parse rejects, since the
 * spans are parsed apart and the punctuation between them is the scanner's to check.
 */
import { describe, expect, it } from "vitest";
import { arrayElements, objectMembers } from "../../src/kafscale/json-spans.js";
import { decodeSnapshot } from "../../src/kafscale/kinds.js";
import { DecodeError } from "../../src/kafscale/decode.js";
import { convertSnapshot, convertSnapshotBytes } from "../../src/kafscale/snapshot-fast-path.js";
import { encodeSnapshot, topicIdFor } from "../../src/kafscale/encode.js";
import type { ClusterSnapshot } from "../../src/kafscale/records.js";

const partition = (p: number): ClusterSnapshot["topics"][number]["partitions"][number] => ({
  partition: p,
  leader: p % 2,
  leaderEpoch: 3,
  replicas: [0, 1],
  isr: [1],
  offlineReplicas: [],
  errorCode: 0,
});
// Names with the bytes the scanner must see through: quotes, backslashes, brackets, commas, non-ASCII.
const CLUSTER: ClusterSnapshot = {
  brokers: [
    { nodeId: 0, host: 'b0,"x"}]', port: 9092, rack: null },
    { nodeId: 1, host: "b1\\", port: 9093, rack: "r[1]" },
  ],
  controllerId: 1,
  topics: [
    { name: "events{é}", topicId: topicIdFor("events{é}"), isInternal: false, errorCode: 0, partitions: [partition(0)] },
    { name: 'orders"]', topicId: topicIdFor('orders"]'), isInternal: true, errorCode: 0, partitions: [0, 1, 2].map(partition) },
    { name: "🙂", topicId: topicIdFor("🙂"), isInternal: false, errorCode: 0, partitions: [] },
  ],
  clusterName: "kafscale \\\"a\" }",
  clusterId: "id-1",
};
const BASE = encodeSnapshot(CLUSTER).toString("utf8");

/** What JSON.parse of the whole value and the fast path's conversion make of it. */
function whole(bytes: Uint8Array): ClusterSnapshot | null | "invalid JSON" {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return "invalid JSON";
  }
  return convertSnapshot(json);
}

type Outcome = "same cluster" | "rejected" | "left to the whole parse";

/** Replaces the first occurrence of `from` in the base document. */
const edit = (from: string, to: string): string => {
  expect(BASE, `the base document has ${from}`).toContain(from);
  return BASE.replace(from, to);
};

const CASES: [string, string | Uint8Array, Outcome][] = [
  ["as Kafscale writes it", BASE, "same cluster"],
  ["indented with spaces", JSON.stringify(JSON.parse(BASE), null, 2), "same cluster"],
  ["tabs and CRLF between every token", JSON.stringify(JSON.parse(BASE), null, "\t").replaceAll("\n", "\r\n"), "same cluster"],
  ["whitespace around the document", ` \n${BASE}\t `, "same cluster"],
  ["a key spelled with an escape", edit('"Topics":', '"Top\\u0069cs":'), "same cluster"],
  ["a future field holding brackets in strings", edit('"ControllerID":1', '"Future":{"a":"]}","b":[[],[{}]]},"ControllerID":1'), "same cluster"],
  ["a __proto__ member", edit('"ControllerID":1', '"__proto__":{"x":1},"ControllerID":1'), "same cluster"],
  ["ControllerID only in a __proto__ member", edit('"ControllerID":1', '"__proto__":{"ControllerID":1}'), "rejected"],
  ["invalid UTF-8 in a host", Buffer.concat([Buffer.from(BASE.slice(0, BASE.indexOf("b0,"))), Buffer.from([0xff, 0xc3]), Buffer.from(BASE.slice(BASE.indexOf("b0,")))]), "same cluster"],
  ["Topics empty", edit(BASE.slice(BASE.indexOf('"Topics":'), BASE.indexOf(',"ClusterName"')), '"Topics":[]'), "same cluster"],
  ["an empty object", "{}", "rejected"],
  ["a top-level array", `[${BASE}]`, "rejected"],
  ["a top-level number", "1", "rejected"],
  ["a key repeated (JSON.parse keeps the last)", edit('"ControllerID":1', '"ControllerID":"x","ControllerID":1'), "left to the whole parse"],
  ["Topics repeated", edit('"ControllerID":1', '"Topics":7,"ControllerID":1'), "left to the whole parse"],
  ["Topics null", edit(BASE.slice(BASE.indexOf('"Topics":'), BASE.indexOf(',"ClusterName"')), '"Topics":null'), "left to the whole parse"],
  ["a byte-order mark before the document", `\uFEFF${BASE}`, "left to the whole parse"],
  ["a byte-order mark before a value", edit('"ControllerID":1', '"ControllerID":\uFEFF1'), "rejected"],
  ["a byte-order mark before a topic", edit('"Topics":[', '"Topics":[\uFEFF'), "rejected"],
  ["a trailing comma in Topics", edit('}],"ClusterName"', '},],"ClusterName"'), "rejected"],
  ["an empty element in Topics", edit('"Topics":[', '"Topics":[,'), "rejected"],
  ["a trailing comma at the top", `${BASE.slice(0, -1)},}`, "rejected"],
  ["a missing colon", edit('"ControllerID":1', '"ControllerID" 1'), "rejected"],
  ["an empty value", edit('"ControllerID":1', '"ControllerID":'), "rejected"],
  ["two values for one key", edit('"ControllerID":1', '"ControllerID":1 2'), "rejected"],
  ["two topics without a comma", edit('},{"ErrorCode":0,"Topic":"orders', '} {"ErrorCode":0,"Topic":"orders'), "rejected"],
  ["a bracket of the wrong kind", edit('"ControllerID":1', '"Future":[1},"ControllerID":1'), "rejected"],
  ["a bracket closed too often", edit('"ControllerID":1', '"Future":1]],"ControllerID":1'), "rejected"],
  ["garbage after the document", `${BASE}x`, "rejected"],
  ["a second document", `${BASE}{}`, "rejected"],
  ["cut off inside a string", BASE.slice(0, BASE.indexOf("events") + 3), "rejected"],
  ["cut off inside Topics", BASE.slice(0, BASE.indexOf('"ClusterName"') - 3), "rejected"],
  ["an unquoted key", edit('"ControllerID":1', "ControllerID:1"), "rejected"],
  ["a single-quoted string", edit('"ClusterID":"id-1"', "\"ClusterID\":'id-1'"), "rejected"],
  ["a control character in a string", edit('"ClusterID":"id-1"', '"ClusterID":"id\n1"'), "rejected"],
  ["a comment", edit('"ControllerID":1', '/* c */"ControllerID":1'), "rejected"],
  ["NaN", edit('"ControllerID":1', '"ControllerID":NaN'), "rejected"],
  ["a vertical tab as whitespace", edit('"ControllerID":1', '"ControllerID":\v1'), "rejected"],
];

describe("the snapshot decoded a topic at a time", () => {
  it.each(CASES)("%s", (_name, doc, outcome) => {
    const bytes = typeof doc === "string" ? Buffer.from(doc, "utf8") : doc;
    const expected = whole(bytes);
    const fast = convertSnapshotBytes(bytes);
    if (outcome === "same cluster") {
      expect(expected).not.toBeNull();
      expect(expected).not.toBe("invalid JSON");
      expect(fast).toEqual(expected);
    } else if (outcome === "left to the whole parse") {
      expect(expected).not.toBeNull();
      expect(expected).not.toBe("invalid JSON");
      expect(fast).toBeNull();
    } else {
      expect([null, "invalid JSON"]).toContain(expected);
      expect(fast).toBeNull();
    }
    // What the service runs: the same cluster, or the same DecodeError as the whole parse gives.
    if (outcome === "rejected") expect(() => decodeSnapshot(bytes)).toThrow(DecodeError);
    else expect(decodeSnapshot(bytes)).toEqual(expected);
  });

  it("reads the clusters it is given, special characters included", () => {
    expect(convertSnapshotBytes(Buffer.from(BASE))).toEqual({
      ...CLUSTER,
      topics: [...CLUSTER.topics].sort((a, b) => (a.name < b.name ? -1 : 1)),
    });
  });
});

describe("json-spans", () => {
  const bytes = (s: string): Buffer => Buffer.from(s, "utf8");
  const text = (b: Buffer, span: { start: number; end: number }): string => b.subarray(span.start, span.end).toString();

  it("splits an object into its members and an array into its elements, as written", () => {
    const doc = bytes(' { "a" : [ 1 , "x,]" , {"b":[2]} ] , "c\\"":null } ');
    const members = objectMembers(doc);
    expect(members?.map((m) => [text(doc, m.key), text(doc, m.value)])).toEqual([
      ['"a"', '[ 1 , "x,]" , {"b":[2]} ] '],
      ['"c\\""', "null "],
    ]);
    const array = members?.[0]?.value;
    expect(array && arrayElements(doc, array)?.map((e) => text(doc, e))).toEqual(["1 ", '"x,]" ', '{"b":[2]} ']);
  });

  it("gives empty lists for {} and [] and null for what it does not follow", () => {
    expect(objectMembers(bytes(" {} "))).toEqual([]);
    expect(arrayElements(bytes("[ ]"), { start: 0, end: 3 })).toEqual([]);
    for (const doc of ["", "[]", '{"a":1', '{"a":1}}', '{"a" 1}', '{"a":"1}', "{a:1}", '{"a":1,}x']) {
      expect(objectMembers(bytes(doc)), doc).toBeNull();
    }
    for (const doc of ["{}", "[1", "[1]]", "[1] x", '["]'] as const) {
      expect(arrayElements(bytes(doc), { start: 0, end: doc.length }), doc).toBeNull();
    }
  });
});
