/**
 * The request path's plate-pattern fast paths held to their plain definitions (written out here as they were
 * before the fast paths): `normalisePattern` returning an already-normal pattern as it is, `parsePlateMatch`
 * naming a list entry only for an error and counting "*" only in patterns longer than a plate, and the
 * audit record's canonical JSON leaving lists of plain values uncopied.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadInput, isPlatesearchError } from '../src/errors.js';
import { hasWildcard, kMaxPlateLength, normalisePattern } from '../src/model/plate.js';
import type { MatchMode, PlateMatch } from '../src/model/query.js';
import { parseHotlistSearchRequest, parsePlateMatch } from '../src/query/parse.js';
import { canonicalJson } from '../src/server/audit/record.js';

/** The definition: upper-case a–z, keep A–Z, 0–9, `?` and `*`, drop the rest. */
function plainNormalisePattern(raw: string): string {
  let out = '';
  for (const ch of raw) {
    const c = ch.length === 1 ? ch.toUpperCase() : ch;
    if (/^[A-Z0-9?*]$/.test(c) && (ch === c || /^[a-z]$/.test(ch))) out += c;
  }
  return out;
}

type Options = { match?: MatchMode; maxEdits?: number; ocr: boolean; transpositions: boolean };

/** parsePlateMatch as it was: the field's name made first, "*" counted in every pattern. */
function plainParsePlateMatch(raw: unknown, opts: Options, field: string): PlateMatch {
  if (typeof raw !== 'string') throw BadInput(`${field} must be a string`, { field });
  const pattern = plainNormalisePattern(raw);
  const significant = pattern.replaceAll('*', '').length;
  if (pattern.length === 0) throw BadInput(`${field} is empty after normalisation`, { field });
  if (significant > kMaxPlateLength) throw BadInput(`${field} has more than ${kMaxPlateLength} characters besides "*"`, { field });
  const wild = hasWildcard(pattern);
  const mode: MatchMode = opts.match ?? (wild ? 'wildcard' : 'exact');
  if (wild && mode !== 'wildcard') throw BadInput(`${field}: "?" and "*" need match "wildcard"`, { field });
  return { pattern, mode, maxEdits: mode === 'fuzzy' ? (opts.maxEdits ?? 1) : 0, ocr: opts.ocr, transpositions: mode === 'fuzzy' && opts.transpositions };
}

/** The outcome of `run` as comparable data: its value, or its error's code, message and field. */
function outcome(run: () => unknown): unknown {
  try {
    return { value: run() };
  } catch (err) {
    if (!isPlatesearchError(err)) throw err;
    return { code: err.code, message: err.message, field: err.details?.field };
  }
}

// mostly normal patterns (what clients send), some with what normalisation changes or drops
const patternChar = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...'ABCDEFGHJKLMNPRSTUVWXYZ0123456789') },
  { weight: 2, arbitrary: fc.constantFrom('?', '*') },
  { weight: 1, arbitrary: fc.constantFrom('a', 'z', 'q', '-', ' ', '_', '%', 'ß', 'ı', 'Ａ', '\u0000', '{', '@', '[', '`', '/', ':') },
);
// lengths around a plate's most (10) often: where the "*" count starts to matter
const rawPattern = fc.oneof(fc.array(patternChar, { minLength: 0, maxLength: 16 }), fc.array(patternChar, { minLength: 9, maxLength: 13 })).map((cs) => cs.join(''));
const options = fc.record({
  match: fc.constantFrom(undefined, 'exact', 'fuzzy', 'wildcard') as fc.Arbitrary<MatchMode | undefined>,
  maxEdits: fc.constantFrom(undefined, 1, 2),
  ocr: fc.boolean(),
  transpositions: fc.boolean(),
}).map((o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Options);

describe('normalisePattern', () => {
  it('equals the plain definition, normal patterns included', () => {
    fc.assert(fc.property(rawPattern, (raw) => {
      expect(normalisePattern(raw)).toBe(plainNormalisePattern(raw));
    }), { numRuns: 5000 });
  });
  it('changes what must change even when the rest is normal', () => {
    expect(normalisePattern('ABC12a')).toBe('ABC12A');
    expect(normalisePattern('AB-12')).toBe('AB12');
    expect(normalisePattern('AB 1?*')).toBe('AB1?*');
    expect(normalisePattern('7AB?12*')).toBe('7AB?12*');
  });
});

describe('parsePlateMatch', () => {
  it('gives what the plain definition gives, errors with the same message and field', () => {
    fc.assert(fc.property(fc.oneof({ weight: 9, arbitrary: rawPattern as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: fc.constantFrom<unknown>(7, null, undefined, ['A']) }), options, fc.nat(120), (raw, opts, i) => {
      expect(outcome(() => parsePlateMatch(raw, opts, 'plates', i))).toEqual(outcome(() => plainParsePlateMatch(raw, opts, `plates[${i}]`)));
      expect(outcome(() => parsePlateMatch(raw, opts, 'plate'))).toEqual(outcome(() => plainParsePlateMatch(raw, opts, 'plate')));
    }), { numRuns: 5000 });
  });
  it('counts the characters besides "*" only past a plate\'s length', () => {
    expect(parsePlateMatch('1234567890**', { ocr: false, transpositions: false }, 'plate').pattern).toBe('1234567890**');
    expect(parsePlateMatch('123456789*0', { ocr: false, transpositions: false, match: 'wildcard' }, 'plate').pattern).toBe('123456789*0');
    expect(outcome(() => parsePlateMatch('12345678901', { ocr: false, transpositions: false }, 'plate')))
      .toEqual({ code: 'PS_BAD_INPUT', message: 'plate has more than 10 characters besides "*"', field: 'plate' });
    expect(outcome(() => parsePlateMatch('1234*5678901', { ocr: false, transpositions: false }, 'plates', 3)))
      .toEqual({ code: 'PS_BAD_INPUT', message: 'plates[3] has more than 10 characters besides "*"', field: 'plates[3]' });
  });
  it('a hot list names the entry that failed', () => {
    const just = { purpose: 'p', case: 'c' };
    expect(outcome(() => parseHotlistSearchRequest({ ...just, plates: ['ABC123', 'AB1', '-'] })))
      .toEqual({ code: 'PS_BAD_INPUT', message: 'plates[2] is empty after normalisation', field: 'plates[2]' });
  });
});

/** canonicalJson's definition: every object's keys sorted, every array copied. */
function plainCanonicalJson(value: unknown): string {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
      return out;
    }
    return v;
  };
  return JSON.stringify(sortKeys(value));
}

describe('canonicalJson', () => {
  it('equals the plain definition on JSON values, lists of plain values and of objects', () => {
    // fc.jsonValue: nested objects and arrays of every kind, arrays of primitives among them
    fc.assert(fc.property(fc.jsonValue(), (v) => {
      expect(canonicalJson(v)).toBe(plainCanonicalJson(v));
    }), { numRuns: 2000 });
  });
  it('sorts the keys of objects inside lists, after plain values', () => {
    expect(canonicalJson({ b: ['X', 1, null, true], a: [2, { z: 1, y: [{ d: 1, c: 2 }] }] })).toBe('{"a":[2,{"y":[{"c":2,"d":1}],"z":1}],"b":["X",1,null,true]}');
    expect(canonicalJson([[{ b: 1, a: 2 }], 'A'])).toBe('[[{"a":2,"b":1}],"A"]');
  });
});
