/**
 * Splits a JSON document's bytes into the byte spans of its top-level object's members, and an
 * array's bytes into the spans of its elements, without parsing the values. The snapshot decoder
 * (snapshot-fast-path.ts) parses a 15 MB snapshot one topic at a time this way: JSON.parse of the
 * whole value held the text (15 MB) and the object graph of every partition (~32 MB at 100,000
 * partitions) alive at once, which was the service's peak memory at size L (docs/BENCHMARKS.md).
 *
 * The scanner checks only the punctuation between the spans (`{`, `"key"`, `:`, `,`, `]`, `}` and
 * whitespace, as RFC 8259 allows it) and finds where a value ends by counting brackets outside
 * strings; it never judges a value. The caller must JSON.parse every span it gets: a span that parses
 * is a whole, valid value, so the spans and the checked punctuation between them are exactly the
 * document JSON.parse would have read, and the parsed pieces equal its result. Anything the scanner
 * does not follow (a byte-order mark, a top level that is not an object, a cut-off document) gives
 * null, and the caller parses the whole value instead, which also words the error. Pure, no I/O.
 */

/** `[start, end)` byte offsets into the scanned value. */
export interface Span {
  start: number;
  end: number;
}

/** A top-level member: its key's span (with the quotes, to JSON.parse) and its value's. */
export interface MemberSpan {
  key: Span;
  value: Span;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** JSON's four whitespace bytes (RFC 8259 §2); nothing else may stand between tokens. */
const isWhitespace = (b: number): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

function skipWhitespace(bytes: Uint8Array, i: number, end: number): number {
  while (i < end && isWhitespace(bytes[i] as number)) i++;
  return i;
}

/** The index just past the string starting at `i` (a quote), or -1 when it is not closed. */
function stringEnd(bytes: Uint8Array, i: number, end: number): number {
  for (let j = i + 1; j < end; j++) {
    const b = bytes[j];
    if (b === BACKSLASH) j++;
    else if (b === QUOTE) return j + 1;
  }
  return -1;
}

/**
 * Where the value starting at `i` ends: the index of the first `,`, `]` or `}` outside strings and
 * outside the value's own brackets, or -1 when the input ends first or a bracket closes more than
 * opened. The bracket kinds are not matched here: JSON.parse of the span rejects `[1}`.
 */
function valueEnd(bytes: Uint8Array, i: number, end: number): number {
  let depth = 0;
  for (let j = i; j < end; j++) {
    const b = bytes[j];
    if (b === QUOTE) {
      j = stringEnd(bytes, j, end) - 1;
      if (j < 0) return -1;
    } else if (b === OPEN_BRACE || b === OPEN_BRACKET) depth++;
    else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
      if (depth === 0) return j;
      depth--;
    } else if (b === COMMA && depth === 0) return j;
  }
  return -1;
}

/**
 * The members of the object that is the whole of `bytes` (whitespace around it allowed), in document
 * order, repeated keys included; null when `bytes` is not an object this scanner can follow.
 */
export function objectMembers(bytes: Uint8Array): MemberSpan[] | null {
  const end = bytes.length;
  let i = skipWhitespace(bytes, 0, end);
  if (bytes[i] !== OPEN_BRACE) return null;
  i = skipWhitespace(bytes, i + 1, end);
  const members: MemberSpan[] = [];
  if (bytes[i] === CLOSE_BRACE) return skipWhitespace(bytes, i + 1, end) === end ? members : null;
  for (;;) {
    if (bytes[i] !== QUOTE) return null;
    const keyEnd = stringEnd(bytes, i, end);
    if (keyEnd < 0) return null;
    const key = { start: i, end: keyEnd };
    i = skipWhitespace(bytes, keyEnd, end);
    if (bytes[i] !== COLON) return null;
    const start = skipWhitespace(bytes, i + 1, end);
    const stop = valueEnd(bytes, start, end);
    if (stop < 0) return null;
    members.push({ key, value: { start, end: stop } });
    if (bytes[stop] === CLOSE_BRACE) return skipWhitespace(bytes, stop + 1, end) === end ? members : null;
    if (bytes[stop] !== COMMA) return null;
    i = skipWhitespace(bytes, stop + 1, end);
  }
}

/**
 * The elements of the array that `span` of `bytes` holds (whitespace around it allowed); null when
 * the span is not an array this scanner can follow.
 */
export function arrayElements(bytes: Uint8Array, span: Span): Span[] | null {
  const end = span.end;
  let i = skipWhitespace(bytes, span.start, end);
  if (bytes[i] !== OPEN_BRACKET) return null;
  i = skipWhitespace(bytes, i + 1, end);
  const elements: Span[] = [];
  if (bytes[i] === CLOSE_BRACKET) return skipWhitespace(bytes, i + 1, end) === end ? elements : null;
  for (;;) {
    const stop = valueEnd(bytes, i, end);
    if (stop < 0) return null;
    elements.push({ start: i, end: stop });
    if (bytes[stop] === CLOSE_BRACKET) return skipWhitespace(bytes, stop + 1, end) === end ? elements : null;
    if (bytes[stop] !== COMMA) return null;
    i = skipWhitespace(bytes, stop + 1, end);
  }
}
