/**
 * /healthz (liveness: the process answers; no auth, no Host check, no store access) and /readyz
 * (503 with a JSON reason until the first full sync, while the snapshot is staler than the
 * threshold, while the etcd link cannot prove the snapshot current, and while the snapshot key's
 * current value does not decode, so a load balancer stops sending agents to a replica that cannot
 * answer well; also while the live file's WAL is over its disk budget, before the pod is evicted for it).
 */
import type { Request, Response } from "express";
import type { ToolContext } from "../tools/context.js";
import { etcdLinkProblem, etcdUnreachable, undecodableReasons } from "../tools/freshness.js";
import { storageReadinessProblem, type StorageHealth } from "./storage-health.js";

export interface Readiness {
  ready: boolean;
  reason: string | null;
  revision: number;
  etcd_link: string;
  age_ms: number | null;
}

/** Computes readiness from the snapshot's sync state and the live file's WAL (metrics do not gate readiness). */
export function readinessOf(ctx: ToolContext, storage?: StorageHealth): Readiness {
  const sync = ctx.store.syncState.get();
  const age = sync.syncedAt === null ? null : Math.max(0, ctx.now() - sync.syncedAt);
  let reason: string | null = null;
  if (!sync.initialSyncDone) reason = etcdUnreachable(sync) ?? `initial etcd sync in progress (rev ${sync.revision})`;
  else if (sync.source !== "demo" && age !== null && age > ctx.staleAfterMs) {
    reason = `snapshot stale: not confirmed current for ${Math.round(age / 1000)}s (etcd link ${sync.linkState})`;
  } else reason = etcdLinkProblem(sync);
  // The snapshot key's current value does not decode: every replica serves an older cluster view.
  reason ??= undecodableReasons(ctx, sync, { snapshot: true })[0] ?? null;
  reason ??= storageReadinessProblem(storage);
  return { ready: reason === null, reason, revision: sync.revision, etcd_link: sync.linkState, age_ms: age };
}

export function healthz(_req: Request, res: Response): void {
  res.status(200).type("text/plain").send("ok");
}

export function readyz(ctx: ToolContext, storage?: StorageHealth) {
  return (_req: Request, res: Response): void => {
    const readiness = readinessOf(ctx, storage);
    res.status(readiness.ready ? 200 : 503).json(readiness);
  };
}
