/**
 * Timestamps: epoch milliseconds inside the system; ISO-8601 with a zone, or epoch-ms numbers, at the edge.
 * API.md: strings must carry a zone (`Z` or an offset); finer than milliseconds is truncated;
 * numbers given as strings are not coerced.
 */

const kIso =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)$/;

/** Parses an ISO-8601 string with a zone; returns epoch ms, or undefined if it is not one. */
export function parseIsoTimestamp(s: string): number | undefined {
  const m = kIso.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, sec, frac, zone] = m;
  const year = Number(y), month = Number(mo), day = Number(d);
  const hour = Number(h), minute = Number(mi), second = sec === undefined ? 0 : Number(sec);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const dim = month === 2 ? (isLeap(year) ? 29 : 28) : [31, 0, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
  if (day > dim) return undefined;
  // Finer than milliseconds is truncated, never rounded (API.md); any number of fraction digits is accepted.
  const ms = frac === undefined ? 0 : Number(frac.padEnd(3, '0').slice(0, 3));
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, ms);
  let t = date.getTime();
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone![0] === '-' ? -1 : 1;
    const digits = zone!.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2)), om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (oh > 23 || om > 59) return undefined;
    t -= sign * (oh * 60 + om) * 60_000;
  }
  return t;
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/**
 * Accepts an ISO string with zone or a finite number of epoch ms. Returns undefined for anything else
 * (including numbers given as strings, which API.md says are not coerced), so the caller can name the field.
 *
 * Judgement call: a fractional epoch-ms number is cut to the millisecond that contains it (`Math.floor`),
 * which is what truncating the sub-millisecond digits of the equivalent ISO string does, also before 1970
 * (`1969-12-31T23:59:59.9995Z` → .999 → −1). `Math.trunc` would move pre-1970 instants forward instead.
 * The range is the one of ECMAScript dates (±8.64e15 ms), so every accepted ts can be printed as ISO.
 */
export function parseTimestamp(v: unknown): number | undefined {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return undefined;
    const t = Math.floor(v) + 0; // + 0 turns -0 into 0
    return Math.abs(t) <= 8.64e15 ? t : undefined;
  }
  if (typeof v === 'string') return parseIsoTimestamp(v);
  return undefined;
}

const kMsPerDay = 86_400_000;
// The date part of the last day formatted ("2026-11-22T"): answers of thousands of hits mostly fall on a
// few days, and Date#toISOString costs ~0.6 µs where the time of day by hand costs ~0.1.
let cachedDay = NaN;
let cachedDate = '';

const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`);
const pad3 = (n: number): string => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);

/** ISO-8601 UTC with milliseconds, as every answer and export prints it: exactly `new Date(ms).toISOString()`. */
export function formatTimestamp(ms: number): string {
  const day = Math.floor(ms / kMsPerDay);
  if (day !== cachedDay) {
    const iso = new Date(day * kMsPerDay).toISOString();
    cachedDate = iso.slice(0, iso.indexOf('T') + 1);
    cachedDay = day;
  }
  let rest = ms - day * kMsPerDay;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = Math.floor(rest / 1000);
  return `${cachedDate}${pad2(h)}:${pad2(m)}:${pad2(s)}.${pad3(rest - s * 1000)}Z`;
}
