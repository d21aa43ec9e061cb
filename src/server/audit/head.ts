/**
 * The durable head marker of one audit log, `audit/<tenant>.head`: the last durably appended record's
 * `seq` and `hash`, and the log's length in bytes after it. It lets verification tell a crash (a torn
 * line after the marker's record: repaired on start) from tampering (a log shorter than its marker, or
 * not holding the marker's hash at the marker's seq: a failure).
 *
 * Layout: two fixed 256-byte slots, each one line of JSON padded with spaces and ending in "\n":
 *
 *   slot 0 (bytes   0..255): {"v":1,"seq":12,"hash":"…","len":4096,"check":"…"}␠␠␠…\n
 *   slot 1 (bytes 256..511): {"v":1,"seq":13,"hash":"…","len":4410,"check":"…"}␠␠␠…\n
 *
 * Record `seq` goes to slot `seq % 2` and is written in place with one fsync; a reader takes the valid slot
 * with the highest seq. A write torn by a crash spoils only its own slot (its `check` fails), and the other
 * still holds the previous head: a superblock pair, as file systems keep theirs.
 */
import { hash } from 'node:crypto';
import { type AuditFile, readFully, writeFully } from './fs.js';

export interface HeadMarker {
  seq: number;
  hash: string;
  /** Bytes of the log up to and including the marker's record's newline. */
  len: number;
}

export const kHeadSlotBytes = 256;
const kHeadVersion = 1;

function check(seq: number, chainHash: string, len: number): string {
  return hash('sha256', `v${kHeadVersion}|${seq}|${chainHash}|${len}`, 'hex').slice(0, 16);
}

export function encodeHeadSlot(m: HeadMarker): Buffer {
  const json = JSON.stringify({ v: kHeadVersion, seq: m.seq, hash: m.hash, len: m.len, check: check(m.seq, m.hash, m.len) });
  const buf = Buffer.alloc(kHeadSlotBytes, 0x20);
  buf.write(json, 0, 'utf8');
  buf[kHeadSlotBytes - 1] = 0x0a;
  return buf;
}

function decodeSlot(buf: Buffer): HeadMarker | undefined {
  try {
    const o = JSON.parse(buf.toString('utf8').trim()) as Record<string, unknown>;
    const { v, seq, hash, len } = o;
    if (v !== kHeadVersion || !Number.isSafeInteger(seq) || (seq as number) < 0) return undefined;
    if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) return undefined;
    if (!Number.isSafeInteger(len) || (len as number) < 0) return undefined;
    if (o.check !== check(seq as number, hash, len as number)) return undefined;
    return { seq: seq as number, hash, len: len as number };
  } catch {
    return undefined;
  }
}

/** The newest valid slot, or undefined when neither slot is valid (missing or destroyed marker). */
export function decodeHead(bytes: Buffer): HeadMarker | undefined {
  let best: HeadMarker | undefined;
  for (let i = 0; i + kHeadSlotBytes <= bytes.length && i < 2 * kHeadSlotBytes; i += kHeadSlotBytes) {
    const m = decodeSlot(bytes.subarray(i, i + kHeadSlotBytes));
    if (m && (!best || m.seq > best.seq)) best = m;
  }
  return best;
}

export async function readHead(file: AuditFile): Promise<HeadMarker | undefined> {
  return decodeHead(await readFully(file, 2 * kHeadSlotBytes, 0));
}

/** Where the slot of a marker at `seq` starts: record `seq` goes to slot `seq % 2`. */
export function headSlotAt(seq: number): number {
  return (seq % 2) * kHeadSlotBytes;
}

/** Writes `m` to its slot (`seq % 2`) and fsyncs. */
export async function writeHead(file: AuditFile, m: HeadMarker): Promise<void> {
  await writeFully(file, encodeHeadSlot(m), headSlotAt(m.seq));
  if (!file.durableWrites) await file.sync();
}

/** Writes `m` to both slots and fsyncs: after a failed write, no slot may claim a newer head. */
export async function writeHeadBoth(file: AuditFile, m: HeadMarker): Promise<void> {
  const slot = encodeHeadSlot(m);
  await writeFully(file, Buffer.concat([slot, slot]), 0);
  if (!file.durableWrites) await file.sync();
}
