import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { HotlistMatcher, type MatchSpec } from '../src/hotlist/matcher.js';
import { likeMatch } from '../src/hotlist/like.js';
import { boundedDistance } from '../src/hotlist/edit-distance.js';
import { hasWildcard } from '../src/model/plate.js';
import type { PlateMatch } from '../src/model/query.js';
import { levenshtein, osaDistance, plateDistance, wildcardMatch } from '../src/query/reference/index.js';

// a small alphabet with OCR look-alikes, so that random plates collide, match fuzzily and confuse
const plateArb = fc.string({ unit: fc.constantFrom('A', 'B', '8', 'O', '0', 'D', 'Z', '2', 'X'), minLength: 1, maxLength: 10 });
const patternArb = fc
  .array(fc.constantFrom('A', 'B', '8', 'O', '0', 'D', 'Z', '2', 'X', '?', '*'), { minLength: 1, maxLength: 12 })
  .map((cs) => cs.join(''))
  .filter((p) => p.replaceAll('*', '').length <= 10);
const specArb: fc.Arbitrary<MatchSpec> = fc.record({
  mode: fc.constantFrom('exact' as const, 'fuzzy' as const),
  maxEdits: fc.integer({ min: 0, max: 2 }),
  ocr: fc.boolean(),
  transpositions: fc.boolean(),
});

function entryMatch(pattern: string, spec: MatchSpec): PlateMatch {
  if (hasWildcard(pattern)) return { pattern, mode: 'wildcard', maxEdits: 0, ocr: spec.ocr, transpositions: false };
  const fuzzy = spec.mode === 'fuzzy';
  return { pattern, mode: spec.mode, maxEdits: fuzzy ? spec.maxEdits : 0, ocr: spec.ocr, transpositions: fuzzy && spec.transpositions };
}

function oracle(patterns: string[], spec: MatchSpec, plates: string[], expires?: Float64Array, now = 0): string[] {
  const out: string[] = [];
  plates.forEach((plate, i) => {
    patterns.forEach((pattern, e) => {
      if (expires && now >= expires[e]!) return;
      const d = plateDistance(entryMatch(pattern, spec), plate);
      if (d >= 0) out.push(`${i}:${e}:${d}`);
    });
  });
  return out.sort();
}

function run(patterns: string[], spec: MatchSpec, plates: string[], expires?: Float64Array, now = 0): string[] {
  const m = HotlistMatcher.build(patterns, spec, expires);
  const out: string[] = [];
  m.matchBatch(plates, now, (i, e, d) => out.push(`${i}:${e}:${d}`));
  // one plate at a time (the engine's path) agrees with the batch path
  const single: string[] = [];
  plates.forEach((p, i) => m.match(p, now, (_, e, d) => single.push(`${i}:${e}:${d}`)));
  expect(single.sort()).toEqual([...out].sort());
  return out.sort();
}

const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

describe('hot-list matcher vs the reference plateDistance', () => {
  it('agrees on random lists (exact, fuzzy k 0–2, OCR, OSA, wildcard entries) and plates', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(plateArb, patternArb), { minLength: 1, maxLength: 40 }), specArb, fc.array(plateArb, { minLength: 1, maxLength: 30 }),
        (patterns, spec, plates) => {
          expect(run(patterns, spec, plates)).toEqual(oracle(patterns, spec, plates));
        }),
      { numRuns: 400 },
    );
  });

  it('agrees on realistic 7-character plates with k = 2 and OCR', () => {
    const alnum = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'.split(''));
    const plate7 = fc.string({ unit: alnum, minLength: 5, maxLength: 8 });
    fc.assert(
      fc.property(fc.array(plate7, { minLength: 50, maxLength: 200 }), fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 1000 }),
        (entries, ocr, transpositions, k, seed) => {
          // plates: mutated entries (so that matches exist) plus random ones
          const plates = entries.slice(0, 40).map((p, i) => {
            const c = p.split('');
            const pos = (seed + i) % c.length;
            if (i % 3 === 0) c[pos] = 'O';
            else if (i % 3 === 1) c.splice(pos, 1);
            else if (pos + 1 < c.length) [c[pos], c[pos + 1]] = [c[pos + 1]!, c[pos]!];
            return c.join('') || 'A';
          });
          const spec: MatchSpec = { mode: 'fuzzy', maxEdits: k, ocr, transpositions };
          expect(run(entries, spec, plates)).toEqual(oracle(entries, spec, plates));
        }),
      { numRuns: 100 },
    );
  });

  it('agrees on a list large enough for shared buckets, long probe chains and the presence filter', () => {
    // 4-character plates over 6 symbols: many entries share deletion variants (multi-entry buckets)
    const r = (() => { let a = 7; return () => ((a = (Math.imul(a, 1103515245) + 12345) >>> 0) >>> 8) / 16777216; })();
    const pick = (n: number) => Array.from({ length: n }, () => Array.from({ length: 3 + Math.floor(r() * 3) }, () => 'AB8O0D'[Math.floor(r() * 6)]).join(''));
    const entries = [...new Set(pick(3000))];
    const plates = pick(300);
    for (const spec of [
      { mode: 'fuzzy', maxEdits: 1, ocr: true, transpositions: false },
      { mode: 'fuzzy', maxEdits: 2, ocr: false, transpositions: true },
      { mode: 'exact', maxEdits: 0, ocr: true, transpositions: false },
    ] as MatchSpec[]) {
      expect(run(entries, spec, plates)).toEqual(oracle(entries, spec, plates));
    }
  });

  it('never matches an entry at or after its expiry', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(plateArb, patternArb), { minLength: 1, maxLength: 30 }), specArb, fc.array(plateArb, { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 0, max: 100 }), (patterns, spec, plates, now) => {
          const expires = Float64Array.from(patterns, (_, i) => (i % 3 === 0 ? Infinity : (i * 7) % 100));
          expect(run(patterns, spec, plates, expires, now)).toEqual(oracle(patterns, spec, plates, expires, now));
        }),
      { numRuns: 200 },
    );
  });

  it('names the edge cases: 1- and 10-character plates, `*` only, OCR look-alikes, duplicates after mapping', () => {
    const spec: MatchSpec = { mode: 'exact', maxEdits: 0, ocr: true, transpositions: false };
    expect(run(['*', '0B', 'O8', 'ABCDEFGHIJ', '?'], spec, ['A', 'OB', 'ABCDEFGHIJ'])).toEqual(
      ['0:0:0', '0:4:0', '1:0:0', '1:1:0', '1:2:0', '2:0:0', '2:3:0'].sort(),
    );
    const fuzzy: MatchSpec = { mode: 'fuzzy', maxEdits: 1, ocr: false, transpositions: false };
    expect(run(['7ABC123'], fuzzy, ['7ABC12', '7ABC1234', '7ABD123', '7ACB123', '7ABC123'])).toEqual(
      ['0:0:1', '1:0:1', '2:0:1', '4:0:0'].sort(),
    );
    expect(run(['7ABC123'], { ...fuzzy, transpositions: true }, ['7ACB123'])).toEqual(['0:0:1']);
  });

  it('builds from PlateMatches with shared options and refuses mixed ones', () => {
    const m = HotlistMatcher.fromPlateMatches([
      { pattern: 'ABC1', mode: 'fuzzy', maxEdits: 1, ocr: false, transpositions: false },
      { pattern: 'X*', mode: 'wildcard', maxEdits: 0, ocr: false, transpositions: false },
    ]);
    const hits: string[] = [];
    m.match('XBC1', 0, (_, e, d) => hits.push(`${e}:${d}`));
    expect(hits.sort()).toEqual(['0:1', '1:0']);
    expect(() => HotlistMatcher.fromPlateMatches([
      { pattern: 'ABC1', mode: 'fuzzy', maxEdits: 1, ocr: false, transpositions: false },
      { pattern: 'ABC2', mode: 'exact', maxEdits: 0, ocr: false, transpositions: false },
    ])).toThrow();
  });
});

describe('matcher building blocks vs the reference', () => {
  it('likeMatch agrees with wildcardMatch', () => {
    fc.assert(fc.property(patternArb, plateArb, (p, s) => {
      expect(likeMatch(bytes(p), 0, p.length, bytes(s), 0, s.length)).toBe(wildcardMatch(p, s));
    }), { numRuns: 2000 });
  });
  it('boundedDistance agrees with levenshtein and osaDistance', () => {
    fc.assert(fc.property(plateArb, plateArb, fc.integer({ min: 0, max: 3 }), fc.boolean(), (a, b, k, osa) => {
      const want = osa ? osaDistance(a, b) : levenshtein(a, b);
      expect(boundedDistance(bytes(a), 0, a.length, bytes(b), 0, b.length, k, osa)).toBe(want <= k ? want : k + 1);
    }), { numRuns: 3000 });
  });
});
