/**
 * A response body written as bytes into fixed-size chunks: the text of /metrics/lag at size L is
 * 64 MiB in 700k lines, and building it as strings (a template literal per line, a join per chunk,
 * then UTF-8 encoding on write) cost more than reading its rows. Label prefixes are encoded once and
 * copied; integers are written digit by digit. Full chunks wait in `take()` for the caller to send.
 */

/** Bytes per chunk: a socket write's worth, small enough to keep only a few in flight. */
export const CHUNK_BYTES = 64 * 1024;

/** Longest decimal text of a JavaScript number (`-1.7976931348623157e+308`). */
const MAX_NUMBER_CHARS = 24;

export class ChunkedText {
  private chunk: Buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private pos = 0;
  private full: Buffer[] = [];

  /** True when at least one full chunk waits. */
  get ready(): boolean {
    return this.full.length > 0;
  }

  /** The full chunks written so far (each handed out once). */
  take(): Buffer[] {
    const taken = this.full;
    this.full = [];
    return taken;
  }

  /** Everything written so far, the last chunk however full. */
  end(): Buffer[] {
    this.seal(0);
    return this.take();
  }

  /** Makes room for `bytes` more in the current chunk. */
  reserve(bytes: number): void {
    if (this.pos + bytes > this.chunk.length) this.seal(bytes);
  }

  /** Any text, UTF-8 encoded. */
  text(value: string): void {
    this.reserve(value.length * 3);
    this.pos += this.chunk.write(value, this.pos, "utf8");
  }

  /** Bytes encoded before (a label prefix). */
  bytes(value: Buffer): void {
    this.reserve(value.length);
    this.chunk.set(value, this.pos);
    this.pos += value.length;
  }

  /** One ASCII byte. */
  byte(code: number): void {
    this.reserve(1);
    this.chunk[this.pos++] = code;
  }

  /** A number as Prometheus text: integers digit by digit, anything else as String() writes it. */
  number(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) {
      this.text(String(value));
      return;
    }
    let digits = 1;
    for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
    this.reserve(digits);
    let at = this.pos + digits;
    this.pos = at;
    let rest = value;
    do {
      this.chunk[--at] = 48 + (rest % 10);
      rest = Math.floor(rest / 10);
    } while (rest > 0);
  }

  /** Room for one line of a label prefix, a number and a value: the line is never split by a check. */
  reserveLine(prefixBytes: number): void {
    this.reserve(prefixBytes + 2 * MAX_NUMBER_CHARS + 8);
  }

  private seal(next: number): void {
    if (this.pos > 0) this.full.push(this.chunk.subarray(0, this.pos));
    this.chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, next));
    this.pos = 0;
  }
}
