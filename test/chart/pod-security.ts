/**
 * The Pod Security Standard "restricted" (Kubernetes pod-security-admission, policy version latest)
 * as a check on a rendered pod spec, plus the chart's own hardening on top of it (read-only root
 * filesystem, no service account token). Returns the violations; [] means compliant.
 */

/** Volume types the restricted profile allows. */
const ALLOWED_VOLUMES = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"];

/** The restricted profile's checks, and the chart's stricter ones, for one pod spec. */
export function restrictedViolations(pod: Record<string, any>): string[] {
  const out: string[] = [];
  const podCtx = pod.securityContext ?? {};
  for (const field of ["hostNetwork", "hostPID", "hostIPC"]) if (pod[field]) out.push(`pod: ${field}`);
  for (const volume of pod.volumes ?? []) {
    const types = Object.keys(volume).filter((k) => k !== "name");
    if (types.some((t) => !ALLOWED_VOLUMES.includes(t))) out.push(`volume ${volume.name}: type ${types.join(",")}`);
  }
  if (podCtx.seccompProfile?.type !== "RuntimeDefault" && podCtx.seccompProfile?.type !== "Localhost") out.push("pod: seccompProfile");
  if (podCtx.runAsUser === 0) out.push("pod: runAsUser 0");
  if (pod.automountServiceAccountToken !== false) out.push("pod: automountServiceAccountToken is not false (chart)");
  for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
    const ctx = c.securityContext ?? {};
    const where = `container ${c.name}`;
    if (ctx.privileged) out.push(`${where}: privileged`);
    if (ctx.allowPrivilegeEscalation !== false) out.push(`${where}: allowPrivilegeEscalation is not false`);
    if (!(ctx.runAsNonRoot === true || (ctx.runAsNonRoot === undefined && podCtx.runAsNonRoot === true))) out.push(`${where}: runAsNonRoot`);
    if (ctx.runAsUser === 0) out.push(`${where}: runAsUser 0`);
    if (!(ctx.capabilities?.drop ?? []).includes("ALL")) out.push(`${where}: capabilities.drop lacks ALL`);
    for (const cap of ctx.capabilities?.add ?? []) if (cap !== "NET_BIND_SERVICE") out.push(`${where}: adds capability ${cap}`);
    if (ctx.seccompProfile && !["RuntimeDefault", "Localhost"].includes(ctx.seccompProfile.type)) out.push(`${where}: seccompProfile`);
    for (const port of c.ports ?? []) if (port.hostPort) out.push(`${where}: hostPort ${port.hostPort}`);
    if (ctx.readOnlyRootFilesystem !== true) out.push(`${where}: readOnlyRootFilesystem is not true (chart)`);
  }
  return out;
}
