/**
 * Named edge cases of the reference semantics (API.md "/v1/search" and "Precise rules"), each with
 * its exact expected rows. The random differential tests live in reference-duckdb.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { normalisePattern, normalisePlate, ocrMap } from '../src/model/plate.js';
import type { PlateMatch, ReadFilter, SearchQuery, TenantScope } from '../src/model/query.js';
import type { StoredRead } from '../src/model/read.js';
import {
  compareHits, haversineM, inPolygon, levenshtein, osaDistance, plateDistance, referenceHotlistSearch, referenceSearch,
  wildcardMatch,
} from '../src/query/reference/index.js';

const T0 = Date.UTC(2026, 10, 1, 12, 0, 0);
const ALL: TenantScope[] = [{ tenant: 'pd-a', minTs: -8.64e15 }];

/** A read of tenant pd-a at cam-17's spot at T0, with overrides. */
function read(id: string, o: Partial<StoredRead> = {}): StoredRead {
  return { id, tenant: 'pd-a', plate: '7ABC123', ts: T0, lat: 37.7749, lon: -122.4194, camera: 'cam-17', region: 'CA', ...o };
}
const exact = (pattern: string, ocr = false): PlateMatch => ({ pattern, mode: 'exact', maxEdits: 0, ocr, transpositions: false });
const wild = (pattern: string, ocr = false): PlateMatch => ({ pattern, mode: 'wildcard', maxEdits: 0, ocr, transpositions: false });
const fuzzy = (pattern: string, maxEdits: number, transpositions = false, ocr = false): PlateMatch =>
  ({ pattern, mode: 'fuzzy', maxEdits, ocr, transpositions });

/** Ids of the hits, in order, of a search over `reads` (all of pd-a visible unless scopes are given). */
function ids(reads: StoredRead[], q: Partial<SearchQuery> & { filter?: ReadFilter }, scopes: TenantScope[] = ALL): string[] {
  return referenceSearch(reads, scopes, { filter: {}, limit: 1000, ...q }).hits.map((h) => h.id);
}

describe('normalisation and OCR classes', () => {
  it('normalises ASCII-only: upper-cases a-z, removes everything else (ß and ı removed, not mapped)', () => {
    expect(normalisePlate('7abc-123')).toBe('7ABC123');
    expect(normalisePlate('ßıA1')).toBe('A1');
    expect(normalisePlate('straße')).toBe('STRAE');
    expect(normalisePlate('ＡＢＣ１')).toBe(''); // full-width forms are not ASCII
    expect(normalisePlate('abc d12')).toBe('ABCD12');
    expect(normalisePattern('7ab?12*')).toBe('7AB?12*');
    expect(normalisePattern('7a_b%1')).toBe('7AB1'); // SQL wildcards are not ours
  });
  it('maps every OCR class to its first member and leaves the rest (and wildcards) alone', () => {
    expect(ocrMap('ODQ0ILZSGBV')).toBe('0000112568U');
    expect(ocrMap('1IL2Z5S6G8BUV')).toBe('11122556688UU');
    expect(ocrMap('ACEFHJKMNPRTWXY3479?*')).toBe('ACEFHJKMNPRTWXY3479?*');
  });
});

describe('plate matching', () => {
  it('wildcards are anchored LIKE: ? one character, * zero or more', () => {
    expect(wildcardMatch('*', 'A')).toBe(true);
    expect(wildcardMatch('**', 'ABCDEFGHIJ')).toBe(true);
    expect(wildcardMatch('?', 'A')).toBe(true);
    expect(wildcardMatch('?', 'AB')).toBe(false);
    expect(wildcardMatch('?BC?', 'ABCD')).toBe(true);
    expect(wildcardMatch('?BC?', 'BCD')).toBe(false);
    expect(wildcardMatch('?BC?', 'ABCDE')).toBe(false);
    expect(wildcardMatch('A*', 'BA')).toBe(false);
    expect(wildcardMatch('*A', 'AB')).toBe(false);
    expect(wildcardMatch('7AB*12*', '7AB12')).toBe(true); // * may be empty
    expect(wildcardMatch('7AB?12*', '7AB12')).toBe(false); // ? may not
    expect(wildcardMatch('A*B*C', 'AXXBYYC')).toBe(true);
    expect(wildcardMatch('A*B*C', 'AXXCYYB')).toBe(false);
  });
  it('wildcard matching is linear, not a backtracking regex', () => {
    const pattern = '*A'.repeat(10) + '*B' + '*'.repeat(5000);
    const start = performance.now();
    expect(wildcardMatch(pattern, 'AAAAAAAAAA')).toBe(false);
    expect(performance.now() - start).toBeLessThan(500);
  });
  it('edit distances: Levenshtein, and OSA (one adjacent swap costs 1, no edits inside a swap)', () => {
    expect(levenshtein('ABC123', 'ABC132')).toBe(2);
    expect(osaDistance('ABC123', 'ABC132')).toBe(1);
    expect(osaDistance('CA', 'ABC')).toBe(3); // true Damerau would say 2
    expect(levenshtein('A', '')).toBe(1);
    expect(levenshtein('A', 'AB')).toBe(1);
    expect(levenshtein('1234567890', '234567890')).toBe(1);
    expect(levenshtein('KITTEN', 'SITTING')).toBe(3);
  });
  it('ocr maps both sides first; distance is measured on the mapped strings', () => {
    expect(plateDistance(exact('0B', true), 'O8')).toBe(0);
    expect(plateDistance(exact('0B', false), 'O8')).toBe(-1);
    expect(plateDistance(fuzzy('0B', 1, false, true), 'D8X')).toBe(1);
    expect(plateDistance(fuzzy('0B', 0, false, true), 'Q8')).toBe(0);
    expect(plateDistance(wild('?B*', true), 'X8Q')).toBe(0);
    expect(plateDistance(fuzzy('UV', 0, false, true), 'VU')).toBe(0);
  });
  it('fuzzy keeps distance <= maxEdits and reports the distance; exact and wildcard report 0', () => {
    expect(plateDistance(fuzzy('ABC123', 2), 'ABC132')).toBe(2);
    expect(plateDistance(fuzzy('ABC123', 1), 'ABC132')).toBe(-1);
    expect(plateDistance(fuzzy('ABC123', 1, true), 'ABC132')).toBe(1);
    expect(plateDistance(fuzzy('ABC123', 0), 'ABC123')).toBe(0);
    expect(plateDistance(wild('ABC*'), 'ABC123')).toBe(0);
  });
});

describe('search: plates at the length boundaries and wildcard edge cases', () => {
  const reads = [
    read('one', { plate: 'A' }),
    read('two', { plate: 'AB' }),
    read('ten', { plate: '1234567890' }),
    read('nine', { plate: '123456789' }),
    read('seven', { plate: '7ABC123' }),
  ];
  it('1-character plates', () => {
    expect(ids(reads, { plate: exact('A') })).toEqual(['one']);
    expect(ids(reads, { plate: wild('?') })).toEqual(['one']);
    expect(ids(reads, { plate: fuzzy('A', 1) })).toEqual(['one', 'two']);
    expect(ids(reads, { plate: fuzzy('B', 1) })).toEqual(['one', 'two']); // 'A' by substitution, 'AB' by deletion
  });
  it('10-character plates', () => {
    expect(ids(reads, { plate: exact('1234567890') })).toEqual(['ten']);
    expect(ids(reads, { plate: wild('??????????') })).toEqual(['ten']);
    expect(ids(reads, { plate: wild('?????????') })).toEqual(['nine']);
    expect(ids(reads, { plate: fuzzy('1234567890', 1) })).toEqual(['ten', 'nine']);
  });
  it('* alone and ** match every plate', () => {
    const all = ['nine', 'one', 'seven', 'ten', 'two']; // equal ts and distance: id order
    expect(ids(reads, { plate: wild('*') })).toEqual(all);
    expect(ids(reads, { plate: wild('**') })).toEqual(all);
  });
  it('? at both ends', () => {
    expect(ids(reads, { plate: wild('?ABC12?') })).toEqual(['seven']);
    expect(ids(reads, { plate: wild('?23456789?') })).toEqual(['ten']);
    expect(ids(reads, { plate: wild('?B') })).toEqual(['two']);
    expect(ids(reads, { plate: wild('?A?') })).toEqual([]);
  });
  it('empty results: no hits, total 0, not truncated', () => {
    expect(referenceSearch(reads, ALL, { plate: exact('ZZZ'), filter: {}, limit: 1 })).toEqual({ hits: [], total: 0, truncated: false });
    expect(referenceSearch([], ALL, { filter: {}, limit: 1 })).toEqual({ hits: [], total: 0, truncated: false });
  });
  it('without a plate every hit has distance 0', () => {
    const r = referenceSearch(reads, ALL, { filter: {}, limit: 1000 });
    expect(r.total).toBe(5);
    expect(r.hits.map((h) => h.distance)).toEqual([0, 0, 0, 0, 0]);
  });
});

describe('search: time', () => {
  const reads = [read('a', { ts: T0 - 1 }), read('b', { ts: T0 }), read('c', { ts: T0 + 1 }), read('d', { ts: T0 + 2 })];
  it('from is inclusive, to is exclusive', () => {
    expect(ids(reads, { filter: { from: T0, to: T0 + 2 } })).toEqual(['c', 'b']);
    expect(ids(reads, { filter: { from: T0 } })).toEqual(['d', 'c', 'b']);
    expect(ids(reads, { filter: { to: T0 } })).toEqual(['a']);
  });
  it('from == to is an empty window', () => {
    expect(ids(reads, { filter: { from: T0, to: T0 } })).toEqual([]);
    expect(ids(reads, { filter: { from: T0 + 1, to: T0 + 2 } })).toEqual(['c']);
  });
  it('no from/to: all retained reads', () => {
    expect(ids(reads, {})).toEqual(['d', 'c', 'b', 'a']);
  });
});

describe('search: place', () => {
  it('bbox is inclusive on all four edges', () => {
    const bbox: [number, number, number, number] = [-122.5, 37.7, -122.4, 37.8];
    const reads = [
      read('minLon', { lon: -122.5, lat: 37.75 }), read('maxLon', { lon: -122.4, lat: 37.75 }),
      read('minLat', { lon: -122.45, lat: 37.7 }), read('maxLat', { lon: -122.45, lat: 37.8 }),
      read('corner', { lon: -122.5, lat: 37.8 }),
      read('westOut', { lon: -122.50000001, lat: 37.75 }), read('northOut', { lon: -122.45, lat: 37.80000001 }),
    ];
    expect(ids(reads, { filter: { bbox } })).toEqual(['corner', 'maxLat', 'maxLon', 'minLat', 'minLon']);
    expect(ids(reads, { filter: { bbox: [-122.45, 37.7, -122.45, 37.8] } })).toEqual(['maxLat', 'minLat']); // zero-width box
  });
  it('near: radius 0 keeps exactly the co-located reads; the radius itself is inside', () => {
    const reads = [read('here'), read('beside', { lat: 37.7749001 }), read('far', { lat: 37.7849 })];
    const near = { lat: 37.7749, lon: -122.4194, radiusM: 0 };
    expect(ids(reads, { filter: { near } })).toEqual(['here']);
    const d = haversineM(37.7749, -122.4194, 37.7849, -122.4194);
    expect(d).toBeCloseTo(1111.95, 1); // 0.01° of latitude with R = 6371008.8 m
    expect(ids(reads, { filter: { near: { ...near, radiusM: d } } })).toEqual(['beside', 'far', 'here']);
    expect(ids(reads, { filter: { near: { ...near, radiusM: d * (1 - 1e-12) } } })).toEqual(['beside', 'here']);
  });
  it('haversine uses R = 6371008.8 m', () => {
    expect(haversineM(0, 0, 0, 180)).toBeCloseTo(Math.PI * 6371008.8, 6);
    expect(haversineM(90, 0, -90, 0)).toBeCloseTo(Math.PI * 6371008.8, 6);
    expect(haversineM(37.7749, -122.4194, 37.7749, -122.4194)).toBe(0);
  });
  const square: Array<[number, number]> = [[-122.5, 37.7], [-122.4, 37.7], [-122.4, 37.8], [-122.5, 37.8]];
  const pts = [read('in', { lon: -122.45, lat: 37.75 }), read('out', { lon: -122.35, lat: 37.75 }), read('below', { lon: -122.45, lat: 37.65 })];
  it('polygon: closed and open rings give the same answer, in either orientation', () => {
    expect(ids(pts, { filter: { polygon: square } })).toEqual(['in']);
    expect(ids(pts, { filter: { polygon: [...square, square[0]!] } })).toEqual(['in']);
    expect(ids(pts, { filter: { polygon: [...square].reverse() } })).toEqual(['in']);
    // API.md's example ring: a triangle (closed) with the closing point repeated
    const tri: Array<[number, number]> = [[-122.5, 37.7], [-122.4, 37.7], [-122.4, 37.8], [-122.5, 37.7]];
    expect(ids([read('lowRight', { lon: -122.41, lat: 37.71 }), read('upLeft', { lon: -122.49, lat: 37.79 })], { filter: { polygon: tri } })).toEqual(['lowRight']);
  });
  it('polygon boundary: PNPOLY half-open convention (west and south edges in, east and north out)', () => {
    const sq: Array<[number, number]> = [[0, 0], [1, 0], [1, 1], [0, 1]];
    expect(inPolygon(sq, 0.5, 0)).toBe(true); // west edge
    expect(inPolygon(sq, 0, 0.5)).toBe(true); // south edge
    expect(inPolygon(sq, 0.5, 1)).toBe(false); // east edge
    expect(inPolygon(sq, 1, 0.5)).toBe(false); // north edge
    expect(inPolygon(sq, 0, 0)).toBe(true); // south-west corner
    expect(inPolygon(sq, 1, 1)).toBe(false);
    expect(inPolygon([...sq].reverse(), 0.5, 0)).toBe(true); // orientation does not matter
    // two squares sharing the edge lon = 1: a point on it belongs to exactly one of them
    const east: Array<[number, number]> = [[1, 0], [2, 0], [2, 1], [1, 1]];
    expect([inPolygon(sq, 0.5, 1), inPolygon(east, 0.5, 1)]).toEqual([false, true]);
  });
  it('polygon: even-odd rule on a concave ring, a bow-tie and a pentagram (centre is outside)', () => {
    // U shape: the notch is outside
    const u: Array<[number, number]> = [[0, 0], [3, 0], [3, 3], [2, 3], [2, 1], [1, 1], [1, 3], [0, 3]];
    expect(inPolygon(u, 2, 1.5)).toBe(false); // (lon 1.5, lat 2): in the notch
    expect(inPolygon(u, 2, 0.5)).toBe(true);
    expect(inPolygon(u, 0.5, 1.5)).toBe(true);
    // bow-tie: two triangles meeting at (1, 1)
    const bow: Array<[number, number]> = [[0, 0], [2, 2], [2, 0], [0, 2]];
    expect(inPolygon(bow, 1, 0.2)).toBe(true);
    expect(inPolygon(bow, 1, 1.8)).toBe(true);
    expect(inPolygon(bow, 0.2, 1)).toBe(false);
    // pentagram drawn in one stroke: the pentagon in the middle is covered twice, so even-odd says outside
    const star: Array<[number, number]> = [0, 2, 4, 1, 3].map((k) => {
      const a = Math.PI / 2 + (2 * Math.PI * k) / 5;
      return [Math.cos(a), Math.sin(a)];
    });
    expect(inPolygon(star, 0, 0)).toBe(false);
    const tip = [Math.cos(Math.PI / 2) * 0.8, Math.sin(Math.PI / 2) * 0.8] as const;
    expect(inPolygon(star, tip[1], tip[0])).toBe(true); // inside one arm
    expect(inPolygon(star, 2, 2)).toBe(false);
  });
});

describe('search: cameras and regions', () => {
  const reads = [read('a', { camera: 'cam-1' }), read('b', { camera: 'cam-17' }), read('c', { camera: 'cam-17', region: undefined }), read('d', { region: 'NV' })];
  it('cameras and regions match whole strings; a read without region never matches a regions filter', () => {
    expect(ids(reads, { filter: { cameras: ['cam-1'] } })).toEqual(['a']);
    expect(ids(reads, { filter: { cameras: ['cam-17', 'cam-x'] } })).toEqual(['b', 'c', 'd']);
    expect(ids(reads, { filter: { regions: ['CA'] } })).toEqual(['a', 'b']);
    expect(ids(reads, { filter: { regions: ['CA', 'NV'], cameras: ['cam-17'] } })).toEqual(['b', 'd']);
    expect(ids(reads, { filter: { regions: ['ca'] } })).toEqual([]);
  });
});

describe('search: ordering, totals, truncation', () => {
  it('distance ascending, then ts descending, then id ascending by code unit (not numeric, not locale)', () => {
    const reads = [
      read('r9', { plate: 'ABC124' }), read('r10', { plate: 'ABC124' }), read('a1', { plate: 'ABC124' }), read('Z1', { plate: 'ABC124' }),
      read('late', { plate: 'ABC125', ts: T0 + 5 }), read('exact', { plate: 'ABC123', ts: T0 - 100 }),
      read('two', { plate: 'ABC1', ts: T0 + 10 }),
    ];
    expect(ids(reads, { plate: fuzzy('ABC123', 2) })).toEqual(['exact', 'late', 'Z1', 'a1', 'r10', 'r9', 'two']);
    const r = referenceSearch(reads, ALL, { plate: fuzzy('ABC123', 2), filter: {}, limit: 3 });
    expect(r.hits.map((h) => [h.id, h.distance])).toEqual([['exact', 0], ['late', 1], ['Z1', 1]]);
    expect([r.total, r.truncated]).toEqual([7, true]);
    const all = referenceSearch(reads, ALL, { plate: fuzzy('ABC123', 2), filter: {}, limit: 7 });
    expect([all.hits.length, all.total, all.truncated]).toEqual([7, 7, false]);
  });
  it('compareHits is a total order with the id as last key', () => {
    const h = (id: string, distance: number, ts: number) => ({ ...read(id, { ts }), distance });
    expect(compareHits(h('b', 0, T0), h('a', 0, T0))).toBeGreaterThan(0);
    expect(compareHits(h('a', 0, T0), h('a', 0, T0))).toBe(0);
    expect(compareHits(h('a', 0, T0), h('b', 0, T0 + 1))).toBeGreaterThan(0);
    expect(compareHits(h('z', 0, T0), h('a', 1, T0 + 1))).toBeLessThan(0);
  });
});

describe('search: tenancy and retention', () => {
  const reads = [
    read('a-old', { ts: T0 - 1 }), read('a-cut', { ts: T0 }), read('a-new', { ts: T0 + 1 }),
    read('b-1', { tenant: 'pd-b' }), read('c-1', { tenant: 'so-c' }),
  ];
  it('only scoped tenants are seen; no scope sees nothing', () => {
    expect(ids(reads, {}, [{ tenant: 'pd-b', minTs: -8.64e15 }])).toEqual(['b-1']);
    expect(ids(reads, {}, [{ tenant: 'pd-b', minTs: -8.64e15 }, { tenant: 'so-c', minTs: -8.64e15 }])).toEqual(['b-1', 'c-1']);
    expect(ids(reads, {}, [])).toEqual([]);
    expect(ids(reads, {}, [{ tenant: 'nobody', minTs: -8.64e15 }])).toEqual([]);
  });
  it('retention: ts >= minTs is visible, ts < minTs is gone, per tenant', () => {
    expect(ids(reads, {}, [{ tenant: 'pd-a', minTs: T0 }])).toEqual(['a-new', 'a-cut']);
    expect(ids(reads, {}, [{ tenant: 'pd-a', minTs: T0 + 1 }, { tenant: 'pd-b', minTs: T0 + 1 }])).toEqual(['a-new']);
    expect(referenceSearch(reads, [{ tenant: 'pd-a', minTs: T0 + 2 }], { filter: {}, limit: 10 }).total).toBe(0);
  });
  it('hits carry the owning tenant', () => {
    const r = referenceSearch(reads, [{ tenant: 'pd-b', minTs: 0 }, { tenant: 'so-c', minTs: 0 }], { filter: {}, limit: 10 });
    expect(r.hits.map((h) => [h.id, h.tenant])).toEqual([['b-1', 'pd-b'], ['c-1', 'so-c']]);
  });
});

describe('hot-list search', () => {
  const reads = [
    read('x1', { plate: 'ABC123', ts: T0 + 2 }), read('x2', { plate: 'ABC123', ts: T0 + 1 }), read('x3', { plate: 'ABC123', ts: T0 }),
    read('y1', { plate: 'ABC124' }), read('z1', { plate: 'QQQ' }),
  ];
  it('matches in entry order, only entries with hits, a read under every entry it matches, cut at limitPerPlate', () => {
    const r = referenceHotlistSearch(reads, ALL, {
      entries: [fuzzy('ABC124', 1), exact('NONE'), exact('QQQ'), exact('ABC123')],
      filter: {},
      limitPerPlate: 2,
    });
    expect(r.matches.map((m) => [m.entry, m.total, m.truncated, m.hits.map((h) => `${h.id}:${h.distance}`)])).toEqual([
      ['ABC124', 4, true, ['y1:0', 'x1:1']],
      ['QQQ', 1, false, ['z1:0']],
      ['ABC123', 3, true, ['x1:0', 'x2:0']],
    ]);
  });
  it('applies filters and scopes to every entry', () => {
    const r = referenceHotlistSearch(reads, [{ tenant: 'pd-a', minTs: T0 + 1 }], { entries: [exact('ABC123'), exact('QQQ')], filter: { to: T0 + 2 }, limitPerPlate: 10 });
    expect(r.matches.map((m) => [m.entry, m.total, m.hits.map((h) => h.id)])).toEqual([['ABC123', 1, ['x2']]]);
  });
});
