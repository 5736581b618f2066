/**
 * Tool tests without HTTP: a snapshot filled through the writer (bench/lib/snapshot-store.ts) and
 * the SDK client linked to a server in memory (bench/lib/in-memory-tools.ts), so the SDK validates
 * arguments and answers, and the client checks answers against the listed output schemas.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { expect } from "vitest";
import { connectInMemory, type InMemoryOptions, type InMemoryTools } from "../../bench/lib/in-memory-tools.js";
import { snapshotStore } from "../../bench/lib/snapshot-store.js";
import { buildClusterKvs, type ClusterSpec } from "../../src/demo/cluster-spec.js";
import type { Store } from "../../src/store/index.js";
import type { Harness } from "../support/harness.js";

/** The clock every tool test runs on: the snapshot was confirmed current one second earlier. */
export const AT = Date.parse("2026-11-24T08:00:00Z");

export interface ToolFixture extends InMemoryTools {
  store: Store;
}

/** A store holding `spec`, and a client for it; both closed after the test. */
export async function toolFixture(
  h: Harness,
  spec: ClusterSpec,
  options: Partial<InMemoryOptions> = {},
): Promise<ToolFixture> {
  const store = await snapshotStore(buildClusterKvs(spec), spec.brokers, AT);
  h.closeAfterTest(store);
  return { ...(await connectFixture(h, store, options)), store };
}

/** A client for an existing store, closed after the test. */
export async function connectFixture(h: Harness, store: Store, options: Partial<InMemoryOptions> = {}): Promise<InMemoryTools> {
  const tools = await connectInMemory(store, { now: () => AT + 1_000, ...options });
  h.defer(() => tools.close());
  return tools;
}

export interface Answer {
  data: Record<string, any>;
  /** Bytes of the whole CallToolResult as JSON: what the budget limits. */
  bytes: number;
}

/** Calls a tool that must succeed; returns its structured answer and its size. */
export async function answer(client: Client, name: string, args: Record<string, unknown> = {}): Promise<Answer> {
  const result = await client.callTool({ name, arguments: args });
  if (result.isError) throw new Error(`${name} failed: ${(result.content as { text: string }[])[0]?.text}`);
  const text = (result.content as { type: string; text: string }[])[0]?.text ?? "";
  expect(JSON.parse(text)).toEqual(result.structuredContent);
  return { data: result.structuredContent as Record<string, any>, bytes: Buffer.byteLength(JSON.stringify(result)) };
}

/**
 * Follows next_cursor from the first page to the last, checking every page against the budget;
 * returns every page's answer.
 */
export async function allPages(
  client: Client,
  name: string,
  args: Record<string, unknown>,
  maxBytes: number,
  betweenPages: (page: number) => void = () => undefined,
): Promise<Record<string, any>[]> {
  const pages: Record<string, any>[] = [];
  let cursor: string | undefined;
  for (;;) {
    const { data, bytes } = await answer(client, name, cursor === undefined ? args : { ...args, cursor });
    expect(bytes).toBeLessThanOrEqual(maxBytes);
    pages.push(data);
    if (!data.truncated) return pages;
    expect(typeof data.next_cursor).toBe("string");
    cursor = data.next_cursor as string;
    betweenPages(pages.length);
    if (pages.length > 20_000) throw new Error("paging does not end");
  }
}
