/**
 * The alert acknowledgement log (src/alerts/ack-log.ts) on its own: one ack per alert under concurrency,
 * durable records read back after reopen, a torn tail cut off (and only the tail), a foreign or future
 * file refused with a coded error, compaction keeps exactly the acks asked for. And the alert log's
 * backward paging (`readBefore`, `has`, `get`) against the plain list of ids, in and beyond its cache.
 */
import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AckLog, type AlertAck } from '../src/alerts/ack-log.js';
import type { AlertDraft } from '../src/alerts/alert.js';
import { AlertLog } from '../src/alerts/log.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  if (dir) await rm(`${dir}.keys`, { recursive: true, force: true }); // the default key store, beside the dir
  dir = undefined;
});

const ack = (id: number, user = 'u', outcome: AlertAck['outcome'] = 'confirmed'): AlertAck => ({ id, outcome, note: `n${id}`, user, ts: 1_700_000_000_000 + id });

describe('AckLog', () => {
  it('stores one ack per alert, also when many race, and reads them back after reopen', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ps-acks-'));
    let log = await AckLog.open(dir);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => log.acknowledge('pd-a', ack(7, `user${i}`))));
    expect(results.filter((r) => r.stored)).toHaveLength(1);
    const winner = results.find((r) => r.stored)!;
    for (const r of results) if (!r.stored) expect(r.existing).toEqual(winner.stored ? winner.ack : undefined);
    for (let id = 1; id <= 5; id++) expect((await log.acknowledge('pd-a', ack(id))).stored).toBe(true);
    expect((await log.acknowledge('pd-b', ack(7))).stored).toBe(true); // tenants are apart
    await log.close();
    log = await AckLog.open(dir);
    expect((await log.ids('pd-a')).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 7]);
    expect(await log.get('pd-a', 3)).toEqual(ack(3));
    expect((await log.acknowledge('pd-a', ack(3, 'late'))).stored).toBe(false);
    await log.close();
  });

  it('cuts a torn tail and keeps every complete record before it', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ps-acks-'));
    let log = await AckLog.open(dir);
    for (let id = 1; id <= 3; id++) await log.acknowledge('pd-a', ack(id));
    await log.close();
    const file = join(dir, 'alerts', 'pd-a.acks');
    const size = (await stat(file)).size;
    // half a record: a length and a few bytes of a fourth ack
    await appendFile(file, Buffer.from([60, 0, 0, 0, 1, 2, 3, 4, 123, 34]));
    log = await AckLog.open(dir);
    expect((await log.ids('pd-a')).sort()).toEqual([1, 2, 3]);
    expect((await stat(file)).size).toBe(size);
    expect((await log.acknowledge('pd-a', ack(4))).stored).toBe(true);
    await log.close();
    log = await AckLog.open(dir);
    expect(await log.count('pd-a')).toBe(4);
    await log.close();
  });

  it('refuses a file of another kind or a newer version with a coded error', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ps-acks-'));
    const log = await AckLog.open(dir);
    await writeFile(join(dir, 'alerts', 'pd-x.acks'), Buffer.from('not an ack log at all'));
    await expect(log.get('pd-x', 1)).rejects.toMatchObject({ code: 'PS_CORRUPT_FILE' });
    const future = Buffer.alloc(8);
    future.write('PSAK', 0, 'latin1');
    future.writeUInt32LE(3, 4); // version 2 is the sealed log of today
    await writeFile(join(dir, 'alerts', 'pd-y.acks'), future);
    await expect(log.get('pd-y', 1)).rejects.toMatchObject({ code: 'PS_UNSUPPORTED_FORMAT' });
    await log.close();
  });

  it('compaction keeps exactly the acks asked for, durably', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ps-acks-'));
    let log = await AckLog.open(dir);
    for (let id = 1; id <= 6; id++) await log.acknowledge('pd-a', ack(id));
    expect(await log.compact('pd-a', (id) => id % 2 === 0)).toBe(3);
    expect(await log.compact('pd-a', (id) => id % 2 === 0)).toBe(0);
    await log.close();
    const text = (await readFile(join(dir, 'alerts', 'pd-a.acks'))).toString('latin1');
    expect(text).not.toContain('"n1"');
    log = await AckLog.open(dir);
    expect((await log.ids('pd-a')).sort()).toEqual([2, 4, 6]);
    expect((await log.acknowledge('pd-a', ack(1))).stored).toBe(true);
    await log.close();
  });
});

describe('AlertLog backward paging', () => {
  const draft = (i: number): AlertDraft => ({ hotlist: 'l', entry: 'E', note: '', distance: 0, read: { id: `r${i}`, tenant: 'pd-a', plate: 'E', ts: 1_000_000 + i, lat: 1, lon: 2, camera: 'c' } });

  it('pages newest first exactly like the id list, from the cache and from disk, after compaction and reopen', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ps-alert-pages-'));
    let log = await AlertLog.open(dir);
    // more than the log's in-memory cache (8192), so the oldest pages come from the file
    const n = 9000;
    for (let i = 0; i < n; i += 1000) await log.append('pd-a', Array.from({ length: Math.min(1000, n - i) }, (_, k) => draft(i + k)), 0);
    // drop every read with an odd ts below 1,004,000 (their alerts: ids 2, 4, …)
    await log.compact('pd-a', (_t, ts) => ts >= 1_004_000 || ts % 2 === 0);
    const check = async () => {
      const want = Array.from({ length: n }, (_, i) => i + 1).filter((id) => id - 1 >= 4000 || (id - 1) % 2 === 0).reverse();
      for (const max of [1, 7, 256, 5000]) {
        const got: number[] = [];
        let before = Number.MAX_SAFE_INTEGER;
        for (;;) {
          const page = await log.readBefore('pd-a', before, max);
          if (page.length === 0) break;
          expect(page.length).toBeLessThanOrEqual(max);
          for (const a of page) expect(JSON.parse(a.payload).id).toBe(a.id);
          got.push(...page.map((a) => a.id));
          before = page[page.length - 1]!.id;
        }
        expect(got).toEqual(want);
      }
      expect(await log.has('pd-a', 2)).toBe(false);
      expect(await log.has('pd-a', 3)).toBe(true);
      expect((await log.get('pd-a', 3))?.id).toBe(3);
      expect(await log.get('pd-a', 2)).toBeUndefined();
      expect(await log.get('pd-a', n + 1)).toBeUndefined();
      expect(await log.readBefore('pd-a', 1, 10)).toEqual([]);
    };
    await check();
    await log.close();
    log = await AlertLog.open(dir);
    await check();
    await log.close();
  });
});
