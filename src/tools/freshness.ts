/**
 * The `freshness` object on every tool result: which etcd revision the answer comes from, how old
 * it is, and whether it is stale and why. The compact form (the MCP default) keeps an answer small;
 * the full form (`freshness: "full"`, and always over REST) adds the measured state of the etcd
 * link, the last metrics scrape and the count of undecodable keys.
 */
import { z } from "zod";
import type { KeyDependencies, SyncState, UndecodableKey } from "../store/index.js";
import type { ToolContext } from "./context.js";
import { inProse } from "./json-schema.js";

/** The input flag every tool takes. */
export const freshnessModeSchema = z.enum(["compact", "full"]).optional().describe("full: all freshness fields");

export type FreshnessMode = "compact" | "full";

/**
 * Both forms in one schema. tools/list shows only its type: every tool's output schema repeats it,
 * and the server instructions (sent once per session) and README name its fields. The SDK still
 * validates the fields an agent must check.
 */
export const freshnessSchema = inProse(
  z.looseObject({ revision: z.number(), stale: z.boolean(), stale_reasons: z.array(z.string()) }),
);

export interface CompactFreshness {
  source: "etcd" | "demo";
  revision: number;
  age_ms: number | null;
  stale: boolean;
  stale_reasons: string[];
}

export interface Freshness extends CompactFreshness {
  synced_at: string | null;
  etcd_link: "connected" | "reconnecting" | "down";
  etcd_link_since: string | null;
  etcd_last_error: string | null;
  metrics_scraped_at: string | null;
  metrics_age_ms: number | null;
  decode_errors: number;
}

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
  const since = sync.linkSince === null ? "" : ` since ${iso(sync.linkSince)}`;
  return etcdUnreachable(sync) ?? `etcd link ${sync.linkState}${since}: not yet confirmed current`;
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
export function freshnessOf(
  ctx: ToolContext,
  sync: SyncState,
  mode: FreshnessMode,
  deps?: KeyDependencies,
): CompactFreshness | Freshness {
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
  reasons.push(...undecodableReasons(ctx, sync, deps));
  const compact: CompactFreshness = {
    source: demo ? "demo" : "etcd",
    revision: sync.revision,
    age_ms: age,
    stale: reasons.length > 0,
    stale_reasons: reasons,
  };
  if (mode === "compact") return compact;
  return {
    ...compact,
    synced_at: iso(sync.syncedAt),
    etcd_link: sync.linkState,
    etcd_link_since: iso(sync.linkSince),
    etcd_last_error: sync.linkState === "connected" ? null : sanitizeError(sync.lastError),
    metrics_scraped_at: iso(metricsAt),
    metrics_age_ms: metricsAge,
    decode_errors: sync.decodeErrorKeys,
  };
}
