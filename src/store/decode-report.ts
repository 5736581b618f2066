/**
 * What one write operation (a batch of watch events, a first load, a resync) met that did not
 * decode, or decoded with a warning: counted in full, the first ones listed, for the rate-limited
 * decode log (src/sync/decode-log.ts). Each operation has its own report, so an operation that
 * spans several transactions (a first load's slices) never shares one with a batch in between.
 */

/** A value that failed to decode (its key keeps serving its last good value) or decoded with a warning. */
export interface DecodeProblem {
  key: string;
  revision: number;
  severity: "error" | "warning";
  reason: string;
}

/** What a batch or a full load met, for the log: the first problems (at most 100), and their counts. */
export interface DecodeReport {
  decodeErrors: number;
  decodeWarnings: number;
  problems: DecodeProblem[];
}

/** Problems a report lists one by one; the counts include the rest. */
const MAX_LISTED_PROBLEMS = 100;

/** A report with nothing in it yet, for one write operation. */
export const emptyDecodeReport = (): DecodeReport => ({ decodeErrors: 0, decodeWarnings: 0, problems: [] });

/** Counts `problem` in `report`, and lists it while the list has room. */
export function addDecodeProblem(report: DecodeReport, problem: DecodeProblem): void {
  if (problem.severity === "error") report.decodeErrors++;
  else report.decodeWarnings++;
  if (report.problems.length < MAX_LISTED_PROBLEMS) report.problems.push(problem);
}
