/**
 * API.md "/v1/search", "/v1/search/hotlist" and "Precise rules / Search": request body → validated
 * query model. Every rejection is a 400 `PS_BAD_INPUT` naming the offending field.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPlatesearchError } from '../src/errors.js';
import { formatTimestamp } from '../src/model/time.js';
import { parseHotlistSearchRequest, parseSearchRequest } from '../src/query/parse.js';
import { plateFamilyArb, plateMatchArb, readFilterArb, storedReadsArb } from './helpers/arbitraries.js';

const just = { purpose: 'investigation', case: '2026-001234' };
const search = (body: Record<string, unknown>) => parseSearchRequest({ ...just, ...body }).query;
const hotlist = (body: Record<string, unknown>) => parseHotlistSearchRequest({ ...just, ...body }).query;

/** Expects a 400 PS_BAD_INPUT whose details name `field`. */
function bad(run: () => unknown, field: string): void {
  try {
    run();
  } catch (err) {
    if (!isPlatesearchError(err)) throw err;
    expect([err.code, err.status, err.details?.field]).toEqual(['PS_BAD_INPUT', 400, field]);
    return;
  }
  throw new Error(`expected a 400 naming ${field}`);
}
const badSearch = (body: Record<string, unknown>, field: string) => bad(() => search(body), field);
const badHotlist = (body: Record<string, unknown>, field: string) => bad(() => hotlist(body), field);

describe('purpose and case', () => {
  it('are required non-empty strings', () => {
    expect(parseSearchRequest({ ...just }).justification).toEqual(just);
    bad(() => parseSearchRequest({ case: 'c' }), 'purpose');
    bad(() => parseSearchRequest({ purpose: 'p' }), 'case');
    bad(() => parseSearchRequest({ purpose: '', case: 'c' }), 'purpose');
    bad(() => parseSearchRequest({ purpose: '   ', case: 'c' }), 'purpose');
    bad(() => parseSearchRequest({ purpose: 'p', case: 2026001234 }), 'case');
    bad(() => parseHotlistSearchRequest({ plates: ['A'], purpose: 'p' }), 'case');
  });
  it('the body must be an object and unknown fields are refused', () => {
    expect(() => parseSearchRequest([just])).toThrow('body must be a JSON object');
    expect(() => parseSearchRequest(null)).toThrow('body must be a JSON object');
    badSearch({ maxEdit: 1 }, 'maxEdit');
    badHotlist({ plates: ['A'], plate: 'A' }, 'plate'); // the hot-list search has no `plate`
  });
});

describe('plate pattern and match mode', () => {
  it('normalises like a plate, keeping ? and *; defaults to exact, or wildcard when ? or * is present', () => {
    expect(search({ plate: '7abc-123' }).plate).toEqual({ pattern: '7ABC123', mode: 'exact', maxEdits: 0, ocr: false, transpositions: false });
    expect(search({ plate: '7ab?12*' }).plate).toEqual({ pattern: '7AB?12*', mode: 'wildcard', maxEdits: 0, ocr: false, transpositions: false });
    expect(search({ plate: 'ßıa1' }).plate?.pattern).toBe('A1');
    expect(search({ plate: '*' }).plate).toMatchObject({ pattern: '*', mode: 'wildcard' });
    expect(search({ plate: '**' }).plate).toMatchObject({ pattern: '**', mode: 'wildcard' });
    expect(search({ plate: '?BC12?' }).plate).toMatchObject({ pattern: '?BC12?', mode: 'wildcard' });
    expect(search({ plate: 'ABC', match: 'wildcard' }).plate).toMatchObject({ pattern: 'ABC', mode: 'wildcard' });
  });
  it('no plate (or null) is a scan of all plates', () => {
    expect(search({}).plate).toBeUndefined();
    expect(search({ plate: null }).plate).toBeUndefined();
  });
  it('a pattern empty after normalisation is refused', () => {
    badSearch({ plate: '' }, 'plate');
    badSearch({ plate: '-- ' }, 'plate');
    badSearch({ plate: 'ßı' }, 'plate');
    badSearch({ plate: 42 }, 'plate');
  });
  it('at most 10 characters besides *', () => {
    expect(search({ plate: '*1234567890*' }).plate?.pattern).toBe('*1234567890*');
    expect(search({ plate: '**********1**********' }).plate?.pattern).toBe('**********1**********');
    expect(search({ plate: '??????????' }).plate?.pattern).toBe('??????????');
    expect(search({ plate: '1234567890' }).plate?.pattern).toBe('1234567890');
    badSearch({ plate: '12345678901' }, 'plate');
    badSearch({ plate: '???????????' }, 'plate'); // ? is a character
    badSearch({ plate: '*12345*678901' }, 'plate');
    badSearch({ plate: '12345678901', match: 'fuzzy' }, 'plate');
  });
  it('? or * with match exact or fuzzy is refused', () => {
    badSearch({ plate: 'AB?', match: 'exact' }, 'plate');
    badSearch({ plate: 'AB*', match: 'exact' }, 'plate');
    badSearch({ plate: 'AB?', match: 'fuzzy' }, 'plate');
    badSearch({ plate: '*', match: 'fuzzy' }, 'plate');
  });
  it('match must be one of the three modes', () => {
    badSearch({ plate: 'A', match: 'regex' }, 'match');
    badSearch({ plate: 'A', match: 'FUZZY' }, 'match');
  });
});

describe('fuzzy options', () => {
  it('maxEdits 0-2, default 1; transpositions and ocr are booleans', () => {
    expect(search({ plate: 'ABC123', match: 'fuzzy' }).plate).toEqual({ pattern: 'ABC123', mode: 'fuzzy', maxEdits: 1, ocr: false, transpositions: false });
    expect(search({ plate: 'ABC123', match: 'fuzzy', maxEdits: 0 }).plate?.maxEdits).toBe(0);
    expect(search({ plate: 'ABC123', match: 'fuzzy', maxEdits: 2, transpositions: true, ocr: true }).plate).toEqual({
      pattern: 'ABC123', mode: 'fuzzy', maxEdits: 2, ocr: true, transpositions: true,
    });
    for (const maxEdits of [3, -1, 1.5, '1', true]) badSearch({ plate: 'A', match: 'fuzzy', maxEdits }, 'maxEdits');
    badSearch({ plate: 'A', match: 'fuzzy', transpositions: 'true' }, 'transpositions');
    badSearch({ plate: 'A', ocr: 1 }, 'ocr');
  });
  it('maxEdits or transpositions without fuzzy is refused', () => {
    badSearch({ plate: 'A', maxEdits: 1 }, 'maxEdits');
    badSearch({ plate: 'A', maxEdits: 0 }, 'maxEdits');
    badSearch({ plate: 'A', match: 'exact', maxEdits: 1 }, 'maxEdits');
    badSearch({ plate: '7AB?12*', match: 'wildcard', maxEdits: 1 }, 'maxEdits'); // API.md's illustrative body mixes them
    badSearch({ plate: 'A', transpositions: true }, 'transpositions');
    badSearch({ plate: 'A', match: 'wildcard', transpositions: true }, 'transpositions');
    // judgement call: `transpositions: false` asks for nothing and is accepted
    expect(search({ plate: 'A', transpositions: false }).plate).toMatchObject({ mode: 'exact', transpositions: false });
  });
  it('ocr works with any mode', () => {
    expect(search({ plate: 'A', ocr: true }).plate).toMatchObject({ mode: 'exact', ocr: true });
    expect(search({ plate: 'A*', ocr: true }).plate).toMatchObject({ mode: 'wildcard', ocr: true });
  });
});

describe('limit', () => {
  it('1-10000, default 1000, integers only', () => {
    expect(search({}).limit).toBe(1000);
    expect(search({ limit: 1 }).limit).toBe(1);
    expect(search({ limit: 10000 }).limit).toBe(10000);
    for (const limit of [0, 10001, -1, 1.5, '10']) badSearch({ limit }, 'limit');
  });
});

describe('time window', () => {
  it('ISO with zone or epoch ms; from inclusive and to exclusive are kept as given', () => {
    expect(search({ from: '2026-11-01T00:00:00Z', to: '2026-11-08T00:00:00+01:00' }).filter).toEqual({
      from: Date.UTC(2026, 10, 1), to: Date.UTC(2026, 10, 7, 23),
    });
    expect(search({ from: 1793534400000, to: 1793534400000 }).filter).toEqual({ from: 1793534400000, to: 1793534400000 }); // empty window
    expect(search({ from: '2026-11-01T00:00:00.9999Z' }).filter.from).toBe(Date.UTC(2026, 10, 1, 0, 0, 0, 999));
  });
  it('from > to, zone-less strings and numbers as strings are refused', () => {
    badSearch({ from: 2, to: 1 }, 'from');
    badSearch({ from: '2026-11-01T00:00:00.001Z', to: '2026-11-01T00:00:00Z' }, 'from');
    badSearch({ from: '2026-11-01T00:00:00' }, 'from');
    badSearch({ to: '1793534400000' }, 'to');
    badSearch({ to: true }, 'to');
  });
});

describe('places', () => {
  it('bbox [minLon, minLat, maxLon, maxLat]; min > max refused (no antimeridian crossing); a point is allowed', () => {
    expect(search({ bbox: [-122.52, 37.7, -122.35, 37.83] }).filter.bbox).toEqual([-122.52, 37.7, -122.35, 37.83]);
    expect(search({ bbox: [1, 2, 1, 2] }).filter.bbox).toEqual([1, 2, 1, 2]);
    badSearch({ bbox: [-122.35, 37.7, -122.52, 37.83] }, 'bbox');
    badSearch({ bbox: [-122.52, 37.83, -122.35, 37.7] }, 'bbox');
    badSearch({ bbox: [170, 0, -170, 1] }, 'bbox');
    badSearch({ bbox: [1, 2, 3] }, 'bbox');
    badSearch({ bbox: '1,2,3,4' }, 'bbox');
    badSearch({ bbox: [-181, 0, 0, 1] }, 'bbox[0]');
    badSearch({ bbox: [0, -91, 1, 1] }, 'bbox[1]');
    badSearch({ bbox: [0, 0, '1', 1] }, 'bbox[2]');
  });
  it('near {lat, lon, radiusM}: radius 0 allowed, negative refused', () => {
    expect(search({ near: { lat: 37.7749, lon: -122.4194, radiusM: 0 } }).filter.near).toEqual({ lat: 37.7749, lon: -122.4194, radiusM: 0 });
    badSearch({ near: { lat: 37.7, lon: -122.4, radiusM: -1 } }, 'near.radiusM');
    badSearch({ near: { lat: 37.7, lon: -122.4 } }, 'near.radiusM');
    badSearch({ near: { lat: 91, lon: -122.4, radiusM: 1 } }, 'near.lat');
    badSearch({ near: { lat: 37.7, lon: '-122.4', radiusM: 1 } }, 'near.lon');
    badSearch({ near: [37.7, -122.4, 5] }, 'near');
  });
  it('polygon: a ring of [lon, lat], closed or not, with at least 3 distinct points', () => {
    const ring = [[-122.5, 37.7], [-122.4, 37.7], [-122.4, 37.8], [-122.5, 37.7]];
    expect(search({ polygon: ring }).filter.polygon).toEqual(ring);
    expect(search({ polygon: ring.slice(0, 3) }).filter.polygon).toEqual(ring.slice(0, 3));
    badSearch({ polygon: [[0, 0], [1, 0], [0, 0]] }, 'polygon');
    badSearch({ polygon: [[0, 0], [1, 0], [1, 0], [0, 0]] }, 'polygon');
    badSearch({ polygon: [[0, 0], [1, 0]] }, 'polygon');
    badSearch({ polygon: [] }, 'polygon');
    badSearch({ polygon: [[0, 0, 0], [1, 0, 0], [1, 1, 0]] }, 'polygon');
    badSearch({ polygon: [[0, 0], [1, 0], [181, 1]] }, 'polygon[2][0]');
    badSearch({ polygon: [[0, 0], [1, 0], [1, 91]] }, 'polygon[2][1]');
  });
});

describe('cameras and regions', () => {
  it('non-empty arrays of strings (duplicates merged)', () => {
    expect(search({ cameras: ['cam-17', 'cam-17', 'cam-2'], regions: ['CA'] }).filter).toEqual({ cameras: ['cam-17', 'cam-2'], regions: ['CA'] });
    badSearch({ cameras: [] }, 'cameras');
    badSearch({ regions: [] }, 'regions');
    badSearch({ cameras: 'cam-17' }, 'cameras');
    badSearch({ regions: ['CA', 1] }, 'regions');
  });
  it('v1.1 makes and colors: non-empty arrays of strings, like cameras', () => {
    expect(search({ makes: ['Toyota', 'Toyota', 'FORD'], colors: ['white'] }).filter).toEqual({ makes: ['Toyota', 'FORD'], colors: ['white'] });
    badSearch({ makes: [] }, 'makes');
    badSearch({ colors: [] }, 'colors');
    badSearch({ makes: 'Toyota' }, 'makes');
    badSearch({ colors: ['white', 7] }, 'colors');
    expect(hotlist({ plates: ['ABC123'], makes: ['ford'] }).filter).toEqual({ makes: ['ford'] });
  });
  it('all given filters land in the query', () => {
    const q = search({
      plate: '7AB?12*', from: '2026-11-01T00:00:00Z', to: '2026-11-08T00:00:00Z', bbox: [-122.52, 37.7, -122.35, 37.83],
      near: { lat: 37.7749, lon: -122.4194, radiusM: 500 }, polygon: [[-122.5, 37.7], [-122.4, 37.7], [-122.4, 37.8]],
      cameras: ['cam-17'], regions: ['CA'], limit: 10,
    });
    expect(Object.keys(q.filter).sort()).toEqual(['bbox', 'cameras', 'from', 'near', 'polygon', 'regions', 'to']);
    expect(q.limit).toBe(10);
  });
});

describe('hot-list search', () => {
  it('entries are normalised, duplicates merged, first-appearance order kept', () => {
    const q = hotlist({ plates: ['abc-123', 'XYZ9', 'ABC123', 'abc 123', 'xyz9', 'Q1'] });
    expect(q.entries.map((e) => e.pattern)).toEqual(['ABC123', 'XYZ9', 'Q1']);
    expect(q.entries.every((e) => e.mode === 'exact')).toBe(true);
    expect(q.limitPerPlate).toBe(100);
  });
  it('match options apply to every entry', () => {
    const q = hotlist({ plates: ['ABC123', 'XYZ9'], match: 'fuzzy', maxEdits: 2, ocr: true, transpositions: true, limitPerPlate: 5 });
    expect(q.entries).toEqual([
      { pattern: 'ABC123', mode: 'fuzzy', maxEdits: 2, ocr: true, transpositions: true },
      { pattern: 'XYZ9', mode: 'fuzzy', maxEdits: 2, ocr: true, transpositions: true },
    ]);
    expect(q.limitPerPlate).toBe(5);
    expect(hotlist({ plates: ['AB*', 'CD'] }).entries.map((e) => e.mode)).toEqual(['wildcard', 'exact']);
  });
  it('shares the filters of /v1/search', () => {
    expect(hotlist({ plates: ['A'], from: 1, to: 2, cameras: ['c'] }).filter).toEqual({ from: 1, to: 2, cameras: ['c'] });
    badHotlist({ plates: ['A'], from: 2, to: 1 }, 'from');
    badHotlist({ plates: ['A'], regions: [] }, 'regions');
  });
  it('refuses a missing or empty list, bad entries (naming the index) and bad limits', () => {
    badHotlist({}, 'plates');
    badHotlist({ plates: [] }, 'plates');
    badHotlist({ plates: 'ABC123' }, 'plates');
    badHotlist({ plates: ['ABC123', '--'] }, 'plates[1]');
    badHotlist({ plates: ['ABC123', 7] }, 'plates[1]');
    badHotlist({ plates: ['12345678901'] }, 'plates[0]');
    badHotlist({ plates: ['AB?'], match: 'fuzzy' }, 'plates[0]');
    badHotlist({ plates: ['A'], maxEdits: 1 }, 'maxEdits');
    badHotlist({ plates: ['A'], limitPerPlate: 0 }, 'limitPerPlate');
    badHotlist({ plates: ['A'], limitPerPlate: '5' }, 'limitPerPlate');
  });
});

describe('round trip: what the shared arbitraries generate is exactly what parse produces', () => {
  it('PlateMatch of every mode', () => {
    const arb = plateFamilyArb(8).chain((plates) => plateMatchArb(plates));
    fc.assert(
      fc.property(arb, (m) => {
        const body: Record<string, unknown> = { plate: m.pattern, match: m.mode, ocr: m.ocr };
        if (m.mode === 'fuzzy') Object.assign(body, { maxEdits: m.maxEdits, transpositions: m.transpositions });
        expect(search(body).plate).toEqual(m);
      }),
      { numRuns: 500, seed: 7 },
    );
  });
  it('ReadFilter (times sent as ISO strings)', () => {
    const arb = storedReadsArb(20).chain((reads) => readFilterArb(reads));
    fc.assert(
      fc.property(arb, (f) => {
        const body: Record<string, unknown> = { ...f };
        if (f.from !== undefined) body.from = formatTimestamp(f.from);
        if (f.to !== undefined) body.to = formatTimestamp(f.to);
        expect(search(body).filter).toEqual(f);
      }),
      { numRuns: 500, seed: 7 },
    );
  });
});
