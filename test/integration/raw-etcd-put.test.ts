/**
 * The benchmark's freshness writer puts through bench/lib/raw-etcd-put.ts (plain HTTP/2, hand-built
 * PutRequest): against the real etcd its puts must land byte for byte, long values included (a
 * two-byte length varint), and etcd's refusals must come back as errors, never as acknowledgements.
 */
import { afterAll, describe, expect, it } from "vitest";
import { putRequestFrame, rawEtcdPutter } from "../../bench/lib/raw-etcd-put.js";
import { testEtcd } from "../support/fixtures.js";

describe("bench raw etcd put", () => {
  const { endpoint, client, namespace } = testEtcd();
  const putter = rawEtcdPutter(endpoint);
  afterAll(() => {
    putter.close();
    client.close();
  });

  it("frames a PutRequest as gRPC does", () => {
    expect([...putRequestFrame(Buffer.from("k"), Buffer.from([0xff]))]).toEqual([0, 0, 0, 0, 6, 0x0a, 1, 0x6b, 0x12, 1, 0xff]);
  });

  it("writes keys and binary values etcd then serves byte for byte", async () => {
    const short = Buffer.from([0x08, 0x96, 0x01]);
    const long = Buffer.alloc(300, 0xab);
    await Promise.all([putter.put(`${namespace}/short`, short), putter.put(`${namespace}/long`, long)]);
    expect(await client.get(`${namespace}/short`).buffer()).toEqual(short);
    expect(await client.get(`${namespace}/long`).buffer()).toEqual(long);
  });

  it("rejects what etcd refuses, with etcd's reason", async () => {
    await expect(putter.put("", Buffer.from("v"))).rejects.toThrow(/gRPC status 3: etcdserver: key is not provided/);
  });
});
