/**
 * The hot-list file format and store (durable replace, reload, corrupt files) and the alert log
 * (ids, torn-tail recovery, replay from disk beyond the memory cache, retention compaction).
 */
import { appendFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeHotlist, encodeHotlist } from '../src/hotlist/codec.js';
import { HotlistStore } from '../src/hotlist/store.js';
import { parseHotlistBody } from '../src/hotlist/parse.js';
import type { Hotlist } from '../src/hotlist/hotlist.js';
import { AlertLog } from '../src/alerts/log.js';
import type { AlertDraft } from '../src/alerts/alert.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'platesearch-hotlist-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
  await rm(`${dir}.keys`, { recursive: true, force: true }); // the default key store, beside the data dir
});

function list(name: string, plates: string[], extra: Partial<Hotlist> = {}): Hotlist {
  return {
    name, updated: 1_767_225_600_000, mode: 'exact', maxEdits: 0, ocr: false, transpositions: false,
    plates, notes: plates.map((p) => `note ${p} ✓`), priorities: null, expires: null, ...extra,
  };
}

describe('hot-list codec', () => {
  it('round-trips every field', () => {
    fc.assert(fc.property(
      fc.array(fc.record({
        plate: fc.string({ unit: fc.constantFrom('A', 'B', '1', '?', '*'), minLength: 1, maxLength: 8 }),
        note: fc.string({ maxLength: 20 }),
        priority: fc.option(fc.oneof(fc.integer(), fc.string({ minLength: 1, maxLength: 5 })), { nil: undefined }),
        expires: fc.option(fc.integer({ min: 0, max: 4e12 }), { nil: undefined }),
      }), { maxLength: 30 }),
      fc.constantFrom('exact' as const, 'fuzzy' as const), fc.boolean(), fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
      (entries, match, ocr, lookbackDays) => {
        const parsed = parseHotlistBody('l', { entries, match, ocr, lookbackDays }, 42);
        const back = decodeHotlist(encodeHotlist(parsed));
        expect(back).toEqual(parsed);
      }));
  });

  it('refuses a bad checksum, a wrong magic and an unknown version with coded errors', () => {
    const bytes = encodeHotlist(list('x', ['A1', 'B2']));
    const flipped = Buffer.from(bytes);
    flipped[20] = flipped[20]! ^ 1;
    expect(() => decodeHotlist(flipped)).toThrow(expect.objectContaining({ code: 'PS_CORRUPT_FILE' }));
    const version = Buffer.from(bytes);
    version.writeUInt32LE(99, 4);
    expect(() => decodeHotlist(version)).toThrow(expect.objectContaining({ code: 'PS_UNSUPPORTED_FORMAT' }));
    expect(() => decodeHotlist(Buffer.from('hello world, not a list'))).toThrow(expect.objectContaining({ code: 'PS_CORRUPT_FILE' }));
  });
});

describe('HotlistStore', () => {
  it('persists, reloads, replaces and deletes; leftover temp files and corrupt lists do not stop it', async () => {
    const s1 = await HotlistStore.open(dir);
    await s1.put('pd-a', list('b', ['B1']));
    await s1.put('pd-a', list('a', ['A1', 'A2']));
    await s1.put('pd-a', list('a', ['A3']));
    await s1.put('pd-b', list('z', ['Z1']));
    await s1.put('pd-b', list('gone', ['G1']));
    expect(await s1.delete('pd-b', 'gone')).toBe(true);
    expect(await s1.delete('pd-b', 'gone')).toBe(false);
    await writeFile(join(dir, 'hotlists', 'pd-a', 'c.hotlist.tmp'), 'half a list');
    await writeFile(join(dir, 'hotlists', 'pd-b', 'bad.hotlist'), 'not a list');

    const s2 = await HotlistStore.open(dir);
    expect(s2.listsOf('pd-a').map((l) => [l.list.name, l.list.plates])).toEqual([['a', ['A3']], ['b', ['B1']]]);
    expect(s2.listsOf('pd-b').map((l) => l.list.name)).toEqual(['z']);
    expect(s2.failures.map((f) => f.file)).toEqual([join(dir, 'hotlists', 'pd-b', 'bad.hotlist')]);
    expect(await readdir(join(dir, 'hotlists', 'pd-a'))).toEqual(['a.hotlist', 'b.hotlist']);
    const hits: number[] = [];
    s2.get('pd-a', 'a')!.matcher.match('A3', 0, (_, e) => hits.push(e));
    expect(hits).toEqual([0]);
  });

  it('a snapshot taken before a replace keeps matching the old list', async () => {
    const s = await HotlistStore.open(dir);
    await s.put('pd-a', list('l', ['OLD1']));
    const before = s.listsOf('pd-a');
    await s.put('pd-a', list('l', ['NEW1']));
    expect(before[0]!.list.plates).toEqual(['OLD1']);
    expect(s.listsOf('pd-a')[0]!.list.plates).toEqual(['NEW1']);
  });
});

function draft(i: number, tenant = 'pd-a', ts = 1_767_225_600_000 + i): AlertDraft {
  return { hotlist: 'l', entry: `P${i}`, note: 'n', distance: 0, read: { id: `r${i}`, tenant, plate: `P${i}`, ts, lat: 1, lon: 2, camera: 'c' } };
}

describe('AlertLog', () => {
  it('ids increase across batches and reopen; a torn tail is cut', async () => {
    const log = await AlertLog.open(dir);
    const a = await log.append('pd-a', [draft(1), draft(2)], 0);
    const b = await log.append('pd-a', [draft(3)], 0);
    expect([...a, ...b].map((x) => x.id)).toEqual([1, 2, 3]);
    expect(JSON.parse(b[0]!.payload)).toMatchObject({ id: 3, entry: 'P3', read: { id: 'r3', ts: '2026-01-01T00:00:00.003Z' } });
    await log.close();
    const file = join(dir, 'alerts', 'pd-a.log');
    const size = (await stat(file)).size;
    await appendFile(file, Buffer.from([200, 0, 0, 0, 1, 2, 3, 4, 123])); // a torn record
    const again = await AlertLog.open(dir);
    expect((await again.readAfter('pd-a', 0, 10)).map((x) => x.id)).toEqual([1, 2, 3]);
    expect((await stat(file)).size).toBe(size);
    expect((await again.append('pd-a', [draft(4)], 0))[0]!.id).toBe(4);
    // a record failing its checksum is cut with everything after it: nothing unverifiable is served
    await again.close();
    const bytes = await readFile(file);
    bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0xff;
    await writeFile(file, bytes);
    const third = await AlertLog.open(dir);
    expect((await third.readAfter('pd-a', 0, 10)).map((x) => x.id)).toEqual([1, 2, 3]);
    expect(await third.lastId('pd-a')).toBe(3);
    await third.close();
  });

  it('replays from disk beyond the memory cache, in order, in batches', async () => {
    const log = await AlertLog.open(dir);
    const n = 9000;
    for (let i = 0; i < n; i += 1000) await log.append('pd-a', Array.from({ length: 1000 }, (_, k) => draft(i + k)), 0);
    const ids: number[] = [];
    let after = 0;
    for (;;) {
      const batch = await log.readAfter('pd-a', after, 256);
      if (batch.length === 0) break;
      for (const x of batch) expect(JSON.parse(x.payload).id).toBe(x.id);
      ids.push(...batch.map((x) => x.id));
      after = batch.at(-1)!.id;
    }
    expect(ids).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    await log.close();
  });

  it('compaction drops alerts past retention, keeps ids, and never reuses one', async () => {
    const log = await AlertLog.open(dir);
    await log.append('pd-a', [draft(1, 'pd-a', 100), draft(2, 'pd-b', 100), draft(3, 'pd-a', 500)], 0);
    expect(await log.compact('pd-a', (tenant, ts) => tenant === 'pd-b' || ts >= 300)).toBe(1);
    expect((await log.readAfter('pd-a', 0, 10)).map((x) => x.id)).toEqual([2, 3]);
    expect(await log.compact('pd-a', () => false)).toBe(2);
    expect(await log.readAfter('pd-a', 0, 10)).toEqual([]);
    await log.close();
    const again = await AlertLog.open(dir);
    expect(await again.lastId('pd-a')).toBe(3);
    expect((await again.append('pd-a', [draft(9)], 0))[0]!.id).toBe(4);
    await again.close();
  });
});
