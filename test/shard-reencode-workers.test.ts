/**
 * A sealed shard's lanes re-encoded in memory on the shard-open worker that opened it (src/store/shard-reencode.ts)
 * are byte for byte what the opening thread makes of the same shard (the plain definition: packLabelLanes, then
 * narrowU24Lanes, then compactSeqLane, run on the calling thread): the same header, the same bytes, the same
 * `labelLanesPacked` counts, under the default knobs and under lowered ones (`labelLimits.max`,
 * `plateU24Limit.codes`, `packedLimit.bits`), which the worker must take from the caller (its own copies are not the
 * caller's).
 */
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { openEngine, type Engine } from '../src/engine/index.js';
import { kMaxLabelTriples } from '../src/core/label-lanes.js';
import { labelLanesPacked, labelLimits } from '../src/store/shard-labels.js';
import { packedLimit, plateU24Limit } from '../src/store/shard-u24.js';
import { ShardOpenPool } from '../src/store/shard-open-pool.js';
import { kDay, kT0, makeReads, tempDataDir } from './helpers/engine-data.js';
import { shardsOf } from './helpers/engine-internals.js';
// this file's knobs are read when a shard is re-encoded at open: its shards are written as format 2, re-encoded
// at each open, not as format 3 (re-encoded when written, under the writing thread's defaults: src/store/shard-format-v3.ts)
process.env.PLATESEARCH_TEST_SHARD_FORMAT = '2';

const kDefaultPlateLimit = plateU24Limit.codes;
const kDefaultPackedBits = packedLimit.bits;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of cleanups.splice(0)) await c();
});
afterAll(() => {
  delete process.env.PLATESEARCH_TEST_SHARD_FORMAT;
  labelLimits.max = kMaxLabelTriples;
  plateU24Limit.codes = kDefaultPlateLimit;
  packedLimit.bits = kDefaultPackedBits;
});

/** Each loaded shard's in-memory image: its header (lane places relative to its start) and its bytes. */
type Image = { header: string; bytes: Buffer; labels: number | undefined; plateWidth: number | undefined; postingsWidth: number | undefined };
function images(e: Engine): Map<string, Image> {
  const out = new Map<string, Image>();
  for (const s of shardsOf(e)) {
    const b = s.view.bytes;
    out.set(s.file, { header: JSON.stringify(s.view.header), bytes: Buffer.from(b.buffer, b.byteOffset, b.length), labels: s.layout.labelsWidth, plateWidth: s.layout.plateWidth, postingsWidth: s.layout.postingsWidth });
  }
  return out;
}

async function opened(dataDir: string, openThreads: number) {
  const before = { ...labelLanesPacked };
  const e = await openEngine({ dataDir, threads: 0, openThreads, sealAgeMs: 0 });
  try {
    expect(e.stats().corruptFiles).toEqual([]);
    return { images: images(e), packed: labelLanesPacked.shards - before.shards, kept: labelLanesPacked.kept - before.kept };
  } finally {
    await e.close();
  }
}

describe('lanes re-encoded on the shard-open workers', () => {
  it('equal the opening thread\'s, byte for byte, under the default and lowered knobs', async () => {
    const d = await tempDataDir('ps-reenc-');
    cleanups.push(d.cleanup);
    const e = await openEngine({ dataDir: d.dir, threads: 0, sealAgeMs: 0 });
    // shapes: tiny shards (kept as they are: nothing to gain), a 100k-read shard of ~79k plates (u32 plate and
    // postings lanes in the file), a 30k one, and a tenant with no make or color at all
    await e.append('pd-a', makeReads({ seed: 11, reads: 200, days: 1, start: kT0 }));
    await e.append('pd-a', makeReads({ seed: 12, reads: 100_000, vehicles: 200_000, days: 1, start: kT0 + kDay }));
    await e.append('pd-a', makeReads({ seed: 13, reads: 30_000, days: 1, start: kT0 + 2 * kDay }));
    await e.append('pd-b', makeReads({ seed: 14, reads: 20_000, days: 2, start: kT0 }).map(({ make: _m, color: _c, ...r }) => r));
    await e.seal();
    await e.close();

    const opens = vi.spyOn(ShardOpenPool.prototype, 'open');
    const forms: string[] = [];
    // the lowered knobs: some labels kept, the big plate lane u32, its postings u24 (17 bits > 12)
    for (const knobs of [{ labels: kMaxLabelTriples, plates: kDefaultPlateLimit, bits: kDefaultPackedBits }, { labels: 20, plates: 70_000, bits: 12 }]) {
      labelLimits.max = knobs.labels;
      plateU24Limit.codes = knobs.plates;
      packedLimit.bits = knobs.bits;
      const serial = await opened(d.dir, 0);
      const calls = opens.mock.calls.length;
      const workers = await opened(d.dir, 2);
      expect(opens.mock.calls.length - calls).toBe(serial.images.size); // every shard went through a worker
      expect(serial.images.size).toBe(5);
      // and each worker re-encoded its shard (an answer), not left it to the opening thread
      const answers = await Promise.all(opens.mock.results.slice(calls).map((r) => r.value as Promise<unknown>));
      expect(answers.every((a) => a !== undefined)).toBe(true);
      expect([...workers.images.keys()].sort()).toEqual([...serial.images.keys()].sort());
      for (const [file, want] of serial.images) {
        const got = workers.images.get(file)!;
        expect(got.header, file).toBe(want.header);
        expect(got.bytes.equals(want.bytes), file).toBe(true);
      }
      expect([workers.packed, workers.kept]).toEqual([serial.packed, serial.kept]);
      forms.push(JSON.stringify([...serial.images.values()].map((i) => [i.labels, i.plateWidth, i.postingsWidth, i.bytes.length])));
    }
    // the lowered knobs changed what the shards became (some labels kept, the big plate lane kept u32, postings u24
    // where the default packs them)
    expect(forms[1]).not.toBe(forms[0]);
    const postings = forms.map((f) => (JSON.parse(f) as number[][]).map((i) => i[2]).sort().join());
    // the 100k shard's postings (u32 in the file: the others are u16) packed, then u24
    expect(postings).toEqual(['0,2,2,2,2', '2,2,2,2,3']);
  }, 240_000);
});
