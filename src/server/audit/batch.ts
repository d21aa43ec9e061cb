/**
 * One batch of one audit log, from its records' fields to the bytes the writer commits: each record's body
 * (record.ts auditBody), its seq and prev, its sealed fields (sealed-fields.ts), its chain hash and line
 * (record.ts chainedLine), in queue order; then the head marker covering the last of them (head.ts).
 *
 *   in : tenant, default ts, durable head (seq, hash, len), the data key (id, bytes, first counter),
 *        each record's fields as JSON text
 *   out: the lines (text at `linesAt`), the marker slot (at headSlotAt(seq)), and for the main thread
 *        each record's hash and line offset and the log's length after the batch
 *
 * The writer thread runs this for every batch on a plain O_DSYNC descriptor (writer-worker.ts), so the
 * record's sealing, canonical JSON and SHA-256 leave the main thread; the main thread runs the same function
 * for files it must write through their AuditFile (fault injection) or a cipher the thread does not have
 * (writer.ts). One definition, wherever it runs: the chain order is the order of `fields`.
 */
import type { Cipher } from '../../crypto/cipher.js';
import { encodeHeadSlot, headSlotAt } from './head.js';
import { auditBody, chainedLine } from './record.js';
import { type SealKey, sealFields } from './sealed-fields.js';

export interface BatchInput {
  tenant: string;
  /** `ts` of records whose fields have none (the time of the batch, ISO-8601 UTC ms). */
  ts: string;
  /** The log's durable head: the batch's first record is seq + 1 and chains from `prev`. */
  seq: number;
  prev: string;
  /** The log's durable length: the lines go here. */
  linesAt: number;
  /** The log does not end in a newline (damaged): the lines start with one. */
  newline: boolean;
  /** Record i is sealed under counter `key.counter + i`. */
  key: SealKey;
  /** Each record's fields as JSON text (JSON.stringify: no raw newline), in chain order. */
  fields: string[];
}

export interface BatchOutput {
  /** Each record's chain hash. */
  hashes: string[];
  /**
   * Each record without its hash (record.ts auditBody with seq and prev), when the batch was made on the
   * calling thread: the trail makes the records it answers with from them instead of parsing each record's
   * fields a second time. Absent when the writer thread made the batch.
   */
  bodies?: Array<Record<string, unknown>>;
  /** Where each record's line starts in the log (bytes). */
  offsets: number[];
  /** The log's length after the batch. */
  len: number;
}

export interface BatchLines extends BatchOutput {
  /** The text written at `linesAt`. */
  lines: string;
  /** The head marker slot covering the batch's last record, written at `markerAt`. */
  marker: Buffer;
  markerAt: number;
}

export function chainBatch(b: BatchInput, cipher: Cipher): BatchLines {
  const n = b.fields.length;
  const hashes = new Array<string>(n);
  const offsets = new Array<number>(n);
  const lines = new Array<string>(n);
  const bodies = new Array<Record<string, unknown>>(n);
  let offset = b.linesAt + (b.newline ? 1 : 0);
  let prev = b.prev;
  for (let i = 0; i < n; i++) {
    const body = auditBody(b.fields[i]!, b.tenant, b.ts);
    const seq = b.seq + 1 + i;
    body.seq = seq;
    body.prev = prev;
    bodies[i] = body;
    // the chain covers the record as stored: sealed fields and all
    const { hash, line } = chainedLine(sealFields(cipher, b.key.key, b.key.id, b.key.counter + i, b.tenant, body));
    hashes[i] = hash;
    offsets[i] = offset;
    lines[i] = line;
    offset += Buffer.byteLength(line);
    prev = hash;
  }
  const seq = b.seq + n;
  return {
    hashes, offsets, len: offset, bodies,
    lines: (b.newline ? '\n' : '') + lines.join(''),
    marker: encodeHeadSlot({ seq, hash: prev, len: offset }),
    markerAt: headSlotAt(seq),
  };
}
