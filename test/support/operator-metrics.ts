/**
 * One Kafscale operator /metrics exposition (two clusters, b stale and without etcd access) and the
 * `operator` block cluster_metrics derives from it: the tool test records it in the store, the
 * end-to-end test serves it over real HTTP, and both expect the same answer.
 */

/** The operator's exposition: cluster b is the worst (oldest snapshot, stale, no etcd access). */
export const OPERATOR_METRICS = [
  "# TYPE kafscale_operator_clusters gauge",
  "kafscale_operator_clusters 2",
  'kafscale_operator_etcd_snapshot_age_seconds{cluster="kafscale/a"} 12',
  'kafscale_operator_etcd_snapshot_age_seconds{cluster="kafscale/b"} 95',
  'kafscale_operator_etcd_snapshot_last_success_timestamp{cluster="kafscale/a"} 1795500000',
  'kafscale_operator_etcd_snapshot_stale{cluster="kafscale/a"} 0',
  'kafscale_operator_etcd_snapshot_stale{cluster="kafscale/b"} 1',
  'kafscale_operator_etcd_snapshot_access_ok{cluster="kafscale/a"} 1',
  'kafscale_operator_etcd_snapshot_access_ok{cluster="kafscale/b"} 0',
  "",
].join("\n");

/** cluster_metrics' `operator` block for OPERATOR_METRICS (the worst cluster's values). */
export const OPERATOR_VIEW = {
  clusters: 2,
  etcd_snapshot_age_seconds: 95,
  etcd_snapshot_stale: 1,
  etcd_snapshot_last_success: new Date(1795500000 * 1000).toISOString(),
  etcd_access_ok: 0,
  last_error: null,
};
