/**
 * The n-gram index over a plate dictionary (src/store/plate-grams.ts), its plans (src/query/gram-plan.ts)
 * and their execution (src/query/gram-match.ts), against the reference on random dictionaries and random
 * patterns: contains, wildcards, exact with OCR classes, fuzzy k = 0–2 with and without OCR classes and
 * transpositions, short and long patterns. The property that matters: the index path's answer (plates
 * and distances) equals the reference's over the whole dictionary, i.e. no candidate filter ever drops a
 * true match. DuckDB judges a share of the same cases independently (LIKE, levenshtein, OSA in SQL).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Arena } from '../src/core/arena.js';
import { Kernels } from '../src/core/kernels.js';
import type { PlateMatch } from '../src/model/query.js';
import { plateDistance } from '../src/query/reference/index.js';
import { planGrams } from '../src/query/gram-plan.js';
import { gramCandidates, unionAll, verifyCandidates } from '../src/query/gram-match.js';
import { gramKey, kGramAlphabet, PlateGrams } from '../src/store/plate-grams.js';
import { ocrMap } from '../src/model/plate.js';
import { patternFromPlateArb, plateArb, plateCharArb, plateFamilyArb, queryPlateArb, relatedPlateArb } from './helpers/arbitraries.js';
import { buildSegment } from './helpers/segment-builder.js';
import { DuckOracle } from './helpers/duckdb.js';

const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : 20261202;
const runs = (n: number) => ({ numRuns: Math.round(n * Number(process.env.PS_GRAM_SCALE ?? 1)), seed });

const arena = new Arena(0, { maxBytes: 256 * 1024 * 1024 });
const kernels = Kernels.forArena(arena, undefined, 8 * 1024 * 1024);

interface Dictionary {
  plates: string[];
  grams: PlateGrams;
  dict: number;
  free: () => void;
}

/** A sorted, duplicate-free dictionary in 16-byte slots in the arena, and its index. */
function dictionaryOf(plates: readonly string[]): Dictionary {
  const seg = buildSegment(arena, [...new Set(plates)].map((plate, i) => ({ plate, ts: i, lat: 0, lon: 0, camera: 'c' })), { sortPlates: true });
  const grams = PlateGrams.build(arena.bytes(seg.layout.dict, seg.layout.dictCount * 16), seg.layout.dictCount);
  return { plates: seg.plates, grams, dict: seg.layout.dict, free: () => seg.free() };
}

/** The reference's matches over the whole dictionary: plate → distance. */
function referenceMatches(d: Dictionary, match: PlateMatch): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of d.plates) {
    const dist = plateDistance(match, p);
    if (dist >= 0) out.set(p, dist);
  }
  return out;
}

interface IndexAnswer {
  /** undefined: no plan (the scan serves). */
  matches: Map<string, number> | undefined;
  candidates: number;
}

/** The index path's matches (no candidate cap), as tenant-match.ts runs it. */
function indexMatches(d: Dictionary, match: PlateMatch): IndexAnswer {
  const plan = planGrams(match, d.grams);
  if (!plan) return { matches: undefined, candidates: d.plates.length };
  const cand = gramCandidates(d.grams, plan, Infinity, kernels)!;
  // the unions in JS (the live path's) and by the kernel in scratch (the tenant match's) name the same candidates
  expect(Array.from(cand)).toEqual(Array.from(gramCandidates(d.grams, plan, Infinity)!));
  const out = new Map<string, number>();
  verifyCandidates(kernels, d.dict, cand, match, Infinity, (id, distance) => out.set(d.plates[id]!, distance));
  return { matches: out, candidates: cand.length };
}

/**
 * Random dictionaries: families of related plates (OCR twins, near-misses) of 1–10 characters, and
 * plates of 6–8 characters (most real plates), 60 to ~1,800 plates.
 */
const dictionaryArb: fc.Arbitrary<string[]> = fc
  .tuple(
    fc.array(plateFamilyArb(30), { minLength: 1, maxLength: 50 }),
    fc.array(plateArb, { minLength: 30, maxLength: 300 }),
    fc.array(fc.string({ unit: plateCharArb, minLength: 6, maxLength: 8 }).chain((p) => fc.array(relatedPlateArb(p), { maxLength: 3 }).map((ps) => [p, ...ps])), { minLength: 30, maxLength: 150 }),
  )
  .map(([families, loose, common]) => [...families.flat(), ...loose, ...common.flat()]);

/** A contains pattern: `*` + a piece of a plate (sometimes changed, sometimes with a `?`) + `*`. */
function containsArb(plates: readonly string[]): fc.Arbitrary<string> {
  return fc
    .record({ plate: fc.constantFrom(...plates), at: fc.nat({ max: 9 }), len: fc.integer({ min: 1, max: 8 }), q: fc.option(fc.nat({ max: 7 }), { freq: 5 }), sub: fc.option(fc.tuple(fc.nat({ max: 7 }), fc.constantFrom(...kGramAlphabet)), { freq: 4 }) })
    .map(({ plate, at, len, q, sub }) => {
      let piece = plate.slice(at % plate.length, (at % plate.length) + len).split('');
      if (sub) piece[sub[0] % piece.length] = sub[1];
      if (q !== null) piece[q % piece.length] = '?';
      return `*${piece.join('')}*`;
    });
}

function matchArb(plates: readonly string[]): fc.Arbitrary<PlateMatch> {
  const wild = (pattern: string, ocr: boolean): PlateMatch => ({ pattern, mode: 'wildcard', maxEdits: 0, ocr, transpositions: false });
  return fc.oneof(
    { weight: 4, arbitrary: fc.tuple(containsArb(plates), fc.boolean()).map(([p, ocr]) => wild(p, ocr)) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...plates).chain(patternFromPlateArb), fc.boolean()).map(([p, ocr]) => wild(p, ocr)) },
    { weight: 1, arbitrary: queryPlateArb(plates).map((pattern): PlateMatch => ({ pattern, mode: 'exact', maxEdits: 0, ocr: true, transpositions: false })) },
    {
      weight: 6,
      arbitrary: fc.record({ pattern: queryPlateArb(plates), ocr: fc.boolean(), maxEdits: fc.constantFrom(0, 1, 1, 2, 2), transpositions: fc.boolean() })
        .map(({ pattern, ocr, maxEdits, transpositions }): PlateMatch => ({ pattern, mode: 'fuzzy', maxEdits, ocr, transpositions })),
    },
  );
}

afterAll(() => void 0);

describe('PlateGrams: the postings', () => {
  it('equal a naive index (every bigram and trigram of every plate, ids ascending, once each)', () => {
    fc.assert(
      fc.property(dictionaryArb, (plates) => {
        const d = dictionaryOf(plates);
        try {
          const naive = new Map<number, number[]>();
          d.plates.forEach((p, id) => {
            const keys = new Set<number>();
            for (let n = 2; n <= 3; n++) for (let i = 0; i + n <= p.length; i++) keys.add(gramKey(p.slice(i, i + n)));
            for (const key of keys) naive.set(key, [...(naive.get(key) ?? []), id]);
          });
          let total = 0;
          for (const [key, ids] of naive) {
            expect(Array.from(d.grams.postingsOf(key))).toEqual(ids);
            total += ids.length;
          }
          expect(d.grams.entries).toBe(total);
          expect(d.grams.plates).toBe(d.plates.length);
        } finally {
          d.free();
        }
      }),
      runs(40),
    );
  });

  it('keys: bigrams then trigrams, nothing outside the plate alphabet', () => {
    expect(gramKey('AA')).toBe(0);
    expect(gramKey('99')).toBe(36 * 36 - 1);
    expect(gramKey('AAA')).toBe(36 * 36);
    expect(gramKey('999')).toBe(36 * 36 + 36 ** 3 - 1);
    expect(gramKey('A?')).toBe(-1);
    expect(gramKey('a1')).toBe(-1);
    expect(gramKey('ABCD')).toBe(-1);
  });

  it('unionAll merges ascending lists into one ascending list without repeats', () => {
    fc.assert(
      fc.property(fc.array(fc.uniqueArray(fc.nat({ max: 500 })), { maxLength: 9 }), (lists) => {
        const sorted = lists.map((l) => Uint32Array.from(l.sort((a, b) => a - b)));
        const want = [...new Set(lists.flat())].sort((a, b) => a - b);
        expect(Array.from(unionAll(sorted))).toEqual(want);
        // the same merges by the union kernel in scratch (assembly/candidates.ts), as the tenant match runs them
        expect(Array.from(unionAll(sorted, kernels))).toEqual(want);
      }),
      runs(200),
    );
  });
});

describe('index path vs reference over the whole dictionary', () => {
  it('random dictionaries × random patterns: equal plates and distances; candidates never miss a match', () => {
    const seen = { planned: 0, unplanned: 0, nonEmpty: 0, fuzzy2: 0, ocr: 0, osa: 0, narrowed: 0 };
    fc.assert(
      fc.property(dictionaryArb.chain((plates) => fc.tuple(fc.constant(plates), fc.array(matchArb(plates), { minLength: 40, maxLength: 40 }))), ([plates, matches]) => {
        const d = dictionaryOf(plates);
        try {
          for (const match of matches) {
            const want = referenceMatches(d, match);
            const got = indexMatches(d, match);
            if (!got.matches) {
              seen.unplanned++;
              continue;
            }
            seen.planned++;
            if (want.size > 0) seen.nonEmpty++;
            if (match.mode === 'fuzzy' && match.maxEdits === 2) seen.fuzzy2++;
            if (match.ocr) seen.ocr++;
            if (match.transpositions) seen.osa++;
            if (got.candidates * 4 < d.plates.length) seen.narrowed++;
            expect([...got.matches].sort(), JSON.stringify(match)).toEqual([...want].sort());
          }
        } finally {
          d.free();
        }
      }),
      runs(120),
    );
    console.log('index path vs reference:', JSON.stringify(seen));
    // the properties exercised what they claim: most patterns planned, many matched, every kind present
    expect(seen.planned).toBeGreaterThan(seen.unplanned);
    expect(seen.nonEmpty).toBeGreaterThan(seen.planned / 3);
    expect(seen.narrowed).toBeGreaterThan(seen.planned / 2);
    for (const n of [seen.fuzzy2, seen.ocr, seen.osa]) expect(n).toBeGreaterThan(100);
  });

  it('exhaustive over one dictionary: every plate as a fuzzy pattern (k 0–2 × OCR × OSA, as is and with one edit), every substring as contains', () => {
    // 150 plates in families (OCR twins, swaps, near-misses): deterministic, so this is the same set every run
    const plates = fc.sample(dictionaryArb, { numRuns: 1, seed: 4242 })[0]!.slice(0, 150);
    const d = dictionaryOf(plates);
    let planned = 0, checked = 0;
    const check = (match: PlateMatch) => {
      const got = indexMatches(d, match);
      checked++;
      if (!got.matches) return;
      planned++;
      expect([...got.matches].sort(), JSON.stringify(match)).toEqual([...referenceMatches(d, match)].sort());
    };
    try {
      for (const [i, p] of d.plates.entries()) {
        const edited = p.length > 1 ? p.slice(0, i % p.length) + kGramAlphabet[(i * 7) % 36] + p.slice((i % p.length) + 1) : p;
        for (const pattern of [p, edited]) {
          for (const maxEdits of [0, 1, 2]) for (const ocr of [false, true]) for (const transpositions of [false, true]) check({ pattern, mode: 'fuzzy', maxEdits, ocr, transpositions });
        }
        for (let a = 0; a < p.length; a++) {
          for (let b = a + 2; b <= Math.min(p.length, a + 5); b++) for (const ocr of [false, true]) check({ pattern: `*${p.slice(a, b)}*`, mode: 'wildcard', maxEdits: 0, ocr, transpositions: false });
        }
      }
    } finally {
      d.free();
    }
    expect(checked).toBeGreaterThan(5000);
    expect(planned).toBeGreaterThan(checked / 2);
  });

  it('named cases: the pigeonhole with OCR twins, transpositions at piece boundaries, short and long patterns', () => {
    const plates = [
      '4ZUE803', '42UE803', '4ZVE8O3', 'AZUE803', '4ZUE8031', 'ZUE803', '4UZE803', '4ZEU803', '4ZUE830', '4ZUE80', 'UE80', 'UE8', 'U', '4',
      'ABCDEFGHIJ', 'BACDEFGHIJ', 'ABCDEFGHJI', 'ABCDEFGHI', 'ACBDFEGHIJ', '1234567', '2134567', '1243567', '1234576', '7654321', 'I234S67', 'L234567',
    ];
    const d = dictionaryOf(plates);
    try {
      const cases: PlateMatch[] = [];
      for (const pattern of ['4ZUE803', '4ZUEX03', '42UE80X', 'ABCDEFGHIJ', 'BADCFEHGJI', '1234567', '2143657', 'UE80', 'UE', 'U', '1243576']) {
        for (const maxEdits of [0, 1, 2]) for (const ocr of [false, true]) for (const transpositions of [false, true]) cases.push({ pattern, mode: 'fuzzy', maxEdits, ocr, transpositions });
        cases.push({ pattern, mode: 'exact', maxEdits: 0, ocr: true, transpositions: false });
      }
      for (const pattern of ['*UE80*', '*UE8*', '*UE*', '*U*', '*E8?3*', '4ZU?80*', '*80', '4*', '??UE*', '*1234567*', '*L23*', '*DEFGHIJ', '*O3']) {
        for (const ocr of [false, true]) cases.push({ pattern, mode: 'wildcard', maxEdits: 0, ocr, transpositions: false });
      }
      for (const match of cases) {
        const got = indexMatches(d, match);
        if (got.matches) expect([...got.matches].sort(), JSON.stringify(match)).toEqual([...referenceMatches(d, match)].sort());
      }
      // a transposition across two neighbouring pieces would lose 2134567 for 1234567 k=1 OSA without the gap
      expect(indexMatches(d, { pattern: '1234567', mode: 'fuzzy', maxEdits: 1, ocr: false, transpositions: true }).matches!.get('2134567')).toBe(1);
      expect(indexMatches(d, { pattern: '1234567', mode: 'fuzzy', maxEdits: 2, ocr: true, transpositions: false }).matches!.get('I234S67')).toBe(0);
    } finally {
      d.free();
    }
  });

  it('falls back to the scan (no plan) exactly where the pigeonhole gives nothing to look up', () => {
    const d = dictionaryOf(['4ZUE803', 'ABC']);
    try {
      const fuzzy = (pattern: string, maxEdits: number, transpositions = false): PlateMatch => ({ pattern, mode: 'fuzzy', maxEdits, ocr: false, transpositions });
      const wild = (pattern: string): PlateMatch => ({ pattern, mode: 'wildcard', maxEdits: 0, ocr: false, transpositions: false });
      // pieces of ≥ 2 characters: k+1 of them (Levenshtein), k+1 with gaps of 1 (OSA)
      expect(planGrams(fuzzy('ABCD', 1), d.grams)).toBeDefined();
      expect(planGrams(fuzzy('ABC', 1), d.grams)).toBeUndefined();
      expect(planGrams(fuzzy('ABCDEF', 2), d.grams)).toBeDefined();
      expect(planGrams(fuzzy('ABCDE', 2), d.grams)).toBeUndefined();
      expect(planGrams(fuzzy('ABCDE', 1, true), d.grams)).toBeDefined();
      expect(planGrams(fuzzy('ABCD', 1, true), d.grams)).toBeUndefined();
      expect(planGrams(fuzzy('ABCDEFGH', 2, true), d.grams)).toBeDefined();
      expect(planGrams(fuzzy('ABCDEFG', 2, true), d.grams)).toBeUndefined();
      expect(planGrams(fuzzy('AB', 0), d.grams)).toBeDefined();
      expect(planGrams(fuzzy('A', 0), d.grams)).toBeUndefined();
      for (const p of ['*', '*A*', '?', 'A?B*C', '??????????']) expect(planGrams(wild(p), d.grams), p).toBeUndefined();
      for (const p of ['*AB*', 'A?BC*', '*UE80*', 'AB']) expect(planGrams(wild(p), d.grams), p).toBeDefined();
      // every OSA plan keeps its pieces apart: each alternative's grams come from disjoint, non-adjacent spans
      const plan = planGrams(fuzzy('1234567890', 2, true), d.grams)!;
      expect(plan.alternatives).toHaveLength(3);
    } finally {
      d.free();
    }
  });

  it('OCR groups hold every raw gram of the class product (0ODQ × 8B: 8 grams)', () => {
    const d = dictionaryOf(['D8', 'O8', 'QB', '0B', 'A8']);
    try {
      const plan = planGrams({ pattern: '*08*', mode: 'wildcard', maxEdits: 0, ocr: true, transpositions: false }, d.grams)!;
      expect(plan.alternatives).toHaveLength(1);
      expect(plan.alternatives[0]).toHaveLength(1);
      expect([...plan.alternatives[0]![0]!].sort((a, b) => a - b)).toEqual(['0', 'O', 'D', 'Q'].flatMap((a) => ['8', 'B'].map((b) => gramKey(a + b))).sort((a, b) => a - b));
      const got = indexMatches(d, { pattern: '*08*', mode: 'wildcard', maxEdits: 0, ocr: true, transpositions: false }).matches!;
      expect([...got.keys()].sort()).toEqual(['0B', 'D8', 'O8', 'QB']);
    } finally {
      d.free();
    }
  });
});

describe('index path vs DuckDB', () => {
  let duck: DuckOracle;
  beforeAll(async () => {
    duck = await DuckOracle.create();
  });
  afterAll(() => duck.close());

  it('the plates each pattern matches equal DuckDB LIKE / levenshtein / OSA over translate()d plates', async () => {
    let compared = 0, nonEmpty = 0;
    await fc.assert(
      fc.asyncProperty(dictionaryArb.chain((plates) => fc.tuple(fc.constant(plates), fc.array(matchArb(plates), { minLength: 12, maxLength: 12 }))), async ([plates, matches]) => {
        const d = dictionaryOf(plates);
        try {
          for (const match of matches) {
            const got = indexMatches(d, match).matches;
            if (!got) continue;
            const pairs = d.plates.map((p) => [match.pattern, p] as const);
            let want: Map<string, number>;
            if (match.mode === 'fuzzy') {
              const [mp, ...mplates] = match.ocr ? await duck.ocrTranslate([match.pattern, ...d.plates]) : [match.pattern, ...d.plates];
              const mpairs = mplates.map((p) => [mp!, p] as const);
              const dist = match.transpositions ? await duck.osa(mpairs) : await duck.levenshtein(mpairs);
              want = new Map(d.plates.flatMap((p, i) => (dist[i]! <= match.maxEdits ? [[p, dist[i]!] as const] : [])));
            } else {
              const likePairs = match.mode === 'exact' ? pairs.map(([a, b]) => [a.replaceAll('*', ''), b] as const) : pairs;
              const ok = await duck.like(likePairs, match.ocr);
              want = new Map(d.plates.flatMap((p, i) => (ok[i] ? [[p, 0] as const] : [])));
            }
            expect([...got].sort(), JSON.stringify(match)).toEqual([...want].sort());
            compared++;
            if (want.size > 0) nonEmpty++;
          }
        } finally {
          d.free();
        }
      }),
      runs(12),
    );
    expect(compared).toBeGreaterThan(60);
    expect(nonEmpty).toBeGreaterThan(compared / 4);
  });
});

// ocrMap is what the plan maps patterns with; the DuckDB half above maps with SQL translate() instead
void ocrMap;
