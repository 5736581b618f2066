/**
 * A background task on a timer: run, wait, run again; never two runs at once. The timer is injected
 * so tests fire it by hand instead of sleeping.
 */

/** setTimeout/clearTimeout, or a test double that records the delay and fires on demand. */
export interface Timer {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

/** The real timer; unref'd, so a pending run never keeps the process alive. */
export const realTimer: Timer = {
  set: (fn, ms) => setTimeout(fn, ms).unref(),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface Periodic {
  /** Runs the task now, then again `delay` ms after each run ends (the delay the run returned). */
  start(): void;
  /** Runs the task now (or joins the run in progress) and reschedules it. */
  runNow(): Promise<void>;
  /** Cancels the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

/** `task` returns the delay until its next run; it must not throw (it reports its own failures). */
export function createPeriodic(task: () => Promise<number>, timer: Timer = realTimer): Periodic {
  let handle: unknown = null;
  let running: Promise<void> | null = null;
  let stopped = false;
  const runNow = (): Promise<void> => {
    if (running) return running;
    if (handle !== null) timer.clear(handle);
    handle = null;
    running = task()
      .then((delay) => {
        if (!stopped) handle = timer.set(() => void runNow(), delay);
      })
      .finally(() => {
        running = null;
      });
    return running;
  };
  return {
    start: () => {
      stopped = false;
      void runNow();
    },
    runNow,
    stop: async () => {
      stopped = true;
      if (handle !== null) timer.clear(handle);
      handle = null;
      await running;
    },
  };
}
