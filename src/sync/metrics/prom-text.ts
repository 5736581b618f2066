/**
 * Parser for the Prometheus text exposition format, version 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/), as served by Kafscale brokers and the operator.
 *
 * Error handling: the parser is tolerant and never throws on input. Each malformed line is skipped and reported
 * in `errors` ("line N: …") while the good samples are kept, so one truncated or odd line does not lose a
 * scrape. Whether the document as a whole is usable is a separate verdict, `documentError`, set when the body is
 * blank, when no sample parsed although some lines were malformed, or when malformed lines outnumber good samples
 * (an HTML error page or a JSON body that happens to contain a sample-like line). Callers treat a non-null
 * `documentError` as a failed scrape.
 *
 * The scanner walks each line once by index (no backtracking regexes), so hostile input such as very long lines
 * or unterminated quotes costs linear time.
 */
import { isDigit, parseValue, seriesKey, type Sample } from "../../kafscale/samples.js";

export type { Sample };

export type MetricType = "counter" | "gauge" | "histogram" | "summary" | "untyped";

/** What `# HELP` and `# TYPE` said about a metric family. */
export interface FamilyInfo {
  type?: MetricType;
  help?: string;
}

export interface ParseResult {
  samples: Sample[];
  /** Keyed by the family name given in `# HELP` / `# TYPE` (for a histogram, the name without `_bucket`). */
  families: Map<string, FamilyInfo>;
  /** Per-line problems, "line N: message". Capped; the last entry then says how many were left out. */
  errors: string[];
  /** Non-null when the document as a whole should not be trusted (see the module comment). */
  documentError: string | null;
}

export interface ParseOptions {
  /** Stop after this many samples and report it as an error; protects memory against huge bodies. */
  maxSamples?: number;
  /** Keep at most this many line errors (default 50); a garbage body would otherwise yield one per line. */
  maxErrors?: number;
}

const METRIC_TYPES: ReadonlySet<string> = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);
const DEFAULT_MAX_ERRORS = 50;
const EXCERPT_CHARS = 60;

/** A line-level failure; caught per line so one bad line never aborts the document. */
class LineError extends Error {}

/**
 * Parse a Prometheus text exposition. Never throws on bad input; see the module comment for how errors are
 * reported. Series may appear in any order and need not follow their `# TYPE` line.
 */
export function parsePrometheusText(text: string, opts: ParseOptions = {}): ParseResult {
  const maxSamples = opts.maxSamples ?? Number.POSITIVE_INFINITY;
  const maxErrors = opts.maxErrors ?? DEFAULT_MAX_ERRORS;
  const samples: Sample[] = [];
  const families = new Map<string, FamilyInfo>();
  const errors: string[] = [];
  const seen = new Set<string>();
  let badLines = 0;
  let truncatedBySampleLimit = false;

  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? "";
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    try {
      const start = skipBlanks(line, 0);
      if (start === line.length) continue;
      if (line[start] === "#") {
        parseComment(line, start + 1, families);
        continue;
      }
      if (samples.length >= maxSamples) {
        truncatedBySampleLimit = true;
        break;
      }
      const sample = parseSampleLine(line, start);
      const key = seriesKey(sample);
      if (seen.has(key)) throw new LineError("duplicate series (first one kept)");
      seen.add(key);
      samples.push(sample);
    } catch (err) {
      if (!(err instanceof LineError)) throw err;
      badLines++;
      if (errors.length < maxErrors) errors.push(`line ${i + 1}: ${err.message}: ${excerpt(line)}`);
    }
  }
  if (badLines > maxErrors) errors.push(`${badLines - maxErrors} more malformed lines not shown`);
  if (truncatedBySampleLimit) errors.push(`sample limit of ${maxSamples} reached; rest of the document ignored`);

  return { samples, families, errors, documentError: judgeDocument(text, samples.length, badLines) };
}

function judgeDocument(text: string, goodSamples: number, badLines: number): string | null {
  if (text.trim() === "") return "empty document";
  if (goodSamples === 0 && badLines > 0) return `no valid samples; ${badLines} malformed lines`;
  if (badLines > goodSamples) {
    return `mostly malformed: ${badLines} bad lines against ${goodSamples} samples; probably not Prometheus text`;
  }
  return null;
}

/** `# HELP name doc`, `# TYPE name type`; any other comment is ignored, as the format says. */
function parseComment(line: string, from: number, families: Map<string, FamilyInfo>): void {
  let pos = skipBlanks(line, from);
  const keywordEnd = tokenEnd(line, pos);
  const keyword = line.slice(pos, keywordEnd);
  if (keyword !== "HELP" && keyword !== "TYPE") return;
  pos = skipBlanks(line, keywordEnd);
  if (pos === line.length) return; // "# HELP" alone is just a comment.
  const nameEnd = scanName(line, pos, true);
  if (nameEnd === pos || (nameEnd < line.length && !isBlank(line, nameEnd))) {
    throw new LineError(`invalid metric name in ${keyword} comment`);
  }
  const name = line.slice(pos, nameEnd);
  const family = families.get(name) ?? {};
  pos = skipBlanks(line, nameEnd);

  if (keyword === "HELP") {
    if (family.help !== undefined) throw new LineError(`second HELP for ${name}`);
    family.help = unescapeHelp(line.slice(pos));
  } else {
    const typeEnd = tokenEnd(line, pos);
    const type = line.slice(pos, typeEnd);
    if (!METRIC_TYPES.has(type)) throw new LineError(`unknown metric type "${type}"`);
    if (skipBlanks(line, typeEnd) !== line.length) throw new LineError("unexpected text after TYPE");
    if (family.type !== undefined) throw new LineError(`second TYPE for ${name}`);
    family.type = type as MetricType;
  }
  families.set(name, family);
}

/** HELP text escapes only `\\` and `\n`; any other backslash is kept literally (HELP is informational). */
function unescapeHelp(s: string): string {
  if (!s.includes("\\")) return s;
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    const next = s[i + 1];
    if (c === "\\" && (next === "\\" || next === "n")) {
      out += next === "n" ? "\n" : "\\";
      i++;
    } else {
      out += c;
    }
  }
  return out;
}

/** `name[{labels}] value [timestamp]`, with blanks allowed around every token. */
function parseSampleLine(line: string, start: number): Sample {
  const nameEnd = scanName(line, start, true);
  if (nameEnd === start) throw new LineError("invalid metric name");
  const name = line.slice(start, nameEnd);
  let pos = skipBlanks(line, nameEnd);
  const labels: Record<string, string> = Object.create(null) as Record<string, string>;
  if (line[pos] === "{") {
    pos = parseLabels(line, pos + 1, labels);
    pos = skipBlanks(line, pos);
  } else if (pos === nameEnd && pos < line.length) {
    throw new LineError("expected blank or '{' after metric name");
  }

  const valueEnd = tokenEnd(line, pos);
  if (valueEnd === pos) throw new LineError("missing value");
  const value = parseValue(line.slice(pos, valueEnd));
  if (value === null) throw new LineError("invalid value");
  const sample: Sample = { name, labels, value };

  pos = skipBlanks(line, valueEnd);
  if (pos < line.length) {
    const tsEnd = tokenEnd(line, pos);
    sample.timestampMs = parseTimestamp(line.slice(pos, tsEnd));
    if (skipBlanks(line, tsEnd) !== line.length) throw new LineError("unexpected text after timestamp");
  }
  return sample;
}

/** Parses `a="x",b="y"}` (the opening brace already consumed); returns the index after `}`. */
function parseLabels(line: string, from: number, labels: Record<string, string>): number {
  let pos = skipBlanks(line, from);
  while (line[pos] !== "}") {
    const nameEnd = scanName(line, pos, false);
    if (nameEnd === pos) throw new LineError(pos >= line.length ? "unterminated label set" : "invalid label name");
    const labelName = line.slice(pos, nameEnd);
    if (Object.hasOwn(labels, labelName)) throw new LineError(`duplicate label "${labelName}"`);
    pos = skipBlanks(line, nameEnd);
    if (line[pos] !== "=") throw new LineError(`expected '=' after label "${labelName}"`);
    pos = skipBlanks(line, pos + 1);
    if (line[pos] !== '"') throw new LineError(`expected '"' to open value of label "${labelName}"`);
    const [value, afterValue] = readLabelValue(line, pos + 1);
    labels[labelName] = value;
    pos = skipBlanks(line, afterValue);
    if (line[pos] === ",") pos = skipBlanks(line, pos + 1); // a trailing comma before '}' is allowed
    else if (line[pos] !== "}") throw new LineError("expected ',' or '}' after label value");
  }
  return pos + 1;
}

/** Reads an escaped label value up to its closing quote; returns the value and the index after the quote. */
function readLabelValue(line: string, from: number): [string, number] {
  let out = "";
  let chunkStart = from;
  for (let i = from; i < line.length; i++) {
    const c = line[i];
    if (c === '"') return [out + line.slice(chunkStart, i), i + 1];
    if (c !== "\\") continue;
    const next = line[i + 1];
    if (next === '"' || next === "\\") out += line.slice(chunkStart, i) + next;
    else if (next === "n") out += line.slice(chunkStart, i) + "\n";
    else throw new LineError(next === undefined ? "unterminated label value" : `invalid escape "\\${next}"`);
    i++;
    chunkStart = i + 1;
  }
  throw new LineError("unterminated label value");
}

function parseTimestamp(token: string): number {
  let i = token[0] === "+" || token[0] === "-" ? 1 : 0;
  if (!isDigit(token, i)) throw new LineError("invalid timestamp");
  while (isDigit(token, i)) i++;
  if (i !== token.length) throw new LineError("invalid timestamp");
  const ms = Number(token);
  if (!Number.isSafeInteger(ms)) throw new LineError("timestamp out of range");
  return ms;
}

/** End index of `[a-zA-Z_:][a-zA-Z0-9_:]*` (metric) or `[a-zA-Z_][a-zA-Z0-9_]*` (label) at `from`. */
function scanName(s: string, from: number, allowColon: boolean): number {
  let i = from;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || (allowColon && c === 58);
    if (!letter && !(i > from && c >= 48 && c <= 57)) break;
  }
  return i;
}


function isBlank(s: string, i: number): boolean {
  return s[i] === " " || s[i] === "\t";
}

function skipBlanks(s: string, from: number): number {
  let i = from;
  while (isBlank(s, i)) i++;
  return i;
}

function tokenEnd(s: string, from: number): number {
  let i = from;
  while (i < s.length && !isBlank(s, i)) i++;
  return i;
}

function excerpt(line: string): string {
  return JSON.stringify(line.length > EXCERPT_CHARS ? `${line.slice(0, EXCERPT_CHARS)}…` : line);
}
