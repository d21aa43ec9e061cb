/**
 * Dictionary kernels (exact, wildcard, fuzzy Levenshtein/OSA, OCR) against the reference plateDistance,
 * on the compiled wasm: every entry's distance (or 255) and the matched count must agree.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { Arena } from '../src/core/arena.js';
import { Kernels, kNoMatch } from '../src/core/kernels.js';
import type { PlateMatch } from '../src/model/query.js';
import { plateDistance } from '../src/query/reference/index.js';
import { plateArb, plateFamilyArb, plateMatchArb, relatedPlateArb } from './helpers/arbitraries.js';
import { buildSegment } from './helpers/segment-builder.js';

const arena = new Arena(0, { maxBytes: 256 * 1024 * 1024 });
const kernels = Kernels.forArena(arena, undefined, 4 * 1024 * 1024);
afterAll(() => void 0);

/** Runs the kernel over `plates` as one dictionary and returns the per-entry distances. */
function kernelDistances(plates: readonly string[], match: PlateMatch): { distances: number[]; count: number; plates: string[] } {
  const seg = buildSegment(arena, plates.map((plate, i) => ({ plate, ts: i, lat: 0, lon: 0, camera: 'c' })));
  const mark = kernels.scratch.mark();
  try {
    const out = kernels.scratch.alloc(Math.max(1, seg.layout.dictCount));
    const count = kernels.matchDictionary(seg.layout, match, out);
    return { distances: Array.from(kernels.bytes(out, seg.layout.dictCount)), count, plates: seg.plates };
  } finally {
    kernels.scratch.release(mark);
    seg.free();
  }
}

function check(plates: readonly string[], match: PlateMatch): void {
  const got = kernelDistances(plates, match);
  const want = got.plates.map((p) => {
    const d = plateDistance(match, p);
    return d < 0 ? kNoMatch : d;
  });
  const diff = got.plates.flatMap((p, i) => (got.distances[i] !== want[i] ? [`${p}: kernel ${got.distances[i]} reference ${want[i]}`] : []));
  expect(diff, JSON.stringify(match)).toEqual([]);
  expect(got.count).toBe(want.filter((d) => d !== kNoMatch).length);
}

const fuzzy = (pattern: string, maxEdits: number, ocr = false, transpositions = false): PlateMatch =>
  ({ pattern, mode: 'fuzzy', maxEdits, ocr, transpositions });
const wildcard = (pattern: string, ocr = false): PlateMatch => ({ pattern, mode: 'wildcard', maxEdits: 0, ocr, transpositions: false });
const exact = (pattern: string, ocr = false): PlateMatch => ({ pattern, mode: 'exact', maxEdits: 0, ocr, transpositions: false });

describe('dictionary kernels: named cases', () => {
  const plates = ['7ABC123', 'ABC', '7ABC132', 'X', '0', 'O', 'ABCDEFGHIJ', 'ABCDEFGHJI', '0BC1Z3', 'OBCIZ3', '7A8C123', 'ZZZZZZZZZZ', '7ABC1234', '7ABC12', 'BAC'];
  it('exact, with and without OCR classes', () => {
    for (const p of ['7ABC123', 'X', 'ABCDEFGHIJ', 'NOPE', 'OBC1Z3']) {
      check(plates, exact(p));
      check(plates, exact(p, true));
    }
  });
  it('wildcards: * alone, ? at the ends, stars anywhere', () => {
    for (const p of ['*', '**', '?', '??', '?*?', '*?*', '?ABC', 'ABC?', '7ABC12?', '?ABC12?', '7*', '*3', '*BC*', '7*1*3', 'A*B*C', '*C?2*', '??????????', '*??????????', 'ABCDEFGHI*J']) {
      check(plates, wildcard(p));
      check(plates, wildcard(p, true));
    }
  });
  it('fuzzy k 0–2, Levenshtein and OSA, 1- and 10-character patterns (8- and 16-bit lanes)', () => {
    for (const p of ['7ABC123', 'X', 'AB', 'ABCDEFGHIJ', 'ABCDEFGHI', 'BAC', '0BCIZ3']) {
      for (const k of [0, 1, 2]) for (const t of [false, true]) for (const o of [false, true]) check(plates, fuzzy(p, k, o, t));
    }
  });
  it('OSA allows no edits inside a swap', () => {
    check(['ABC', 'CA', 'AC', 'BCA'], fuzzy('CA', 2, false, true));
    check(['ABC', 'CA', 'AC', 'BCA'], fuzzy('ABC', 2, false, true));
  });
  it('dictionaries of every size around the 16-plate SIMD group (tails)', () => {
    for (const n of [0, 1, 2, 15, 16, 17, 31, 32, 33, 47]) {
      const plates = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? '7ABC12' + (i % 10) : 'Q' + i));
      check(plates, fuzzy('7ABC123', 1));
      check(plates, fuzzy('7ABC1234X', 2, true, true));
      check(plates, wildcard('7*3'));
      check(plates, exact('7ABC123'));
    }
  });
});

describe('dictionary kernels vs reference (property)', () => {
  it('every mode on random plate families', () => {
    fc.assert(
      fc.property(plateFamilyArb(40).chain((plates) => fc.tuple(fc.constant(plates), fc.array(plateMatchArb(plates), { minLength: 1, maxLength: 6 }))),
        ([plates, matches]) => {
          for (const m of matches) check(plates, m);
        }),
      { numRuns: 250 },
    );
  });
  it('contains `*L*` and prefix `P*` (the SIMD pre-filter alone decides them), with and without OCR', () => {
    // pieces of the family's own plates (so most patterns match something), some with a `?` or a changed
    // character, some with extra stars; the prefix shape with `?` and the OCR shapes take other loops
    const shapeArb = fc.record({
      plate: fc.nat(), at: fc.nat(9), len: fc.integer({ min: 0, max: 10 }), q: fc.integer({ min: -1, max: 9 }),
      change: fc.option(fc.constantFrom(...'A0O1I8B5S'), { nil: undefined }), shape: fc.constantFrom('contains', 'prefix', 'stars'), ocr: fc.boolean(),
    });
    fc.assert(
      fc.property(plateFamilyArb(40), fc.array(shapeArb, { minLength: 1, maxLength: 8 }), (plates, shapes) => {
        for (const s of shapes) {
          const p = plates[s.plate % plates.length]!;
          let piece = s.shape === 'prefix' ? p.slice(0, s.len) : p.slice(s.at, s.at + s.len);
          if (s.change && piece.length > 0) piece = s.change + piece.slice(1);
          if (s.shape === 'prefix' && s.q >= 0 && s.q < piece.length) piece = `${piece.slice(0, s.q)}?${piece.slice(s.q + 1)}`;
          const pattern = s.shape === 'prefix' ? `${piece}*` : s.shape === 'stars' ? `**${piece}***` : `*${piece}*`;
          check(plates, wildcard(pattern, s.ocr));
        }
      }),
      { numRuns: 300 },
    );
  });
  it('fuzzy with 9–10 character patterns (16-bit lanes)', () => {
    const longArb = fc.string({ unit: fc.constantFrom(...'0ODQ1IL2Z5S8BAX'), minLength: 9, maxLength: 10 });
    fc.assert(
      fc.property(
        longArb.chain((seed) => fc.tuple(fc.constant(seed), fc.array(fc.oneof(relatedPlateArb(seed), plateArb), { minLength: 1, maxLength: 40 }))),
        fc.constantFrom(0, 1, 2), fc.boolean(), fc.boolean(),
        ([seed, plates], k, ocr, osa) => check(plates, fuzzy(seed, k, ocr, osa)),
      ),
      { numRuns: 200 },
    );
  });
});
