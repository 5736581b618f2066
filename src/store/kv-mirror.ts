/**
 * Reads of the raw key/value mirror, for `verify` (compare with a fresh etcd range read) and for
 * diagnostics (decode errors, recent changes).
 */
import type { Db } from "./database.js";

export interface MirroredKv {
  key: string;
  value: Buffer;
  modRevision: number;
}

export interface DecodeErrorRow {
  key: string;
  revision: number;
  reason: string;
  recorded_at: number;
}

export interface ChangeRow {
  revision: number;
  at: number;
  op: "put" | "delete";
  key: string;
  kind: string;
}

export interface KvMirror {
  /** Every mirrored key in key order, in pages (so large mirrors don't sit in memory twice). */
  pages(pageSize?: number): Generator<MirroredKv[]>;
  count(): number;
  /** Keys whose current value failed to decode, with the reason. */
  currentDecodeErrors(limit: number): DecodeErrorRow[];
  recentChanges(limit: number): ChangeRow[];
}

/** Prepares the mirror statements once. */
export function createKvMirror(db: Db): KvMirror {
  const page = db.prepare<[string, number], { key: string; value: Buffer; mod_revision: number }>(
    "SELECT key, value, mod_revision FROM kv WHERE key > ? ORDER BY key LIMIT ?",
  );
  const count = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM kv");
  const errors = db.prepare<[number], DecodeErrorRow>(
    `SELECT key, mod_revision AS revision, decode_error AS reason,
            (SELECT max(recorded_at) FROM decode_errors d WHERE d.key = kv.key) AS recorded_at
     FROM kv WHERE decode_error IS NOT NULL ORDER BY key LIMIT ?`,
  );
  const changes = db.prepare<[number], ChangeRow>(
    "SELECT revision, at, op, key, kind FROM change_log ORDER BY id DESC LIMIT ?",
  );
  return {
    *pages(pageSize = 5000) {
      let after = "";
      for (;;) {
        const rows = page.all(after, pageSize);
        if (rows.length === 0) return;
        yield rows.map((r) => ({ key: r.key, value: r.value, modRevision: r.mod_revision }));
        after = (rows[rows.length - 1] as { key: string }).key;
      }
    },
    count: () => (count.get() as { n: number }).n,
    currentDecodeErrors: (limit) => errors.all(limit),
    recentChanges: (limit) => changes.all(limit),
  };
}
