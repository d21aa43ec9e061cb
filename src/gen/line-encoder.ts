/**
 * The byte buffer that NDJSON lines are encoded into (see ndjson-lines.ts), handed to the output
 * stream whole once full. A fresh buffer per hand-over: the stream may still hold the old one.
 */
export class LineEncoder {
  buffer: Uint8Array;
  pos = 0;

  constructor(capacity: number) {
    this.buffer = new Uint8Array(capacity);
  }

  /** The filled bytes, for the caller to write out; encoding goes on in a fresh buffer. */
  take(): Uint8Array {
    const out = this.buffer.subarray(0, this.pos);
    this.buffer = new Uint8Array(this.buffer.length);
    this.pos = 0;
    return out;
  }
}
