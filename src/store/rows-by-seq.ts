/**
 * The rows a seal or rewrite job gathered (WAL records, shard rows), put in seq order with one row per seq.
 * A batch spanning several days is logged as one record per day, so rows are read out of seq order; a log
 * rewrite may repeat a row, and the copy read last wins.
 */
import type { RowRecord } from './wal-record.js';

/** `rows` in seq order, one per seq (the last one read); sorts only when they are not in order already. */
export function lastBySeq(rows: RowRecord[]): RowRecord[] {
  let sorted = true;
  for (let i = 1; i < rows.length && sorted; i++) sorted = rows[i - 1]!.seq < rows[i]!.seq;
  if (sorted) return rows;
  // stable: equal seqs stay in reading order, so the last of a run is the last read
  rows.sort((a, b) => a.seq - b.seq);
  let w = 0;
  for (let i = 0; i < rows.length; i++) {
    if (w > 0 && rows[w - 1]!.seq === rows[i]!.seq) rows[w - 1] = rows[i]!;
    else rows[w++] = rows[i]!;
  }
  rows.length = w;
  return rows;
}
