/**
 * API.md "A read" and "Precise rules / Input": validation and normalisation of one incoming read.
 * Every rejection must name its field (clients see it in `rejected[].error`).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPrintableText, validateRead } from '../src/model/read.js';
import { normalisePlate } from '../src/model/plate.js';
import { formatTimestamp, parseIsoTimestamp, parseTimestamp } from '../src/model/time.js';
import { storedReadsArb } from './helpers/arbitraries.js';

const base = { plate: '7ABC123', ts: '2026-11-01T12:00:00.123Z', lat: 37.7749, lon: -122.4194, camera: 'cam-17' };
const T = Date.UTC(2026, 10, 1, 12, 0, 0, 123);

function ok(overrides: Record<string, unknown>) {
  const r = validateRead({ ...base, ...overrides });
  if (!r.ok) throw new Error(`expected accept, got: ${r.error}`);
  return r.read;
}
function rejected(overrides: Record<string, unknown>, field: string) {
  const r = validateRead({ ...base, ...overrides });
  expect(r.ok).toBe(false);
  if (!r.ok) expect(r.error.startsWith(field), r.error).toBe(true);
}

describe('a valid read', () => {
  it('is normalised and keeps exactly its fields', () => {
    expect(ok({ plate: '7abc-123', region: 'CA', confidence: 0.93, make: 'TOYOTA', color: 'WHITE', readId: 'r-1' })).toEqual({
      plate: '7ABC123', ts: T, lat: 37.7749, lon: -122.4194, camera: 'cam-17',
      region: 'CA', confidence: 0.93, make: 'TOYOTA', color: 'WHITE', readId: 'r-1',
    });
  });
  it('ignores a tenant (never taken from the body) and unknown fields', () => {
    expect(ok({ tenant: 'other', id: 'x', extra: 1 })).toEqual({ plate: '7ABC123', ts: T, lat: 37.7749, lon: -122.4194, camera: 'cam-17' });
  });
  it('rejects what is not an object', () => {
    for (const v of [null, 1, 'x', [], [base], true, undefined]) expect(validateRead(v)).toEqual({ ok: false, error: 'read must be a JSON object' });
  });
});

describe('plate', () => {
  it('is upper-cased ASCII with everything else removed (ß, ı removed, not mapped)', () => {
    expect(ok({ plate: 'abc d12' }).plate).toBe('ABCD12');
    expect(ok({ plate: 'ßıA1' }).plate).toBe('A1');
    expect(ok({ plate: 'Ä-Ö-1' }).plate).toBe('1');
  });
  it('must have 1-10 characters after normalisation', () => {
    expect(ok({ plate: 'A' }).plate).toBe('A');
    expect(ok({ plate: '12345-67890' }).plate).toBe('1234567890');
    rejected({ plate: '12345678901' }, 'plate');
    rejected({ plate: '' }, 'plate');
    rejected({ plate: '-ß ı' }, 'plate');
  });
  it('is required and must be a string', () => {
    rejected({ plate: undefined }, 'plate');
    rejected({ plate: 1234 }, 'plate');
    rejected({ plate: null }, 'plate');
  });
});

describe('ts', () => {
  it('ISO-8601 with Z or an offset, in every offset spelling', () => {
    expect(ok({ ts: '2026-11-01T12:00:00Z' }).ts).toBe(Date.UTC(2026, 10, 1, 12));
    expect(ok({ ts: '2026-11-01t12:00:00z' }).ts).toBe(Date.UTC(2026, 10, 1, 12));
    expect(ok({ ts: '2026-11-01T17:30:00+05:30' }).ts).toBe(Date.UTC(2026, 10, 1, 12));
    expect(ok({ ts: '2026-11-01T17:30:00+0530' }).ts).toBe(Date.UTC(2026, 10, 1, 12));
    expect(ok({ ts: '2026-11-01T04:00:00-08:00' }).ts).toBe(Date.UTC(2026, 10, 1, 12));
    expect(ok({ ts: '2026-11-01T14:00:00+02' }).ts).toBe(Date.UTC(2026, 10, 1, 12));
    expect(ok({ ts: '2026-11-01T12:00Z' }).ts).toBe(Date.UTC(2026, 10, 1, 12));
    expect(ok({ ts: '2026-11-01T00:30:00+01:00' }).ts).toBe(Date.UTC(2026, 9, 31, 23, 30)); // crosses a month
  });
  it('a string without a zone, or not ISO-8601, is rejected', () => {
    for (const ts of ['2026-11-01T12:00:00', '2026-11-01T12:00:00.123', '2026-11-01', '2026-11-01 12:00:00Z', 'yesterday', '',
      '2026-02-29T00:00:00Z', '2026-13-01T00:00:00Z', '2026-11-31T00:00:00Z', '2026-11-01T24:00:00Z', '2026-11-01T12:60:00Z',
      '2026-11-01T12:00:60Z', '2026-11-01T12:00:00+24:00', '2026-11-01T12:00:00+05:60', '2026-11-01T12:00:00.Z', ' 2026-11-01T12:00:00Z']) {
      rejected({ ts }, 'ts');
    }
    expect(ok({ ts: '2024-02-29T00:00:00Z' }).ts).toBe(Date.UTC(2024, 1, 29)); // leap day
  });
  it('finer than milliseconds is truncated, never rounded', () => {
    expect(ok({ ts: '2026-11-01T12:00:00.1239Z' }).ts).toBe(Date.UTC(2026, 10, 1, 12, 0, 0, 123));
    expect(ok({ ts: '2026-11-01T12:00:00.9999999Z' }).ts).toBe(Date.UTC(2026, 10, 1, 12, 0, 0, 999));
    expect(ok({ ts: '2026-11-01T12:00:00.999999999999Z' }).ts).toBe(Date.UTC(2026, 10, 1, 12, 0, 0, 999));
    expect(ok({ ts: '2026-11-01T12:00:00,5Z' }).ts).toBe(Date.UTC(2026, 10, 1, 12, 0, 0, 500));
    expect(ok({ ts: '2026-11-01T12:00:00.12Z' }).ts).toBe(Date.UTC(2026, 10, 1, 12, 0, 0, 120));
    expect(ok({ ts: 1793534400123.9 }).ts).toBe(1793534400123);
    expect(ok({ ts: -0.5 }).ts).toBe(-1); // the millisecond that contains it, as for ISO strings before 1970
    expect(parseIsoTimestamp('1969-12-31T23:59:59.9995Z')).toBe(-1);
  });
  it('epoch milliseconds as a number; numbers as strings are not coerced', () => {
    expect(ok({ ts: 1793534400123 }).ts).toBe(1793534400123);
    expect(ok({ ts: 0 }).ts).toBe(0);
    rejected({ ts: '1793534400123' }, 'ts');
    rejected({ ts: Number.NaN }, 'ts');
    rejected({ ts: Number.POSITIVE_INFINITY }, 'ts');
    rejected({ ts: 8.64e15 + 1 }, 'ts');
    rejected({ ts: true }, 'ts');
    rejected({ ts: { $date: 1 } }, 'ts');
    rejected({ ts: undefined }, 'ts');
    rejected({ ts: null }, 'ts');
  });
  it('prints back as ISO-8601 UTC with milliseconds', () => {
    expect(formatTimestamp(parseTimestamp('2026-11-01T17:30:00.5+05:30')!)).toBe('2026-11-01T12:00:00.500Z');
  });
  it('prints exactly what Date#toISOString prints, over the whole range (its day cache included)', () => {
    const edges = [0, -1, 1, -86_400_000, 86_399_999, -8.64e15, 8.64e15, 253_402_300_799_999, 253_402_300_800_000, -62_167_219_200_001];
    for (const ms of edges) expect(formatTimestamp(ms)).toBe(new Date(ms).toISOString());
    fc.assert(fc.property(fc.integer({ min: -8.64e15, max: 8.64e15 }), fc.integer({ min: -3, max: 3 }), (ms, step) => {
      // the same day twice in a row exercises the cached date part, the next one its refresh
      const next = Math.min(8.64e15, Math.max(-8.64e15, ms + step * 3_600_000));
      expect(formatTimestamp(ms)).toBe(new Date(ms).toISOString());
      expect(formatTimestamp(next)).toBe(new Date(next).toISOString());
    }), { numRuns: 20_000 });
  });
});

describe('lat, lon', () => {
  it('lat in [-90, 90], lon in [-180, 180], inclusive, numbers only', () => {
    expect(ok({ lat: 90, lon: 180 })).toMatchObject({ lat: 90, lon: 180 });
    expect(ok({ lat: -90, lon: -180 })).toMatchObject({ lat: -90, lon: -180 });
    expect(ok({ lat: 37.77490001, lon: -122.41940001 })).toMatchObject({ lat: 37.77490001, lon: -122.41940001 }); // 1e-8 kept
    rejected({ lat: 90.000001 }, 'lat');
    rejected({ lat: -90.000001 }, 'lat');
    rejected({ lon: 180.000001 }, 'lon');
    rejected({ lon: -180.000001 }, 'lon');
    rejected({ lat: '37.7' }, 'lat');
    rejected({ lon: '-122.4' }, 'lon');
    rejected({ lat: undefined }, 'lat');
    rejected({ lon: null }, 'lon');
    rejected({ lat: Number.NaN }, 'lat');
  });
});

describe('camera and readId: 1-64 printable Unicode code points', () => {
  it('counts code points, not UTF-16 units', () => {
    expect(ok({ camera: 'c'.repeat(64) }).camera).toHaveLength(64);
    expect(ok({ camera: '📷'.repeat(64) }).camera).toHaveLength(128); // 64 code points, 128 UTF-16 units
    rejected({ camera: 'c'.repeat(65) }, 'camera');
    rejected({ camera: '📷'.repeat(65) }, 'camera');
    expect(ok({ readId: 'r'.repeat(64) }).readId).toHaveLength(64);
    rejected({ readId: 'r'.repeat(65) }, 'readId');
  });
  it('accepts spaces and non-ASCII letters', () => {
    expect(ok({ camera: 'Kamera Nord ü 17' }).camera).toBe('Kamera Nord ü 17');
    expect(ok({ camera: 'カメラ\u00a01' }).camera).toBe('カメラ\u00a01');
  });
  it('rejects empty strings, control, format, separator, private-use, unassigned and lone-surrogate characters', () => {
    for (const camera of ['', 'a\nb', 'a\tb', 'a\u0000', 'a\u007f', 'a\u0085', 'a\u200b', 'a\u2028', 'a\u2029', 'a\ue000', 'a\ud800', '\udc00b', 'a\u0378']) {
      rejected({ camera }, 'camera');
      rejected({ readId: camera }, 'readId');
    }
  });
  it('isPrintableText (with its ASCII shortcut) is the definition: no \\p{C}, \\p{Zl}, \\p{Zp}; 1..max code points', () => {
    const definition = (s: string, max: number) => s.length > 0 && !/[\p{C}\p{Zl}\p{Zp}]/u.test(s) && [...s].length <= max;
    const text = fc.oneof(
      fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)), maxLength: 70 }),
      fc.string({ unit: 'binary', maxLength: 70 }),
      fc.string({ unit: fc.constantFrom('a', ' ', '~', '\u007f', '\u00a0', 'é', '📷', '\u200b', '\ud800'), maxLength: 70 }),
    );
    fc.assert(fc.property(text, fc.integer({ min: 1, max: 66 }), (s, max) => {
      expect(isPrintableText(s, max)).toBe(definition(s, max));
    }), { numRuns: 20_000 });
  });
  it('normalisePlate (with its already-normal shortcut): upper-cased A-Z0-9, everything else removed', () => {
    const definition = (raw: string) => raw.split('').map((c) => (c >= 'a' && c <= 'z' ? c.toUpperCase() : c)).filter((c) => /^[A-Z0-9]$/.test(c)).join('');
    const raw = fc.oneof(fc.string({ unit: fc.constantFrom(...'AZ09az -·ßı'), maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 12 }));
    fc.assert(fc.property(raw, (s) => {
      expect(normalisePlate(s)).toBe(definition(s));
    }), { numRuns: 20_000 });
  });
  it('camera is required and a string; readId is optional (null = absent)', () => {
    rejected({ camera: undefined }, 'camera');
    rejected({ camera: 17 }, 'camera');
    expect(ok({ readId: null }).readId).toBeUndefined();
    rejected({ readId: 7 }, 'readId');
  });
});

describe('optional fields', () => {
  it('confidence in [0, 1], numbers only', () => {
    expect(ok({ confidence: 0 }).confidence).toBe(0);
    expect(ok({ confidence: 1 }).confidence).toBe(1);
    expect(ok({ confidence: null }).confidence).toBeUndefined();
    rejected({ confidence: 1.0001 }, 'confidence');
    rejected({ confidence: -0.0001 }, 'confidence');
    rejected({ confidence: 93 }, 'confidence');
    rejected({ confidence: '0.9' }, 'confidence');
  });
  it('region, make, color: printable strings; empty or null means absent', () => {
    expect(ok({ region: 'CA', make: 'TOYOTA', color: 'WHITE' })).toMatchObject({ region: 'CA', make: 'TOYOTA', color: 'WHITE' });
    const r = ok({ region: '', make: null, color: '' });
    expect(['region' in r, 'make' in r, 'color' in r]).toEqual([false, false, false]);
    rejected({ region: 5 }, 'region');
    rejected({ make: 'a\nb' }, 'make');
    rejected({ color: 'x'.repeat(65) }, 'color');
  });
});

describe('round trip', () => {
  it('a generated read sent as JSON (ts as ISO or epoch ms) validates back to itself', () => {
    fc.assert(
      fc.property(storedReadsArb(10), fc.boolean(), (reads, iso) => {
        for (const { id: _id, tenant: _tenant, ...read } of reads) {
          const body = { ...read, ts: iso ? formatTimestamp(read.ts) : read.ts, plate: read.plate.toLowerCase() };
          expect(validateRead(JSON.parse(JSON.stringify(body)))).toEqual({ ok: true, read });
        }
      }),
      { numRuns: 300, seed: 7 },
    );
  });
});
