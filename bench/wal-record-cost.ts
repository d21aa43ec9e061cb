/**
 * CPU per read of a WAL record (issue 11, durable HTTP ingest): a batch of generated reads as the HTTP
 * parse hands them over (ReadColumns) written as a record on the main thread, and read into the seal
 * job's columns (SealRows) on the seal worker. This dist writes kind 3 (src/store/wal-record-columns.ts);
 * with --base, a dist of main before kind 3 is timed in the same process, alternately (its
 * `encodeColumnsRecord` wrote MessagePack rows, kinds 1/2, and its seal job read them row by row).
 *
 *   npm run build && node dist/bench/wal-record-cost.js [--batch 5000] [--rounds 3] [--base /work/wt/x-base/dist]
 *
 * CPU time (process.cpuUsage) over repeated runs, so a shared machine's load moves it little.
 */
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { generateReads } from '../src/gen/index.js';
import { readColumnsOf, type ReadColumns } from '../src/store/read-columns.js';
import { encodeColumnsRecord } from '../src/store/wal-record-columns.js';
import { decodeRecordInto, type RowSink } from '../src/store/wal-record.js';
import { SealRows } from '../src/store/seal-rows.js';

const { values } = parseArgs({ options: { batch: { type: 'string' }, rounds: { type: 'string' }, base: { type: 'string' } } });
const batch = Number(values.batch ?? 5000);
const rounds = Number(values.rounds ?? 3);

interface Codec {
  name: string;
  encode(c: ReadColumns, rows: ArrayLike<number>, firstSeq: number, seqs?: ArrayLike<number>): Uint8Array;
  /** Reads a payload into a fresh or reused SealRows-like sink. */
  decode(payload: Uint8Array): void;
}

function codecOf(name: string, encode: Codec['encode'], decode: (file: string, p: Uint8Array, sink: RowSink, columns?: never) => number, Rows: typeof SealRows, columns: boolean): Codec {
  let rows = new Rows();
  return {
    name, encode,
    decode(payload) {
      if (rows.length > 2_000_000) rows = new Rows();
      const r = rows;
      const sink: RowSink = (seq, plate, ts, la, lo, cam, reg, conf, mk, col, rid) => r.add(seq, plate, ts, la, lo, cam, reg, conf, mk, col, rid);
      if (columns) decodeRecordInto('bench.wal', payload, sink, (w) => r.addColumns(w, 0, Infinity));
      else decode('bench.wal', payload, sink);
    },
  };
}

const codecs: Codec[] = [codecOf('branch (kind 3)', encodeColumnsRecord, decodeRecordInto as never, SealRows, true)];
if (values.base) {
  const dist = resolve(values.base);
  const rec = await import(`${dist}/src/store/wal-record.js`);
  const rows = await import(`${dist}/src/store/seal-rows.js`);
  codecs.push(codecOf('base (MessagePack rows)', rec.encodeColumnsRecord, rec.decodeRecordInto, rows.SealRows, false));
}

const reads = [...generateReads({ reads: batch, seed: 1, tenants: ['pd-metro'], days: 1, vehicles: 100_000 })].map((g) => g.read);
const c = readColumnsOf(reads);
const all = Int32Array.from({ length: c.length }, (_, i) => i);
const half = Array.from({ length: c.length >> 1 }, (_, i) => 2 * i);
const seqs = half.map((i) => 1 + i);
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
function time(fn: () => void, iters: number, per: number): number {
  for (let i = 0; i < 20; i++) fn();
  const t0 = cpuMs();
  for (let i = 0; i < iters; i++) fn();
  return ((cpuMs() - t0) * 1000) / (iters * per);
}

console.log(`batch ${batch} reads, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
for (const k of codecs) {
  const whole = k.encode(c, all, 1), day = k.encode(c, half, 0, seqs);
  console.log(`${k.name}: ${(whole.length / batch).toFixed(1)} B/read (whole batch), ${(day.length / half.length).toFixed(1)} B/read (a day of a split batch, with seqs)`);
}
console.log('| round | record | encode whole batch (µs/read) | encode a day with seqs (µs/read) | decode into SealRows (µs/read) |');
console.log('| ---: | --- | ---: | ---: | ---: |');
for (let r = 1; r <= rounds; r++) {
  for (const k of codecs) {
    const payload = k.encode(c, all, 1);
    const enc = time(() => k.encode(c, all, 1), 300, batch);
    const encDay = time(() => k.encode(c, half, 0, seqs), 300, half.length);
    const dec = time(() => k.decode(payload), 200, batch);
    console.log(`| ${r} | ${k.name} | ${enc.toFixed(3)} | ${encDay.toFixed(3)} | ${dec.toFixed(3)} |`);
  }
}
