/**
 * The bounded table of open MCP sessions, without any HTTP: which sessions exist, who owns each (the
 * principal's limit key), when each was last used and how many of its requests are in flight. It
 * decides what happens when a session is opened into a full table: first the owner's own cap
 * (KAFSCALE_MCP_MAX_SESSIONS_PER_PRINCIPAL), then the whole table (KAFSCALE_MCP_MAX_SESSIONS); each
 * time the least recently used *idle* session makes room (an expired one first), and with no idle
 * session the new one is refused. A session with a request in flight (a call being answered) is never
 * evicted. Time comes from an injected clock.
 */

export interface SessionEntry<T> {
  readonly id: string;
  /** Whose quota the session counts against (the principal's rate-limit key). */
  readonly owner: string;
  readonly value: T;
  /** Clock time of the last request's start or end. */
  lastSeen: number;
  /** Requests of this session still being answered. */
  inFlight: number;
}

/** Why a session was evicted or a new one refused. */
export type SessionLimit = "principal" | "table";

/** A session removed to make room, and why. */
export interface Eviction<T> {
  entry: SessionEntry<T>;
  why: SessionLimit | "idle timeout";
}

/**
 * The outcome of opening a session: the sessions removed to make room (to be closed by the caller,
 * also when the new one is refused), and the cap that refuses it, if any.
 */
export interface Admission<T> {
  evicted: Eviction<T>[];
  refused: { limit: SessionLimit; cap: number } | null;
}

export interface SessionTableOptions {
  maxSessions: number;
  maxPerOwner: number;
  /** Idle sessions older than this are expired; 0 = never. */
  idleTimeoutMs: number;
  now: () => number;
}

export interface SessionTable<T> {
  /** The session `id`, if it is in the table (check `expired` before using it). */
  get(id: string): SessionEntry<T> | undefined;
  /** Whether `entry` is idle past the idle timeout (the sweeper may not have removed it yet). */
  expired(entry: SessionEntry<T>): boolean;
  /**
   * Makes room for one more session of `owner`: removes (and returns, for closing) the sessions it
   * evicts, and says which cap refuses it, if one does. An admission not refused is followed by `add`.
   */
  admit(owner: string): Admission<T>;
  add(id: string, owner: string, value: T): SessionEntry<T>;
  /** The session was used: it becomes the most recently used. */
  touch(entry: SessionEntry<T>): void;
  /** A request of the session starts: most recently used, in flight. */
  begin(entry: SessionEntry<T>): void;
  /** A request of the session ended (its response closed). */
  end(entry: SessionEntry<T>): void;
  /** Removes `id`; returns its entry if it was there. */
  remove(id: string): SessionEntry<T> | undefined;
  /** Removes and returns every idle session past the idle timeout. */
  expire(): SessionEntry<T>[];
  entries(): SessionEntry<T>[];
  readonly size: number;
}

/** Creates an empty table. */
export function createSessionTable<T>(options: SessionTableOptions): SessionTable<T> {
  const { maxSessions, maxPerOwner, idleTimeoutMs, now } = options;
  // Map order is recency order: a used session is moved to the end, so the first idle one is the LRU.
  const sessions = new Map<string, SessionEntry<T>>();
  const perOwner = new Map<string, number>();

  const isExpired = (entry: SessionEntry<T>, at: number): boolean =>
    idleTimeoutMs > 0 && entry.inFlight === 0 && at - entry.lastSeen > idleTimeoutMs;
  const remove = (id: string): SessionEntry<T> | undefined => {
    const entry = sessions.get(id);
    if (entry === undefined) return undefined;
    sessions.delete(id);
    const count = (perOwner.get(entry.owner) ?? 1) - 1;
    if (count > 0) perOwner.set(entry.owner, count);
    else perOwner.delete(entry.owner);
    return entry;
  };
  const leastRecentlyUsedIdle = (owner?: string): SessionEntry<T> | undefined => {
    for (const entry of sessions.values()) {
      if (entry.inFlight === 0 && (owner === undefined || entry.owner === owner)) return entry;
    }
    return undefined;
  };
  const touch = (entry: SessionEntry<T>): void => {
    entry.lastSeen = now();
    if (sessions.get(entry.id) === entry) {
      sessions.delete(entry.id);
      sessions.set(entry.id, entry);
    }
  };
  const expire = (): SessionEntry<T>[] => {
    const at = now();
    const expired = [...sessions.values()].filter((entry) => isExpired(entry, at));
    for (const entry of expired) remove(entry.id);
    return expired;
  };

  return {
    get: (id) => sessions.get(id),
    expired: (entry) => isExpired(entry, now()),
    admit: (owner) => {
      const evicted: Eviction<T>[] = [];
      const ownerFull = (): boolean => (perOwner.get(owner) ?? 0) >= maxPerOwner;
      if (ownerFull() || sessions.size >= maxSessions) {
        for (const entry of expire()) evicted.push({ entry, why: "idle timeout" });
      }
      if (ownerFull()) {
        const own = leastRecentlyUsedIdle(owner);
        if (own === undefined) return { evicted, refused: { limit: "principal", cap: maxPerOwner } };
        remove(own.id);
        evicted.push({ entry: own, why: "principal" });
      }
      if (sessions.size >= maxSessions) {
        const lru = leastRecentlyUsedIdle();
        if (lru === undefined) return { evicted, refused: { limit: "table", cap: maxSessions } };
        remove(lru.id);
        evicted.push({ entry: lru, why: "table" });
      }
      return { evicted, refused: null };
    },
    add: (id, owner, value) => {
      const entry: SessionEntry<T> = { id, owner, value, lastSeen: now(), inFlight: 0 };
      sessions.set(id, entry);
      perOwner.set(owner, (perOwner.get(owner) ?? 0) + 1);
      return entry;
    },
    touch,
    begin: (entry) => {
      entry.inFlight++;
      touch(entry);
    },
    end: (entry) => {
      entry.inFlight = Math.max(0, entry.inFlight - 1);
      entry.lastSeen = now();
    },
    remove,
    expire,
    entries: () => [...sessions.values()],
    get size() {
      return sessions.size;
    },
  };
}
