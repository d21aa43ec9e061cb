/**
 * fast-check arbitraries for platesearch's data and queries, shared by every differential test
 * (reference vs DuckDB, kernels vs reference, executor and server vs reference).
 *
 * They are biased so that matches actually happen: plate characters favour the OCR-confusable ones,
 * plates come in families (a few seeds plus mutated copies: substitutions, insertions, deletions,
 * adjacent swaps, shared prefixes), patterns and fuzzy queries are cut from the data's plates, and time
 * and place filters put their boundaries on the data's own timestamps and camera positions.
 *
 * Everything produced is already normalised and valid as `src/query/parse.ts` would produce it.
 */
import fc from 'fast-check';
import type { BBox, HotlistQuery, Near, PlateMatch, ReadFilter, SearchQuery, TenantScope } from '../../src/model/query.js';
import type { StoredRead } from '../../src/model/read.js';

/** Every character of a normalised plate. */
export const kPlateAlphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** The members of API.md's OCR classes (`0ODQ 1IL 2Z 5S 6G 8B UV`): drawn three times as often. */
export const kConfusableChars = '0ODQ1IL2Z5S6G8BUV';

/** One plate character, three parts confusable to one part anything. */
export const plateCharArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...kConfusableChars) },
  { weight: 1, arbitrary: fc.constantFrom(...kPlateAlphabet) },
);

/** A normalised plate of 1–10 characters (1 and 10 are drawn often: they are the boundaries). */
export const plateArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: plateCharArb, minLength: 1, maxLength: 10 }) },
  { weight: 1, arbitrary: fc.string({ unit: plateCharArb, minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.string({ unit: plateCharArb, minLength: 10, maxLength: 10 }) },
);

type Mutation = { kind: 'sub' | 'ins' | 'del' | 'swap' | 'cut' | 'ext'; pos: number; ch: string };

const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('sub', 'ins', 'del', 'swap', 'cut', 'ext'),
  pos: fc.nat({ max: 9 }),
  ch: plateCharArb,
});

function mutate(plate: string, m: Mutation): string {
  const i = m.pos % Math.max(1, plate.length);
  switch (m.kind) {
    case 'sub': return plate.slice(0, i) + m.ch + plate.slice(i + 1);
    case 'ins': return plate.slice(0, i) + m.ch + plate.slice(i);
    case 'del': return plate.slice(0, i) + plate.slice(i + 1);
    case 'swap': return i + 1 < plate.length ? plate.slice(0, i) + plate[i + 1] + plate[i] + plate.slice(i + 2) : plate;
    case 'cut': return plate.slice(0, Math.max(1, i)); // shared prefix, shorter
    case 'ext': return plate + m.ch; // shared prefix, longer
  }
}

/** A plate 0–3 edits away from `base` (still 1–10 characters): the near-misses fuzzy and OCR search must find. */
export function relatedPlateArb(base: string): fc.Arbitrary<string> {
  return fc.array(mutationArb, { maxLength: 3 }).map((ms) => {
    let p = base;
    for (const m of ms) p = mutate(p, m);
    if (p.length === 0) return base;
    return p.slice(0, 10);
  });
}

/** Plates in families: 1–4 seed plates and copies of them with 0–3 edits each. */
export function plateFamilyArb(maxLength = 20): fc.Arbitrary<string[]> {
  return fc
    .array(plateArb, { minLength: 1, maxLength: 4 })
    .chain((seeds) =>
      fc.array(fc.constantFrom(...seeds).chain(relatedPlateArb), { minLength: 1, maxLength: maxLength }).map((ps) => [...seeds, ...ps]),
    );
}

/**
 * A wildcard pattern cut from `plate`: each character kept, replaced by `?`, swallowed by `*`,
 * or preceded by `*`; sometimes a leading or trailing `?`/`*` and a changed character (so that it
 * may not match). Never more than 10 characters besides `*`, never empty.
 */
export function patternFromPlateArb(plate: string): fc.Arbitrary<string> {
  return fc
    .record({
      ops: fc.array(fc.constantFrom('keep', 'keep', 'keep', '?', '*', '*keep'), { minLength: plate.length, maxLength: plate.length }),
      head: fc.constantFrom('', '', '*', '?', '**'),
      tail: fc.constantFrom('', '', '*', '?', '**'),
      change: fc.option(fc.tuple(fc.nat({ max: 9 }), plateCharArb), { freq: 4 }),
    })
    .map(({ ops, head, tail, change }) => {
      const chars = plate.split('');
      if (change) chars[change[0] % chars.length] = change[1];
      let body = '';
      ops.forEach((op, i) => {
        if (op === 'keep') body += chars[i];
        else if (op === '?') body += '?';
        else if (op === '*') body += '*';
        else body += '*' + chars[i];
      });
      let pattern = head + body + tail;
      // at most 10 characters besides `*`: drop trailing significant characters beyond that
      while (pattern.replaceAll('*', '').length > 10) {
        const k = pattern.search(/[^*][*]*$/);
        pattern = pattern.slice(0, k) + pattern.slice(k + 1);
      }
      return pattern.length === 0 ? '*' : pattern;
    });
}

/** Named wildcard edge cases: `*` alone, `**`, `?` alone, `*?*`, `??`, `?*?`. */
export const edgePatternArb: fc.Arbitrary<string> = fc.constantFrom('*', '**', '?', '*?*', '??', '?*?');

/** A wildcard pattern, mostly cut from one of `plates`, sometimes one of the named edge cases. */
export function patternArb(plates: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...plates).chain(patternFromPlateArb) },
    { weight: 1, arbitrary: edgePatternArb },
    // `?` at both ends, the plate's inside kept: as long as the plate, so never over 10 characters
    { weight: 1, arbitrary: fc.constantFrom(...plates).map((p) => (p.length === 1 ? '?' : `?${p.slice(1, -1)}?`)) },
  );
}

/** A plate to look for: one of `plates`, a near-miss of one, or a random plate. */
export function queryPlateArb(plates: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...plates) },
    { weight: 3, arbitrary: fc.constantFrom(...plates).chain(relatedPlateArb) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...plates), fc.nat({ max: 8 })).map(([p, i]) => swapAdjacent(p, i)) },
    { weight: 1, arbitrary: plateArb },
  );
}

/** `plate` with the characters at `i % (length − 1)` and the next one swapped: where OSA and Levenshtein differ. */
export function swapAdjacent(plate: string, i: number): string {
  if (plate.length < 2) return plate;
  const k = i % (plate.length - 1);
  return plate.slice(0, k) + plate[k + 1] + plate[k] + plate.slice(k + 2);
}

/**
 * A PlateMatch of any mode, as parse.ts builds it: exact (ocr or not), wildcard (ocr or not), fuzzy with
 * maxEdits 0–2, ocr or not, Levenshtein or OSA (`transpositions`).
 */
export function plateMatchArb(plates: readonly string[]): fc.Arbitrary<PlateMatch> {
  return fc.oneof(
    fc.record({ pattern: queryPlateArb(plates), ocr: fc.boolean() }).map(
      ({ pattern, ocr }): PlateMatch => ({ pattern, mode: 'exact', maxEdits: 0, ocr, transpositions: false }),
    ),
    fc.record({ pattern: patternArb(plates), ocr: fc.boolean() }).map(
      ({ pattern, ocr }): PlateMatch => ({ pattern, mode: 'wildcard', maxEdits: 0, ocr, transpositions: false }),
    ),
    fc.record({ pattern: queryPlateArb(plates), ocr: fc.boolean(), maxEdits: fc.constantFrom(0, 1, 2), transpositions: fc.boolean() }).map(
      ({ pattern, ocr, maxEdits, transpositions }): PlateMatch => ({ pattern, mode: 'fuzzy', maxEdits, ocr, transpositions }),
    ),
  );
}

/** The tenants of generated data; scopes name a subset of them. */
export const kTenants = ['pd-a', 'pd-b', 'so-c'] as const;

/** The data's area (a slice of San Francisco) in degrees. */
export const kArea = { minLat: 37.7, maxLat: 37.8, minLon: -122.5, maxLon: -122.38 } as const;

/** Fixed cameras: most reads sit exactly on one of these points, so filters can put boundaries on them. */
export const kCameras: ReadonlyArray<{ camera: string; lat: number; lon: number }> = [
  { camera: 'cam-1', lat: 37.7749, lon: -122.4194 },
  { camera: 'cam-2', lat: 37.7749, lon: -122.41 }, // same latitude as cam-1: bbox edges hit both
  { camera: 'cam-3', lat: 37.71, lon: -122.4194 }, // same longitude as cam-1
  { camera: 'cam-17', lat: 37.79, lon: -122.39 },
  { camera: 'kamera-ü', lat: 37.75, lon: -122.45 }, // non-ASCII camera names compare as strings too
  { camera: 'patrol 7', lat: 37.73, lon: -122.48 }, // mobile: its reads are scattered (see positionArb)
];

export const kRegions = ['CA', 'NV', 'OR'] as const;
/** Makes and colors in several spellings: the v1.1 `makes`/`colors` filters match case-insensitively. */
export const kMakes = ['Toyota', 'TOYOTA', 'toyota', 'Ford', 'FORD', 'Škoda', 'ŠKODA'] as const;
export const kColors = ['White', 'WHITE', 'white', 'Grey', 'GREY', 'blue'] as const;

/** Timestamps on a coarse grid (one minute apart) so that equal timestamps, hence tie-breaks on id, are common. */
export const kT0 = Date.UTC(2026, 10, 1, 12, 0, 0);
const tsArb: fc.Arbitrary<number> = fc.oneof(
  { weight: 4, arbitrary: fc.nat({ max: 12 }).map((k) => kT0 + k * 60_000) },
  { weight: 1, arbitrary: fc.tuple(fc.nat({ max: 12 }), fc.nat({ max: 59_999 })).map(([k, ms]) => kT0 + k * 60_000 + ms) },
);

const latArb = fc.double({ min: kArea.minLat, max: kArea.maxLat, noNaN: true });
const lonArb = fc.double({ min: kArea.minLon, max: kArea.maxLon, noNaN: true });

/**
 * Ids unique by construction (`prefix + index`), with prefixes that make string order differ from
 * numeric and from locale order: `r10 < r9`, `Z1 < a1` by code unit, `0…`, `x-…`.
 */
function idFor(prefix: string, index: number): string {
  return prefix + index;
}
const idPrefixArb = fc.constantFrom('r', 'R', 'a', 'Z', 'x-', '0');

/** One read's fields other than the plate and id. */
const readBodyArb = fc.record({
  tenant: fc.constantFrom(...kTenants),
  ts: tsArb,
  camera: fc.nat({ max: kCameras.length - 1 }),
  jitter: fc.option(fc.tuple(latArb, lonArb), { freq: 4 }),
  region: fc.option(fc.constantFrom(...kRegions), { nil: undefined, freq: 4 }),
  confidence: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
  make: fc.option(fc.constantFrom(...kMakes), { nil: undefined, freq: 3 }),
  color: fc.option(fc.constantFrom(...kColors), { nil: undefined, freq: 3 }),
  prefix: idPrefixArb,
});

/**
 * A set of stored reads over several tenants: plates from one family set, timestamps on a coarse grid
 * (ties), positions mostly exactly on a camera, ids unique. Length 0–`maxReads`.
 */
export function storedReadsArb(maxReads = 40): fc.Arbitrary<StoredRead[]> {
  return plateFamilyArb(12).chain((plates) =>
    fc.oneof(
      { weight: 1, arbitrary: fc.constant([]) },
      { weight: 12, arbitrary: fc.array(fc.tuple(fc.constantFrom(...plates), readBodyArb), { minLength: Math.min(8, maxReads), maxLength: maxReads, size: 'max' }) },
    ).map((rows) =>
      rows.map(([plate, b], i): StoredRead => {
        const cam = kCameras[b.camera]!;
        const [lat, lon] = b.jitter ?? (cam.camera === 'patrol 7' ? [cam.lat + (i % 7) * 1e-3, cam.lon - (i % 5) * 1e-3] : [cam.lat, cam.lon]);
        const read: StoredRead = { id: idFor(b.prefix, i), tenant: b.tenant, plate, ts: b.ts, lat, lon, camera: cam.camera };
        if (b.region !== undefined) read.region = b.region;
        if (b.confidence !== undefined) read.confidence = b.confidence;
        if (b.make !== undefined) read.make = b.make;
        if (b.color !== undefined) read.color = b.color;
        return read;
      }),
    ),
  );
}

/** Values the data holds, plus their neighbours: where boundary bugs live. */
function aroundArb(values: readonly number[], delta: number): fc.Arbitrary<number> {
  if (values.length === 0) return fc.constant(kT0);
  return fc.tuple(fc.constantFrom(...values), fc.constantFrom(0, 0, 0, -delta, delta)).map(([v, d]) => v + d);
}

/**
 * Scopes: each tenant visible or not (rarely none at all), each with a retention cutoff `minTs` that is
 * often exactly a timestamp of the data (the boundary is inclusive: `ts >= minTs` is visible).
 */
export function scopesArb(reads: readonly StoredRead[]): fc.Arbitrary<TenantScope[]> {
  const tsValues = reads.map((r) => r.ts);
  return fc
    .oneof({ weight: 12, arbitrary: fc.subarray([...kTenants], { minLength: 1 }) }, { weight: 1, arbitrary: fc.constant([]) })
    .chain((tenants) =>
      fc.tuple(...tenants.map((tenant) =>
        fc.oneof({ weight: 2, arbitrary: fc.constant(-8.64e15) }, { weight: 1, arbitrary: aroundArb(tsValues, 1) })
          .map((minTs): TenantScope => ({ tenant, minTs })))),
    )
    .map((scopes) => [...scopes]);
}

/** An axis-aligned box between two points, each either a camera position or random. */
function bboxArb(): fc.Arbitrary<BBox> {
  const pointArb = fc.oneof(
    fc.constantFrom(...kCameras).map((c) => [c.lat, c.lon] as const),
    fc.tuple(latArb, lonArb),
  );
  return fc.tuple(pointArb, pointArb).map(([[la1, lo1], [la2, lo2]]): BBox =>
    [Math.min(lo1, lo2), Math.min(la1, la2), Math.max(lo1, lo2), Math.max(la1, la2)]);
}

/** A circle around a camera (radius 0 often: it keeps exactly the co-located reads) or a random point. */
function nearArb(): fc.Arbitrary<Near> {
  const center = fc.oneof(fc.constantFrom(...kCameras).map((c) => [c.lat, c.lon] as const), fc.tuple(latArb, lonArb));
  // metres: 0, or an integer plus a fraction (uniform over the range, unlike fc.double, which favours its bounds)
  const radius = fc.oneof(
    { weight: 1, arbitrary: fc.constant(0) },
    { weight: 3, arbitrary: fc.tuple(fc.integer({ min: 1, max: 12_000 }), fc.double({ min: 0, max: 1, noNaN: true })).map(([m, f]) => m + f) },
  );
  return fc.tuple(center, radius).map(([[lat, lon], radiusM]) => ({ lat, lon, radiusM }));
}

/**
 * A convex ring of `[lon, lat]`: a rectangle or a regular 3–8-gon, either orientation, any start
 * vertex, closed (first point repeated) or open. Vertices are random doubles, so no read lies exactly
 * on an edge (where even-odd is ambiguous) except by a vanishing chance that tests check for.
 */
export function convexPolygonArb(): fc.Arbitrary<Array<[number, number]>> {
  const rect = fc.tuple(latArb, lonArb, latArb, lonArb).map(([a, b, c, d]): Array<[number, number]> => {
    const [x1, x2] = [Math.min(b, d), Math.max(b, d)], [y1, y2] = [Math.min(a, c), Math.max(a, c)];
    return [[x1, y1], [x2, y1], [x2, y2], [x1, y2]];
  }).filter(([[x1, y1], , [x2, y2]]) => x2 - x1 > 1e-4 && y2 - y1 > 1e-4); // no slivers
  const ngon = fc
    .record({ lat: latArb, lon: lonArb, r: fc.double({ min: 0.002, max: 0.06, noNaN: true }), n: fc.integer({ min: 3, max: 8 }), phase: fc.double({ min: 0, max: 6.28, noNaN: true }) })
    .map(({ lat, lon, r, n, phase }) => Array.from({ length: n }, (_, k): [number, number] => {
      const a = phase + (2 * Math.PI * k) / n;
      return [lon + r * Math.cos(a), lat + r * Math.sin(a)];
    }));
  return fc
    .record({ ring: fc.oneof(rect, ngon), reverse: fc.boolean(), start: fc.nat({ max: 7 }), closed: fc.boolean() })
    .map(({ ring, reverse, start, closed }) => {
      let r = reverse ? [...ring].reverse() : ring;
      const s = start % r.length;
      r = [...r.slice(s), ...r.slice(0, s)];
      return closed ? [...r, r[0]!] : r;
    });
}

/**
 * ReadFilters around the data: any subset of time window (bounds on existing timestamps ±1 ms,
 * `from == to` included), bbox, near, convex polygon, cameras (sometimes naming an unknown one), regions.
 */
export function readFilterArb(reads: readonly StoredRead[]): fc.Arbitrary<ReadFilter> {
  const tsValues = reads.map((r) => r.ts);
  const windowArb = fc
    .tuple(fc.option(aroundArb(tsValues, 1), { nil: undefined }), fc.option(aroundArb(tsValues, 1), { nil: undefined }))
    .map(([a, b]) => (a !== undefined && b !== undefined && a > b ? [b, a] : [a, b]) as [number | undefined, number | undefined]);
  // Each filter is present one time in four: all given filters are ANDed, and six filters at one in two
  // would leave almost every search empty.
  const sometimes = <T>(arb: fc.Arbitrary<T>) =>
    fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
  return fc
    .record({
      window: sometimes(windowArb),
      bbox: sometimes(bboxArb()),
      near: sometimes(nearArb()),
      polygon: sometimes(convexPolygonArb()),
      cameras: sometimes(fc.subarray([...kCameras.map((c) => c.camera), 'cam-unknown'], { minLength: 1 })),
      regions: sometimes(fc.subarray([...kRegions, 'WA'], { minLength: 1 })),
      makes: sometimes(fc.subarray(['toyota', 'FORD', 'škoda', 'Tesla'], { minLength: 1 })),
      colors: sometimes(fc.subarray(['WHITE', 'grey', 'Blue', 'red'], { minLength: 1 })),
    })
    .map((f) => {
      const filter: ReadFilter = {};
      if (f.window) {
        if (f.window[0] !== undefined) filter.from = f.window[0];
        if (f.window[1] !== undefined) filter.to = f.window[1];
      }
      if (f.bbox) filter.bbox = f.bbox;
      if (f.near) filter.near = f.near;
      if (f.polygon) filter.polygon = f.polygon;
      if (f.cameras) filter.cameras = f.cameras;
      if (f.regions) filter.regions = f.regions;
      if (f.makes) filter.makes = f.makes;
      if (f.colors) filter.colors = f.colors;
      return filter;
    });
}

/** A limit that often truncates (1–5), sometimes the default, sometimes the maximum. */
export const limitArb: fc.Arbitrary<number> = fc.oneof(fc.integer({ min: 1, max: 5 }), fc.constant(1000), fc.constant(10_000));

/** A whole search case: reads, the scopes the caller may see, and a query (plate optional). */
export interface SearchCase {
  reads: StoredRead[];
  scopes: TenantScope[];
  query: SearchQuery;
}

/** A search over random reads with a random (often matching) plate query and random filters. */
export function searchCaseArb(maxReads = 40): fc.Arbitrary<SearchCase> {
  return storedReadsArb(maxReads).chain((reads) => {
    const plates = reads.length > 0 ? [...new Set(reads.map((r) => r.plate))] : ['7ABC123'];
    return fc
      .record({
        scopes: scopesArb(reads),
        plate: fc.option(plateMatchArb(plates), { nil: undefined, freq: 5 }),
        filter: readFilterArb(reads),
        limit: limitArb,
      })
      .map(({ scopes, plate, filter, limit }) => {
        const query: SearchQuery = { filter, limit };
        if (plate) query.plate = plate;
        return { reads, scopes, query };
      });
  });
}

/** A hot-list search case: entries share one set of match options (as in `/v1/search/hotlist`). */
export interface HotlistCase {
  reads: StoredRead[];
  scopes: TenantScope[];
  query: HotlistQuery;
}

/**
 * A `/v1/search/hotlist` case: 1–5 entries (plates, near-misses, wildcard patterns) normalised and
 * de-duplicated in first-appearance order, each resolved to its mode as parse.ts does (`default`: wildcard
 * when the entry has `?`/`*`, else exact; `exact`/`fuzzy` drop wildcard entries, which parse would refuse).
 */
export function hotlistCaseArb(maxReads = 30): fc.Arbitrary<HotlistCase> {
  return storedReadsArb(maxReads).chain((reads) => {
    const plates = reads.length > 0 ? [...new Set(reads.map((r) => r.plate))] : ['7ABC123'];
    return fc
      .record({
        scopes: scopesArb(reads),
        opts: fc.record({ mode: fc.constantFrom('exact', 'fuzzy', 'default'), maxEdits: fc.constantFrom(0, 1, 2), ocr: fc.boolean(), transpositions: fc.boolean() }),
        raw: fc.array(fc.oneof(queryPlateArb(plates), patternArb(plates)), { minLength: 1, maxLength: 5 }),
        filter: readFilterArb(reads),
        limitPerPlate: limitArb,
      })
      .map(({ scopes, opts, raw, filter, limitPerPlate }) => {
        const seen = new Set<string>();
        const entries: PlateMatch[] = [];
        for (const pattern of raw) {
          const wild = /[?*]/.test(pattern);
          if (seen.has(pattern) || (wild && opts.mode !== 'default')) continue;
          seen.add(pattern);
          const mode = opts.mode === 'default' ? (wild ? 'wildcard' : 'exact') : opts.mode;
          entries.push({ pattern, mode, maxEdits: mode === 'fuzzy' ? opts.maxEdits : 0, ocr: opts.ocr, transpositions: mode === 'fuzzy' && opts.transpositions });
        }
        if (entries.length === 0) entries.push({ pattern: plates[0]!, mode: 'exact', maxEdits: 0, ocr: opts.ocr, transpositions: false });
        return { reads, scopes, query: { entries, filter, limitPerPlate } };
      });
  });
}

/**
 * A simple (non-self-intersecting) star-shaped ring, often concave: 3–12 vertices at increasing
 * angles around a centre, each at its own radius. On simple rings even-odd and non-zero winding agree,
 * so this is the shape to test the even-odd rule against an independent winding-number rule.
 */
export function starPolygonArb(): fc.Arbitrary<Array<[number, number]>> {
  return fc
    .record({
      lat: latArb,
      lon: lonArb,
      radii: fc.array(fc.double({ min: 0.002, max: 0.05, noNaN: true }), { minLength: 3, maxLength: 12 }),
      phase: fc.double({ min: 0, max: 6.28, noNaN: true }),
      reverse: fc.boolean(),
      closed: fc.boolean(),
    })
    .map(({ lat, lon, radii, phase, reverse, closed }) => {
      let ring = radii.map((r, k): [number, number] => {
        const a = phase + (2 * Math.PI * k) / radii.length;
        return [lon + r * Math.cos(a), lat + r * Math.sin(a)];
      });
      if (reverse) ring = ring.reverse();
      return closed ? [...ring, ring[0]!] : ring;
    });
}

/** Points in and around a ring's bounding box (20% margin), as `[lat, lon]`. */
export function pointsAroundRingArb(ring: ReadonlyArray<readonly [number, number]>, count: number): fc.Arbitrary<Array<[number, number]>> {
  const xs = ring.map((p) => p[0]), ys = ring.map((p) => p[1]);
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const mx = (maxX - minX) * 0.2, my = (maxY - minY) * 0.2;
  return fc.array(
    fc.tuple(fc.double({ min: minY - my, max: maxY + my, noNaN: true }), fc.double({ min: minX - mx, max: maxX + mx, noNaN: true })),
    { minLength: count, maxLength: count },
  );
}

/** A point in (or just around) the data's area, as `[lat, lon]`. */
export const pointArb: fc.Arbitrary<[number, number]> = fc.tuple(
  fc.double({ min: kArea.minLat - 0.05, max: kArea.maxLat + 0.05, noNaN: true }),
  fc.double({ min: kArea.minLon - 0.05, max: kArea.maxLon + 0.05, noNaN: true }),
);
