/**
 * The lane pool of bulk loads (src/store/lane-pool.ts): a shard built from pooled buffers, which hold the bytes
 * of earlier and bigger shards, is byte for byte the shard built from fresh arrays (random jobs, one pool
 * across them, as the build thread keeps it); a build of a size met before makes no new buffer; a sweep drops
 * what was not used; codePlates on a pool's stale arrays is its plain definition; and a shard sealed into a pooled buffer (sealInto, or a cipher without it) opens to the
 * same bytes.
 */
import { describe, expect, it } from 'vitest';
import { buildBulkShard, codePlates, codePlatesPlain, type BulkShardJob, type JobLabel } from '../src/store/bulk-build.js';
import { freshLanes, LanePool, type LaneSource } from '../src/store/lane-pool.js';
import { plateKey } from '../src/store/plate-key.js';
import { kDayMs } from '../src/store/shard-format.js';
import { openSealedFile, sealedSize, sealFile } from '../src/crypto/sealed-file.js';
import { aesGcm, type Cipher } from '../src/crypto/cipher.js';

const kAlphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296;
}

/** The rows of a random job, as plain arrays (each build gets its own copy: a build uses its job's lanes up). */
function randomRows(seed: number, n: number) {
  const rnd = rng(seed);
  const day = 20_000 + Math.floor(rnd() * 10);
  const plates = Array.from({ length: 1 + Math.floor(rnd() * n) }, () => {
    let p = '';
    for (let j = 0, len = 1 + Math.floor(rnd() * 8); j < len; j++) p += kAlphabet[Math.floor(rnd() * 36)];
    return plateKey(p);
  });
  const label = (optional: boolean, count: number) => ({
    values: optional ? ['', ...Array.from({ length: count }, (_, i) => `v${i}`)] : Array.from({ length: count }, (_, i) => `c${i}`),
    optional,
    codes: Array.from({ length: n }, () => (optional ? Math.floor(rnd() * (count + 1)) : Math.floor(rnd() * count))),
  });
  const hasConf = rnd() < 0.8;
  return {
    day,
    ts: Array.from({ length: n }, () => day * kDayMs + Math.floor(rnd() * kDayMs)),
    seq: Array.from({ length: n }, (_, i) => 1000 + i),
    conf: Array.from({ length: n }, () => (hasConf && rnd() < 0.9 ? Math.round(rnd() * 10_000) / 10_000 : NaN)),
    plate: Array.from({ length: n }, () => plates[Math.floor(rnd() * plates.length)]!),
    lat: Array.from({ length: n }, () => Math.floor((37 + rnd()) * 1e7)),
    lon: Array.from({ length: n }, () => Math.floor((-122 + rnd()) * 1e7)),
    camera: label(false, 1 + Math.floor(rnd() * 5)),
    region: label(true, Math.floor(rnd() * 4)),
    make: label(true, 1 + Math.floor(rnd() * 6)),
    color: label(true, 1 + Math.floor(rnd() * 3)),
  };
}

/** A job of those rows with its lanes from `lanes` (as the loading thread takes them from its pool). */
function jobOf(rows: ReturnType<typeof randomRows>, lanes: LaneSource): BulkShardJob {
  const n = rows.ts.length;
  const f64 = (v: number[]) => {
    const a = lanes.f64(n);
    a.set(v);
    return a;
  };
  const i32 = (v: number[]) => {
    const a = lanes.i32(n);
    a.set(v);
    return a;
  };
  const label = (l: ReturnType<typeof randomRows>['camera']): JobLabel => ({ values: l.values, optional: l.optional, codes: i32(l.codes) });
  return {
    tenant: 'pd-a', ordinal: 3, day: rows.day,
    ts: f64(rows.ts), seq: f64(rows.seq), conf: f64(rows.conf), plate: f64(rows.plate), lat: i32(rows.lat), lon: i32(rows.lon),
    camera: label(rows.camera), region: label(rows.region), make: label(rows.make), color: label(rows.color), readId: [],
  };
}

/** Every byte of every kept buffer set to junk, so a build that reads what it did not write shows it. */
function soil(pool: LanePool): void {
  // take every kept buffer (the smallest fitting 1 byte first), fill it, give them all back
  const taken: Uint8Array[] = [];
  for (let k = pool.kept; k > 0; k--) {
    const b = pool.u8(1);
    new Uint8Array(b.buffer).fill(0xa5);
    taken.push(b);
  }
  pool.give(...taken);
}

describe('lane pool', () => {
  it('a shard from pooled buffers equals the shard from fresh arrays, across random jobs of growing and shrinking size', () => {
    const pool = new LanePool(0);
    const sizes = [1, 40, 3000, 17, 2500, 2500, 600, 1, 3001, 250];
    for (let j = 0; j < sizes.length; j++) {
      const rows = randomRows(100 + j, sizes[j]!);
      const fresh = buildBulkShard(jobOf(rows, freshLanes));
      pool.sweep();
      // every other job on junk bytes; the others on what the jobs before left (a stale plate table, lanes)
      if (j % 2 === 1) soil(pool);
      const job = jobOf(rows, pool);
      const lanesOfJob = [job.ts, job.seq, job.conf, job.plate, job.lat, job.lon, job.camera.codes, job.region.codes, job.make.codes, job.color.codes].map((l) => l.buffer as ArrayBuffer);
      const pooled = buildBulkShard(job, undefined, pool);
      expect(pooled.meta, `job ${j}`).toEqual(fresh.meta);
      expect(Buffer.from(pooled.bytes).equals(Buffer.from(fresh.bytes)), `job ${j} (${sizes[j]} rows): same bytes`).toBe(true);
      // as the loading thread does: the job's lanes and the file's buffer back to the pool
      for (const b of lanesOfJob) pool.giveBuffer(b);
      pool.giveBuffer(pooled.bytes.buffer as ArrayBuffer);
    }
  });

  it('codePlates on pooled arrays equals its plain definition, again and again on the same keys and on others', () => {
    const pool = new LanePool(0);
    for (let j = 0; j < 12; j++) {
      const rows = randomRows(j < 6 ? 42 : 300 + j, j < 6 ? 800 : 50 + 97 * j);
      const keys = Float64Array.from(rows.plate);
      const got = codePlates(keys, pool);
      const want = codePlatesPlain(keys);
      expect({ plate: Array.from(got.plate), dict: Array.from(got.dict.subarray(0, got.m)), m: got.m }, `call ${j}`).toEqual({ plate: Array.from(want.plate), dict: Array.from(want.dict), m: want.m });
      pool.give(got.plate, got.dict);
    }
  });

  it('a build of a size met before makes no new buffer; a sweep drops what was not used since the last one', () => {
    const pool = new LanePool(0);
    const rows = randomRows(7, 2000);
    const build = () => {
      pool.sweep();
      const job = jobOf(rows, pool);
      const buffers = [job.ts, job.seq, job.conf, job.plate, job.lat, job.lon, job.camera.codes, job.region.codes, job.make.codes, job.color.codes].map((l) => l.buffer as ArrayBuffer);
      const { bytes } = buildBulkShard(job, undefined, pool);
      for (const b of buffers) pool.giveBuffer(b);
      pool.giveBuffer(bytes.buffer as ArrayBuffer);
      return bytes;
    };
    const first = Buffer.from(build());
    const made = pool.made;
    expect(made).toBeGreaterThan(10);
    expect(Buffer.from(build()).equals(first)).toBe(true);
    expect(pool.made).toBe(made);
    const kept = pool.kept;
    const idle = new ArrayBuffer(1 << 20);
    pool.giveBuffer(idle);
    expect(pool.kept).toBe(kept + 1);
    pool.sweep(); // idle was given since the last sweep: kept
    expect(pool.kept).toBe(kept + 1);
    const big = pool.u8(1 << 20); // takes idle (the only one that big)
    expect(big.buffer).toBe(idle);
    pool.give(big);
    pool.sweep();
    build(); // uses the build's buffers, not idle (the smallest that fits is taken)
    pool.sweep();
    expect(pool.kept).toBe(kept);
  });

  it('a shard sealed into a pooled buffer opens to its bytes, with sealInto and with a cipher that has none', () => {
    const key = Buffer.alloc(32, 9);
    const { sealInto: _sealInto, ...plain } = aesGcm;
    const withoutSealInto: Cipher = plain;
    const rnd = rng(3);
    for (const cipher of [aesGcm, withoutSealInto]) {
      for (const n of [0, 1, 999, 1000, 1001, 4321, 70_000]) {
        const bytes = Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
        const segment = 1000;
        const into = new Uint8Array(sealedSize(n, 0, segment) + 37).fill(0xa5);
        const chunks = sealFile(1, key, bytes, undefined, segment, cipher, into);
        expect(chunks.length).toBe(1);
        expect(chunks[0]!.length).toBe(sealedSize(n, 0, segment));
        expect(chunks[0]!.buffer).toBe(into.buffer);
        const { plain: opened } = openSealedFile('x', chunks[0]!, key, undefined, 0, cipher);
        expect(Buffer.from(opened).equals(Buffer.from(bytes)), `${cipher.sealInto ? 'sealInto' : 'seal'} ${n} bytes`).toBe(true);
        // the chunks way, for the same plain: the same size and plaintext
        const parts = sealFile(1, key, bytes, undefined, segment, cipher);
        expect(Buffer.concat(parts).length).toBe(chunks[0]!.length);
      }
    }
  });
});
