/**
 * `POST /v1/search` and `POST /v1/search/hotlist` end to end: the server's answers equal `referenceSearch`
 * over the same stored reads and the caller's scopes (own + granted tenants, never others); purpose and case
 * are required; the bad-input table answers 400 with the exact code and the field named.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredRead } from '../src/model/read.js';
import type { Hit, TenantScope } from '../src/model/query.js';
import { formatTimestamp } from '../src/model/time.js';
import { parseHotlistSearchRequest, parseSearchRequest } from '../src/query/parse.js';
import { referenceHotlistSearch, referenceSearch } from '../src/query/reference/index.js';
import { call, startTestServer, type ReadInput, type TestServer } from './helpers/server.js';

/** mulberry32: a small seeded PRNG, so a failure replays. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const kSeed = Number(process.env.SEARCH_TEST_SEED ?? 20261122);
const rand = prng(kSeed);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));

// confusable-heavy alphabet, short plates: fuzzy, OCR and wildcard queries find something
const kAlphabet = '0ODQ18B5S2ZAB7';
const kT0 = Date.UTC(2026, 10, 1);
const kTenants = ['pd-a', 'pd-b', 'pd-c'];

function randomPlate(): string {
  let s = '';
  for (let i = int(2, 6); i > 0; i--) s += pick([...kAlphabet]);
  return s;
}

function randomRead(i: number, plates: string[]): ReadInput {
  const r: ReadInput = {
    plate: pick(plates).toLowerCase() + (rand() < 0.1 ? '-' : ''),
    ts: rand() < 0.5 ? kT0 + int(0, 7 * 86_400_000) : formatTimestamp(kT0 + int(0, 7 * 86_400_000)),
    lat: 37.7 + rand() * 0.1,
    lon: -122.5 + rand() * 0.1,
    camera: `cam-${int(1, 5)}`,
  };
  if (rand() < 0.7) r.region = pick(['CA', 'NV', 'OR']);
  if (rand() < 0.5) r.confidence = Math.round(rand() * 100) / 100;
  if (rand() < 0.3) r.make = pick(['TOYOTA', 'FORD']);
  if (rand() < 0.3) r.color = pick(['WHITE', 'BLACK']);
  if (i % 17 === 0) r.ts = kT0 + 3 * 86_400_000; // ties on ts, broken by id
  return r;
}

function randomSearchBody(plates: string[]): Record<string, unknown> {
  const body: Record<string, unknown> = { purpose: 'investigation', case: `2026-${int(1, 999)}` };
  const kind = int(0, 5);
  const base = pick(plates);
  if (kind === 0) body.plate = base;
  else if (kind === 1) {
    const chars = [...base];
    chars[int(0, chars.length - 1)] = '?';
    body.plate = rand() < 0.5 ? chars.join('') : chars.slice(0, int(1, chars.length)).join('') + '*';
  } else if (kind === 2 || kind === 3) {
    body.plate = base.slice(0, -1) + pick([...kAlphabet]);
    body.match = 'fuzzy';
    if (rand() < 0.7) body.maxEdits = int(0, 2);
    if (rand() < 0.4) body.transpositions = true;
  }
  if (body.plate !== undefined && rand() < 0.3) body.ocr = true;
  if (rand() < 0.4) {
    const a = kT0 + int(0, 7 * 86_400_000);
    body.from = formatTimestamp(a);
    body.to = a + int(0, 3 * 86_400_000);
  }
  if (rand() < 0.2) body.bbox = [-122.48, 37.72, -122.43, 37.78];
  if (rand() < 0.2) body.near = { lat: 37.75, lon: -122.45, radiusM: int(500, 5000) };
  if (rand() < 0.1) body.polygon = [[-122.5, 37.7], [-122.4, 37.7], [-122.45, 37.8]];
  if (rand() < 0.15) body.cameras = ['cam-1', 'cam-2'];
  if (rand() < 0.15) body.regions = ['CA'];
  if (rand() < 0.5) body.limit = int(1, 50);
  return body;
}

function hitJson(h: Hit): Record<string, unknown> {
  const out: Record<string, unknown> = { id: h.id, tenant: h.tenant, plate: h.plate, ts: formatTimestamp(h.ts), lat: h.lat, lon: h.lon, camera: h.camera };
  for (const k of ['region', 'confidence', 'make', 'color'] as const) if (h[k] !== undefined) out[k] = h[k];
  out.distance = h.distance;
  return out;
}

let ts: TestServer;
let stored: StoredRead[] = [];
let plates: string[] = [];
let scopesA: TenantScope[];

beforeAll(async () => {
  ts = await startTestServer();
  plates = Array.from({ length: 40 }, randomPlate);
  for (const tenant of kTenants) {
    const batch = Array.from({ length: 300 }, (_, i) => randomRead(i, plates));
    const res = await call(ts.url, 'POST', '/v1/reads', { token: ts.token(tenant, 'ingest'), json: batch });
    expect(res.json).toEqual({ accepted: 300, rejected: [] });
  }
  // pd-b shares with pd-a; pd-c shares with nobody; an expired grant from pd-c to pd-a is no grant
  await ts.server.services.directory.grant('pd-b', 'pd-a', null);
  const engine = ts.server.services.engine;
  for (const tenant of kTenants) {
    for await (const r of engine.exportReads({ tenant, minTs: -Infinity }, {})) stored.push(r);
  }
  expect(stored).toHaveLength(900);
  scopesA = [{ tenant: 'pd-a', minTs: -Infinity }, { tenant: 'pd-b', minTs: -Infinity }];
});
afterAll(async () => {
  await ts?.close();
});

describe('POST /v1/search vs the reference', () => {
  it('every stored read is the read that was sent, normalised, with its tenant', () => {
    for (const r of stored) {
      expect(kTenants).toContain(r.tenant);
      expect(r.plate).toMatch(/^[A-Z0-9]{1,10}$/);
    }
  });

  it(`random searches equal referenceSearch over own + granted tenants (seed ${kSeed})`, async () => {
    const inv = ts.token('pd-a', 'investigator');
    for (let i = 0; i < 150; i++) {
      const body = randomSearchBody(plates);
      const res = await call(ts.url, 'POST', '/v1/search', { token: inv, json: body });
      expect(res.status, JSON.stringify(body)).toBe(200);
      const expected = referenceSearch(stored, scopesA, parseSearchRequest(body).query);
      expect(res.json.total, JSON.stringify(body)).toBe(expected.total);
      expect(res.json.truncated).toBe(expected.truncated);
      expect(res.json.hits, JSON.stringify(body)).toEqual(expected.hits.map(hitJson));
      expect(res.json.queryId).toBe(res.headers['x-request-id']);
      expect(typeof res.json.tookMs).toBe('number');
      for (const h of res.json.hits) expect(['pd-a', 'pd-b']).toContain(h.tenant);
    }
  });

  it('a tenant without grants sees only its own reads; a dispatcher may search too', async () => {
    const res = await call(ts.url, 'POST', '/v1/search', { token: ts.token('pd-c', 'dispatcher'), json: { purpose: 'p', case: 'c', limit: 10000 } });
    expect(res.json.total).toBe(300);
    expect(new Set(res.json.hits.map((h: Hit) => h.tenant))).toEqual(new Set(['pd-c']));
  });

  it('a revoked grant takes effect for the next request', async () => {
    const body = { purpose: 'p', case: 'c', limit: 1 };
    const before = await call(ts.url, 'POST', '/v1/search', { token: ts.token('pd-c', 'investigator'), json: body });
    await ts.server.services.directory.grant('pd-a', 'pd-c', null);
    const during = await call(ts.url, 'POST', '/v1/search', { token: ts.token('pd-c', 'investigator'), json: body });
    await ts.server.services.directory.revokeGrant('pd-a', 'pd-c');
    const after = await call(ts.url, 'POST', '/v1/search', { token: ts.token('pd-c', 'investigator'), json: body });
    expect([before.json.total, during.json.total, after.json.total]).toEqual([300, 600, 300]);
  });

  it('from == to is an empty window', async () => {
    const res = await call(ts.url, 'POST', '/v1/search', { token: ts.token('pd-a', 'investigator'), json: { purpose: 'p', case: 'c', from: kT0 + 3 * 86_400_000, to: kT0 + 3 * 86_400_000 } });
    expect(res.json).toMatchObject({ hits: [], total: 0, truncated: false });
  });
});

describe('POST /v1/search/hotlist vs the reference', () => {
  it('random plate lists (with duplicates and unnormalised entries) equal referenceHotlistSearch', async () => {
    const inv = ts.token('pd-a', 'investigator');
    for (let i = 0; i < 40; i++) {
      const list = Array.from({ length: int(1, 12) }, () => (rand() < 0.8 ? pick(plates) : randomPlate()));
      list.push(list[0]!.toLowerCase()); // a duplicate after normalisation
      const body: Record<string, unknown> = { plates: list, purpose: 'p', case: 'c' };
      if (rand() < 0.4) {
        body.match = 'fuzzy';
        body.maxEdits = int(0, 2);
      }
      if (rand() < 0.3) body.ocr = true;
      if (rand() < 0.5) body.limitPerPlate = int(1, 20);
      if (rand() < 0.3) body.from = kT0 + int(0, 4 * 86_400_000);
      const res = await call(ts.url, 'POST', '/v1/search/hotlist', { token: inv, json: body });
      expect(res.status, JSON.stringify(body)).toBe(200);
      const expected = referenceHotlistSearch(stored, scopesA, parseHotlistSearchRequest(body).query);
      expect(res.json.matches, JSON.stringify(body)).toEqual(expected.matches.map((m) => ({
        entry: m.entry, total: m.total, truncated: m.truncated, hits: m.hits.map(hitJson),
      })));
      expect(res.json.queryId).toBe(res.headers['x-request-id']);
    }
  });
});

describe('bad input → 400 with the exact code, and nothing runs', () => {
  const ok = { purpose: 'investigation', case: '2026-1' };
  const table: Array<[string, unknown, string, string | undefined]> = [
    ['no purpose', { case: 'c' }, 'PS_BAD_INPUT', 'purpose'],
    ['empty purpose', { purpose: '', case: 'c' }, 'PS_BAD_INPUT', 'purpose'],
    ['no case', { purpose: 'p' }, 'PS_BAD_INPUT', 'case'],
    ['case not a string', { purpose: 'p', case: 7 }, 'PS_BAD_INPUT', 'case'],
    ['pattern empty after normalisation', { ...ok, plate: '-- --' }, 'PS_BAD_INPUT', 'plate'],
    ['pattern of 11 characters', { ...ok, plate: 'ABCDEFGHIJK' }, 'PS_BAD_INPUT', 'plate'],
    ['wildcard with exact', { ...ok, plate: 'AB?1', match: 'exact' }, 'PS_BAD_INPUT', 'plate'],
    ['wildcard with fuzzy', { ...ok, plate: 'AB*', match: 'fuzzy' }, 'PS_BAD_INPUT', 'plate'],
    ['unknown match', { ...ok, plate: 'AB1', match: 'regex' }, 'PS_BAD_INPUT', 'match'],
    ['maxEdits without fuzzy', { ...ok, plate: 'AB1', maxEdits: 1 }, 'PS_BAD_INPUT', 'maxEdits'],
    ['maxEdits 3', { ...ok, plate: 'AB1', match: 'fuzzy', maxEdits: 3 }, 'PS_BAD_INPUT', 'maxEdits'],
    ['transpositions without fuzzy', { ...ok, plate: 'AB1', transpositions: true }, 'PS_BAD_INPUT', 'transpositions'],
    ['plate not a string', { ...ok, plate: 123 }, 'PS_BAD_INPUT', 'plate'],
    ['limit 0', { ...ok, limit: 0 }, 'PS_BAD_INPUT', 'limit'],
    ['limit 10001', { ...ok, limit: 10001 }, 'PS_BAD_INPUT', 'limit'],
    ['limit as a string', { ...ok, limit: '10' }, 'PS_BAD_INPUT', 'limit'],
    ['from after to', { ...ok, from: '2026-11-02T00:00:00Z', to: '2026-11-01T00:00:00Z' }, 'PS_BAD_INPUT', 'from'],
    ['from without a zone', { ...ok, from: '2026-11-02T00:00:00' }, 'PS_BAD_INPUT', 'from'],
    ['to as a numeric string', { ...ok, to: '1764000000000' }, 'PS_BAD_INPUT', 'to'],
    ['bbox min > max', { ...ok, bbox: [-122.3, 37.7, -122.5, 37.8] }, 'PS_BAD_INPUT', 'bbox'],
    ['bbox of 3', { ...ok, bbox: [1, 2, 3] }, 'PS_BAD_INPUT', 'bbox'],
    ['polygon of 2 distinct points', { ...ok, polygon: [[0, 0], [1, 1], [0, 0]] }, 'PS_BAD_INPUT', 'polygon'],
    ['near without radius', { ...ok, near: { lat: 1, lon: 2 } }, 'PS_BAD_INPUT', 'near.radiusM'],
    ['empty cameras', { ...ok, cameras: [] }, 'PS_BAD_INPUT', 'cameras'],
    ['empty regions', { ...ok, regions: [] }, 'PS_BAD_INPUT', 'regions'],
    ['unknown field', { ...ok, tenant: 'pd-b' }, 'PS_BAD_INPUT', 'tenant'],
    ['body an array', [ok], 'PS_BAD_INPUT', undefined],
    ['body a string', 'search', 'PS_BAD_INPUT', undefined],
  ];
  for (const [name, body, code, field] of table) {
    it(`/v1/search: ${name}`, async () => {
      const res = await call(ts.url, 'POST', '/v1/search', { token: ts.token('pd-a', 'investigator'), json: body });
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe(code);
      if (field !== undefined) expect(res.json.error.field).toBe(field);
      expect(typeof res.json.error.message).toBe('string');
    });
  }

  it('an empty body, and malformed JSON', async () => {
    const empty = await call(ts.url, 'POST', '/v1/search', { token: ts.token('pd-a', 'investigator'), body: '', contentType: 'application/json' });
    expect(empty.status).toBe(400);
    expect(empty.json.error.code).toBe('PS_BAD_INPUT');
    const bad = await call(ts.url, 'POST', '/v1/search', { token: ts.token('pd-a', 'investigator'), body: '{"purpose": "p",', contentType: 'application/json' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('PS_BAD_JSON');
  });

  it('/v1/search/hotlist: plates required, 1..1,000,000 entries, each a valid pattern', async () => {
    const inv = ts.token('pd-a', 'investigator');
    const cases: Array<[unknown, string | undefined]> = [
      [{ ...ok }, 'plates'],
      [{ ...ok, plates: [] }, 'plates'],
      [{ ...ok, plates: 'ABC' }, 'plates'],
      [{ ...ok, plates: ['ABC', 5] }, 'plates[1]'],
      [{ ...ok, plates: ['ABC', '-'] }, 'plates[1]'],
      [{ ...ok, plates: ['ABC'], plate: 'ABC' }, 'plate'],
      [{ ...ok, plates: ['ABC'], limitPerPlate: 0 }, 'limitPerPlate'],
      [{ plates: ['ABC'], case: 'c' }, 'purpose'],
    ];
    for (const [body, field] of cases) {
      const res = await call(ts.url, 'POST', '/v1/search/hotlist', { token: inv, json: body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error.code).toBe('PS_BAD_INPUT');
      expect(res.json.error.field, JSON.stringify(body)).toBe(field);
    }
  });
});
