/**
 * The one-row sync_state table: where the mirror stands (revision, phase) and how the link to etcd
 * is doing (measured by src/sync, never assumed).
 */
import type { Db } from "./database.js";

export type LinkState = "connected" | "reconnecting" | "down";
export type SyncPhase = "idle" | "loading" | "watching" | "reconnecting" | "resyncing" | "stopped";

export interface SyncState {
  revision: number;
  initialSyncDone: boolean;
  /** Last moment the mirror was known to equal etcd (Unix ms), or null before the first sync. */
  syncedAt: number | null;
  phase: SyncPhase;
  linkState: LinkState;
  /** Since when the link has been connected, or not connected (reconnecting and down are one outage). */
  linkSince: number | null;
  lastError: string | null;
  lastErrorAt: number | null;
  resyncCount: number;
  /** "etcd" normally; "demo" when the bundled demo data was loaded. */
  source: string;
  /** Keys whose current value failed to decode. */
  decodeErrorKeys: number;
}

export interface SyncStateStore {
  get(): SyncState;
  setLink(state: LinkState, now?: number, error?: string): void;
  setPhase(phase: SyncPhase): void;
  /** Records that the mirror was confirmed current at `now` (a live watch that saw no change). */
  markSynced(now?: number): void;
  setSource(source: string): void;
}

interface Row {
  revision: number;
  initial_sync_done: number;
  synced_at: number | null;
  sync_phase: SyncPhase;
  link_state: LinkState;
  link_since: number | null;
  last_error: string | null;
  last_error_at: number | null;
  resync_count: number;
  source: string;
  decode_error_keys: number;
}

/** Prepares the sync_state statements once. */
export function createSyncStateStore(db: Db): SyncStateStore {
  const select = db.prepare<[], Row>(
    `SELECT sync_state.*, (SELECT count(*) FROM kv WHERE decode_error IS NOT NULL) AS decode_error_keys
     FROM sync_state WHERE id = 1`,
  );
  const link = db.prepare(
    `UPDATE sync_state SET
       link_since = CASE
         WHEN link_state = @state THEN link_since
         -- reconnecting ↔ down is one outage: since keeps its start ("cannot be reached since …").
         WHEN link_state != 'connected' AND @state != 'connected' THEN COALESCE(link_since, @now)
         ELSE @now END,
       link_state = @state,
       last_error = COALESCE(@error, last_error),
       last_error_at = CASE WHEN @error IS NULL THEN last_error_at ELSE @now END
     WHERE id = 1`,
  );
  const phase = db.prepare("UPDATE sync_state SET sync_phase = ? WHERE id = 1");
  const synced = db.prepare("UPDATE sync_state SET synced_at = max(COALESCE(synced_at, 0), ?) WHERE id = 1");
  const source = db.prepare("UPDATE sync_state SET source = ? WHERE id = 1");
  return {
    get: () => {
      const r = select.get() as Row;
      return {
        revision: r.revision,
        initialSyncDone: r.initial_sync_done === 1,
        syncedAt: r.synced_at,
        phase: r.sync_phase,
        linkState: r.link_state,
        linkSince: r.link_since,
        lastError: r.last_error,
        lastErrorAt: r.last_error_at,
        resyncCount: r.resync_count,
        source: r.source,
        decodeErrorKeys: r.decode_error_keys,
      };
    },
    setLink: (state, now = Date.now(), error) => {
      link.run({ state, now, error: error ?? null });
    },
    setPhase: (p) => {
      phase.run(p);
    },
    markSynced: (now = Date.now()) => {
      synced.run(now);
    },
    setSource: (s) => {
      source.run(s);
    },
  };
}
