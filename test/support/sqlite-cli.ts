/**
 * The real `sqlite3` command-line shell (Debian package `sqlite3`), as an ops engineer uses it: one-off
 * queries, optionally as another user (setpriv), and an interactive session that holds a read
 * transaction open until it is told to finish.
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";

export interface RunAs {
  uid: number;
  gid: number;
}

/** `nobody:nogroup` on Debian. */
export const NOBODY: RunAs = { uid: 65534, gid: 65534 };

/** Runs `sqlite3 [-readonly] path sql`; resolves with stdout, rejects with stderr on failure. */
export function sqliteQuery(path: string, sql: string, options: { as?: RunAs; readonly?: boolean } = {}): Promise<string> {
  const shell = ["sqlite3", ...(options.readonly ? ["-readonly"] : []), path, sql];
  const [command, ...args] = options.as
    ? ["setpriv", `--reuid=${options.as.uid}`, `--regid=${options.as.gid}`, "--clear-groups", ...shell]
    : shell;
  return new Promise((resolve, reject) => {
    execFile(command as string, args, (err, stdout, stderr) => {
      if (err) reject(new Error(`sqlite3 failed: ${stderr.trim() || err.message}`));
      else resolve(stdout.trim());
    });
  });
}

/** An open sqlite3 session. */
export interface SqliteSession {
  /** Runs statements in the session and resolves with their output. */
  query(sql: string): Promise<string>;
  /** Ends the session (commits anything open) and waits for the process to exit. */
  close(): Promise<void>;
}

/** Starts an interactive sqlite3 session on `path` (stdin/stdout pipes, as a script or a terminal would). */
export function openSqliteSession(path: string): SqliteSession {
  const child: ChildProcessWithoutNullStreams = spawn("sqlite3", [path]);
  let output = "";
  let errors = "";
  let waiter: (() => void) | null = null;
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
    waiter?.();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    errors += chunk.toString();
    waiter?.();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let marker = 0;
  return {
    query: async (sql) => {
      const end = `<<end-${++marker}>>`;
      child.stdin.write(`${sql}\nSELECT '${end}';\n`);
      while (!output.includes(end)) {
        if (errors !== "") throw new Error(`sqlite3: ${errors.trim()}`);
        if (child.exitCode !== null) throw new Error("sqlite3 exited");
        await new Promise<void>((resolve) => (waiter = resolve));
      }
      const [answer, rest] = output.split(`${end}\n`) as [string, string];
      output = rest ?? "";
      return answer.trim();
    },
    close: async () => {
      if (child.exitCode === null) {
        child.stdin.end("COMMIT;\n.quit\n");
        await exited;
      }
    },
  };
}
