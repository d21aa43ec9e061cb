/**
 * src/query/parse.ts: a hot list's entries read in one pass (parseHotlistEntry) held equal to their
 * definition — parsePlateMatch for each entry, duplicates dropped after their first appearance — on random
 * lists and match options: the same entries in the same order, or the same coded error naming the same entry.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPlatesearchError } from '../src/errors.js';
import type { PlateMatch } from '../src/model/query.js';
import { parseHotlistSearchRequest, parsePlateMatch, type MatchOptions } from '../src/query/parse.js';

const just = { purpose: 'investigation', case: '2026-001234' };

/** The definition: every entry through parsePlateMatch, the first of each pattern kept. */
function entriesDefinition(body: Record<string, unknown>): PlateMatch[] {
  const opts: MatchOptions = { ocr: body.ocr === true, transpositions: body.transpositions === true };
  if (body.match !== undefined) opts.match = body.match as MatchOptions['match'];
  if (body.maxEdits !== undefined) opts.maxEdits = body.maxEdits as number;
  const seen = new Set<string>();
  const out: PlateMatch[] = [];
  (body.plates as unknown[]).forEach((raw, i) => {
    const e = parsePlateMatch(raw, opts, 'plates', i);
    if (seen.has(e.pattern)) return;
    seen.add(e.pattern);
    out.push(e);
  });
  return out;
}

function outcome(run: () => PlateMatch[]): unknown {
  try {
    return { entries: run() };
  } catch (err) {
    if (!isPlatesearchError(err)) throw err;
    return { code: err.code, message: err.message, details: err.details };
  }
}

// what clients send (normal plates), what they should not (lower case, spaces, wildcards, too long, empty,
// non-strings, non-ASCII), and repeats of each
const unitArb = fc.oneof(
  fc.constantFrom(...'ABCXYZ0189'.split('')),
  fc.constantFrom(...'az ?*-.é\u0000'.split('')),
);
const entryArb = fc.oneof(
  { weight: 6, arbitrary: fc.array(fc.constantFrom(...'ABCXYZ0189'.split('')), { minLength: 1, maxLength: 10 }).map((u) => u.join('')) },
  { weight: 3, arbitrary: fc.array(unitArb, { maxLength: 14 }).map((u) => u.join('')) },
  { weight: 1, arbitrary: fc.oneof(fc.constant('*'.repeat(12) + 'AB'), fc.constant('ABCDEFGHIJK'), fc.constant('AB*CDEFGHIJK'), fc.integer(), fc.constant(null), fc.constant(['AB'])) },
);

describe('hot-list entries in one pass', () => {
  it('equal parsePlateMatch over every entry, first appearances kept', () => {
    fc.assert(fc.property(
      fc.array(entryArb, { minLength: 1, maxLength: 30 }).chain((plates) => fc.tuple(fc.constant(plates), fc.subarray(plates))),
      fc.record({
        match: fc.constantFrom('exact', 'wildcard', 'fuzzy'),
        maxEdits: fc.integer({ min: 0, max: 2 }),
        ocr: fc.boolean(),
        transpositions: fc.boolean(),
      }, { requiredKeys: [] }),
      ([plates, again], options) => {
        if (options.maxEdits !== undefined && options.match !== 'fuzzy') delete options.maxEdits;
        if (options.transpositions && options.match !== 'fuzzy') delete options.transpositions;
        const body = { ...just, ...options, plates: [...plates, ...again] };
        const want = outcome(() => entriesDefinition(body));
        const got = outcome(() => parseHotlistSearchRequest(body).query.entries);
        expect(got).toEqual(want);
      },
    ), { numRuns: 3000 });
  });
});
