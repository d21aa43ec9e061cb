/**
 * v1.1 paging over HTTP (`after` / `next`, src/query/cursor.ts): cursors walked to the end concatenate to
 * the unpaged answer and to referenceSearch; every page has the same `total`; `next` is there exactly when
 * `truncated`; a cursor that does not fit the body, the justification or the caller is a coded 400; and
 * what a page boundary means when reads arrive between pages (docs/search-paging.md).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hit, TenantScope } from '../src/model/query.js';
import type { StoredRead } from '../src/model/read.js';
import { formatTimestamp } from '../src/model/time.js';
import { parseSearchRequest } from '../src/query/parse.js';
import { referenceSearch } from '../src/query/reference/index.js';
import { call, startTestServer, type ReadInput, type TestServer } from './helpers/server.js';
import { rng } from './helpers/engine-data.js';

const kSeed = Number(process.env.SEARCH_TEST_SEED ?? 20261202);
const rand = rng(kSeed);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
const kT0 = Date.UTC(2026, 10, 1);
const kAlphabet = '0ODQ18B5S2ZA';

function randomPlate(): string {
  let s = '';
  for (let i = int(2, 5); i > 0; i--) s += pick([...kAlphabet]);
  return s;
}

function randomRead(i: number, plates: string[]): ReadInput {
  const r: ReadInput = {
    plate: pick(plates),
    // coarse timestamps: many ties on ts, so the id tie-break crosses page boundaries
    ts: kT0 + int(0, 40) * 3_600_000,
    lat: 37.7 + rand() * 0.1,
    lon: -122.5 + rand() * 0.1,
    camera: `cam-${int(1, 4)}`,
  };
  if (rand() < 0.5) r.make = pick(['Toyota', 'FORD']);
  if (i % 11 === 0) r.ts = kT0 + 7 * 3_600_000;
  return r;
}

function randomBody(plates: string[]): Record<string, unknown> {
  const body: Record<string, unknown> = { purpose: 'investigation', case: `2026-${int(1, 9)}` };
  const kind = int(0, 4);
  if (kind === 0) body.plate = pick(plates);
  else if (kind === 1) body.plate = pick(plates).slice(0, 1) + '*';
  else if (kind === 2) {
    body.plate = pick(plates);
    body.match = 'fuzzy';
    body.maxEdits = int(1, 2);
  }
  if (rand() < 0.3) {
    body.from = formatTimestamp(kT0 + int(0, 20) * 3_600_000);
    body.to = kT0 + int(20, 41) * 3_600_000;
  }
  if (rand() < 0.2) body.makes = ['toyota'];
  body.limit = int(1, 12);
  return body;
}

function hitJson(h: Hit): Record<string, unknown> {
  const out: Record<string, unknown> = { id: h.id, tenant: h.tenant, plate: h.plate, ts: formatTimestamp(h.ts), lat: h.lat, lon: h.lon, camera: h.camera };
  for (const k of ['region', 'confidence', 'make', 'color'] as const) if (h[k] !== undefined) out[k] = h[k];
  out.distance = h.distance;
  return out;
}

let ts: TestServer;
let plates: string[];
const stored: StoredRead[] = [];
const scopesA: TenantScope[] = [{ tenant: 'pd-a', minTs: -Infinity }, { tenant: 'pd-b', minTs: -Infinity }];

async function search(body: Record<string, unknown>, token = ts.token('pd-a', 'investigator')) {
  return call(ts.url, 'POST', '/v1/search', { token, json: body });
}

/** Walks the cursors of `body` to the end; returns the pages' answers. */
async function walk(body: Record<string, unknown>): Promise<Array<Record<string, any>>> {
  const pages: Array<Record<string, any>> = [];
  let after: string | undefined;
  for (;;) {
    const res = await search(after === undefined ? body : { ...body, after });
    expect(res.status, res.text).toBe(200);
    pages.push(res.json);
    if (!res.json.truncated) {
      expect(res.json.next).toBeNull();
      return pages;
    }
    expect(typeof res.json.next).toBe('string');
    expect(res.json.next.length).toBeLessThanOrEqual(512);
    after = res.json.next;
    expect(pages.length).toBeLessThan(200);
  }
}

beforeAll(async () => {
  ts = await startTestServer();
  plates = Array.from({ length: 12 }, randomPlate);
  for (const tenant of ['pd-a', 'pd-b', 'pd-c']) {
    const batch = Array.from({ length: 150 }, (_, i) => randomRead(i, plates));
    const res = await call(ts.url, 'POST', '/v1/reads', { token: ts.token(tenant, 'ingest'), json: batch });
    expect(res.json).toEqual({ accepted: 150, rejected: [] });
  }
  await ts.server.services.directory.grant('pd-b', 'pd-a', null);
  for (const tenant of ['pd-a', 'pd-b', 'pd-c']) {
    for await (const r of ts.server.services.engine.exportReads({ tenant, minTs: -Infinity }, {})) stored.push(r);
  }
});
afterAll(async () => {
  await ts?.close();
});

describe('paging over HTTP', () => {
  it(`cursors walked to the end concatenate to the unpaged answer and the reference (seed ${kSeed})`, async () => {
    let multi = 0;
    for (let i = 0; i < 40; i++) {
      const body = randomBody(plates);
      const pages = await walk(body);
      const unpaged = await search({ ...body, limit: 10_000 });
      const expected = referenceSearch(stored, scopesA, parseSearchRequest({ ...body, limit: 10_000 }).query);
      expect(unpaged.json.hits).toEqual(expected.hits.map(hitJson));
      for (const p of pages) expect(p.total, JSON.stringify(body)).toBe(expected.total);
      const all = pages.flatMap((p) => p.hits);
      expect(all, JSON.stringify(body)).toEqual(unpaged.json.hits);
      if (pages.length > 2) multi++;
    }
    expect(multi).toBeGreaterThan(10);
  });

  it('the page size may change between pages (the cursor is a position, not a page number)', async () => {
    const body = { purpose: 'p', case: 'c', limit: 7 };
    const first = await search(body);
    const second = await search({ ...body, limit: 30, after: first.json.next });
    const unpaged = await search({ ...body, limit: 37 });
    expect([...first.json.hits, ...second.json.hits]).toEqual(unpaged.json.hits);
  });

  it('a cursor that does not fit the body, the justification or the caller is a coded 400', async () => {
    const body = { plate: plates[0], match: 'fuzzy', maxEdits: 2, purpose: 'p', case: 'c-1', limit: 2 };
    const first = await search(body);
    expect(first.json.truncated).toBe(true);
    const next = first.json.next as string;
    // the same search spelled differently still fits (normalised plate)
    expect((await search({ ...body, plate: plates[0]!.toLowerCase(), after: next })).status).toBe(200);
    const misfits: Array<[Record<string, unknown>, string?]> = [
      [{ ...body, maxEdits: 1, after: next }],
      [{ ...body, plate: plates[1], after: next }],
      [{ ...body, from: kT0, after: next }],
      [{ ...body, makes: ['ford'], after: next }],
      [{ ...body, case: 'c-2', after: next }],
      [{ ...body, purpose: 'other', after: next }],
      [{ ...body, after: next }, ts.token('pd-a', 'dispatcher')],
      [{ ...body, after: next }, ts.token('pd-b', 'investigator')],
      [{ ...body, after: next.slice(0, -3) }],
      [{ ...body, after: 'c2' + next.slice(2) }],
      [{ ...body, after: 'x'.repeat(513) }],
      [{ ...body, after: 42 }],
      [{ ...body, after: '' }],
    ];
    for (const [b, token] of misfits) {
      const res = await search(b, token);
      expect(res.status, JSON.stringify(b)).toBe(400);
      expect(res.json.error.code).toBe('PS_BAD_CURSOR');
    }
    // a forged cursor with a well-formed key but another search's fingerprint
    const forged = 'c1.' + Buffer.from(JSON.stringify([0, kT0, '0001000000000001', 'AAAAAAAAAAAAAAAAAAAAAA'])).toString('base64url');
    expect((await search({ ...body, after: forged })).json.error.code).toBe('PS_BAD_CURSOR');
  });

  it('reads ingested between pages: those sorting after the boundary appear, those before do not, total grows', async () => {
    // plate ZZ9 is new: its reads are the whole answer
    const read = (h: number) => ({ plate: 'ZZ9', ts: kT0 + h * 3_600_000, lat: 37.75, lon: -122.45, camera: 'cam-9' });
    const ingest = async (reads: ReadInput[]) =>
      expect((await call(ts.url, 'POST', '/v1/reads', { token: ts.token('pd-a', 'ingest'), json: reads })).json.accepted).toBe(reads.length);
    await ingest([read(10), read(9), read(8), read(7), read(6)]);
    const body = { plate: 'ZZ9', purpose: 'p', case: 'c', limit: 2 };
    const first = await search(body);
    expect(first.json.hits.map((h: { ts: string }) => h.ts)).toEqual([read(10), read(9)].map((r) => formatTimestamp(r.ts)));
    expect(first.json.total).toBe(5);
    // newer than the boundary (sorts before it: ts desc) and older than it (sorts after it)
    await ingest([read(11), read(5)]);
    const second = await search({ ...body, limit: 10, after: first.json.next });
    expect(second.json.hits.map((h: { ts: string }) => h.ts)).toEqual([8, 7, 6, 5].map((h) => formatTimestamp(read(h).ts)));
    expect(second.json.total).toBe(7);
    expect(second.json.truncated).toBe(false);
    expect(second.json.next).toBeNull();
  });
});
