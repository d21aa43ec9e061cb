/**
 * An alert log appended to by several server processes (each start is a new process with new lanes): every
 * alert still opens, also those read from disk (past the in-memory cache of kCachedAlerts): a replay from
 * an old Last-Event-ID, a page of GET /v1/alerts/recent, and a compaction (retention, key shredding).
 * Before lane ids were continued per file, a later process's lane 0 hid the first one's key: the older
 * alerts failed authentication (PS_CORRUPT_FILE, a 500 on a replay; the retention sweep failed); a log
 * written that way is rewritten at open.
 */
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlertLog } from '../src/alerts/log.js';
import { alertPayload, type AlertDraft } from '../src/alerts/alert.js';
import { openDataDirKeys } from '../src/crypto/data-dir-keys.js';
import { alertLogEpoch, dayEpoch } from '../src/crypto/key-names.js';
import { LaneWriter } from '../src/crypto/log-lanes.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'platesearch-alert-lanes-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const kDayMs = 86_400_000;
function draft(i: number, day: number): AlertDraft {
  return { hotlist: 'l', entry: `P${i}`, note: 'n', distance: 0, read: { id: `r${i}`, tenant: 'pd-a', plate: `P${i}`, ts: day * kDayMs + i, lat: 1, lon: 2, camera: 'c' } };
}
const entries = (alerts: Array<{ payload: string }>): string[] => alerts.map((a) => JSON.parse(a.payload).entry as string);

describe('alert log lanes across processes', () => {
  it('every alert opens after later processes appended, past the cache, after a compaction and in the next process', async () => {
    // three processes, each with alerts on two days (two lanes each): 0-1, then 8,300 (past the cache), then 1
    const batches: Array<Array<[number, number]>> = [
      [[0, 20_000], [1, 20_001]],
      Array.from({ length: 8300 }, (_, k) => [2 + k, 20_000 + (k % 2)] as [number, number]),
      [[8302, 20_002]],
    ];
    for (const batch of batches) {
      const log = await AlertLog.open(dir);
      for (let i = 0; i < batch.length; i += 500) await log.append('pd-a', batch.slice(i, i + 500).map(([n, day]) => draft(n, day)), 0);
      await log.close();
    }
    const log = await AlertLog.open(dir);
    try {
      expect(entries(await log.readAfter('pd-a', 0, 3))).toEqual(['P0', 'P1', 'P2']); // from disk
      expect(entries(await log.readBefore('pd-a', 3, 10))).toEqual(['P1', 'P0']);
      // a compaction that keeps everything but day 20,001 rewrites the kept alerts from disk and cache
      await log.compact('pd-a', (_tenant, ts) => Math.floor(ts / kDayMs) !== 20_001);
      const kept = entries(await log.readAfter('pd-a', 0, 10_000));
      expect(kept.length).toBe(1 + 4150 + 1);
      expect(kept.slice(0, 3)).toEqual(['P0', 'P2', 'P4']);
      await log.append('pd-a', [draft(9000, 20_003)], 0);
    } finally {
      await log.close();
    }
    const again = await AlertLog.open(dir);
    try {
      const all = entries(await again.readAfter('pd-a', 0, 10_000));
      expect(all.length).toBe(1 + 4150 + 1 + 1);
      expect(all.at(-1)).toBe('P9000');
      expect(entries(await again.readAfter('pd-a', 0, 1))).toEqual(['P0']);
    } finally {
      await again.close();
    }
  });

  it('a log whose lane ids a later process reused (written before they were continued) is rewritten at open: every alert opens', async () => {
    const first = await AlertLog.open(dir);
    await first.append('pd-a', [draft(0, 20_000), draft(1, 20_000)], 0);
    await first.close();
    // what the next process appended then: its own lane 0 (a new key), alerts 3.. framed as the log's records
    const { keys } = await openDataDirKeys(dir, undefined);
    const lanes = new LaneWriter(keys);
    const records: Buffer[] = [];
    for (let n = 2; n < 8302; n++) {
      const payload = alertPayload(n + 1, draft(n, 20_000), 0);
      for (const rec of await lanes.encode('pd-a/20000', [dayEpoch('pd-a', 20_000), alertLogEpoch('pd-a')], [Buffer.from(payload)])) {
        const head = Buffer.alloc(8);
        head.writeUInt32LE(rec.length, 0);
        head.writeUInt32LE(crc32(rec), 4);
        records.push(head, rec);
      }
    }
    await appendFile(join(dir, 'alerts', 'pd-a.log'), Buffer.concat(records));
    await keys.store.close();
    const log = await AlertLog.open(dir);
    try {
      expect(entries(await log.readAfter('pd-a', 0, 3))).toEqual(['P0', 'P1', 'P2']); // from disk, past the cache
      expect((await log.readAfter('pd-a', 0, 10_000)).length).toBe(8302);
      expect(await log.compact('pd-a', (_tenant, ts) => ts % 2 === 0)).toBe(4151);
    } finally {
      await log.close();
    }
  });
});
