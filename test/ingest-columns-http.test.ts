/**
 * `POST /v1/reads` through the byte reader and the column append (src/ingest/parse-body.ts,
 * Engine.appendColumns) against the object path it replaced (body.ts parseBatchBody → validateRead →
 * Engine.append), both on real servers over HTTP: the same random NDJSON and JSON bodies (valid reads with
 * every optional field, and broken ones: bad JSON, bad fields, blank and whitespace lines, CRs, a BOM,
 * escapes, non-ASCII, reads past retention, several days in one body, repeated readIds, bodies big enough
 * for the parse workers; MessagePack arrays with msgpack timestamps, 64-bit integers, maps, binary, and
 * bodies that are not MessagePack or not an array) get the same answers (status, accepted, rejected indexes and messages), and the
 * stored reads read back by search are the same (ids included: the same seqs).
 */
import { rm } from 'node:fs/promises';
import { pack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEngine } from '../src/engine/index.js';
import type { Engine } from '../src/engine/engine.js';
import { prng } from './helpers/crash-loop.js';
import { call, makeDataDir, startTestServer, type TestServer } from './helpers/server.js';

const pick = <T>(rnd: () => number, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;

const kDay = 86_400_000;

/** A read as a camera sends it, often valid, sometimes with one field broken. */
function readObject(rnd: () => number, now: number, n: number): Record<string, unknown> {
  const r: Record<string, unknown> = {
    plate: pick(rnd, ['ABC123', '7xyz-99', 'K9', 'ÄBC1', 'TOOLONGPLATE1', 'Q' + (n % 50), 'ZZ' + Math.floor(rnd() * 1000)]),
    ts: rnd() < 0.7 ? new Date(now - Math.floor(rnd() * 40 * kDay)).toISOString() : now - Math.floor(rnd() * 3 * kDay),
    lat: +(rnd() * 180 - 90).toFixed(Math.floor(rnd() * 9)),
    lon: +(rnd() * 360 - 180).toFixed(Math.floor(rnd() * 9)),
    camera: pick(rnd, ['cam-1', 'cam-2', 'cäm', 'c'.repeat(64), 'north gate']),
  };
  if (rnd() < 0.4) r.region = pick(rnd, ['CA', 'NV', '', 'Ö']);
  if (rnd() < 0.4) r.confidence = pick(rnd, [0.93, 0, 1, 0.5, 1.5, 0.123456789]);
  if (rnd() < 0.3) r.make = pick(rnd, ['Ford', 'Tesla', null]);
  if (rnd() < 0.3) r.color = pick(rnd, ['red', 'blue']);
  if (rnd() < 0.2) r.readId = `r-${Math.floor(rnd() * 400)}`;
  if (rnd() < 0.1) r.extra = { nested: [1, 2] };
  const k = rnd();
  if (k < 0.04) r.lat = 91;
  else if (k < 0.08) r.ts = 'yesterday';
  else if (k < 0.1) delete r.camera;
  else if (k < 0.12) r.plate = 42;
  return r;
}

function ndjsonLine(rnd: () => number, now: number, n: number): string {
  const k = rnd();
  if (k < 0.03) return '';
  if (k < 0.05) return ' \t ';
  if (k < 0.07) return '{"plate": broken';
  if (k < 0.08) return '7';
  if (k < 0.09) return '[]';
  let line = JSON.stringify(readObject(rnd, now, n));
  if (k < 0.11) line = line.replace('"camera"', '"c\\u0061mera"');
  if (k > 0.95) line = line.replace(/,/g, ', ').replace(/:/g, ' : ');
  if (k > 0.97) line += '\r';
  return line;
}

function ndjsonBody(rnd: () => number, now: number, lines: number): string {
  const out: string[] = [];
  for (let n = 0; n < lines; n++) out.push(ndjsonLine(rnd, now, n));
  let body = out.join(rnd() < 0.5 ? '\n' : '\r\n');
  if (rnd() < 0.5) body += '\n';
  if (rnd() < 0.2) body = '\ufeff' + body;
  return body;
}

function jsonBody(rnd: () => number, now: number, items: number): string {
  const k = rnd();
  const reads = Array.from({ length: items }, (_, n) => readObject(rnd, now, n));
  if (k < 0.05) return '{"plate": "ABC"}';
  if (k < 0.1) return '[' + JSON.stringify(reads[0]) + ',]';
  if (k < 0.15) return JSON.stringify(reads, null, 2); // pretty-printed: elements over lines
  // all-valid bodies reach the byte reader's whole-body path
  const valid = reads.filter((r) => k < 0.6 || (typeof r.plate === 'string' && r.lat !== 91 && r.ts !== 'yesterday' && r.camera !== undefined));
  return JSON.stringify(valid);
}

/** A MessagePack body: mostly an array of reads, with the types JSON lacks; sometimes not an array or not MessagePack. */
function msgpackBody(rnd: () => number, now: number, items: number): Buffer {
  const k = rnd();
  if (k < 0.05) return Buffer.from([0x93, 0x01]); // an array of 3 cut after its first element
  if (k < 0.08) return pack({ plate: 'ABC123' });
  const reads = Array.from({ length: items }, (_, n) => {
    const r = readObject(rnd, now, n) as Record<string, unknown>;
    const v = rnd();
    if (v < 0.3) r.ts = new Date(now - Math.floor(rnd() * 40 * kDay)); // a msgpack timestamp
    else if (v < 0.35) r.ts = BigInt(now - Math.floor(rnd() * 3 * kDay)); // a 64-bit integer
    else if (v < 0.38) r.plate = Buffer.from('ABC123'); // binary: fails validation by type
    return v > 0.95 ? new Map(Object.entries(r)) : r;
  });
  return pack(reads);
}

let oldPath: TestServer;
let newPath: TestServer;
let oldEngine: Engine;
/** Data dirs given to the servers by this test (startTestServer removes only the ones it made). */
const ownDirs: string[] = [];

beforeAll(async () => {
  const dataDir = await makeDataDir();
  ownDirs.push(dataDir);
  oldEngine = await openEngine({ dataDir, threads: 1 });
  // the object path: an engine without appendColumns (the route then parses items and appends objects)
  const objectsOnly = new Proxy(oldEngine, {
    get(target, key) {
      if (key === 'appendColumns') return undefined;
      const v = Reflect.get(target, key, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as Engine;
  oldPath = await startTestServer({ dataDir, engine: objectsOnly });
  newPath = await startTestServer();
  for (const ts of [oldPath, newPath]) await ts.server.services.directory.setRetention('pd-a', 30 * 86400);
}, 60_000);

afterAll(async () => {
  await newPath?.close();
  await oldPath?.close();
  for (const d of ownDirs) {
    await rm(d, { recursive: true, force: true });
    await rm(`${d}.keys`, { recursive: true, force: true });
  }
});

async function both(body: string | Buffer, contentType: string) {
  const send = (ts: TestServer) => call(ts.url, 'POST', '/v1/reads', { token: ts.token('pd-a', 'ingest'), body, contentType });
  const [a, b] = await Promise.all([send(oldPath), send(newPath)]);
  return { old: { status: a.status, json: a.json }, now: { status: b.status, json: b.json } };
}

async function stored(ts: TestServer) {
  const res = await call(ts.url, 'POST', '/v1/search', { token: ts.token('pd-a', 'investigator'), json: { purpose: 'test', case: 'T-1', limit: 10000 } });
  expect(res.status).toBe(200);
  return { total: res.json.total as number, hits: res.json.hits as unknown[] };
}

describe('POST /v1/reads: columns path = object path', () => {
  it('random NDJSON and JSON bodies: same answers, same stored reads', async () => {
    const now = Date.now();
    let accepted = 0, rejected = 0, bad = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const rnd = prng(seed);
      // every fifth body is big enough (> 64 KiB) to go to a parse worker
      const size = seed % 5 === 0 ? 900 : 1 + Math.floor(rnd() * 60);
      const ndjson = seed % 3 !== 0;
      const body = ndjson ? ndjsonBody(rnd, now, size) : jsonBody(rnd, now, size);
      const r = await both(body, ndjson ? 'application/x-ndjson' : 'application/json');
      expect(r.now, `seed ${seed} (${ndjson ? 'ndjson' : 'json'})`).toEqual(r.old);
      if (r.now.status === 200) {
        accepted += r.now.json.accepted;
        rejected += r.now.json.rejected.length;
      } else bad++;
    }
    let packed = 0;
    for (let seed = 41; seed <= 60; seed++) {
      const rnd = prng(seed);
      const body = msgpackBody(rnd, now, seed % 5 === 0 ? 900 : 1 + Math.floor(rnd() * 60));
      const r = await both(body, 'application/msgpack');
      expect(r.now, `seed ${seed} (msgpack)`).toEqual(r.old);
      if (r.now.status === 200) packed += r.now.json.accepted;
      else bad++;
    }
    expect(packed).toBeGreaterThan(500);
    // the bodies did reach every branch
    expect(accepted).toBeGreaterThan(2000);
    expect(rejected).toBeGreaterThan(200);
    expect(bad).toBeGreaterThan(0);
    const [a, b] = await Promise.all([stored(oldPath), stored(newPath)]);
    expect(b.hits).toHaveLength(b.total);
    expect(b.total).toBe(a.total);
    expect(b.hits).toEqual(a.hits);

    // the WAL records written from columns replay to the same reads, and seal to the same reads
    const dataDir = newPath.dataDir;
    ownDirs.push(dataDir);
    await newPath.server.close();
    newPath = await startTestServer({ dataDir });
    expect(await stored(newPath)).toEqual(b);
    await newPath.server.services.engine.seal();
    expect(await stored(newPath)).toEqual(b);
  }, 240_000);
});
