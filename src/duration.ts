/**
 * Go-style durations ("10m", "1h30m", "1.5s", "250ms", "0"), as Kafscale's Go service accepts them
 * for KAFSCALE_MCP_SESSION_TIMEOUT. Returns milliseconds.
 */
const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;

/** Parses a Go duration string into milliseconds; throws with the expected form on bad input. */
export function parseGoDuration(text: string): number {
  const input = text.trim();
  if (input === "0") return 0;
  if (input === "") throw new Error('empty duration; expected a Go duration such as "30s", "10m" or "1h30m"');
  let rest = input;
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    sign = rest.startsWith("-") ? -1 : 1;
    rest = rest.slice(1);
  }
  let total = 0;
  PART.lastIndex = 0;
  let consumed = 0;
  while (consumed < rest.length) {
    PART.lastIndex = consumed;
    const match = PART.exec(rest);
    if (!match || match.index !== consumed) {
      throw new Error(`invalid duration "${text}"; expected a Go duration such as "30s", "10m" or "1h30m"`);
    }
    total += Number(match[1]) * (UNIT_MS[match[2] as string] as number);
    consumed = PART.lastIndex;
  }
  if (sign < 0 && total > 0) throw new Error(`invalid duration "${text}": must not be negative`);
  return total;
}
