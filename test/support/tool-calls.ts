/** Tool calls through an SDK client, whatever its transport (in-memory, streamable HTTP, stdio). */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { vi } from "vitest";

/** The structured result of a successful tool call (throws with the text of an error result). */
export async function callTool<T = Record<string, unknown>>(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<T> {
  const result = await client.callTool({ name, arguments: args });
  if (result.isError) {
    const text = (result.content as { text?: string }[])[0]?.text;
    throw new Error(`tool ${name} failed: ${text}`);
  }
  return result.structuredContent as T;
}

/**
 * Calls a tool until it succeeds: a freshly started process answers "snapshot not ready" until its
 * first sync, and cluster_metrics fails until the first scrape. The wait is sized for a busy machine.
 */
export async function callToolWhenReady<T = Record<string, unknown>>(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<T> {
  return await vi.waitFor(() => callTool<T>(client, name, args), { timeout: 60_000, interval: 100 });
}

/** The text of an error result (throws if the call succeeded). */
export async function toolError(client: Client, name: string, args: Record<string, unknown> = {}): Promise<string> {
  const result = await client.callTool({ name, arguments: args });
  if (!result.isError) throw new Error(`tool ${name} unexpectedly succeeded`);
  return (result.content as { text: string }[])[0]?.text ?? "";
}

/**
 * Pages through a paged tool from the first page, following `next_cursor` while `truncated` is
 * true, and returns the item lists of every page (`list`: the answer's list field).
 */
export async function allPages<T = Record<string, any>>(
  client: Client,
  name: string,
  args: Record<string, unknown>,
  list: string,
): Promise<T[][]> {
  const pages: T[][] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await callTool<Record<string, any>>(client, name, cursor === undefined ? args : { ...args, cursor });
    pages.push(page[list] as T[]);
    if (!page.truncated) {
      if (page.next_cursor !== undefined) throw new Error(`${name}: a last page with a next_cursor`);
      return pages;
    }
    if (typeof page.next_cursor !== "string") throw new Error(`${name}: truncated without a next_cursor`);
    cursor = page.next_cursor;
  }
}
