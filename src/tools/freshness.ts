/**
 * The `freshness` object on every tool result: which etcd revision the answer comes from, how old
 * it is, the measured state of the etcd link, and the age of the last metrics scrape.
 */
import { z } from "zod";
import type { KeyDependencies, SyncState, UndecodableKey } from "../store/index.js";
import type { ToolContext } from "./context.js";

export const freshnessSchema = z.object({
  source: z.enum(["etcd", "demo"]).describe("demo: bundled demo data, not a live cluster"),
  revision: z.number().describe("etcd revision the answer reflects"),
  synced_at: z.string().nullable().describe("when the snapshot was last confirmed current (RFC3339)"),
  age_ms: z.number().nullable(),
  etcd_link: z.enum(["connected", "reconnecting", "down"]),
  etcd_link_since: z.string().nullable(),
  etcd_last_error: z.string().nullable(),
  metrics_scraped_at: z.string().nullable(),
  metrics_age_ms: z.number().nullable(),
  decode_errors: z.number().describe("keys whose current value could not be decoded"),
  stale: z.boolean(),
  stale_reasons: z.array(z.string()),
});

export type Freshness = z.infer<typeof freshnessSchema>;

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** Strips endpoints and URLs from an error text: agents learn that etcd fails, not where it lives. */
export function sanitizeError(text: string | null): string | null {
  if (text === null) return null;
  return text
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, "<endpoint>")
    .replace(/\b(?:[\w-]+\.)*[\w-]+:\d{2,5}\b/g, "<endpoint>")
    .slice(0, 300);
}

/** Undecodable keys an answer names one by one; the rest are counted. */
const LISTED_UNDECODABLE_KEYS = 5;
const MAX_REASON_CHARS = 200;

/** "<key>: value at revision R does not decode (<why>); serving …", one stale reason per key. */
function undecodableReason(k: UndecodableKey): string {
  const why = k.reason.length > MAX_REASON_CHARS ? `${k.reason.slice(0, MAX_REASON_CHARS - 1)}…` : k.reason;
  const served =
    k.lastGoodRevision === null
      ? "no value of this key has decoded, so what it holds is missing from this answer"
      : `serving its last good value, from revision ${k.lastGoodRevision}`;
  return `${k.key}: value at revision ${k.revision} does not decode (${why}); ${served}`;
}

/**
 * Stale reasons for the undecodable keys among `deps`. Free when no key is undecodable (the count
 * comes with the sync state read once per call); otherwise a few index seeks.
 */
export function undecodableReasons(ctx: ToolContext, sync: SyncState, deps: KeyDependencies | undefined): string[] {
  if (deps === undefined || sync.decodeErrorKeys === 0) return [];
  const { keys, total } = ctx.store.undecodable.affecting(deps, LISTED_UNDECODABLE_KEYS);
  const reasons = keys.map(undecodableReason);
  if (total > keys.length) reasons.push(`and ${total - keys.length} more undecodable keys this answer depends on`);
  return reasons;
}

/**
 * Computes freshness now, from the sync state (read once per call by the caller), the last scrape,
 * and the etcd keys the answer depends on (`deps`: which of them are held at a last good value).
 */
export function freshnessOf(ctx: ToolContext, sync: SyncState, deps?: KeyDependencies): Freshness {
  const now = ctx.now();
  const demo = sync.source === "demo";
  const age = sync.syncedAt === null ? null : Math.max(0, now - sync.syncedAt);
  const metricsAt = ctx.store.metrics.observedAt();
  const metricsAge = metricsAt === null ? null : Math.max(0, now - metricsAt);
  const reasons: string[] = [];
  if (!sync.initialSyncDone) reasons.push("initial etcd sync not finished");
  else if (!demo && age !== null && age > ctx.staleAfterMs) {
    reasons.push(`snapshot not confirmed current for ${Math.round(age / 1000)}s (etcd link ${sync.linkState})`);
  }
  if (!demo && ctx.metricsConfigured && metricsAge !== null && metricsAge > ctx.metricsStaleAfterMs) {
    reasons.push(`last good metrics scrape ${Math.round(metricsAge / 1000)}s ago`);
  }
  reasons.push(...undecodableReasons(ctx, sync, deps));
  return {
    source: demo ? "demo" : "etcd",
    revision: sync.revision,
    synced_at: iso(sync.syncedAt),
    age_ms: age,
    etcd_link: sync.linkState,
    etcd_link_since: iso(sync.linkSince),
    etcd_last_error: sync.linkState === "connected" ? null : sanitizeError(sync.lastError),
    metrics_scraped_at: iso(metricsAt),
    metrics_age_ms: metricsAge,
    decode_errors: sync.decodeErrorKeys,
    stale: reasons.length > 0,
    stale_reasons: reasons,
  };
}
