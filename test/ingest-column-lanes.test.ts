/**
 * A body's columns laid out in a parse worker's reused buffer (src/ingest/column-lanes.ts,
 * ReadColumnsBuilder on lanes in src/store/read-columns.ts): the same columns as arrays of their own, from a
 * buffer dirty with an earlier body's rows, for random NDJSON, JSON and MessagePack bodies; the pool's
 * reuse (best fit, a bound on what it keeps); and through real workers, `release` sending the buffer back.
 */
import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { ColumnLanes } from '../src/ingest/column-lanes.js';
import { parseBody, type BodyJob, type BodyResult } from '../src/ingest/parse-body.js';
import { ParsePool } from '../src/ingest/pipeline.js';
import { columnLaneBytes } from '../src/store/read-columns.js';
import { prng } from './helpers/crash-loop.js';
import { call, startTestServer } from './helpers/server.js';
import type { IngestEvent } from '../src/server/route.js';

const kDay = 86_400_000;
const now = Date.UTC(2026, 11, 3);

function readObject(rnd: () => number, n: number): Record<string, unknown> {
  const r: Record<string, unknown> = {
    plate: ['ABC123', '7xyz-99', 'K9', 'Q' + (n % 50), 'ZZ' + Math.floor(rnd() * 1000)][Math.floor(rnd() * 5)],
    ts: rnd() < 0.5 ? new Date(now - Math.floor(rnd() * 40 * kDay)).toISOString() : now - Math.floor(rnd() * 3 * kDay),
    lat: +(rnd() * 180 - 90).toFixed(5), lon: +(rnd() * 360 - 180).toFixed(5),
    camera: ['cam-1', 'cam-2', 'north gate'][Math.floor(rnd() * 3)],
  };
  if (rnd() < 0.5) r.region = ['r1', 'r2'][Math.floor(rnd() * 2)];
  if (rnd() < 0.5) r.confidence = +rnd().toFixed(3);
  if (rnd() < 0.5) r.make = ['Volvo', 'Ford'][Math.floor(rnd() * 2)];
  if (rnd() < 0.5) r.color = ['red', 'blue'][Math.floor(rnd() * 2)];
  if (rnd() < 0.5) r.readId = `rid-${n}-${Math.floor(rnd() * 1e6)}`;
  if (rnd() < 0.05) r.lat = 'north'; // rejected
  return r;
}

function bodyOf(seed: number, rows: number): BodyJob {
  const rnd = prng(seed);
  const reads = Array.from({ length: rows }, (_, i) => readObject(rnd, i));
  const format = (['ndjson', 'json', 'msgpack'] as const)[seed % 3]!;
  const bytes = format === 'msgpack' ? pack(reads) : Buffer.from(format === 'json' ? JSON.stringify(reads) : reads.map((r) => JSON.stringify(r)).join('\n'));
  return { kind: 'body', format, bytes: new Uint8Array(bytes), cutoff: now - 30 * kDay };
}

/** A result as plain data: every column's values, not its buffers. */
function plain(r: BodyResult) {
  const c = r.columns;
  const col = (s: { ids: Int32Array; values: string[] }) => Array.from(s.ids, (id) => (id < 0 ? null : s.values[id]));
  return {
    items: r.items, rejected: r.rejected, length: c.length, ts: [...c.ts], latE7: [...c.latE7], lonE7: [...c.lonE7],
    confidence: [...c.confidence], plate: [...c.plate], camera: col(c.camera), region: col(c.region), make: col(c.make),
    color: col(c.color), readId: col(c.readId),
  };
}

describe('ColumnLanes', () => {
  it('reuses a buffer given back, the smallest that fits, and keeps at most 8', () => {
    const lanes = new ColumnLanes();
    const a = lanes.take(1001);
    expect(a.byteLength).toBe(columnLaneBytes(1024));
    const big = lanes.take(3000);
    lanes.give(big);
    lanes.give(a);
    expect(lanes.take(500)).toBe(a);
    expect(lanes.take(2000)).toBe(big);
    expect(lanes.made).toBe(2);
    const many = Array.from({ length: 12 }, () => lanes.take(100));
    for (const m of many) lanes.give(m);
    expect(lanes.kept).toBe(8);
    lanes.give(new ArrayBuffer(0)); // a detached buffer is not kept
    expect(lanes.kept).toBe(8);
  });
});

describe('parseBody on reused lanes', () => {
  it('gives the columns the arrays of their own give, from buffers dirty with earlier bodies', () => {
    const lanes = new ColumnLanes();
    for (let seed = 1; seed <= 30; seed++) {
      const rows = seed % 4 === 0 ? 1500 : 1 + (seed * 37) % 700;
      const job = bodyOf(seed, rows);
      const want = plain(parseBody({ ...job, bytes: job.bytes.slice() }));
      const taken: ArrayBuffer[] = [];
      const got = parseBody(job, (capacity) => {
        const buf = lanes.take(capacity);
        new Uint8Array(buf).fill(0xa5); // what an earlier body left, as far as this one may know
        taken.push(buf);
        return buf;
      });
      expect(plain(got), `seed ${seed} (${job.format})`).toEqual(want);
      if (want.length > 0) expect(taken).toContain(got.lanes);
      for (const buf of taken) lanes.give(buf);
    }
    expect(lanes.made).toBeLessThanOrEqual(4); // 40 parses (a JSON body given up by the fast path takes two)
  });
});

describe('ParsePool with lanes', () => {
  it('answers bodies in the worker\'s lanes; release sends them back and detaches them here', async () => {
    const pool = new ParsePool(1);
    try {
      expect(pool.threads).toBe(1);
      for (let seed = 1; seed <= 9; seed++) {
        const job = bodyOf(seed, 1000);
        const want = plain(parseBody({ ...job, bytes: job.bytes.slice() }));
        const got = await pool.parseBody(job);
        expect(plain(got), `seed ${seed}`).toEqual(want);
        expect(got.lanes?.byteLength).toBe(columnLaneBytes(1024));
        expect(got.release).toBeTypeOf('function');
        got.release!();
        expect(got.lanes!.byteLength).toBe(0);
        expect(got.columns.ts.length).toBe(0);
        got.release!(); // twice is once
      }
    } finally {
      await pool.close();
    }
  });
});

describe('POST /v1/reads gives the lanes back after its hooks', () => {
  it('a hook reads the stored reads while it runs; a hook that kept the event cannot read them later', async () => {
    const ts = await startTestServer();
    try {
      await ts.server.services.directory.setRetention('pd-a', 30 * 86400);
      const seen: Array<{ event: IngestEvent; count: number }> = [];
      ts.server.services.onIngest(async (event) => void (seen.length === 0 && seen.push({ event, count: event.reads.length })));
      const job = bodyOf(4, 1000); // JSON, big enough for a parse worker
      const res = await call(ts.url, 'POST', '/v1/reads', { token: ts.token('pd-a', 'ingest'), body: Buffer.from(job.bytes), contentType: 'application/json' });
      expect(res.status).toBe(200);
      expect(res.json.accepted).toBeGreaterThan(500);
      expect(seen.map((s) => s.count)).toEqual([res.json.accepted]);
      // read once while the hook ran: kept; a second event, never read during its hooks, cannot be read after
      expect(seen[0]!.event.reads).toHaveLength(res.json.accepted);
      const lazy: IngestEvent[] = [];
      ts.server.services.onIngest(async (event) => void lazy.push(event));
      const res2 = await call(ts.url, 'POST', '/v1/reads', { token: ts.token('pd-a', 'ingest'), body: Buffer.from(bodyOf(7, 1000).bytes), contentType: 'application/json' });
      expect(res2.status).toBe(200);
      expect(() => lazy[0]!.reads).toThrow(/after the hooks returned/);
    } finally {
      await ts.close();
    }
  }, 60_000);
});
