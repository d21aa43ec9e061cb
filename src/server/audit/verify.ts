/**
 * Verification of one audit log against the chain rule and its head marker (API.md "Audit"):
 * every record must have `seq` = its line number, `prev` = the previous record's `hash` (64 zeros for the
 * first), `tenant` = the log's owner and `hash` = sha256hex(prev + "\n" + canonical(record without hash));
 * the record at the marker's seq must carry the marker's hash, and the log must not be shorter than the
 * marker. After the marker's record, a crash may leave one torn line (never acknowledged); it is tolerated
 * here and cut off when the server starts.
 */
import type { AuditFile } from './fs.js';
import type { HeadMarker } from './head.js';
import { chainHash, kGenesisHash } from './record.js';

export type VerifyResult =
  | { ok: true; count: number; head: string; tornTail?: boolean }
  | { ok: false; brokenAt: number; reason: string; count: number };

/** One line of a log: its bytes without the newline, where it starts, and whether a newline ended it. */
export interface LogLine {
  bytes: Buffer;
  offset: number;
  terminated: boolean;
}

// read size of the line scanner: large enough to amortise syscalls, small next to the heap
const kChunkBytes = 1 << 20;

/** The lines of `file` from byte `start` to `end` (exclusive), in order. */
export async function* scanLines(file: AuditFile, start: number, end: number): AsyncGenerator<LogLine> {
  let pos = start;
  let carry: Buffer = Buffer.alloc(0);
  let carryOffset = start;
  while (pos < end) {
    const want = Math.min(kChunkBytes, end - pos);
    const chunk = Buffer.alloc(want);
    let got = 0;
    while (got < want) {
      const n = await file.read(chunk, got, want - got, pos + got);
      if (n <= 0) break;
      got += n;
    }
    if (got === 0) break;
    pos += got;
    const data: Buffer = carry.length ? Buffer.concat([carry, chunk.subarray(0, got)]) : chunk.subarray(0, got);
    let lineStart = 0;
    for (;;) {
      const nl = data.indexOf(0x0a, lineStart);
      if (nl < 0) break;
      yield { bytes: data.subarray(lineStart, nl), offset: carryOffset + lineStart, terminated: true };
      lineStart = nl + 1;
    }
    carryOffset += lineStart;
    carry = Buffer.from(data.subarray(lineStart));
    if (got < want) break;
  }
  if (carry.length) yield { bytes: carry, offset: carryOffset, terminated: false };
}

/** Parses and checks one line as record number `seq` chained to `prev`; the record, or why not. */
export function checkLine(line: LogLine, seq: number, prev: string, tenant: string): { record: Record<string, unknown> } | { error: string } {
  if (!line.terminated) return { error: 'torn line (no newline)' };
  let record: unknown;
  try {
    record = JSON.parse(line.bytes.toString('utf8'));
  } catch {
    return { error: 'line is not JSON' };
  }
  if (record === null || typeof record !== 'object' || Array.isArray(record)) return { error: 'line is not a record' };
  const r = record as Record<string, unknown>;
  if (r.seq !== seq) return { error: `expected seq ${seq}, found ${JSON.stringify(r.seq)}` };
  if (r.prev !== prev) return { error: 'prev does not match the previous record\'s hash' };
  if (r.tenant !== tenant) return { error: `record of tenant ${JSON.stringify(r.tenant)} in the log of ${tenant}` };
  if (typeof r.hash !== 'string' || chainHash(r) !== r.hash) return { error: 'hash does not match the record' };
  return { record: r };
}

export interface VerifyOptions {
  /** Stop at the marker's record (a running server: later lines may still be in flight). */
  stopAtHead?: boolean;
}

/**
 * Verifies the log in `log` (its first `size` bytes) against `marker` (undefined: no valid marker file).
 * `brokenAt` is the seq (line number) of the first record that does not fit the chain.
 */
export async function verifyLog(
  log: AuditFile | undefined,
  size: number,
  marker: HeadMarker | undefined,
  tenant: string,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  if (!log || size === 0) {
    if (marker && marker.seq > 0) return { ok: false, brokenAt: 1, reason: `log is empty but its head marker is at seq ${marker.seq}`, count: 0 };
    return { ok: true, count: 0, head: kGenesisHash };
  }
  if (!marker) return { ok: false, brokenAt: 1, reason: 'head marker is missing or unreadable', count: 0 };

  let seq = 1;
  let prev = kGenesisHash;
  let count = 0;
  let pendingBreak: { seq: number; reason: string } | undefined;
  for await (const line of scanLines(log, 0, size)) {
    if (pendingBreak) {
      // something follows the bad line after the marker: not a torn tail but damage
      return { ok: false, brokenAt: pendingBreak.seq, reason: pendingBreak.reason, count };
    }
    const checked = checkLine(line, seq, prev, tenant);
    if ('error' in checked) {
      if (seq <= marker.seq) return { ok: false, brokenAt: seq, reason: checked.error, count };
      pendingBreak = { seq, reason: checked.error };
      continue;
    }
    count++;
    prev = checked.record.hash as string;
    if (seq === marker.seq) {
      if (prev !== marker.hash) return { ok: false, brokenAt: seq, reason: 'record at the head marker\'s seq does not carry its hash', count: count - 1 };
      if (options.stopAtHead) return { ok: true, count, head: prev };
    }
    seq++;
  }
  if (count < marker.seq) {
    return { ok: false, brokenAt: count + 1, reason: `log ends at seq ${count}, shorter than its head marker (seq ${marker.seq})`, count };
  }
  return pendingBreak ? { ok: true, count, head: prev, tornTail: true } : { ok: true, count, head: prev };
}
