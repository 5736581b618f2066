/**
 * CPU accounting, to tell whether something else on the machine competed with a measurement. On a
 * shared 2-core machine another process (a test run, a build) shifts every latency; the harness
 * therefore reports, per timed cell, how much CPU processes other than its own used meanwhile.
 */
import { readFileSync } from "node:fs";

/**
 * CPU time all processes of the machine spent so far, ms (/proc/stat counts 10 ms ticks). Interrupt
 * time is left out: the kernel's loopback networking for the benchmark's own HTTP and gRPC traffic
 * runs there and is charged to no process, so counting it would look like a neighbour.
 */
export function machineBusyMs(): number {
  const fields = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0] = fields;
  return (user + nice + system) * 10;
}

/** User + system CPU time of a process so far, ms. */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** CPU time of this (harness) process, ms. */
export function selfCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

export interface CpuWindow {
  /**
   * Average CPUs used by processes outside the benchmark while the window was open (NaN for a
   * window too short to measure); `extraOwnMs` is CPU time of the benchmark's short-lived
   * processes (reported by themselves) to subtract.
   */
  foreignCpus(extraOwnMs?: number): number;
}

/**
 * Opens a window over the machine's busy time and the benchmark's own processes (`pids`, plus
 * this process): foreign = machine busy − ours. Processes that exit inside the window are not
 * counted as ours, so only pass long-lived ones (etcd, the service under test).
 */
export function openCpuWindow(pids: number[]): CpuWindow {
  const own = (): number => selfCpuMs() + pids.reduce((sum, pid) => sum + processCpuMs(pid), 0);
  const startBusy = machineBusyMs();
  const startOwn = own();
  const startWall = performance.now();
  return {
    foreignCpus: (extraOwnMs = 0) => {
      const wall = performance.now() - startWall;
      const foreign = machineBusyMs() - startBusy - (own() - startOwn) - extraOwnMs;
      // /proc/stat counts 10 ms ticks: a window of less than half a second cannot tell.
      return wall >= 500 ? Math.max(0, Math.round((foreign / wall) * 100) / 100) : NaN;
    },
  };
}

/**
 * Waits (up to `maxMs`) until the machine is quiet — other processes below `threshold` CPUs over
 * a 2 s window — and returns the last reading. Nothing of the benchmark runs yet when this is called.
 */
export async function waitForQuiet(maxMs: number, threshold: number, log: (line: string) => void): Promise<number> {
  const deadline = performance.now() + maxMs;
  for (;;) {
    const window = openCpuWindow([]);
    await new Promise((r) => setTimeout(r, 2_000));
    const busy = window.foreignCpus();
    if (busy < threshold || performance.now() > deadline) return busy;
    log(`machine busy: other processes use ${busy} CPUs; waiting for it to calm down`);
  }
}

/**
 * Waits (up to `maxMs`) until process `pid` uses less than `threshold` CPUs over a 1 s window and
 * returns how long that took. After a bulk load etcd keeps working for a while (raft snapshot,
 * backend commits); on a 2-CPU machine that work would land in whichever cell runs first.
 */
export async function waitForProcessQuiet(pid: number, maxMs: number, threshold: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    const before = processCpuMs(pid);
    await new Promise((r) => setTimeout(r, 1_000));
    const cpus = (processCpuMs(pid) - before) / 1_000;
    if (cpus < threshold || performance.now() - started > maxMs) return Math.round(performance.now() - started);
  }
}
