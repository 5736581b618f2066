/**
 * The bounded MCP session table (src/http/mcp/session-table.ts) on an injected clock: the owner's cap
 * first, then the table's; the least recently used idle session makes room; busy sessions are never
 * evicted; with no idle session a new one is refused; idle sessions expire.
 */
import { describe, expect, it } from "vitest";
import { createSessionTable, type SessionTable } from "../../src/http/mcp/session-table.js";

function table(maxSessions: number, maxPerOwner: number, idleTimeoutMs = 0): { t: SessionTable<string>; clock: { at: number } } {
  const clock = { at: 1_000 };
  return { t: createSessionTable<string>({ maxSessions, maxPerOwner, idleTimeoutMs, now: () => clock.at }), clock };
}

/** Admits and adds `id` for `owner`, returning the ids it evicted. */
function open(t: SessionTable<string>, id: string, owner: string): string[] {
  const admission = t.admit(owner);
  if (admission.refused) throw new Error(`refused: ${admission.refused.limit}`);
  t.add(id, owner, id);
  return admission.evicted.map((e) => `${e.entry.id}:${e.why}`);
}

describe("session table", () => {
  it("admits up to the caps without evicting", () => {
    const { t } = table(3, 3);
    expect(open(t, "a", "alice")).toEqual([]);
    expect(open(t, "b", "bob")).toEqual([]);
    expect(open(t, "c", "bob")).toEqual([]);
    expect(t.size).toBe(3);
  });

  it("evicts the least recently used idle session when the table is full", () => {
    const { t, clock } = table(3, 10);
    open(t, "a", "alice");
    open(t, "b", "bob");
    open(t, "c", "carol");
    clock.at += 10;
    t.touch(t.get("a")!); // a is now the most recently used; b is the LRU
    expect(open(t, "d", "dave")).toEqual(["b:table"]);
    expect(t.get("b")).toBeUndefined();
    expect(t.entries().map((e) => e.id)).toEqual(["c", "a", "d"]);
  });

  it("never evicts a session with a request in flight, and refuses when every session is busy", () => {
    const { t } = table(2, 10);
    open(t, "a", "alice");
    open(t, "b", "bob");
    t.begin(t.get("a")!);
    t.begin(t.get("b")!);
    // b is now the most recent, a the LRU, but both are busy.
    expect(t.admit("carol")).toEqual({ evicted: [], refused: { limit: "table", cap: 2 } });
    t.end(t.get("a")!);
    expect(open(t, "c", "carol")).toEqual(["a:table"]);
    expect(t.get("b")?.inFlight).toBe(1);
  });

  it("makes a principal over its own cap lose its own LRU idle session, not someone else's", () => {
    const { t } = table(10, 2);
    open(t, "alice-1", "alice");
    open(t, "bob-1", "bob"); // older than alice-2, but bob is within his cap
    open(t, "alice-2", "alice");
    expect(open(t, "alice-3", "alice")).toEqual(["alice-1:principal"]);
    expect(t.get("bob-1")).toBeDefined();
    expect(t.entries().filter((e) => e.owner === "alice").map((e) => e.id)).toEqual(["alice-2", "alice-3"]);
  });

  it("refuses a principal whose own sessions are all busy, even with room in the table", () => {
    const { t } = table(10, 1);
    open(t, "alice-1", "alice");
    t.begin(t.get("alice-1")!);
    expect(t.admit("alice")).toEqual({ evicted: [], refused: { limit: "principal", cap: 1 } });
    expect(open(t, "bob-1", "bob")).toEqual([]);
  });

  it("applies the table cap after the principal's: both can evict for one new session", () => {
    const { t } = table(3, 2);
    open(t, "bob-1", "bob");
    open(t, "alice-1", "alice");
    open(t, "alice-2", "alice");
    // alice is at her cap (loses alice-1); the table then has room again.
    expect(open(t, "alice-3", "alice")).toEqual(["alice-1:principal"]);
    // carol: the table is full, bob-1 is the LRU idle session.
    expect(open(t, "carol-1", "carol")).toEqual(["bob-1:table"]);
    expect(t.size).toBe(3);
  });

  it("expires idle sessions on the clock, but not busy ones, and prefers expiring to evicting", () => {
    const { t, clock } = table(2, 10, 60_000);
    open(t, "a", "alice");
    open(t, "b", "bob");
    t.begin(t.get("b")!);
    clock.at += 60_000;
    expect(t.expired(t.get("a")!)).toBe(false); // exactly at the timeout: still alive
    clock.at += 1;
    expect(t.expired(t.get("a")!)).toBe(true);
    expect(t.expired(t.get("b")!)).toBe(false); // in flight
    expect(open(t, "c", "carol")).toEqual(["a:idle timeout"]);
    t.end(t.get("b")!); // the clock restarts at the end of b's request
    clock.at += 60_001;
    expect(t.expire().map((e) => e.id)).toEqual(["b", "c"]);
    expect(t.size).toBe(0);
  });

  it("keeps per-owner counts right through removals", () => {
    const { t } = table(10, 1);
    open(t, "a", "alice");
    expect(t.remove("a")?.id).toBe("a");
    expect(t.remove("a")).toBeUndefined();
    expect(open(t, "a2", "alice")).toEqual([]);
  });
});
