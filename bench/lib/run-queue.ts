/**
 * How much of a window a process ran, and how long its threads were ready to run but waited for a
 * core: Linux's per-thread scheduler statistics (/proc/PID/task/TID/schedstat: time on a CPU, time
 * waiting on a run queue, both in ns since the thread started), read when the window opens and when
 * it closes. On a machine whose cores are all busy the wait is what every latency pays besides the
 * work itself; the event-loop delay a process reports cannot tell the two apart.
 */
import { readdirSync, readFileSync } from "node:fs";

/** Averages over the window, in cores: seconds per second. */
export interface RunQueueShare {
  /** CPU the process's threads used. */
  ran: number;
  /** Time its threads were ready to run and waited for a core (summed over threads). */
  waited: number;
  /** The same two for its main thread (the event loop) alone. */
  mainRan: number;
  mainWaited: number;
}

interface ThreadTimes {
  runNs: number;
  waitNs: number;
}

function threadTimes(pid: number): Map<number, ThreadTimes> | null {
  const times = new Map<number, ThreadTimes>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return null;
  }
  for (const tid of tids) {
    try {
      const [run, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").trim().split(/\s+/).map(Number);
      if (Number.isFinite(run) && Number.isFinite(wait)) times.set(Number(tid), { runNs: run ?? 0, waitNs: wait ?? 0 });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return times;
}

export interface RunQueueWindow {
  /** The shares since the window opened; null where schedstat cannot be read (not Linux, process gone). */
  close(): RunQueueShare | null;
}

/** Opens a window over one process (its threads that start meanwhile count from their start). */
export function openRunQueueWindow(pid: number): RunQueueWindow {
  const before = threadTimes(pid);
  const opened = performance.now();
  return {
    close: () => {
      const after = threadTimes(pid);
      const seconds = (performance.now() - opened) / 1000;
      if (before === null || after === null || before.size === 0 || seconds <= 0) return null;
      const share: RunQueueShare = { ran: 0, waited: 0, mainRan: 0, mainWaited: 0 };
      for (const [tid, now] of after) {
        const then = before.get(tid) ?? { runNs: 0, waitNs: 0 };
        const ran = (now.runNs - then.runNs) / 1e9 / seconds;
        const waited = (now.waitNs - then.waitNs) / 1e9 / seconds;
        share.ran += ran;
        share.waited += waited;
        if (tid === pid) {
          share.mainRan = ran;
          share.mainWaited = waited;
        }
      }
      const r3 = (n: number): number => Math.round(n * 1000) / 1000;
      return { ran: r3(share.ran), waited: r3(share.waited), mainRan: r3(share.mainRan), mainWaited: r3(share.mainWaited) };
    },
  };
}
