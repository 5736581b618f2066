/** The decode problem log: key, revision and reason per problem, at most N lines per window, then a count. */
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.js";
import type { DecodeProblem } from "../../src/store/index.js";
import { createDecodeLog } from "../../src/sync/decode-log.js";

function capture(): { lines: Record<string, unknown>[]; logger: ReturnType<typeof createLogger> } {
  const lines: Record<string, unknown>[] = [];
  return { lines, logger: createLogger("debug", (line) => lines.push(JSON.parse(line) as Record<string, unknown>)) };
}

const problem = (i: number, severity: DecodeProblem["severity"] = "error"): DecodeProblem => ({
  key: `/kafscale/consumers/g/offsets/t/${i}`,
  revision: 100 + i,
  severity,
  reason: `bad ${i}`,
});

describe("decode log", () => {
  it("logs each problem with key, revision and reason, then only counts them until the window ends", () => {
    const { lines, logger } = capture();
    let now = 0;
    const log = createDecodeLog(logger, { linesPerWindow: 3, windowMs: 60_000, now: () => now });
    log.report({ decodeErrors: 2, decodeWarnings: 1, problems: [problem(1), problem(2), problem(3, "warning")] });
    expect(lines.map((l) => [l.level, l.key, l.revision, l.reason])).toEqual([
      ["warn", "/kafscale/consumers/g/offsets/t/1", 101, "bad 1"],
      ["warn", "/kafscale/consumers/g/offsets/t/2", 102, "bad 2"],
      ["warn", "/kafscale/consumers/g/offsets/t/3", 103, "bad 3"],
    ]);
    expect(lines[2]?.msg).toMatch(/decoded with a warning/);

    // Within the window: nothing more one by one, including problems a result only counts.
    now = 59_999;
    log.report({ decodeErrors: 250, decodeWarnings: 0, problems: [problem(4), problem(5)] });
    expect(lines).toHaveLength(3);

    // The next window opens with the count of what was not logged, then logs again.
    now = 60_000;
    log.report({ decodeErrors: 1, decodeWarnings: 0, problems: [problem(6)] });
    expect(lines.slice(3).map((l) => [l.msg, l.suppressed ?? l.key])).toEqual([
      [expect.stringMatching(/not logged one by one \(rate limit\)/), 250],
      [expect.stringMatching(/does not decode/), "/kafscale/consumers/g/offsets/t/6"],
    ]);
  });

  it("stays silent for results without problems", () => {
    const { lines, logger } = capture();
    createDecodeLog(logger).report({ decodeErrors: 0, decodeWarnings: 0, problems: [] });
    expect(lines).toEqual([]);
  });
});
