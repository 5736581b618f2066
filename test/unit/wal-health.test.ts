import { describe, expect, it } from "vitest";
import { createWalHealth, walReadinessProblem, type WalProbe } from "../../src/store/index.js";

const MiB = 2 ** 20;
const limits = { sizeLimitBytes: 16 * MiB, starvedAfterMs: 60_000, budgetBytes: 1024 * MiB };

/** A health tracker over scripted probes and a hand-moved clock. */
function tracker() {
  const clock = { now: 1_000_000 };
  let next: WalProbe = { walBytes: 0, complete: true, logFrames: 0, checkpointedFrames: 0 };
  const health = createWalHealth(() => next, limits, () => clock.now);
  return {
    health,
    at: (ms: number, probe: Partial<WalProbe>) => {
      clock.now = 1_000_000 + ms;
      next = { ...next, ...probe };
      return health.check();
    },
  };
}

describe("WAL health", () => {
  it("is starved only when no checkpoint completed for the threshold AND the WAL is above its limit", () => {
    const { at } = tracker();
    expect(at(0, { walBytes: 4 * MiB, complete: true }).transitions).toEqual([]);
    // A reader pins the log: incomplete, but young and small.
    expect(at(30_000, { walBytes: 20 * MiB, complete: false }).status.starved).toBe(false);
    expect(at(59_000, { walBytes: 10 * MiB, complete: false }).status.starved).toBe(false);
    // Old but small (a quiet cluster): still not starved.
    expect(at(61_000, { walBytes: 10 * MiB, complete: false }).status.starved).toBe(false);
    const starved = at(62_000, { walBytes: 17 * MiB, complete: false });
    expect(starved.transitions).toEqual(["starved"]);
    expect(starved.status).toMatchObject({ starved: true, lastCompleteCheckpointAt: 1_000_000, walBytes: 17 * MiB });
    // Still starved: no new transition.
    expect(at(90_000, { walBytes: 40 * MiB, complete: false }).transitions).toEqual([]);
    // The reader let go: the checkpoint completes, even though the file is still large.
    const recovered = at(95_000, { walBytes: 40 * MiB, complete: true });
    expect(recovered.transitions).toEqual(["recovered"]);
    expect(recovered.status.lastCompleteCheckpointAt).toBe(1_095_000);
  });

  it("reports the disk budget on its own, and gives /readyz a reason only past it", () => {
    const { at, health } = tracker();
    expect(health.status()).toBeNull();
    expect(walReadinessProblem(health.status())).toBeNull();
    expect(at(0, { walBytes: 4 * MiB, complete: true }).status.overBudget).toBe(false);
    const over = at(120_000, { walBytes: 1024 * MiB, complete: false });
    expect(over.transitions).toEqual(["starved", "over_budget"]);
    expect(walReadinessProblem(over.status)).toBe(
      "live database WAL at 1024.0 MiB, over its budget of 1024.0 MiB (no complete checkpoint for 120s: " +
        "a reader is holding a transaction open on the live file; close it and read the ops copy instead)",
    );
    const released = at(125_000, { walBytes: 1100 * MiB, complete: true });
    expect(released.transitions).toEqual(["recovered"]);
    expect(walReadinessProblem(released.status)).toBe(
      "live database WAL at 1100.0 MiB, over its budget of 1024.0 MiB (the last checkpoint completed; it is cut back once no reader is on it)",
    );
    const cut = at(130_000, { walBytes: 0, complete: true });
    expect(cut.transitions).toEqual(["under_budget"]);
    expect(walReadinessProblem(cut.status)).toBeNull();
  });
});
