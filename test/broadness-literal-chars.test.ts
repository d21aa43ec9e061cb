/**
 * src/query/broadness.ts `literalChars` (read in place) held equal to its definition: the characters of the
 * pattern's first 64 code units that `normalisePattern` keeps, besides `?` and `*`; and `hasNarrowPattern`
 * (which the broad-search guard asks first, src/server/governance/guard.ts) equal to that definition applied
 * to every entry, on random patterns and bodies.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalisePattern } from '../src/model/plate.js';
import { assessBroadness, hasNarrowPattern, kMinLiteralChars, literalChars } from '../src/query/broadness.js';

/** The definition: normalise the first 64 code units, count what is not a wildcard. */
function literalCharsDefinition(pattern: unknown): number {
  if (typeof pattern !== 'string') return 0;
  let n = 0;
  for (const ch of normalisePattern(pattern.length > 64 ? pattern.slice(0, 64) : pattern)) if (ch !== '?' && ch !== '*') n++;
  return n;
}

function narrowDefinition(body: Record<string, unknown>): boolean {
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (typeof body.plate === 'string') return literalCharsDefinition(body.plate) >= kMinLiteralChars;
  if (Array.isArray(body.plates) && body.plates.length > 0) {
    return body.plates.every((p) => literalCharsDefinition(isObject(p) ? p.plate : p) >= kMinLiteralChars);
  }
  return false;
}

// every code unit class the normalisation treats apart: A–Z, a–z, 0–9, wildcards, their neighbours in
// ASCII (@ [ ` { / :), controls (0x10–0x19 are the digits less 0x20), non-ASCII and surrogates
const unitArb = fc.oneof(
  fc.constantFrom(...'AZaz09?*@[`{/: -_'.split('')),
  fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0x80, max: 0xffff }).map((c) => String.fromCharCode(c)),
);
const patternArb = fc.array(unitArb, { maxLength: 80 }).map((u) => u.join(''));
const entryArb = fc.oneof(patternArb, fc.constantFrom('AB', 'ab1', 'A?B', '***', ''), fc.integer(), fc.constant(null), patternArb.map((plate) => ({ plate })));

describe('literalChars', () => {
  it('equals the normalise-and-count definition, and stops at `enough`', () => {
    fc.assert(fc.property(fc.oneof(patternArb, fc.anything()), fc.integer({ min: 0, max: 70 }), (p, enough) => {
      const want = literalCharsDefinition(p);
      expect(literalChars(p)).toBe(want);
      expect(literalChars(p, enough)).toBe(Math.min(want, enough));
    }), { numRuns: 5000 });
  });

  it('hasNarrowPattern and the broad verdict equal their definitions on random bodies', () => {
    const rule = { maxAreaKm2: 50, maxDays: 7 };
    fc.assert(fc.property(
      fc.oneof(
        patternArb.map((plate) => ({ plate })),
        fc.array(entryArb, { maxLength: 8 }).map((plates) => ({ plates })),
        fc.record({ plate: fc.anything(), plates: fc.anything() }, { requiredKeys: [] }),
      ),
      (body) => {
        const narrow = narrowDefinition(body);
        expect(hasNarrowPattern(body)).toBe(narrow);
        if (narrow) expect(assessBroadness(body, rule).broad).toBe(false);
      },
    ), { numRuns: 3000 });
  });
});
