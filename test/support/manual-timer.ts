/** A Timer (src/sync/ops/periodic.ts) that fires only when a test says so, and shows what is pending. */
import type { Timer } from "../../src/sync/ops/periodic.js";

export interface ManualTimer extends Timer {
  /** The delay of the pending callback, or null when nothing is scheduled. */
  pendingDelay(): number | null;
  /** Runs the pending callback (throws when nothing is scheduled). */
  fire(): void;
}

export function manualTimer(): ManualTimer {
  let pending: { fn: () => void; ms: number; handle: object } | null = null;
  return {
    set: (fn, ms) => {
      const handle = {};
      pending = { fn, ms, handle };
      return handle;
    },
    clear: (handle) => {
      if (pending?.handle === handle) pending = null;
    },
    pendingDelay: () => pending?.ms ?? null,
    fire: () => {
      if (pending === null) throw new Error("manual timer: nothing scheduled");
      const { fn } = pending;
      pending = null;
      fn();
    },
  };
}
