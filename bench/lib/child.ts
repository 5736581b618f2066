/**
 * Child processes under test (our service, the baseline): spawned with a clean environment, their
 * JSON log lines on stderr parsed as they arrive, and their memory and CPU read from /proc — each
 * in its own process, so the numbers are theirs and not the harness's.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { processCpuMs } from "./cpu.js";

/** The repository root (bench/lib/ → ../..). */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface LogRecord {
  msg?: string;
  level?: string;
  [field: string]: unknown;
  /** performance.now() in the harness when the line arrived. */
  receivedAt: number;
}

export interface Memory {
  /** Resident set size now, bytes (VmRSS). */
  rss: number;
  /** Peak resident set size since start, bytes (VmHWM). */
  peakRss: number;
}

export interface ChildHandle {
  readonly name: string;
  readonly pid: number;
  /** performance.now() just before spawn. */
  readonly spawnedAt: number;
  readonly logs: LogRecord[];
  /** Resolves with the first log record (past or future) that matches. */
  waitForLog(match: (record: LogRecord) => boolean, timeoutMs: number): Promise<LogRecord>;
  memory(): Memory;
  /** User + system CPU time used so far, ms. */
  cpuMs(): number;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
  /** Resolves when the process has exited: its exit code, or the signal that ended it. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Only what a child needs; nothing (NODE_OPTIONS, KAFSCALE_MCP_*) leaks in from the caller. */
function cleanEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const keep: NodeJS.ProcessEnv = {};
  for (const name of ["PATH", "HOME", "TMPDIR", "LANG"]) if (process.env[name]) keep[name] = process.env[name];
  return { ...keep, ...env };
}

function procStatus(pid: number): Memory {
  const text = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? NaN) * 1024;
  return { rss: kb("VmRSS"), peakRss: kb("VmHWM") };
}

export function spawnChild(
  name: string,
  args: string[],
  env: Record<string, string>,
  cwd: string = REPO_ROOT,
): ChildHandle {
  const spawnedAt = performance.now();
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd,
    env: cleanEnv(env),
    stdio: ["ignore", "ignore", "pipe"],
  });
  const logs: LogRecord[] = [];
  const waiters = new Set<(record: LogRecord) => void>();
  let tail = "";
  let partial = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4000);
    const lines = (partial + chunk.toString()).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      if (line.trim() === "") continue;
      let record: LogRecord;
      try {
        record = { ...(JSON.parse(line) as Record<string, unknown>), receivedAt: performance.now() };
      } catch {
        record = { msg: line, raw: true, receivedAt: performance.now() };
      }
      logs.push(record);
      for (const waiter of waiters) waiter(record);
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );

  return {
    name,
    pid: child.pid as number,
    spawnedAt,
    exited,
    logs,
    waitForLog: (match, timeoutMs) =>
      new Promise((resolve, reject) => {
        const found = logs.find(match);
        if (found) return resolve(found);
        const done = (err: Error | null, record?: LogRecord): void => {
          clearTimeout(timer);
          waiters.delete(onRecord);
          if (err) reject(err);
          else resolve(record as LogRecord);
        };
        const onRecord = (record: LogRecord): void => {
          if (match(record)) done(null, record);
        };
        const timer = setTimeout(
          () => done(new Error(`${name}: expected log line not seen within ${timeoutMs} ms; output:\n${tail}`)),
          timeoutMs,
        );
        waiters.add(onRecord);
        void exited.then(() => done(new Error(`${name} exited (code ${child.exitCode}); output:\n${tail}`)));
      }),
    memory: () => procStatus(child.pid as number),
    cpuMs: () => processCpuMs(child.pid as number),
    stop: async (graceMs = 10_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      child.kill("SIGTERM");
      await exited;
      clearTimeout(timer);
    },
  };
}
