/**
 * The `freshness` object on every tool result: which etcd revision the answer comes from, how old
 * it is, the measured state of the etcd link, and the age of the last metrics scrape.
 */
import { z } from "zod";
import type { SyncState } from "../store/index.js";
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

/**
 * "etcd cannot be reached since …: reason" when a failure was recorded since the link last left
 * `connected` (before the first sync this replaces "in progress"), else null.
 */
export function etcdUnreachable(sync: SyncState): string | null {
  if (sync.source === "demo" || sync.linkState === "connected") return null;
  if (sync.lastErrorAt === null || (sync.linkSince !== null && sync.lastErrorAt < sync.linkSince)) return null;
  return `etcd cannot be reached since ${iso(sync.linkSince ?? sync.lastErrorAt)}: ${sanitizeError(sync.lastError)}`;
}

/**
 * Why the etcd link cannot vouch for the snapshot right now, or null while currency is proven
 * (`connected`: the watch is live on a member that passed its last linearizable probe).
 */
export function etcdLinkProblem(sync: SyncState): string | null {
  if (sync.source === "demo" || sync.linkState === "connected") return null;
  return etcdUnreachable(sync) ?? `etcd link ${sync.linkState} since ${iso(sync.linkSince)}: not yet confirmed current`;
}

/** Computes freshness now, from the sync state (read once per call by the caller) and the last scrape. */
export function freshnessOf(ctx: ToolContext, sync: SyncState): Freshness {
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
  const link = etcdLinkProblem(sync);
  if (link !== null) reasons.push(link);
  if (!demo && ctx.metricsConfigured && metricsAge !== null && metricsAge > ctx.metricsStaleAfterMs) {
    reasons.push(`last good metrics scrape ${Math.round(metricsAge / 1000)}s ago`);
  }
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
