/**
 * The freshness prober's bare MCP client (bench/lib/bare-mcp-session.ts) against the real service:
 * its answers must be the SDK client's (a prober that misread an answer would time a value as
 * visible too early or never), tool errors must come back as errors, and close() must end the session.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { openBareSession, responseIn, type BareSession } from "../../bench/lib/bare-mcp-session.js";
import { encodeCommittedOffset } from "../../src/kafscale/encode.js";
import { keys } from "../../src/kafscale/keys.js";
import { UNTIL } from "../support/conditions.js";
import { callTool, connectClient, useClusterService } from "../support/service.js";

describe("bench bare MCP session", () => {
  const { etcd, service } = useClusterService();
  let sdk: Client;
  let bare: BareSession;
  beforeAll(async () => {
    sdk = await connectClient(service().url as string);
    bare = await openBareSession(service().url as string);
  });
  afterAll(async () => {
    await sdk?.close();
  });

  it("answers a tool call with the structured content the SDK client gets", async () => {
    const res = await etcd.keyspace
      .put(keys.committedOffset("billing", "orders", 0))
      .value(encodeCommittedOffset({ offset: 77, metadata: "", committedAt: "" }))
      .exec();
    await service().sync?.waitForRevision(Number(res.header.revision));
    const args = { group_id: "billing", topics: ["orders"] };
    const withoutFreshness = ({ freshness: _, ...data }: Record<string, unknown> = {}): Record<string, unknown> => data;
    // The lag evaluator may judge the group between two calls (its verdicts are part of the answer):
    // the bare answer is compared with SDK answers taken just before and after it that agree.
    const bareData = await vi.waitFor(async () => {
      const before = withoutFreshness(await callTool<Record<string, unknown>>(sdk, "fetch_offsets", args));
      const viaBare = await bare.call("fetch_offsets", args);
      const after = withoutFreshness(await callTool<Record<string, unknown>>(sdk, "fetch_offsets", args));
      expect(after).toEqual(before);
      expect(viaBare.ok).toBe(true);
      expect(withoutFreshness(viaBare.data)).toEqual(before);
      return withoutFreshness(viaBare.data);
    }, UNTIL);
    expect((bareData.offsets as { partition: number; offset: number }[]).find((o) => o.partition === 0)?.offset).toBe(77);
  });

  it("returns a tool's error and a refused argument as errors, with their text", async () => {
    const unknown = await bare.call("fetch_offsets", { group_id: "no-such-group" });
    expect(unknown).toMatchObject({ ok: false, error: expect.stringMatching(/no-such-group/) });
    const invalid = await bare.call("fetch_offsets", { group_id: 5 });
    expect(invalid).toMatchObject({ ok: false, error: expect.stringMatching(/group_id/) });
  });

  it("ends the session on close: the service then refuses its id", async () => {
    const session = await openBareSession(service().url as string);
    expect((await session.call("list_topics", {})).ok).toBe(true);
    await session.close();
    await expect(session.call("list_topics", {})).rejects.toThrow(/HTTP 404/);
  });

  it("finds the response among the events of an SSE answer, or in a JSON body", () => {
    const sse = {
      status: 200,
      headers: { "content-type": "text/event-stream" },
      body: 'event: message\ndata: {"jsonrpc":"2.0","method":"notifications/message","params":{}}\n\nevent: message\ndata: {"jsonrpc":"2.0","id":7,"result":{"ok":1}}\n\n',
    };
    expect(responseIn(sse, 7)).toMatchObject({ id: 7, result: { ok: 1 } });
    const split = { ...sse, body: 'event: message\r\ndata: {"jsonrpc":"2.0","id":8,\r\ndata: "result":{"ok":2}}\r\n\r\n' };
    expect(responseIn(split, 8)).toMatchObject({ id: 8, result: { ok: 2 } });
    const json = { status: 200, headers: { "content-type": "application/json" }, body: '{"jsonrpc":"2.0","id":3,"error":{"code":-32602,"message":"bad"}}' };
    expect(responseIn(json, 3)).toMatchObject({ error: { message: "bad" } });
    expect(() => responseIn(json, 4)).toThrow(/no JSON-RPC response with id 4/);
  });
});
