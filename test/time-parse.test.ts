/**
 * The hand-written path for `YYYY-MM-DDTHH:MM:SS.sssZ` in parseIsoTimestamp (src/model/time.ts) must give
 * exactly what the general, regex-and-Date path gives, on valid instants over the whole 4-digit-year range and
 * on strings of that shape with any digits (months 00–99, Feb 29 off leap years, 24:00, :60) or any one
 * character changed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIsoGeneral, parseIsoTimestamp } from '../src/model/time.js';

const kLast = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const instant = fc.integer({ min: new Date('0000-01-01T00:00:00.000Z').getTime(), max: kLast });
const digits = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: n, maxLength: n });

describe('parseIsoTimestamp, canonical shape', () => {
  it('equals the general path and Date on every valid instant of years 0000-9999', () => {
    fc.assert(fc.property(instant, (t) => {
      const s = new Date(t).toISOString();
      expect(parseIsoTimestamp(s)).toBe(t);
      expect(parseIsoGeneral(s)).toBe(t);
    }), { numRuns: 20_000 });
  });

  it('equals the general path on any digits in the canonical shape (invalid dates and times included)', () => {
    const shaped = fc.tuple(digits(4), digits(2), digits(2), digits(2), digits(2), digits(2), digits(3))
      .map(([y, mo, d, h, mi, s, ms]) => `${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}Z`);
    fc.assert(fc.property(shaped, (s) => {
      expect(parseIsoTimestamp(s)).toBe(parseIsoGeneral(s));
    }), { numRuns: 50_000 });
    // near the edges: month ends in leap and common years, the last second of a day
    const edge = fc.tuple(fc.constantFrom('1900', '2000', '2023', '2024', '0000', '9999'), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 27, max: 32 }),
      fc.constantFrom('23:59:59.999', '24:00:00.000', '00:00:60.000', '12:60:00.000'))
      .map(([y, mo, d, time]) => `${y}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}T${time}Z`);
    fc.assert(fc.property(edge, (s) => {
      expect(parseIsoTimestamp(s)).toBe(parseIsoGeneral(s));
    }), { numRuns: 5_000 });
  });

  it('equals the general path when one character of a valid timestamp is changed', () => {
    const mutated = fc.tuple(instant, fc.nat(23), fc.constantFrom(...'0123456789-:.TZtz+ x'))
      .map(([t, at, c]) => { const s = new Date(t).toISOString(); return s.slice(0, at) + c + s.slice(at + 1); });
    fc.assert(fc.property(mutated, (s) => {
      expect(parseIsoTimestamp(s)).toBe(parseIsoGeneral(s));
    }), { numRuns: 20_000 });
  });

  it('named cases', () => {
    expect(parseIsoTimestamp('2024-02-29T12:00:00.000Z')).toBe(Date.UTC(2024, 1, 29, 12));
    expect(parseIsoTimestamp('2023-02-29T12:00:00.000Z')).toBeUndefined();
    expect(parseIsoTimestamp('2000-02-29T00:00:00.000Z')).toBe(Date.UTC(2000, 1, 29));
    expect(parseIsoTimestamp('1900-02-29T00:00:00.000Z')).toBeUndefined();
    expect(parseIsoTimestamp('1969-12-31T23:59:59.999Z')).toBe(-1);
    expect(parseIsoTimestamp('2026-11-22T10:00:00.000z')).toBe(Date.UTC(2026, 10, 22, 10)); // lower-case zone: general path
    expect(parseIsoTimestamp('2026-11-22T10:00:00.000+01:00')).toBe(Date.UTC(2026, 10, 22, 9));
  });
});
