/** One line naming what is wrong with a value, from zod's issues (the REST and JSON-RPC error texts). */

/** `path: message; path: message`, with `root` standing for an issue about the whole value. */
export function issuesText(issues: readonly { path: readonly PropertyKey[]; message: string }[], root: string): string {
  return issues.map((i) => `${i.path.map(String).join(".") || root}: ${i.message}`).join("; ");
}
